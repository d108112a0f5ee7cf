"""Consistent snapshots of the index for concurrent readers, without a global lock.

A Whoosh searcher is not safe to share between threads: its segment readers seek and read open
files and fill small caches as they go. So every operation of ``SearchEngine`` (a search with its
parse, facets and snippets; a document; the statistics) takes a searcher of its own from a pool
for its whole duration and puts it back when done: one commit, seen from start to end, by one
thread. A searcher taken after the index changed is refreshed first (a new commit) or replaced (a
rebuild made a new generation), so a long-lived server sees a reindex on its next query.

What is derived from one commit (facet columns, facet values, the story map) is the same for every
searcher of that commit: ``CommitCache`` builds it once per commit and shares it between threads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whoosh.searching import Searcher

from search.index import IndexUnavailableError, current_generation, open_generation, open_index

# Idle searchers kept per engine: as many as requests are served at once by one process (waitress
# runs 4 threads by default); a burst beyond this opens searchers that are closed after use.
MAX_IDLE_SEARCHERS = 8
# Derived values kept: a few commits' worth, so that an operation still on the previous commit
# while others have moved to the next one does not rebuild them back and forth.
MAX_CACHED_VALUES = 12
# A commit replaces the table of contents: a reader that listed the old one may find it gone.
TOC_RETRIES = 10
TOC_RETRY_SECONDS = 0.05


@dataclass(frozen=True)
class Snapshot:
    """One committed state of the index, and the searcher reading it (owned by one thread)."""

    searcher: Searcher
    generation: Path
    commit: tuple[str, int]  # (generation folder, Whoosh's commit number): the key of derived values


class SearcherPool:
    """Searchers on the newest commit, lent to one operation at a time."""

    def __init__(self, index_dir: Path, weighting: Callable[[], Any]):
        self.index_dir = index_dir
        self._weighting = weighting  # the scoring each new searcher uses
        self._lock = threading.Lock()  # guards the fields below; held to read the index only on a switch of generation
        self._generation: Path | None = None
        self._index: Any = None
        self._idle: list[Snapshot] = []

    def acquire(self) -> Snapshot:
        """A snapshot of the newest commit, for the caller's use only until ``release``."""
        generation = _current_generation(self.index_dir)
        if generation is None:
            self.close()
            open_index(self.index_dir)  # raises the "no index" error with its advice
        with self._lock:
            if self._index is None or generation != self._generation:
                # a rebuild switched generations: the old one's searchers are of no further use
                stale, self._idle = self._idle, []
                self._index, self._generation = None, None
                for snapshot in stale:
                    snapshot.searcher.close()
                self._index, self._generation = open_generation(generation), generation
            index = self._index
            taken = self._idle.pop() if self._idle else None
        if taken is not None and taken.searcher.up_to_date():
            return taken
        try:
            # refresh() opens a searcher on the newest commit and closes what the old one held
            searcher = taken.searcher.refresh() if taken else index.searcher(weighting=self._weighting())
        except Exception as error:  # a damaged segment file: Whoosh raises assorted types
            self.close()
            raise IndexUnavailableError(f"cannot read the index in {generation}: {error}") from None
        return Snapshot(searcher, generation, (str(generation), searcher.reader().generation()))

    def release(self, snapshot: Snapshot) -> None:
        """Take a searcher back from its operation; kept for the next one while it is of use."""
        with self._lock:
            if snapshot.generation == self._generation and len(self._idle) < MAX_IDLE_SEARCHERS:
                self._idle.append(snapshot)
                return
        snapshot.searcher.close()

    def close(self) -> None:
        """Close the idle searchers (those lent out are closed when they come back)."""
        with self._lock:
            idle, self._idle = self._idle, []
            self._index, self._generation = None, None
        for snapshot in idle:
            snapshot.searcher.close()


def _current_generation(index_dir: Path) -> Path | None:
    """``current_generation``, retried when a commit deletes the table of contents it was opening
    (Whoosh's own reader retries the same way)."""
    for _ in range(TOC_RETRIES - 1):
        try:
            return current_generation(index_dir)
        except FileNotFoundError:
            time.sleep(TOC_RETRY_SECONDS)
    return current_generation(index_dir)


class Snapshots:
    """Per thread, the snapshot its current operation reads; operations nest (a search calling
    ``parse``, ``stats`` calling ``search``) and share the outermost one's snapshot."""

    def __init__(self, pool: SearcherPool):
        self.pool = pool
        self._local = threading.local()

    @contextmanager
    def operation(self) -> Iterator[None]:
        """One operation: the first ``current()`` in it takes a snapshot, the end gives it back."""
        local = self._local
        outermost = not getattr(local, "depth", 0)
        local.depth = getattr(local, "depth", 0) + 1
        try:
            yield
        finally:
            local.depth -= 1
            if outermost:
                snapshot, local.snapshot = getattr(local, "snapshot", None), None
                if snapshot is not None:
                    self.pool.release(snapshot)

    def current(self) -> Snapshot:
        """The snapshot of the calling thread's operation (outside one: a snapshot the caller keeps)."""
        local = self._local
        if not getattr(local, "depth", 0):
            return self.pool.acquire()
        snapshot = getattr(local, "snapshot", None)
        if snapshot is None:
            snapshot = local.snapshot = self.pool.acquire()
        return snapshot


class CommitCache:
    """Values derived from one commit, built once and shared by every thread searching it.

    Builds are serialised (they are rare: once per commit and kind), lookups are not."""

    def __init__(self) -> None:
        self._values: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._build_lock = threading.RLock()  # re-entrant: a build may need another value

    def get(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        try:
            return self._values[key]
        except KeyError:
            pass
        with self._build_lock:
            if key not in self._values:  # another thread may have built it meanwhile
                self._values[key] = build()
                while len(self._values) > MAX_CACHED_VALUES:
                    self._values.popitem(last=False)
            return self._values[key]

    def clear(self) -> None:
        with self._build_lock:
            self._values.clear()
