"""Index stage: the Whoosh schema, where indexes live, and syncing source folders into one.

Nothing outside this module and ``query`` imports Whoosh, so the engine can be swapped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.fields import ID, NUMERIC, STORED, TEXT, Schema
from whoosh.index import Index

from search.analysis import ANALYSER_VERSION, ChineseAnalyzer
from search.clean import clean
from search.extract import Release, extract
from search.load import LoadError, checksum_of, iter_source_files, load_bytes

PROJECT_ROOT = Path(__file__).resolve().parent.parent
META_FILE = "police-search.json"
INDEX_NAME = "releases"
WRITER_MEMORY_MB = 256
SCHEMA_VERSION = 1


class IndexUnavailableError(Exception):
    """The index is missing, unreadable or built by an incompatible version."""


class NoIndexError(IndexUnavailableError):
    pass


class RebuildNeededError(IndexUnavailableError):
    pass


def default_index_dir() -> Path:
    configured = os.environ.get("POLICE_SEARCH_INDEX")
    if configured:
        return Path(configured)
    return PROJECT_ROOT / "index"


def default_samples_dir() -> Path:
    return PROJECT_ROOT / "samples"


def build_schema() -> Schema:
    analyzer = ChineseAnalyzer()
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=analyzer, stored=True, field_boost=2.0),
        body=TEXT(analyzer=analyzer, stored=True),
        date=ID(stored=True),
        datekey=NUMERIC(int, bits=32, sortable=True, default=0),
        year=ID(stored=True, sortable=True),
        month=ID(stored=True, sortable=True),
        district=ID(stored=True, sortable=True),
        city=ID(stored=True, sortable=True),
        province=ID(stored=True, sortable=True),
        region=ID(sortable=True),
        source=ID(stored=True, sortable=True),
        path=ID(stored=True),
        checksum=ID(stored=True),
        meta=STORED,
    )


def document_id(path: Path) -> str:
    """Stable per file: the same file keeps its id (and URL) across edits and reindexes."""
    return hashlib.sha1(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def release_fields(release: Release) -> dict[str, Any]:
    """One release as Whoosh field values; absent facets are simply not indexed."""
    fields: dict[str, Any] = {
        "id": document_id(release.path),
        "title": release.title,
        "body": release.body,
        "datekey": int(release.date.strftime("%Y%m%d")) if release.date else 0,
        "region": release.region.path if release.region else "",
        "path": str(release.path.resolve()),
        "checksum": release.checksum,
        "meta": {
            "title_inferred": release.title_inferred,
            "subtitle": release.subtitle,
            "report_year": release.report_year,
            "encoding": release.encoding,
            "filename": release.path.name,
        },
    }
    if release.date:
        fields["date"] = release.date.isoformat()
        fields["year"] = str(release.date.year)
        fields["month"] = release.date.strftime("%Y-%m")
    for name in ("district", "city", "province"):
        value = getattr(release, name)
        if value:
            fields[name] = value
    if release.source:
        fields["source"] = release.source
    return fields


@dataclass
class IndexMeta:
    analyser_version: int = ANALYSER_VERSION
    schema_version: int = SCHEMA_VERSION
    sources: list[str] = field(default_factory=list)
    updated: str | None = None

    @classmethod
    def read(cls, index_dir: Path) -> IndexMeta | None:
        try:
            data = json.loads((index_dir / META_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise IndexUnavailableError(f"index metadata {index_dir / META_FILE} is unreadable: {error}") from None
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        return cls(**known)

    def write(self, index_dir: Path) -> None:
        handle, temporary = tempfile.mkstemp(dir=index_dir, prefix=".meta-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(asdict(self), out, ensure_ascii=False, indent=2)
        os.replace(temporary, index_dir / META_FILE)


def index_exists(index_dir: Path) -> bool:
    return index_dir.is_dir() and whoosh_index.exists_in(str(index_dir), indexname=INDEX_NAME)


def open_index(index_dir: Path) -> Index:
    """Open an existing index, refusing one whose tokens the current analyser would not match."""
    if not index_exists(index_dir):
        raise NoIndexError(f"no index in {index_dir}; build one with: police-search index [PATH ...]")
    meta = IndexMeta.read(index_dir) or IndexMeta(analyser_version=0)
    if meta.analyser_version != ANALYSER_VERSION or meta.schema_version != SCHEMA_VERSION:
        raise RebuildNeededError(
            f"the index in {index_dir} was built by analyser v{meta.analyser_version} "
            f"(schema v{meta.schema_version}); this version uses analyser v{ANALYSER_VERSION} "
            f"(schema v{SCHEMA_VERSION}). Rebuild it: police-search index --rebuild"
        )
    try:
        return whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    except Exception as error:  # Whoosh raises assorted types for damaged files
        raise IndexUnavailableError(f"cannot open the index in {index_dir}: {error}") from None


def create_index(index_dir: Path) -> Index:
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(index_dir), build_schema(), indexname=INDEX_NAME)
    IndexMeta().write(index_dir)
    return ix


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    documents: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


ProgressCallback = Callable[[Path], None]


def _under(path: str, roots: Iterable[Path]) -> bool:
    candidate = Path(path)
    return any(candidate == root or root in candidate.parents for root in roots)


def _stored_documents(ix: Index) -> dict[str, dict[str, str]]:
    with ix.searcher() as searcher:
        return {
            fields["path"]: {"id": fields["id"], "checksum": fields["checksum"]}
            for fields in searcher.all_stored_fields()
        }


def list_source_files(paths: Iterable[Path]) -> Iterator[Path]:
    for root in paths:
        yield from iter_source_files(root)


def sync(
    index_dir: Path,
    paths: list[Path],
    on_file: ProgressCallback | None = None,
    files: list[Path] | None = None,
) -> SyncReport:
    """Bring the index in line with the files under ``paths``: add new, update changed (by
    content checksum), remove deleted.  One commit, so searches see the old or the new state.

    A file that cannot be read or parsed is skipped and reported; the rest of the batch goes on.
    """
    started = time.perf_counter()
    report = SyncReport()
    roots = [path.resolve() for path in paths]
    for root in roots:
        if not root.exists():
            report.skipped.append(Skipped(str(root), "no such file or directory"))
    ix = open_index(index_dir) if index_exists(index_dir) else create_index(index_dir)
    stored = _stored_documents(ix)
    if files is None:
        files = list(list_source_files(root for root in roots if root.exists()))
    seen: set[str] = set()
    writer = ix.writer(limitmb=WRITER_MEMORY_MB)
    try:
        for path in files:
            resolved = str(path.resolve())
            seen.add(resolved)
            try:
                data = path.read_bytes()
            except OSError as error:
                report.skipped.append(Skipped(str(path), f"cannot read: {error.strerror or error}"))
                continue
            finally:
                if on_file is not None:
                    on_file(path)
            previous = stored.get(resolved)
            if previous is not None and previous["checksum"] == checksum_of(data):
                report.unchanged += 1
                continue
            try:
                release = extract(clean(load_bytes(path, data)))
            except LoadError as error:
                report.skipped.append(Skipped(str(path), str(error)))
                continue
            except Exception as error:  # one odd file must not sink the batch
                report.skipped.append(Skipped(str(path), f"could not be processed: {type(error).__name__}: {error}"))
                continue
            writer.update_document(**release_fields(release))
            if previous is None:
                report.added += 1
            else:
                report.updated += 1
        for path, document in stored.items():
            if path not in seen and _under(path, roots) and not Path(path).exists():
                writer.delete_by_term("id", document["id"])
                report.removed += 1
        if report.changed:
            writer.commit()
        else:
            writer.cancel()
    except BaseException:
        writer.cancel()
        raise
    meta = IndexMeta.read(index_dir) or IndexMeta()
    meta.sources = sorted({*meta.sources, *(str(root) for root in roots if root.exists())})
    meta.updated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    meta.write(index_dir)
    report.documents = ix.doc_count()
    report.seconds = time.perf_counter() - started
    return report


def rebuild(index_dir: Path, paths: list[Path], on_file: ProgressCallback | None = None) -> SyncReport:
    """Build a fresh index beside the live one, then swap it in."""
    index_dir = index_dir.resolve()
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=index_dir.parent, prefix=f".{index_dir.name}-build-"))
    try:
        report = sync(staging, paths, on_file)
        retired = index_dir.with_name(f".{index_dir.name}-old-{os.getpid()}")
        if index_dir.exists():
            _keep_readme(index_dir, staging)
            os.replace(index_dir, retired)
        os.replace(staging, index_dir)
        shutil.rmtree(retired, ignore_errors=True)
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _keep_readme(old: Path, new: Path) -> None:
    readme = old / "README.md"
    if readme.exists():
        shutil.copy2(readme, new / "README.md")


@contextmanager
def reader(index_dir: Path) -> Iterator[Any]:
    """A Whoosh searcher on the index, closed on exit."""
    ix = open_index(index_dir)
    searcher = ix.searcher()
    try:
        yield searcher
    finally:
        searcher.close()
