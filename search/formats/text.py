"""Terminal text: one page of a search as people read it (``police-search query``), matches in
colour on a terminal, plain when piped. Text from releases has its control characters removed, so
a release cannot drive the terminal (clear the screen, fake output) through escape sequences."""

from __future__ import annotations

import re
from collections.abc import Iterator

from search.facet_registry import FACETS
from search.formats import PAGE, Format, Output, register
from search.query import Document, Hit, SearchResult
from search.snippets import Snippet

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
BOLD, MATCH, RESET = "\x1b[1m", "\x1b[1;31m", "\x1b[0m"


def printable(text: str | None) -> str:
    """``text`` without control characters (``None``: empty)."""
    return _CONTROL.sub("", text or "")


def coloured(snippet: Snippet, colour: bool) -> str:
    """The snippet's text, its highlighted stretches in bold red when ``colour``."""
    return "".join(
        f"{MATCH}{printable(piece)}{RESET}" if colour and highlighted else printable(piece)
        for piece, highlighted in snippet.pieces()
    )


def types_and_copies(hit: Hit | Document) -> Iterator[str]:
    """Its crime types, and the other outlets that carried the same release (its story's copies)."""
    if hit.crime_types:
        yield f"   类型 {'、'.join(hit.crime_types)}"
    if hit.copies:
        outlets = "、".join(dict.fromkeys(printable(copy["source"]) or "来源不详" for copy in hit.copies))
        yield f"   另有 {len(hit.copies)} 个来源: {outlets}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _notices(result: SearchResult, search: dict) -> Iterator[str]:
    if result.total and not result.hits:
        yield (
            f"Page {result.page} is past the end: {_plural(result.total, 'result')} fill "
            f"{_plural(result.pages, 'page')}; the last is --page {result.pages}."
        )
    dated = search.get("date_from") or search.get("date_to")
    if result.undated and dated and not search.get("include_undated"):
        yield (
            f"The date filter hides {_plural(result.undated, 'release')} whose date is unknown; "
            "add --include-undated to see them."
        )
    if result.mode == "any" and not result.total_all_words:
        yield "No release has every word of the query; showing the best partial matches."
    elif result.mode == "any":
        yield f"{result.total_all_words} with every word of the query, then releases with some of them."
    if result.did_you_mean:
        yield f"Did you mean (without quotes and brackets): {result.did_you_mean}"
    for place in result.places:
        yield f"{place['word']}: also releases located in {place['region']}"
    if result.also_matched:
        yield f"Also matched: {', '.join(result.also_matched)}"


def _hit_lines(number: int, hit: Hit, colour: bool) -> Iterator[str]:
    place = " / ".join(dict.fromkeys(p for p in (hit.province, hit.city, hit.district) if p)) or "—"
    title = f"{BOLD}{printable(hit.title)}{RESET}" if colour else printable(hit.title)
    yield f"\n{number}. {title}"
    yield f"   {hit.date or '日期不详'} · {place} · {printable(hit.source) or '来源不详'} · id {hit.id}"
    yield f"   {coloured(hit.snippet, colour)}"
    if hit.missing:
        yield f"   missing: {', '.join(hit.missing)}"
    yield from types_and_copies(hit)


def render(output: Output) -> Iterator[str]:
    result, search = output.result, output.search
    shown_from = (result.page - 1) * result.per_page + 1 if result.hits else 0
    showing = (
        f" (showing {shown_from}–{shown_from + len(result.hits) - 1}, page {result.page} of {result.pages})"
        if result.hits
        else ""
    )
    lines = [f"{_plural(result.total, 'result')}{showing} in {result.took_ms:.0f} ms", *_notices(result, search)]
    for number, hit in enumerate(output.hits, start=shown_from):
        lines += _hit_lines(number, hit, output.colour)
    filtered = any(search.get(name) for name in ("district", "date_from", "date_to", *FACETS.params))
    if result.total == 0 and filtered:
        options = "".join(f", --{param}" for param in FACETS.params)
        lines.append(f"No results: try removing some of the filters (district, dates{options}).")
    for line in lines:
        yield line + "\n"


register(Format("text", "text/plain", "txt", PAGE, render, "one page of results for people (the default)"))
