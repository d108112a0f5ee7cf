"""Atom 1.0 (RFC 4287): the newest releases of a search, for feed readers.

Rendered by a Jinja template with autoescaping (``templates/feed.atom.xml``), so every title,
summary and address is escaped; characters XML 1.0 forbids (control characters a release may
carry) are dropped first. Entry ids are ``tag:`` URIs (RFC 4151) of the release ids, which come from
each release's text: the same in every clone and after every reindex, so a reader never shows a
release twice. A feed's id is the search itself (its query and filters), so it stays the same for
the same saved search. A release without a date has no place in a feed (an entry needs a time):
such releases are left out.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape

from search.facet_registry import FACETS
from search.formats import FEED, Format, Output, register
from search.query import Hit

FEED_SIZE = 50
TAG_AUTHORITY = "police-search,2026"  # tag: URI authority and date (RFC 4151); never to change
# Releases carry dates without a time; they are Beijing (and Taipei, Hong Kong) dates.
DATE_TIME = "{}T00:00:00+08:00"
NO_DATE = "1970-01-01T00:00:00Z"  # an empty feed's updated
# the search arguments that say what a feed holds (sort and paging do not); then every facet's
FEED_PARAMETERS = (("q", "q"), ("district", "district"), ("date_from", "from"), ("date_to", "to"))
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_environment = Environment(
    loader=PackageLoader("search.formats", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    updated: str
    link: str
    source: str | None
    crime_types: list[str]
    summary: str


def xml_text(text: str | None) -> str:
    """``text`` without the characters XML 1.0 does not allow (escaping is the template's)."""
    return _NOT_XML.sub("", text or "")


def entry_id(doc_id: str) -> str:
    return f"tag:{TAG_AUTHORITY}:release/{doc_id}"


def feed_arguments(search: dict) -> list[tuple[str, str]]:
    """The search's query and filters as URL parameters, in a fixed order (what a feed holds)."""
    named = [*FEED_PARAMETERS, *((param, param) for param in FACETS.params)]
    pairs = [(name, str(search[key])) for key, name in named if search.get(key)]
    if search.get("collapse") is False:
        pairs.append(("collapse", "0"))
    return pairs


def feed_id(search: dict) -> str:
    return f"tag:{TAG_AUTHORITY}:search?{urllib.parse.urlencode(feed_arguments(search))}"


def feed_title(search: dict) -> str:
    parts = [f"警讯搜索：{search.get('q') or '全部通报'}"]
    if search.get("district"):
        parts.append(str(search["district"]))
    parts += [facet.shown(str(search[facet.param])) for facet in FACETS if search.get(facet.param)]
    if search.get("date_from") or search.get("date_to"):
        parts.append(f"{search.get('date_from') or '…'} 至 {search.get('date_to') or '…'}")
    return " · ".join(parts)


def _entry(hit: Hit, output: Output) -> Entry:
    return Entry(
        id=entry_id(hit.id),
        title=xml_text(hit.title),
        updated=DATE_TIME.format(hit.date),
        link=output.link(hit.id),
        source=xml_text(hit.source) or None,
        crime_types=[xml_text(kind) for kind in hit.crime_types],
        summary=xml_text(hit.snippet.text),
    )


def render(output: Output) -> Iterator[str]:
    entries = [_entry(hit, output) for hit in output.hits if hit.date]
    info = output.feed
    feed = {
        "id": feed_id(output.search),
        "title": xml_text(feed_title(output.search)),
        "updated": max(entry.updated for entry in entries) if entries else NO_DATE,
        "self_url": info.self_url if info else None,
        "alternate_url": info.alternate_url if info else None,
    }
    yield _environment.get_template("feed.atom.xml").render(feed=feed, entries=entries)


register(
    Format(
        "atom",
        "application/atom+xml",
        "atom",
        FEED,
        render,
        f"the newest {FEED_SIZE} releases of the search (undated ones left out), as an Atom 1.0 feed",
    )
)
