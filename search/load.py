"""Load stage: bytes on disk → text lines, whatever the encoding, from .txt or saved .html pages."""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bs4 import BeautifulSoup, Comment, Tag

from search.analysis import common_characters
from search.normalise import to_simplified

TEXT_SUFFIXES = {".txt", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES

# Anything larger is almost certainly not a press release (and would stall the batch).
MAX_FILE_BYTES = 16 * 1024 * 1024
# The longest text a release may have after decoding and HTML extraction (~40× a long release).
MAX_TEXT_CHARS = 2_000_000

_LEGACY_ENCODINGS = ("gb18030", "big5hkscs")
# A whole-file reading this plausible needs no line-by-line second look for mixed encodings.
CLEARLY_DECODED = 0.95
_ENCODING_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "gb18030": "gb18030",
    "x-gbk": "gb18030",
    "big5": "big5hkscs",
    "big5-hkscs": "big5hkscs",
    "utf-8": "utf-8",
    "utf8": "utf-8",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_-]+)""", re.IGNORECASE)

_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "ol",
    "p", "pre", "section", "table", "td", "th", "tr", "ul",
}  # fmt: skip
_INVISIBLE_TAGS = {
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "head",
    "title",
    "meta",
    "link",
    "button",
    "select",
    "input",
    "textarea",
    "form",
}
_CHROME_TAGS = {"nav", "header", "footer", "aside"}
_CONTENT_HINT = re.compile(
    r"(article|content|TRS_Editor|zoom|detail|main[-_]?text|con[-_]?text|news[-_]?(txt|text|con)|"
    r"text[-_]?con|pages?_content|bt_content|artibody)",
    re.IGNORECASE,
)
_MAX_CONTENT_CANDIDATES = 200
_DATE_META_NAMES = {
    "pubdate", "publishdate", "publish_date", "publishtime", "article:published_time",
    "og:release_date", "dc.date", "dc.date.issued", "dcterms.issued", "date", "firstpublishedtime",
    "weibo: article:create_at", "releasedate", "createdate", "datepublished",
}  # fmt: skip
_SOURCE_META_NAMES = {"contentsource", "source", "og:site_name", "sitename", "author"}
_TITLE_META_NAMES = {"articletitle", "og:title", "title"}


_BLOCK_END = object()


class LoadError(Exception):
    """A file that cannot become a release; the message says why, for the run's summary."""


@dataclass
class RawDocument:
    path: Path
    text: str
    checksum: str
    encoding: str
    html_title: str | None = None
    html_date: str | None = None
    html_source: str | None = None
    warnings: list[str] = field(default_factory=list)


def checksum_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_supported(path: Path) -> bool:
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def unsupported_reason(path: Path) -> str:
    kind = path.suffix.lower() or "no extension"
    return f"unsupported type ({kind}): only .txt and .html releases are read; save it as one of those"


def iter_source_files(
    root: Path,
    unlistable: list[tuple[Path, str]] | None = None,
    not_taken: list[tuple[Path, str]] | None = None,
    refused: list[tuple[Path, str]] | None = None,
    follow_symlinks: bool = False,
) -> Iterator[Path]:
    """Every supported file under ``root`` (or ``root`` itself), sorted, symlink loops skipped.

    Folders that cannot be listed are appended to ``unlistable`` with the reason, files of other
    types (.pdf, .docx …; hidden files aside) to ``not_taken``. Symlinks that lead out of ``root``
    (to ``/etc/passwd``, another tree) are not followed but appended to ``refused``, unless
    ``follow_symlinks``: dropping a link must not publish what it points to.
    """
    if not root.is_dir():
        if is_supported(root):
            yield root
        elif not_taken is not None:
            not_taken.append((root, unsupported_reason(root)))
        return

    def report(error: OSError) -> None:
        if unlistable is not None:
            unlistable.append((Path(error.filename or root), error.strerror or str(error)))

    seen_dirs: set[tuple[int, int]] = set()
    for directory, subdirectories, files in os.walk(root, followlinks=True, onerror=report):
        try:
            stat = os.stat(directory)
        except OSError:
            subdirectories[:] = []
            continue
        if (stat.st_dev, stat.st_ino) in seen_dirs:
            subdirectories[:] = []
            continue
        seen_dirs.add((stat.st_dev, stat.st_ino))
        subdirectories[:] = sorted(d for d in subdirectories if not d.startswith("."))
        if not follow_symlinks:
            subdirectories[:] = [d for d in subdirectories if _stays_inside(Path(directory) / d, root, refused)]
        for name in sorted(files):
            if name.startswith("."):
                continue
            path = Path(directory) / name
            if not is_supported(path):
                if not_taken is not None:
                    not_taken.append((path, unsupported_reason(path)))
            elif follow_symlinks or _stays_inside(path, root, refused):
                yield path


def _stays_inside(path: Path, root: Path, refused: list[tuple[Path, str]] | None) -> bool:
    if not path.is_symlink():
        return True
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # dangling or a loop: reading it reports why it cannot be read
        return True
    try:
        target.relative_to(root.resolve())
        return True
    except ValueError:
        if refused is not None:
            refused.append((path, "a symlink to outside the source folder: not followed (--follow-symlinks)"))
        return False


def _plausibility(text: str) -> float:
    """Share of ideographs that are common characters once converted to Simplified."""
    ideographs = [c for c in to_simplified(text) if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"]
    if not ideographs:
        return 0.5
    common = common_characters()
    return sum(1 for c in ideographs if c in common) / len(ideographs)


# Control characters no text file holds (tab, newlines, form feed and escape are fine).
_CONTROL_BYTES = bytes(byte for byte in range(32) if byte not in (9, 10, 12, 13, 27))


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample:
        return True
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(8, len(sample) // 100)


def decode(data: bytes, declared: str | None = None, warnings: list[str] | None = None) -> tuple[str, str]:
    """Decode release bytes; returns ``(text, encoding)`` or raises ``LoadError``.

    ``warnings`` collects what was repaired on the way (a truncated last character, a file whose
    lines are in different encodings).
    """
    warnings = warnings if warnings is not None else []
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        # UTF-32-LE's mark begins with UTF-16-LE's: test it first
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(codec), codec
            except UnicodeDecodeError as error:
                reason = f"starts with a {codec} byte-order mark but is not valid {codec}: {error.reason}"
                raise LoadError(reason) from None
    if b"\x00" in data[:8192]:
        unmarked = _utf16_without_bom(data)
        if unmarked is not None:
            return unmarked
    if _looks_binary(data):
        raise LoadError("binary data, not text (NUL or control bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        if error.reason == "unexpected end of data" and error.start >= len(data) - 3:
            warnings.append("the last character was cut off (truncated multi-byte sequence) and dropped")
            return data[: error.start].decode("utf-8"), "utf-8"
    preferred = _ENCODING_ALIASES.get((declared or "").lower())
    scored = _whole_file_readings(data, preferred)
    if max((score for score, _, _ in scored), default=0.0) < CLEARLY_DECODED:
        mixed = _line_by_line_reading(data, preferred)
        if mixed is not None:
            scored.append(mixed)
    if not scored:
        raise LoadError("not decodable as UTF-8, GB18030/GBK or Big5")
    score, encoding, text = max(scored, key=lambda item: item[0])
    if score < 0.5:
        raise LoadError("encoding not recognised: no UTF-8, GB18030/GBK or Big5 reading gives ordinary Chinese text")
    if "+" in encoding:
        warnings.append(f"lines are in different encodings ({encoding}); each line was decoded on its own")
    return text, encoding


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 saved without a byte-order mark (some Windows tools): its ASCII characters carry NUL
    bytes, which would otherwise make it look binary. Accepted only when one byte order gives
    NUL-free, control-free text of ordinary Chinese."""
    if len(data) % 2:
        return None
    for codec in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for char in text if char < " " and char not in "\t\n\r\f")
        if not controls and _plausibility(text) >= CLEARLY_DECODED and _has_ideographs(text):
            return text, codec
    return None


def _has_ideographs(text: str) -> bool:
    return any("\u3400" <= char <= "\u9fff" for char in text)


def _whole_file_readings(data: bytes, preferred: str | None) -> list[tuple[float, str, str]]:
    readings = []
    for encoding in _LEGACY_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        readings.append((_plausibility(text) + (0.05 if encoding == preferred else 0.0), encoding, text))
    return readings


def _line_by_line_reading(data: bytes, preferred: str | None) -> tuple[float, str, str] | None:
    """Decode each line on its own (UTF-8 header pasted above a GBK body, and the like)."""
    lines = data.split(b"\n")
    if len(lines) < 2:
        return None
    decoded: list[str] = []
    used: set[str] = set()
    for line in lines:
        try:
            decoded.append(line.decode("utf-8"))
            if not line.isascii():
                used.add("utf-8")
            continue
        except UnicodeDecodeError:
            pass
        best = max(_whole_file_readings(line, preferred), default=None, key=lambda item: item[0])
        if best is None:
            return None
        decoded.append(best[2])
        used.add(best[1])
    if len(used) < 2:
        return None
    text = "\n".join(decoded)
    return _plausibility(text), "+".join(sorted(used)), text


def read_release_bytes(path: Path) -> bytes:
    """The bytes of a release file, refusing what is not a regular file of a sensible size."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise LoadError("not a regular file (a FIFO, device or directory)")
        if info.st_size > MAX_FILE_BYTES:
            megabytes = info.st_size / (1024 * 1024)
            raise LoadError(f"file too large ({megabytes:.1f} MB; at most {MAX_FILE_BYTES // (1024 * 1024)} MB)")
        with open(path, "rb") as handle:
            return handle.read(MAX_FILE_BYTES + 1)
    except PermissionError:
        raise LoadError("permission denied") from None
    except OSError as error:
        raise LoadError(f"cannot read: {error.strerror or error}") from None


def load(path: Path) -> RawDocument:
    """Read one release file.  Raises ``LoadError`` with a reason a person can act on."""
    return load_bytes(path, read_release_bytes(path))


def load_bytes(path: Path, data: bytes) -> RawDocument:
    if not data.strip():
        raise LoadError("empty file" if not data else "file holds only whitespace")
    checksum = checksum_of(data)
    warnings: list[str] = []
    if path.suffix.lower() in HTML_SUFFIXES:
        match = _META_CHARSET.search(data[:4096])
        declared = match.group(1).decode("ascii", "ignore") if match else None
        text, encoding = decode(data, declared, warnings)
        document = _from_html(path, text, checksum, encoding)
    else:
        text, encoding = decode(data, warnings=warnings)
        document = RawDocument(path, text, checksum, encoding)
    document.warnings.extend(warnings)
    if not document.text.strip():
        raise LoadError("no readable text in the file")
    if len(document.text) > MAX_TEXT_CHARS:
        raise LoadError(f"text too long ({len(document.text):,} characters; at most {MAX_TEXT_CHARS:,})")
    return document


def _meta_value(soup: BeautifulSoup, names: set[str]) -> str | None:
    for meta in soup.find_all("meta"):
        key = (meta.get("name") or meta.get("property") or meta.get("itemprop") or "").strip().lower()
        if key in names:
            content = (meta.get("content") or "").strip()
            if content:
                return content
    return None


def _visible_lines(root: Tag) -> list[str]:
    """Text of an element as lines: block elements break lines, inline ones run on.

    Iterative, so pages nested thousands of levels deep cannot exhaust the stack.
    """
    lines: list[str] = []
    current: list[str] = []

    def flush() -> None:
        line = "".join(current).strip()
        current.clear()
        lines.append(line)

    stack: list[object] = [root]
    while stack:
        node = stack.pop()
        if node is _BLOCK_END:
            flush()
            continue
        if isinstance(node, Comment):
            continue
        if isinstance(node, Tag):
            name = node.name.lower() if node.name else ""
            if name in _INVISIBLE_TAGS:
                continue
            if name in _BLOCK_TAGS:
                flush()
                stack.append(_BLOCK_END)
            stack.extend(reversed(node.contents))
            continue
        text = str(node)
        current.append(re.sub(r"[ \t\r\n\f]+", " ", text))
    flush()
    # Keep single blank lines: the cleaner uses paragraph gaps to spot captions.
    collapsed: list[str] = []
    for line in lines:
        if line or (collapsed and collapsed[-1]):
            collapsed.append(line)
    return collapsed


def _content_root(soup: BeautifulSoup) -> Tag:
    """The element holding the article: the longest hinted container, else <article>, else <body>."""
    best: Tag | None = None
    best_length = 0
    considered = 0
    for element in soup.find_all(True):
        if not isinstance(element, Tag) or element.name in _INVISIBLE_TAGS:
            continue
        if considered >= _MAX_CONTENT_CANDIDATES:
            break  # pathological pages nest hinted containers thousands deep
        hints = " ".join([element.get("id") or "", " ".join(element.get("class") or [])])
        if element.name == "article" or (hints.strip() and _CONTENT_HINT.search(hints)):
            considered += 1
            length = len(element.get_text(strip=True))
            if length > best_length:
                best, best_length = element, length
    if best is not None and best_length >= 50:
        return best
    return soup.body or soup


def _from_html(path: Path, text: str, checksum: str, encoding: str) -> RawDocument:
    try:
        soup = BeautifulSoup(text, "html.parser")
    except Exception as error:  # html.parser raises a handful of unrelated types on garbage
        raise LoadError(f"HTML could not be parsed: {error}") from None
    for chrome in soup.find_all(_CHROME_TAGS):
        chrome.decompose()
    headline = None
    heading = soup.find("h1")
    if heading is not None:
        headline = heading.get_text(" ", strip=True) or None
    page_title = soup.title.get_text(" ", strip=True) if soup.title else None
    meta_title = _meta_value(soup, _TITLE_META_NAMES)
    if not headline:
        headline = meta_title or _strip_site_name(page_title)
    root = _content_root(soup)
    lines = _visible_lines(root)
    if headline and headline not in lines[:5]:
        lines = [headline, "", *lines]
    return RawDocument(
        path=path,
        text="\n".join(lines),
        checksum=checksum,
        encoding=encoding,
        html_title=headline,
        html_date=_meta_value(soup, _DATE_META_NAMES),
        html_source=_meta_value(soup, _SOURCE_META_NAMES),
    )


def _strip_site_name(title: str | None) -> str | None:
    """``headline_站点名`` / ``headline - 站点名`` → headline."""
    if not title:
        return None
    parts = [part.strip() for part in re.split(r"\s*(?:[_|]|--|—|\s-\s)\s*", title) if part.strip()]
    return parts[0] if parts else None
