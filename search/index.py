"""Index stage: the Whoosh schema, where indexes live, and syncing source folders into one.

Nothing outside this module and ``query`` imports Whoosh, so the engine can be swapped.

On-disk layout of an index directory::

    index/
      current -> gen-20261125T073000-1234   symlink, swapped atomically by a rebuild
      gen-20261125T073000-1234/             one Whoosh index + generation.json (analyser version)
      police-search.json                    the source folders the index is kept in sync with
      .writer.lock                          flock()ed by the one process allowed to write

Every change is one Whoosh commit (a new table of contents renamed into place), and a rebuild is
one symlink replacement, so a reader always sees a complete state.  The writer lock is an advisory
``flock``: the kernel drops it when its process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
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
from search.load import LoadError, checksum_of, iter_source_files, load_bytes, read_release_bytes

PROJECT_ROOT = Path(__file__).resolve().parent.parent
META_FILE = "police-search.json"
GENERATION_FILE = "generation.json"
CURRENT_LINK = "current"
LOCK_FILE = ".writer.lock"
INDEX_NAME = "releases"
# Crash tests set this to a failpoint name; the process then stops there until killed.
FAILPOINT_ENV = "POLICE_SEARCH_FAILPOINT"
WRITER_MEMORY_MB = 256
SCHEMA_VERSION = 1


class IndexUnavailableError(Exception):
    """The index is missing, unreadable or built by an incompatible version."""


class NoIndexError(IndexUnavailableError):
    pass


class RebuildNeededError(IndexUnavailableError):
    pass


class IndexBusyError(Exception):
    """Another process holds the writer lock."""


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


def path_key(path: Path) -> str:
    """The absolute path as text that survives JSON and Whoosh, even for names in GBK bytes.

    Undecodable bytes become ``\\xNN``: lossless enough to tell files apart, and the same on
    every run, so a file keeps its id.
    """
    try:
        absolute = path.resolve()
    except (RuntimeError, OSError):  # a symlink loop: keep the name it was found under
        absolute = Path(os.path.abspath(path))
    return os.fsencode(absolute).decode("utf-8", "backslashreplace")


def document_id(path: Path) -> str:
    """Stable per file: the same file keeps its id (and URL) across edits and reindexes."""
    return hashlib.sha1(path_key(path).encode("utf-8")).hexdigest()[:16]


def release_fields(release: Release) -> dict[str, Any]:
    """One release as Whoosh field values; absent facets are simply not indexed."""
    fields: dict[str, Any] = {
        "id": document_id(release.path),
        "title": release.title,
        "body": release.body,
        "datekey": int(release.date.strftime("%Y%m%d")) if release.date else 0,
        "region": release.region.path if release.region else "",
        "path": path_key(release.path),
        "checksum": release.checksum,
        "meta": {
            "title_inferred": release.title_inferred,
            "subtitle": release.subtitle,
            "report_year": release.report_year,
            "encoding": release.encoding,
            "filename": os.fsencode(release.path.name).decode("utf-8", "backslashreplace"),
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
class GenerationInfo:
    analyser_version: int = ANALYSER_VERSION
    schema_version: int = SCHEMA_VERSION
    created: str | None = None


@dataclass
class IndexMeta:
    """What an index directory remembers across runs: the folders it is kept in sync with."""

    sources: list[str] = field(default_factory=list)
    updated: str | None = None

    @classmethod
    def read(cls, index_dir: Path) -> IndexMeta:
        data = _read_json(index_dir / META_FILE)
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})

    def write(self, index_dir: Path) -> None:
        _write_json(index_dir / META_FILE, asdict(self))


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise IndexUnavailableError(f"{path} is unreadable: {error}") from None
    return data if isinstance(data, dict) else {}


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write-then-rename, so a crash leaves the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def failpoint(name: str) -> None:
    """Stop here, announced on stderr, when a crash test asks for it (see ``FAILPOINT_ENV``)."""
    if os.environ.get(FAILPOINT_ENV) == name:
        sys.stderr.write(f"failpoint {name} reached\n")
        sys.stderr.flush()
        while True:
            time.sleep(60)


def current_generation(index_dir: Path) -> Path | None:
    """The generation directory readers should open, or None when there is no index."""
    link = index_dir / CURRENT_LINK
    try:
        target = os.readlink(link)
    except OSError:
        return None
    generation = index_dir / target
    return generation if whoosh_index.exists_in(str(generation), indexname=INDEX_NAME) else None


def index_exists(index_dir: Path) -> bool:
    return current_generation(index_dir) is not None


def open_generation(generation: Path) -> Index:
    info = GenerationInfo(
        **{
            k: v
            for k, v in _read_json(generation / GENERATION_FILE).items()
            if k in GenerationInfo.__dataclass_fields__
        }
    )
    if not (generation / GENERATION_FILE).exists():
        info.analyser_version = 0
    if info.analyser_version != ANALYSER_VERSION or info.schema_version != SCHEMA_VERSION:
        raise RebuildNeededError(
            f"the index in {generation.parent} was built by analyser v{info.analyser_version} "
            f"(schema v{info.schema_version}); this version uses analyser v{ANALYSER_VERSION} "
            f"(schema v{SCHEMA_VERSION}). Rebuild it: police-search reindex --rebuild"
        )
    try:
        return whoosh_index.open_dir(str(generation), indexname=INDEX_NAME)
    except Exception as error:  # Whoosh raises assorted types for damaged files
        raise IndexUnavailableError(f"cannot open the index in {generation}: {error}") from None


def open_index(index_dir: Path) -> Index:
    """Open the current generation, refusing one whose tokens this analyser would not match."""
    generation = current_generation(index_dir)
    if generation is None:
        raise NoIndexError(f"no index in {index_dir}; build one with: police-search index [PATH ...]")
    return open_generation(generation)


def _new_generation(index_dir: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    generation = index_dir / f"gen-{stamp}-{os.getpid()}"
    generation.mkdir(parents=True)
    whoosh_index.create_in(str(generation), build_schema(), indexname=INDEX_NAME)
    _write_json(generation / GENERATION_FILE, asdict(GenerationInfo(created=_now())))
    return generation


def _point_current_at(index_dir: Path, generation: Path) -> None:
    """Atomically make ``generation`` the one readers open (rename of a fresh symlink)."""
    temporary = index_dir / f".{CURRENT_LINK}-{os.getpid()}"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(generation.name, temporary)
    os.replace(temporary, index_dir / CURRENT_LINK)
    _fsync_dir(index_dir)


def _fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_stale_generations(index_dir: Path) -> None:
    """Delete generations no reader will open again (left by rebuilds, finished or killed).

    Only called under the writer lock, so no other writer is building one right now.
    """
    current = current_generation(index_dir)
    for entry in index_dir.iterdir():
        if entry.name.startswith("gen-") and entry.is_dir() and (current is None or entry.name != current.name):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f".{CURRENT_LINK}-") or entry.name.startswith(f".{META_FILE}-"):
            entry.unlink(missing_ok=True)


@contextmanager
def writer_lock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the one writer lock of ``index_dir``; ``IndexBusyError`` if it stays taken for ``wait`` s."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole block
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusyError(
                        f"another police-search process is writing to {index_dir}; try again when it finishes"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()


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
    warnings: list[Skipped] = field(default_factory=list)
    files: int = 0
    seconds: float = 0.0
    documents: int = 0
    rebuilt: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)

    @property
    def nothing_indexable(self) -> bool:
        """Files were offered and not one could be indexed, or there is nothing at all to search."""
        if self.files:
            return not (self.added or self.updated or self.unchanged)
        return self.documents == 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


class Progress:
    """Told how many files a run will look at, then about each one (the CLI draws a bar)."""

    def start(self, total: int) -> None:
        pass

    def advance(self, path: Path) -> None:
        pass


def _under(key: str, roots: Iterable[Path]) -> bool:
    return any(key == root_key or key.startswith(root_key.rstrip("/") + "/") for root_key in map(path_key, roots))


def _stored_documents(ix: Index) -> dict[str, dict[str, str]]:
    with ix.searcher() as searcher:
        return {
            fields["path"]: {"id": fields["id"], "checksum": fields["checksum"]}
            for fields in searcher.all_stored_fields()
        }


def list_source_files(paths: Iterable[Path], unlistable: list[tuple[Path, str]] | None = None) -> Iterator[Path]:
    for root in paths:
        yield from iter_source_files(root, unlistable)


def remembered_sources(index_dir: Path) -> list[Path]:
    return [Path(source) for source in IndexMeta.read(index_dir).sources]


def sync(
    index_dir: Path,
    paths: list[Path],
    progress: Progress | None = None,
    wait: float = 0.0,
) -> SyncReport:
    """Bring the index in line with the files under ``paths``: add new, update changed (by
    content checksum), remove deleted.  One commit, so searches see the old or the new state.

    A file that cannot be read or parsed is skipped and reported; the rest of the batch goes on.
    A source folder that has gone missing is reported and its documents are kept.
    """
    with writer_lock(index_dir, wait):
        _remove_stale_generations(index_dir)
        if not index_exists(index_dir):
            _point_current_at(index_dir, _new_generation(index_dir))
        return _sync_generation(index_dir, open_index(index_dir), paths, progress or Progress())


def rebuild(index_dir: Path, paths: list[Path], progress: Progress | None = None, wait: float = 0.0) -> SyncReport:
    """Build a complete fresh generation beside the live one, then swap it in atomically."""
    with writer_lock(index_dir, wait):
        _remove_stale_generations(index_dir)
        generation = _new_generation(index_dir)
        report = _sync_generation(index_dir, open_generation(generation), paths, progress or Progress())
        failpoint("rebuild:before-swap")
        _point_current_at(index_dir, generation)
        failpoint("rebuild:after-swap")
        _remove_stale_generations(index_dir)
        report.rebuilt = True
        return report


def _sync_generation(
    index_dir: Path,
    ix: Index,
    paths: list[Path],
    progress: Progress,
) -> SyncReport:
    started = time.perf_counter()
    report = SyncReport()
    roots = [path.resolve() for path in paths]
    present = [root for root in roots if root.exists()]
    for root in roots:
        if root not in present:
            report.skipped.append(Skipped(str(root), "source folder or file not found; its documents were kept"))
    stored = _stored_documents(ix)
    unlistable: list[tuple[Path, str]] = []
    files = list(list_source_files(present, unlistable))
    progress.start(len(files))
    for folder, reason in unlistable:
        report.skipped.append(Skipped(path_key(folder), f"cannot list folder: {reason}; its documents were kept"))
    protected = [folder for folder, _ in unlistable]
    seen: set[str] = set()
    report.files = len(files)
    failpoint("sync:start")
    writer = ix.writer(limitmb=WRITER_MEMORY_MB)
    try:
        for path in files:
            key = path_key(path)
            seen.add(key)
            try:
                data = read_release_bytes(path)
            except LoadError as error:
                report.skipped.append(Skipped(key, str(error)))
                continue
            finally:
                progress.advance(path)
            previous = stored.get(key)
            if previous is not None and previous["checksum"] == checksum_of(data):
                report.unchanged += 1
                continue
            try:
                release = extract(clean(load_bytes(path, data)))
            except LoadError as error:
                report.skipped.append(Skipped(key, str(error)))
                continue
            except Exception as error:  # one odd file must not sink the batch
                reason = f"could not be processed: {type(error).__name__}: {error}"
                report.skipped.append(Skipped(key, reason))
                continue
            report.warnings.extend(Skipped(key, warning) for warning in release.warnings)
            writer.update_document(**release_fields(release))
            if previous is None:
                report.added += 1
            else:
                report.updated += 1
            if report.added + report.updated == 1:
                failpoint("sync:after-first-document")
        for path, document in stored.items():
            gone = path not in seen and _under(path, present) and not _under(path, protected)
            if gone and not Path(path).exists():
                writer.delete_by_term("id", document["id"])
                report.removed += 1
        failpoint("sync:before-commit")
        if report.added or report.updated or report.removed:
            writer.commit()
        else:
            writer.cancel()
    except BaseException:
        writer.cancel()
        raise
    failpoint("sync:after-commit")
    meta = IndexMeta.read(index_dir)
    meta.sources = sorted({*meta.sources, *(str(root) for root in present)})
    meta.updated = _now()
    meta.write(index_dir)
    report.documents = ix.doc_count()
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def reader(index_dir: Path) -> Iterator[Any]:
    """A Whoosh searcher on the index, closed on exit."""
    ix = open_index(index_dir)
    searcher = ix.searcher()
    try:
        yield searcher
    finally:
        searcher.close()
