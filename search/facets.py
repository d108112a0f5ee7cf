"""Facet counts and filters computed over columns cached per searcher.

Whoosh's ``groupedby`` looks up every facet of every matching document through several layers of
Python objects; for a query matching most of 20,000 releases that dominates the response time. Here
the region and date of every document (saved per segment, see ``segment_columns``) are held per
searcher in plain lists, so filtering and counting a query's matches are a few list comprehensions
and ``Counter`` calls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from search.segment_columns import SegmentColumns


@dataclass(frozen=True)
class FacetColumns:
    """Per document number: region id and date key; per region id: its path and names."""

    region_ids: list[int]
    datekeys: list[int]
    years: list[int]  # 0 when undated
    months: list[int]  # YYYYMM, 0 when undated
    region_paths: list[str]
    region_names: list[frozenset[str]]
    region_parts: list[tuple[str, str, str]]  # (province, city, district), "" where unknown

    @classmethod
    def from_segments(cls, segments: list[SegmentColumns]) -> FacetColumns:
        """From each segment's columns, in document-number order."""
        ids: dict[str, int] = {}
        region_ids = [ids.setdefault(path, len(ids)) for segment in segments for path in segment.regions]
        region_paths = list(ids)
        names = [frozenset(part for part in path.split("/") if part) for path in region_paths]
        datekeys = [key for segment in segments for key in segment.datekeys]
        years = [key // 10000 for key in datekeys]
        months = [key // 100 for key in datekeys]
        parts = [tuple([*path.split("/"), "", ""][:3]) if path else ("", "", "") for path in region_paths]
        return cls(region_ids, datekeys, years, months, region_paths, names, parts)

    def regions_named(self, name: str) -> set[int]:
        return {rid for rid, names in enumerate(self.region_names) if name in names}


@dataclass
class Filtered:
    """A query's matches split the way faceted search needs them."""

    both: list[int]  # pass every filter: the hits
    by_date: list[int]  # pass the date filter: what region counts are over
    by_region: list[int]  # pass the region filter: what year and month counts are over


def apply_filters(
    columns: FacetColumns,
    docs: list[int],
    region: str | None,
    date_range: tuple[int, int] | None,
    include_undated: bool = False,
) -> Filtered:
    by_date = docs
    if date_range is not None:
        low, high = date_range
        datekeys = columns.datekeys
        # undated releases (key 0) pass a date filter only when asked for
        by_date = [doc for doc in docs if low <= datekeys[doc] <= high or (include_undated and not datekeys[doc])]
    by_region = docs
    if region is not None:
        allowed = columns.regions_named(region)
        region_ids = columns.region_ids
        by_region = [doc for doc in docs if region_ids[doc] in allowed]
        both = [doc for doc in by_date if region_ids[doc] in allowed]
    else:
        both = by_date
    return Filtered(both, by_date, by_region)


def region_counts(columns: FacetColumns, docs: list[int]) -> dict[str, Counter[str]]:
    """Counts per region path and per district, city and province name."""
    per_region = Counter(map(columns.region_ids.__getitem__, docs))
    counts: dict[str, Counter[str]] = {name: Counter() for name in ("region", "province", "city", "district")}
    region, province, city, district = (counts[name] for name in ("region", "province", "city", "district"))
    paths, parts = columns.region_paths, columns.region_parts
    for rid, count in per_region.items():
        if not paths[rid]:
            continue
        region[paths[rid]] += count
        in_province, in_city, in_district = parts[rid]
        province[in_province] += count
        if in_city:
            city[in_city] += count
        if in_district:
            district[in_district] += count
    return counts


def undated_count(columns: FacetColumns, docs: list[int]) -> int:
    """How many of ``docs`` have no date (a date filter hides them unless asked not to)."""
    datekeys = columns.datekeys
    return sum(1 for doc in docs if not datekeys[doc])


def date_counts(columns: FacetColumns, docs: list[int], year: int | None) -> tuple[Counter[str], Counter[str]]:
    """Counts per year, and per month of ``year`` when one is chosen."""
    per_year = Counter(map(columns.years.__getitem__, docs))
    years = Counter({str(value): count for value, count in per_year.items() if value})
    months: Counter[str] = Counter()
    if year is not None:
        per_month = Counter(map(columns.months.__getitem__, docs))
        months = Counter(
            {f"{value // 100}-{value % 100:02d}": n for value, n in per_month.items() if value // 100 == year}
        )
    return years, months
