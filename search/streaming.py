"""Every match of a search, in result order, for downloads (CSV, JSON lines): ranked once, read lazily.

Paging through ``SearchEngine.search`` to the end would redo the search for every page (quadratic in
the number of matches). Instead the search is run once with ``rank_up_to`` (the whole ranking up to
the cap, no hits built), and each release's stored fields are read only when its row is written,
so memory stays flat however many rows go out. The ranking and the reads share one snapshot of the
index (a reindex meanwhile changes nothing in a download under way); that snapshot is held from
``open_export`` until the rows are exhausted or ``close`` is called, on the same thread (a web
request's, the CLI's).

Downloads are capped at ``MAX_ROWS`` releases (the rows kept are the first in result order;
``Export.truncated`` says so), so one request cannot occupy a worker indefinitely.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from search.query import Hit, SearchEngine, SearchResult

MAX_ROWS = 100_000


@dataclass
class Export:
    """One download under way: the search's result (its ``total``; no hits) and its rows to come."""

    result: SearchResult
    cap: int
    _engine: SearchEngine
    _snapshot: contextlib.ExitStack
    _reader: Any = field(default=None, repr=False)  # (searcher, stories) of the snapshot

    @property
    def rows(self) -> int:
        """How many releases the download holds: the total, or the cap when there are more."""
        return len(self.result.ranking)

    @property
    def truncated(self) -> bool:
        return self.result.total > self.rows

    def hits(self) -> Iterator[Hit]:
        """The releases in result order, each read when asked for (without its copies); closes the
        export when done or when the consumer stops early."""
        try:
            searcher, stories = self._reader
            terms = self.result.highlight_terms
            for doc, score in self.result.ranking:
                yield self._engine._hit(searcher.stored_fields(doc), score, terms, stories, doc, copies=False)
        finally:
            self.close()

    def close(self) -> None:
        """Give the snapshot back (idempotent)."""
        self._snapshot.close()


def open_export(engine: SearchEngine, cap: int | None = None, **search: Any) -> Export:
    """Rank every match of ``engine.search(**search)`` (paging arguments are ignored) up to ``cap``
    (default ``MAX_ROWS``). Raises ``QueryError`` for a malformed search, before any row."""
    cap = MAX_ROWS if cap is None else cap
    if cap < 1:
        raise ValueError(f"the cap must be at least 1, not {cap}")
    search = {key: value for key, value in search.items() if key not in ("page", "per_page")}
    snapshot = contextlib.ExitStack()
    snapshot.enter_context(engine.snapshot())
    try:
        result = engine.search(**search, rank_up_to=cap)
        searcher = engine._current_searcher()
        reader = (searcher, engine._stories(searcher))
    except BaseException:
        snapshot.close()
        raise
    return Export(result, cap, engine, snapshot, reader)
