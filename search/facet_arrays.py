"""Facet filters and counts over numpy copies of one commit's columns.

``search/facets.py`` and ``search/facet_registry.py`` filter and count a query's matches with list
comprehensions and ``Counter`` over per-document lists: fine for a few hundred matches, a few
milliseconds for a common word over 20,000 releases, paid once per facet. Here the same columns
are held as numpy arrays (built once per commit) and the matches as an array of document numbers,
so a filter is one boolean mask and a facet's counts one ``np.bincount``. Results are the same
``Counter`` objects as the list versions give (tested equal).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from search import facets
from search.facet_registry import FacetValues
from search.facets import FacetColumns, Filtered
from search.sorted_docs import DocList, as_array


@dataclass(frozen=True)
class MultiValued:
    """One facet's values per document as flat arrays: ``values[starts[d]:starts[d + 1]]`` are
    document ``d``'s value ids, ``owners[i]`` the document of ``values[i]``."""

    values: np.ndarray
    owners: np.ndarray
    names: list[str]


@dataclass(frozen=True)
class ColumnArrays:
    """``FacetColumns`` and ``FacetValues`` of one commit, as arrays indexed by document number."""

    region_ids: np.ndarray
    datekeys: np.ndarray
    years: np.ndarray
    months: np.ndarray
    region_count: int
    facets: dict[str, MultiValued]
    # per facet level (region, province, city, district): per region id the code of its name
    # there (-1: not counted), the names, and each name's place in sorted order
    levels: dict[str, tuple[np.ndarray, list[str], np.ndarray]]

    @classmethod
    def build(cls, columns: FacetColumns, values: FacetValues | None = None) -> ColumnArrays:
        facets = {}
        if values is not None:
            for name, per_doc in values.per_doc.items():
                counts = np.fromiter(map(len, per_doc), dtype=np.int64, count=len(per_doc))
                flat = np.fromiter((value for doc in per_doc for value in doc), dtype=np.int64, count=int(counts.sum()))
                owners = np.repeat(np.arange(len(per_doc), dtype=np.int64), counts)
                facets[name] = MultiValued(flat, owners, values.names[name])
        return cls(
            region_ids=np.asarray(columns.region_ids, dtype=np.int64),
            datekeys=np.asarray(columns.datekeys, dtype=np.int64),
            years=np.asarray(columns.years, dtype=np.int64),
            months=np.asarray(columns.months, dtype=np.int64),
            region_count=len(columns.region_paths),
            facets=facets,
            levels=_levels(columns),
        )

    def __len__(self) -> int:
        return len(self.datekeys)


def _levels(columns: FacetColumns) -> dict[str, tuple[np.ndarray, list[str], np.ndarray]]:
    """Which name each region id counts towards at each level, as ``counts_by_region`` counts:
    nothing for a region without a path; its province always; its city and district when known."""
    levels = {}
    for level in ("region", "province", "city", "district"):
        codes: dict[str, int] = {}
        per_region = []
        for path, (province, city, district) in zip(columns.region_paths, columns.region_parts, strict=True):
            name = {"region": path, "province": province, "city": city, "district": district}[level]
            counted = bool(path) and (level == "province" or bool(name))
            per_region.append(codes.setdefault(name, len(codes)) if counted else -1)
        names = list(codes)
        ranks = np.empty(len(names), dtype=np.int64)
        ranks[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
        levels[level] = (np.asarray(per_region, dtype=np.int64), names, ranks)
    return levels


@dataclass
class FilteredArrays:
    """``facets.Filtered`` with arrays: ``both`` pass every filter, ``by_date`` the date filter
    (region counts are over them), ``by_region`` the region filter (year and month counts)."""

    both: np.ndarray
    by_date: np.ndarray
    by_region: np.ndarray


def apply_filters(
    columns: FacetColumns,
    arrays: ColumnArrays,
    docs: np.ndarray,
    region: str | None,
    date_range: tuple[int, int] | None,
    include_undated: bool = False,
) -> FilteredArrays:
    """``facets.apply_filters`` over an array of document numbers."""
    by_date = docs
    if date_range is not None:
        low, high = date_range
        keys = arrays.datekeys[docs]
        passes = (keys >= low) & (keys <= high)
        if include_undated:
            passes |= keys == 0
        by_date = docs[passes]
    if region is None:
        return FilteredArrays(by_date, by_date, docs)
    allowed = np.zeros(arrays.region_count, dtype=bool)
    allowed[list(columns.regions_named(region))] = True
    in_region = allowed[arrays.region_ids]
    return FilteredArrays(by_date[in_region[by_date]], by_date, docs[in_region[docs]])


def region_counts(
    columns: FacetColumns, arrays: ColumnArrays, docs: np.ndarray, limit: int | None = None
) -> dict[str, Counter[str]]:
    """``facets.region_counts``: per region path and per district, city and province name; with
    ``limit``, only the ``limit`` most frequent names of each (ties by name), blank names left out:
    what a facet lists (a national corpus has thousands of districts)."""
    per_region = np.bincount(arrays.region_ids[docs], minlength=arrays.region_count)
    counts = {}
    for level, (codes, names, ranks) in arrays.levels.items():
        counted = codes >= 0
        totals = np.bincount(codes[counted], weights=per_region[counted], minlength=len(names)).astype(np.int64)
        present = np.flatnonzero(totals)
        if limit is not None:
            if "" in names:  # names are distinct: one code is blank
                present = present[present != names.index("")]
            if len(present) > limit:  # only those reaching the limit-th count can be listed: sort those
                cut = np.partition(totals[present], len(present) - limit)[len(present) - limit]
                present = present[totals[present] >= cut]
            present = present[np.lexsort((ranks[present], -totals[present]))[:limit]]
        counts[level] = Counter(
            dict(zip([names[code] for code in present.tolist()], totals[present].tolist(), strict=True))
        )
    return counts


def date_counts(arrays: ColumnArrays, docs: np.ndarray, year: int | None) -> tuple[Counter[str], Counter[str]]:
    """``facets.date_counts``: per year, and per month of ``year`` when one is chosen."""
    years = _counted(arrays.years[docs])
    months: Counter[str] = Counter()
    if year is not None:
        per_month = _counted(arrays.months[docs])
        months = Counter(
            {f"{value // 100}-{value % 100:02d}": n for value, n in per_month.items() if value // 100 == year}
        )
    return Counter({str(value): n for value, n in years.items() if value}), months


def _counted(values: np.ndarray) -> dict[int, int]:
    found, counts = np.unique(values, return_counts=True)
    return dict(zip(found.tolist(), counts.tolist(), strict=True))


def undated_count(arrays: ColumnArrays, docs: np.ndarray) -> int:
    return int(np.count_nonzero(arrays.datekeys[docs] == 0))


def narrow(arrays: ColumnArrays, docs: np.ndarray, chosen: dict[str, str], except_for: str | None = None) -> np.ndarray:
    """``FacetValues.narrow``: the documents having every chosen value (but ``except_for``'s)."""
    for name, value in chosen.items():
        if name == except_for:
            continue
        facet = arrays.facets[name]
        having = np.zeros(len(arrays), dtype=bool)
        if value in facet.names:
            having[facet.owners[facet.values == facet.names.index(value)]] = True
        docs = docs[having[docs]]
    return docs


def value_counts(arrays: ColumnArrays, docs: np.ndarray, chosen: dict[str, str]) -> dict[str, Counter[str]]:
    """``FacetValues.counts`` without stories: per facet, documents per value among ``docs``
    narrowed by every other facet's filter."""
    counted = {}
    for name, facet in arrays.facets.items():
        within = np.zeros(len(arrays), dtype=bool)
        within[narrow(arrays, docs, chosen, except_for=name)] = True
        tally = np.bincount(facet.values[within[facet.owners]], minlength=len(facet.names))
        counted[name] = Counter({facet.names[value]: int(tally[value]) for value in np.flatnonzero(tally).tolist()})
    return counted


class ListFacets:
    """The facet operations a search runs, over lists (``search.facets``, ``FacetValues``): what
    collapsing to stories needs."""

    def __init__(self, columns: FacetColumns, values: FacetValues):
        self.columns, self.values = columns, values

    def docs(self, docs: list[int] | np.ndarray) -> list[int]:
        return docs.tolist() if isinstance(docs, np.ndarray) else docs

    def apply_filters(
        self, docs: list[int], region: str | None, date_range: tuple[int, int] | None, include_undated: bool = False
    ) -> Filtered:
        return facets.apply_filters(self.columns, docs, region, date_range, include_undated)

    def region_counts(self, docs: list[int]) -> dict[str, Counter[str]]:
        return facets.region_counts(self.columns, docs)

    def date_counts(self, docs: list[int], year: int | None) -> tuple[Counter[str], Counter[str]]:
        return facets.date_counts(self.columns, docs, year)

    def undated_count(self, docs: list[int]) -> int:
        return facets.undated_count(self.columns, docs)

    def narrow(self, docs: list[int], chosen: dict[str, str]) -> list[int]:
        return self.values.narrow(docs, chosen)

    def value_counts(
        self, docs: list[int], chosen: dict[str, str], story_of: list[int] | None
    ) -> dict[str, Counter[str]]:
        return self.values.counts(docs, chosen, story_of)

    def as_lists(self, matched: Filtered) -> Filtered:
        return matched


class ArrayFacets:
    """The same operations over arrays (this module): one mask per filter, one bincount per facet."""

    def __init__(self, columns: FacetColumns, values: FacetValues, arrays: ColumnArrays, limit: int | None = None):
        self.columns, self.values, self.arrays = columns, values, arrays
        self.limit = limit  # region counts: only the names a facet of this many values lists

    def docs(self, docs: list[int] | np.ndarray) -> np.ndarray:
        return as_array(docs)

    def apply_filters(
        self, docs: np.ndarray, region: str | None, date_range: tuple[int, int] | None, include_undated: bool = False
    ) -> FilteredArrays:
        return apply_filters(self.columns, self.arrays, docs, region, date_range, include_undated)

    def region_counts(self, docs: np.ndarray) -> dict[str, Counter[str]]:
        return region_counts(self.columns, self.arrays, docs, self.limit)

    def date_counts(self, docs: np.ndarray, year: int | None) -> tuple[Counter[str], Counter[str]]:
        return date_counts(self.arrays, docs, year)

    def undated_count(self, docs: np.ndarray) -> int:
        return undated_count(self.arrays, docs)

    def narrow(self, docs: np.ndarray, chosen: dict[str, str]) -> np.ndarray:
        return narrow(self.arrays, docs, chosen)

    def value_counts(
        self, docs: np.ndarray, chosen: dict[str, str], story_of: list[int] | None
    ) -> dict[str, Counter[str]]:
        if story_of is not None:  # stories per value: the lists' way
            return self.values.counts(docs.tolist(), chosen, story_of)
        return value_counts(self.arrays, docs, chosen)

    def as_lists(self, matched: FilteredArrays) -> Filtered:
        # without a filter the three are one array: listed once
        listed: dict[int, DocList] = {}
        for array in (matched.both, matched.by_date, matched.by_region):
            if id(array) not in listed:
                listed[id(array)] = DocList(array)
        return Filtered(*(listed[id(array)] for array in (matched.both, matched.by_date, matched.by_region)))
