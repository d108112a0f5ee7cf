"""Index stage: the Whoosh schema, where indexes live, and syncing source folders into one.

Nothing outside this module and ``query`` imports Whoosh, so the engine can be swapped.

On-disk layout of an index directory::

    index/
      current -> gen-20261125T073000-1234   symlink, swapped atomically by a rebuild
      gen-20261125T073000-1234/             one Whoosh index + generation.json (analyser version)
                                            + <segment>.columns (see segment_columns)
      police-search.json                    the source folders the index is kept in sync with
      .writer.lock                          locked (lockf) by the one process allowed to write

Every change is one Whoosh commit (a new table of contents renamed into place), and a rebuild is
one symlink replacement, so a reader always sees a complete state.  The writer lock is a POSIX
record lock: the kernel drops it when its process dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.fields import COLUMN, ID, KEYWORD, STORED, TEXT, Schema
from whoosh.filedb.filestore import FileStorage
from whoosh.index import Index

from search import codec
from search.analysis import ANALYSER_VERSION, BigramAnalyzer, ChineseAnalyzer, gram_terms, index_terms
from search.normalise import fold_text

PROJECT_ROOT = Path(__file__).resolve().parent.parent
META_FILE = "police-search.json"
GENERATION_FILE = "generation.json"
CURRENT_LINK = "current"
LOCK_FILE = ".writer.lock"
INDEX_NAME = "releases"
# Crash tests set this to a failpoint name; the process then stops there (see ``failpoint``).
FAILPOINT_ENV = "POLICE_SEARCH_FAILPOINT"
# Set (by ``--follow-symlinks``) to index files that symlinks in a source folder point to outside it.
FOLLOW_SYMLINKS_ENV = "POLICE_SEARCH_FOLLOW_SYMLINKS"
WRITER_MEMORY_MB = 256
# 6: ids from content, documents keyed by path for update and delete; 7: crime types, reported year;
# 8: postings written by our packed codec (search.codec), so an index of Whoosh's stock codec asks
# for a rebuild
SCHEMA_VERSION = 8


class IndexUnavailableError(Exception):
    """The index is missing, unreadable or built by an incompatible version."""


class NoIndexError(IndexUnavailableError):
    pass


class RebuildNeededError(IndexUnavailableError):
    pass


class IndexBusyError(Exception):
    """Another process holds the writer lock."""


class WriterFailedError(Exception):
    """A writer process died or failed; nothing of the run was committed."""


def default_index_dir() -> Path:
    configured = os.environ.get("POLICE_SEARCH_INDEX")
    if configured:
        return Path(configured)
    return PROJECT_ROOT / "index"


def default_samples_dir() -> Path:
    return PROJECT_ROOT / "samples"


class ChineseText(TEXT):
    """Whoosh's TEXT field with our analyser, indexed through ``analysis.index_terms``.

    Whoosh would run the analyser token by token (a ``Token`` object and a filter chain per
    term); ``index_terms`` computes the same terms and positions directly (tested equal), so
    indexing skips that overhead.
    """

    terms = staticmethod(index_terms)
    analyzer_factory = staticmethod(ChineseAnalyzer)

    def __init__(self, **kwargs: Any):
        super().__init__(analyzer=self.analyzer_factory(), **kwargs)

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        postings = self.terms(value)
        boost = self.format.field_boost
        encode = self.format.encode
        for term, positions in postings.items():
            yield term.encode("utf-8"), len(positions), len(positions) * boost, encode(positions)


class BigramText(ChineseText):
    """Character bigrams of the same text (not stored): the out-of-vocabulary safety net, so a
    name or new word jieba splits differently in the release and the query is still found."""

    terms = staticmethod(gram_terms)
    analyzer_factory = staticmethod(BigramAnalyzer)


def build_schema() -> Schema:
    """Text fields for search; ID fields for ``field:value`` queries; columns (not indexed) for
    what is only read per document: bookkeeping for sync, and the facet and date-sort data."""
    return Schema(
        # not unique: two files with the same text share an id; sync updates and deletes by path
        id=ID(stored=True, sortable=True),
        title=ChineseText(stored=True, field_boost=2.0),
        body=ChineseText(stored=True),
        grams=BigramText(),
        date=STORED,
        datekey=COLUMN(NumericColumn("i", default=0)),
        year=ID(stored=True),
        district=ID(stored=True),
        city=ID(stored=True),
        province=ID(stored=True),
        region=COLUMN(VarBytesColumn()),  # "province/city/district", UTF-8
        source=ID(stored=True, sortable=True),
        crime_type=KEYWORD(stored=True, commas=True),  # "诈骗,盗窃" (search.crime_types)
        report_year=ID(stored=True),  # the year a release reports on (2024年工作总结 → "2024")
        path=ID(stored=True, unique=True),
        path_column=COLUMN(VarBytesColumn()),  # path_key, UTF-8
        checksum=COLUMN(VarBytesColumn()),  # hex SHA-256, ASCII
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


def document_id(text: str) -> str:
    """From the release's text, not where its file lies: the same release gets the same id (and
    URL) in every clone and folder, re-encoded or in Traditional script too (script, width and
    whitespace are folded away). A changed text gets a new id."""
    folded = "".join(fold_text(text).split())
    return hashlib.sha1(folded.encode("utf-8")).hexdigest()[:16]


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
    # what the last index/reindex run did (counts), for `stats` and /about
    last_run: dict[str, Any] = field(default_factory=dict)

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


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file under this process's umask (``mkstemp`` gives 0600,
    which would lock out a server running as another user with read access to the index)."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
        mask = int(next(line.split()[1] for line in status.splitlines() if line.startswith("Umask:")), 8)
    except (OSError, StopIteration, ValueError):
        mask = os.umask(0o022)
        os.umask(mask)
    return 0o666 & ~mask


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write-then-rename, so a crash leaves the old file or the new one, never half of one."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    os.fchmod(handle, new_file_mode())
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def failpoint(name: str) -> None:
    """Stop here, announced on stderr, when a crash test asks for it (see ``FAILPOINT_ENV``).

    The process waits until killed, or until SIGUSR1 lets it go on (so a test can kill a writer
    child meanwhile). ``NAME:enospc`` instead fails here as a full disk would.
    """
    wanted = os.environ.get(FAILPOINT_ENV)
    if wanted == f"{name}:enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC) + f" (failpoint {name})")
    if wanted != name:
        return
    resumed: list[bool] = []
    signal.signal(signal.SIGUSR1, lambda *_: resumed.append(True))
    sys.stderr.write(f"failpoint {name} reached (pid {os.getpid()})\n")
    sys.stderr.flush()
    while not resumed:
        time.sleep(0.05)


def current_generation(index_dir: Path) -> Path | None:
    """The generation directory readers should open, or None when there is no index at all.

    An index that is there but damaged (``current`` dangling, its table of contents deleted or
    unreadable) raises ``IndexUnavailableError``: it must never pass for an absent one, which
    callers may build afresh (from the bundled samples, say) over the operator's data.
    """
    link = index_dir / CURRENT_LINK
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise _damaged(index_dir, f"{CURRENT_LINK} is not a symlink ({error.strerror})") from None
    generation = index_dir / target
    try:
        found = whoosh_index.exists_in(str(generation), indexname=INDEX_NAME)
    except Exception as error:  # Whoosh raises assorted types for a damaged table of contents
        raise _damaged(index_dir, f"its table of contents is unreadable ({error})") from None
    if not found:
        raise _damaged(index_dir, f"{CURRENT_LINK} points at {target}, which holds no index")
    return generation


def _damaged(index_dir: Path, reason: str) -> IndexUnavailableError:
    return IndexUnavailableError(
        f"the index in {index_dir} is damaged: {reason}. Rebuild it: police-search reindex --rebuild"
    )


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
        # Read, not memory-mapped: a long-lived server would otherwise count every index page it
        # ever touched in its resident memory.
        ix = codec.open_index(FileStorage(str(generation), supports_mmap=False), INDEX_NAME)
        ix.reader().close()  # opens every segment: a damaged one is reported here, not mid-search
        foreign = codec.foreign_segments(ix)
    except Exception as error:  # Whoosh raises assorted types for damaged files
        raise _damaged(generation.parent, f"cannot read {generation.name} ({error})") from None
    if foreign:
        raise RebuildNeededError(
            f"the index in {generation.parent} has postings in another codec than this version's; "
            "rebuild it: police-search reindex --rebuild"
        )
    return ix


def open_index(index_dir: Path) -> Index:
    """Open the current generation, refusing one whose tokens this analyser would not match."""
    generation = current_generation(index_dir)
    if generation is None:
        raise NoIndexError(f"no index in {index_dir}; build one with: police-search index [PATH ...]")
    return open_generation(generation)


def new_generation(index_dir: Path) -> Path:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    generation = index_dir / f"gen-{stamp}-{os.getpid()}"
    generation.mkdir(parents=True)
    codec.create_index(str(generation), build_schema(), INDEX_NAME)
    _write_json(generation / GENERATION_FILE, asdict(GenerationInfo(created=now())))
    return generation


def point_current_at(index_dir: Path, generation: Path) -> None:
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


def remove_stale_generations(index_dir: Path) -> None:
    """Delete generations no reader will open again (left by rebuilds, finished or killed).

    Only called under the writer lock, so no other writer is building one right now. A damaged
    current generation is stale too: only a rebuild calls this on a damaged index.
    """
    try:
        current = current_generation(index_dir)
    except IndexUnavailableError:
        current = None
    for entry in index_dir.iterdir():
        if entry.name.startswith("gen-") and entry.is_dir() and (current is None or entry.name != current.name):
            shutil.rmtree(entry, ignore_errors=True)
        elif entry.name.startswith(f".{CURRENT_LINK}-") or entry.name.startswith(f".{META_FILE}-"):
            entry.unlink(missing_ok=True)
    if current is not None:  # temporary postings of a writer that died (disk full, kill -9)
        shutil.rmtree(current / f"{INDEX_NAME}.tmp", ignore_errors=True)


@contextmanager
def writer_lock(index_dir: Path, wait: float = 0.0) -> Iterator[None]:
    """Hold the one writer lock of ``index_dir``; ``IndexBusyError`` if it stays taken for ``wait`` s."""
    index_dir.mkdir(parents=True, exist_ok=True)
    handle = open(index_dir / LOCK_FILE, "a+")  # noqa: SIM115 - held for the whole block
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                # lockf (POSIX record lock), not flock: it belongs to this process alone, so
                # forked writer processes never keep it alive after a crash of this one
                fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (BlockingIOError, PermissionError):
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
