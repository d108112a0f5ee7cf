"""A search in any registered format: the one entry point the CLI and the web API share.

``produce`` runs the search a format's scope asks for (one page, every match up to the cap, the
newest releases for a feed) and returns the rendered text as chunks to write as they come. A
malformed search raises ``QueryError`` before any chunk, so callers can still answer with an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from search.formats import EVERY, FEED, FeedInfo, Format, Output, get_format, relative_link
from search.formats.atom import FEED_SIZE
from search.query import SearchEngine, SearchResult
from search.streaming import open_export


@dataclass
class Produced:
    format: Format
    result: SearchResult
    chunks: Iterator[str]
    cap: int | None = None  # every: the most rows a download holds
    rows: int | None = None  # every: the rows it holds
    truncated: bool = False  # every: more releases matched than the cap lets out
    close: Callable[[], None] = lambda: None  # frees what the chunks hold, whether read or not


def produce(
    engine: SearchEngine,
    name: str,
    search: dict[str, Any],
    *,
    cap: int | None = None,
    link: Callable[[str], str] = relative_link,
    with_path: bool = False,
    colour: bool = False,
    feed: FeedInfo | None = None,
) -> Produced:
    """``search`` (``SearchEngine.search`` arguments) rendered as format ``name``."""
    format_ = get_format(name)
    options = {"link": link, "with_path": with_path, "colour": colour, "search": search, "feed": feed}
    if format_.scope == EVERY:
        export = open_export(engine, cap, **search)
        output = Output(export.result, export.hits(), **options)
        chunks = _closing(format_.render(output), export.close)
        return Produced(format_, export.result, chunks, export.cap, export.rows, export.truncated, export.close)
    if format_.scope == FEED:
        search = {**search, "sort": "date", "page": 1, "per_page": FEED_SIZE}
    result = engine.search(**search)
    return Produced(format_, result, format_.render(Output(result, result.hits, **options)))


def _closing(chunks: Iterator[str], close: Callable[[], None]) -> Iterator[str]:
    """``chunks``, then ``close`` — also when the consumer stops early (a client went away)."""
    try:
        yield from chunks
    finally:
        close()
