"""Script and width normalisation that remembers where every character came from.

Documents and queries are both folded to Simplified, NFKC-normalised text before segmentation, so
that 萬州區 and 万州区 (or ＡＰＰ and APP) become the same tokens.  Highlights must still land on the
text the reader sees, so the folded text keeps a map back to offsets in the original string.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import opencc

# One definition of a Chinese character for every stage: CJK Unified Ideographs, Extension A and
# the compatibility block (Extension B and beyond are outside the BMP and rare in releases).
IDEOGRAPH = "[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"


@functools.lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@dataclass(frozen=True, slots=True)
class FoldedText:
    """``text`` is the folded string; ``origin[i]`` is the original offset of folded char ``i``.

    ``origin`` is ``None`` when folding kept every character in place (the common case), which
    saves building a list as long as the document.
    """

    text: str
    origin: list[int] | None
    original_length: int

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the folded text to the original text."""
        if self.origin is None:
            return start, end
        if start >= end:
            position = self.origin[start] if start < len(self.origin) else self.original_length
            return position, position
        return self.origin[start], self.origin[end - 1] + 1


@functools.lru_cache(maxsize=1)
def _irregular() -> re.Pattern[str]:
    """Characters NFKC does not map one-to-one on their own: expansions (… → ..., ㎡ → m2),
    combining marks and conjoining jamo (which compose with their neighbours)."""
    irregular = []
    for code in range(0x80, 0x10000):
        char = chr(code)
        if 0xD800 <= code <= 0xDFFF:
            continue
        if len(unicodedata.normalize("NFKC", char)) != 1 or unicodedata.combining(char):
            irregular.append(char)
    irregular.extend(chr(code) for code in (*range(0x1100, 0x1200), *range(0xA960, 0xA980), *range(0xD7B0, 0xD800)))
    return re.compile("[" + "".join(re.escape(char) for char in sorted(set(irregular))) + "\U00010000-\U0010ffff]")


def _fold_width(text: str) -> tuple[str, list[int] | None]:
    if text.isascii():
        return text, None
    irregular = _irregular()
    if not irregular.search(text):
        return unicodedata.normalize("NFKC", text), None
    # Map regular stretches in one go and irregular characters one by one, so every output
    # character knows its source.
    pieces: list[str] = []
    origin: list[int] = []
    last = 0
    for match in irregular.finditer(text):
        if match.start() > last:
            pieces.append(unicodedata.normalize("NFKC", text[last : match.start()]))
            origin.extend(range(last, match.start()))
        normalised = unicodedata.normalize("NFKC", match.group())
        pieces.append(normalised)
        origin.extend([match.start()] * len(normalised))
        last = match.end()
    if last < len(text):
        pieces.append(unicodedata.normalize("NFKC", text[last:]))
        origin.extend(range(last, len(text)))
    return "".join(pieces), origin


_SURROGATES = re.compile("[\ud800-\udfff]")


def to_simplified(text: str) -> str:
    """Traditional → Simplified with OpenCC, never changing the length of the string.

    OpenCC converts phrase by phrase, which is more accurate than per character; in the rare case
    a phrase conversion changes the length, fall back to per-character conversion so offsets hold.
    """
    converter = _t2s()
    # OpenCC takes UTF-8; a lone surrogate (undecodable bytes in a command line) cannot be encoded
    text = _SURROGATES.sub("\ufffd", text)
    converted = converter.convert(text)
    if len(converted) == len(text):
        return converted
    out = []
    for char in text:
        single = converter.convert(char)
        out.append(single if len(single) == 1 else char)
    return "".join(out)


def _lower(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def fold(text: str, lowercase: bool = True) -> FoldedText:
    """NFKC width folding, then Traditional → Simplified, then lowercase; offsets preserved."""
    widened, origin = _fold_width(text)
    simplified = to_simplified(widened)
    return FoldedText(_lower(simplified) if lowercase else simplified, origin, len(text))


# Paragraphs and lines folded lately, by their text: the stages of extraction each fold the same
# paragraphs (places, dates, report year). Long texts are folded once anyway and not kept.
_FOLDED: dict[str, str] = {}
_FOLDED_LIMIT = 1024
_FOLDED_MAX_LENGTH = 4096


def fold_text(text: str) -> str:
    """The folded string alone, for matching names and queries."""
    folded = _FOLDED.get(text)
    if folded is None:
        folded = fold(text).text
        if len(text) <= _FOLDED_MAX_LENGTH:
            if len(_FOLDED) >= _FOLDED_LIMIT:
                _FOLDED.clear()
            _FOLDED[text] = folded
    return folded
