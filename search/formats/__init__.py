"""Output formats: one registry the CLI (``query --format``) and the web API (``format=``) share.

Each format is a renderer beside the others, all fed the same result objects (``search.query.Hit``,
whose snippet is text plus highlight spans): terminal text, JSON, JSON lines, CSV and Atom (HTML
``<mark>`` for the pages is ``search.formats.html``). A format says what it renders, its *scope*:

* ``page``: one page of a search (``text``, ``json``);
* ``every``: every matching release in result order, streamed, up to a cap (``jsonl``, ``csv``:
  ``search.streaming``);
* ``feed``: the newest releases of a search (``atom``).

As in datasette's renderer registry, a format is a name, a media type, a file extension and a
function; adding one is one module that calls ``register`` (imported at the end of this file).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from search.query import Hit, SearchResult

PAGE, EVERY, FEED = "page", "every", "feed"


def relative_link(doc_id: str) -> str:
    """A document page's link when no public address is known (the CLI without ``--base-url``)."""
    return f"/doc/{doc_id}"


@dataclass(frozen=True)
class FeedInfo:
    """Where a feed lies (search.formats.atom; its title and id come from the search itself)."""

    self_url: str | None = None  # where the feed is fetched
    alternate_url: str | None = None  # the same search as a page


@dataclass
class Output:
    """Everything a renderer may use. ``hits`` are the page's hits (``page``, ``feed``) or every
    match, read lazily (``every``); ``result`` is the search they come from (its total, notices)."""

    result: SearchResult
    hits: Iterable[Hit]
    link: Callable[[str], str] = relative_link  # document id → its page; never a server path
    with_path: bool = False  # JSON: the file's path on disk (the CLI: its user owns the index)
    colour: bool = False  # text: ANSI colour for a terminal
    search: dict[str, Any] = field(default_factory=dict)  # the arguments the search was run with
    feed: FeedInfo | None = None


@dataclass(frozen=True)
class Format:
    name: str
    media_type: str
    extension: str
    scope: str  # PAGE, EVERY or FEED
    render: Callable[[Output], Iterator[str]]
    summary: str  # one line for --help and the OpenAPI description

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


FORMATS: dict[str, Format] = {}


def register(format_: Format) -> Format:
    FORMATS[format_.name] = format_
    return format_


def get_format(name: str) -> Format:
    """The format called ``name``; ``KeyError`` names the formats there are."""
    try:
        return FORMATS[name]
    except KeyError:
        raise KeyError(f"unknown format {name!r}; one of {', '.join(FORMATS)}") from None


def names(*scopes: str) -> list[str]:
    """The formats' names, those of ``scopes`` only when given."""
    return [name for name, format_ in FORMATS.items() if not scopes or format_.scope in scopes]


# the formats register themselves, in this order (that of --help and the API description)
from search.formats import text, json_document, jsonl, csv_rows, atom  # noqa: E402, F401, I001
