"""Facets of a search: one pass over the query's matches gives the total and every facet, each
facet applying every active filter but its own (so the counts say what clicking would give);
facet values ranked by count; dates as filter values and as day keys."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from whoosh import query as wq
from whoosh import sorting
from whoosh.searching import Searcher

from search.collapse import Stories
from search.dates import parse_date
from search.facet_arrays import ArrayFacets, ColumnArrays, ListFacets
from search.facet_registry import REGION, FacetValues
from search.facets import FacetColumns
from search.query.results import FacetValue, QueryError

# Facets list at most this many values (the most frequent): enough for any screen, and a query
# over a national corpus would otherwise return thousands of districts.
FACET_LIMIT = 200
_REGION_FACETS = REGION.keys  # declared in search.facet_registry


def count_facets(
    columns: FacetColumns, values: FacetValues, stories: Stories, docs: list[int], chosen: dict[str, Any],
    region: str | None, start: dt.date | None, end: dt.date | None, include_undated: bool, collapse: bool,
    arrays: ColumnArrays | None = None,
) -> tuple[Any, dict[str, list[FacetValue]], int]:  # fmt: skip
    """``(matched, facets, undated)`` for a query's matches ``docs``: ``matched.both`` the releases
    passing every filter (one per story with ``collapse``), the facets, and the undated count.
    With ``arrays`` (the columns as numpy arrays) and without ``collapse``, counted on arrays."""
    if arrays is not None and not collapse:
        ops: ListFacets | ArrayFacets = ArrayFacets(columns, values, arrays, FACET_LIMIT)
    else:
        ops = ListFacets(columns, values)
    once: Callable[[list[int], Any], list[int]] = stories.once if collapse else lambda docs, _: docs
    date_range = (_date_key(start) if start else 1, _date_key(end) if end else 99991231) if start or end else None
    # each facet ignores its own filter (region counts apply the date filter, year counts the region filter)
    docs = ops.docs(docs)
    matched = ops.apply_filters(ops.narrow(docs, chosen), region, date_range, include_undated)
    regions = ops.region_counts(once(matched.by_date, columns.region_ids))
    chosen_year = start.year if start and end and start.year == end.year else None
    if chosen_year is not None:
        # months are offered within the chosen year, counted over that whole year
        year_docs = ops.apply_filters(matched.by_region, None, (chosen_year * 10000 + 101, chosen_year * 10000 + 1231))
        years, _ = ops.date_counts(once(matched.by_region, columns.years), None)
        _, months = ops.date_counts(once(year_docs.both, columns.months), chosen_year)
    else:
        years, months = ops.date_counts(once(matched.by_region, columns.years), None)
    facets = {name: _ranked(regions[name]) for name in _REGION_FACETS}
    facets["year"] = sorted(_ranked(years), key=lambda item: item.value, reverse=True)
    facets["month"] = sorted(_ranked(months), key=lambda item: item.value)
    unfaceted = ops.apply_filters(docs, region, date_range, include_undated).both
    counted = ops.value_counts(unfaceted, chosen, stories.story_of if collapse else None)
    facets.update({name: _ranked(counts) for name, counts in counted.items()})
    undated = ops.undated_count(matched.by_region)
    matched = ops.as_lists(matched)
    if collapse:  # one hit per story: what is ranked, paged and counted in ``total``
        undated_docs = [doc for doc in matched.by_region if not columns.datekeys[doc]]
        undated = len(stories.once(undated_docs, columns.datekeys))
        if date_range is not None and not include_undated:
            # what including the undated would add: stories that only undated copies bring in
            with_undated = ops.apply_filters(ops.narrow(docs, chosen), region, date_range, True).both
            undated = len(stories.representatives(with_undated, columns.datekeys)) - len(
                stories.representatives(matched.both, columns.datekeys)
            )
        matched.both = stories.representatives(matched.both, columns.datekeys)
    return matched, facets, undated


def _count(searcher: Searcher, query: wq.Query, field_name: str) -> dict[str, int]:
    """Documents per value of a sortable field among the query's matches."""
    results = searcher.search(
        query, limit=1, scored=False, groupedby={field_name: sorting.FieldFacet(field_name, maptype=sorting.Count)}
    )
    return results.groups(field_name)


def as_date(value: str | dt.date | None, name: str) -> dt.date | None:
    """Accept ``YYYY-MM-DD`` (or a date object); anything else is a ``QueryError``."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", value.strip()):
        raise QueryError(f"{name} must be a date written YYYY-MM-DD, not {value!r}")
    parsed = parse_date(value)
    if parsed is None:
        raise QueryError(f"{name} is not a real calendar date: {value!r}")
    return parsed


def _iso_date(key: int) -> str:
    return f"{key // 10000:04d}-{key // 100 % 100:02d}-{key % 100:02d}"


def _date_key(value: dt.date) -> int:
    return int(value.strftime("%Y%m%d"))


def _ranked(counts: dict[Any, int], limit: int | None = FACET_LIMIT) -> list[FacetValue]:
    """Facet values by count (then name), at most ``limit`` of them."""
    # (-count, value) pairs sort as wanted without a key function (values are distinct)
    present = sorted((-count, str(value)) for value, count in counts.items() if value not in (None, "", b""))
    return [FacetValue(value, -negated) for negated, value in (present[:limit] if limit else present)]
