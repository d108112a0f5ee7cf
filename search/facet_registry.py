"""Facets beyond place and date — crime type, source, reported year — declared once each.

A facet declares the index field whose values it counts (its column), the parameter that filters
by it and how a filter value is read, and the label the page shows. The engine, the CLI, the web
parameters and the page all go through ``FACETS``, so one more facet is one more entry here.

Counts follow the faceted-search convention of the region and year facets: each facet's counts
apply every active filter except its own, so a count says what clicking would give.

Per document, the values are read once per index segment (a segment never changes once written)
from what Whoosh already holds: the ``source`` column (the field is sortable) and the posting
lists of the few ``crime_type`` terms — no stored field is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from search.crime_types import CRIME_TYPES
from search.normalise import fold_text


class FilterValueError(ValueError):
    """A filter value no document could ever have (a crime type outside the vocabulary)."""


def _crime_type_filter(value: str) -> str:
    folded = fold_text(value).strip()
    if folded not in CRIME_TYPES:
        raise FilterValueError(f"crime must be one of {'、'.join(CRIME_TYPES)}, not {value!r}")
    return folded


def _source_filter(value: str) -> str:
    return value.strip()


def _year_filter(value: str) -> str:
    year = value.strip()
    if not (year.isdigit() and len(year) == 4):
        raise FilterValueError(f"reported must be a year such as 2024, not {value!r}")
    return year


def _keyword_values(leaf: Any, field_name: str) -> list[tuple[str, ...]]:
    """Per document of one segment: its terms of a keyword field, from the field's posting lists."""
    found: list[list[str]] = [[] for _ in range(leaf.doc_count_all())]
    if field_name in leaf.schema and leaf.doc_count():
        for term in leaf.lexicon(field_name):
            text = term.decode("utf-8") if isinstance(term, bytes) else term
            for doc in leaf.postings(field_name, term).all_ids():
                found[doc].append(text)
    return [tuple(values) for values in found]


def _column_values(leaf: Any, field_name: str) -> list[tuple[str, ...]]:
    """Per document of one segment: its value of a sortable field, from the field's column."""
    if not leaf.has_column(field_name):
        return [() for _ in range(leaf.doc_count_all())]
    column = leaf.column_reader(field_name)
    return [(value,) if value else () for value in (column[doc] for doc in range(leaf.doc_count_all()))]


@dataclass(frozen=True)
class Facet:
    """One facet: ``name`` is its key in a result's facets and the index field it reads; ``param``
    the engine keyword, CLI option and web parameter that filters by it."""

    name: str
    param: str
    label: str
    read: Callable[[Any, str], list[tuple[str, ...]]]
    normalise: Callable[[str], str]
    help: str


FACETS: tuple[Facet, ...] = (
    Facet(
        "crime_type",
        "crime",
        "案件类型",
        _keyword_values,
        _crime_type_filter,
        f"Crime type ({'、'.join(CRIME_TYPES)}; either script).",
    ),
    Facet("source", "source", "来源", _column_values, _source_filter, "Outlet, exactly as listed."),
    Facet(
        "report_year",
        "reported",
        "报告年份",
        _keyword_values,
        _year_filter,
        "Year a release reports on (a 2024年工作总结 published in 2025 reports on 2024).",
    ),
)
FACET_PARAMS = tuple(facet.param for facet in FACETS)


def chosen_filters(values: dict[str, str | None]) -> dict[str, str]:
    """``{param: value}`` (None or blank: not filtering) → ``{facet name: normalised value}``;
    raises ``FilterValueError`` for a value no document can have."""
    chosen = {}
    for facet in FACETS:
        value = values.get(facet.param)
        if value is not None and value.strip():
            chosen[facet.name] = facet.normalise(value)
    return chosen


class FacetValues:
    """Per global document number, the values of every registered facet (as value ids)."""

    def __init__(self, leaves: Iterable[tuple[Any, int]], cache: dict[tuple[str, str], list[tuple[str, ...]]]):
        self.names: dict[str, list[str]] = {facet.name: [] for facet in FACETS}
        self.per_doc: dict[str, list[tuple[int, ...]]] = {facet.name: [] for facet in FACETS}
        ids: dict[str, dict[str, int]] = {facet.name: {} for facet in FACETS}
        for leaf, _ in leaves:
            if leaf.doc_count_all() == 0:
                continue
            segment_id = leaf.segment().segment_id()
            for facet in FACETS:
                key = (segment_id, facet.name)
                if key not in cache:
                    cache[key] = facet.read(leaf, facet.name)
                own = ids[facet.name]
                self.per_doc[facet.name].extend(
                    tuple(own.setdefault(value, len(own)) for value in values) for values in cache[key]
                )
        for name, own in ids.items():
            self.names[name] = list(own)

    def narrow(self, docs: list[int], chosen: dict[str, str], except_for: str | None = None) -> list[int]:
        """The documents having every chosen value (but the one of facet ``except_for``)."""
        for name, value in chosen.items():
            if name == except_for:
                continue
            wanted = self.names[name].index(value) if value in self.names[name] else -1
            per_doc = self.per_doc[name]
            docs = [doc for doc in docs if wanted in per_doc[doc]]
        return docs

    def counts(self, docs: list[int], chosen: dict[str, str], story_of: list[int] | None) -> dict[str, Counter[str]]:
        """Per facet, documents per value among ``docs`` narrowed by every other facet's filter;
        with ``story_of`` (collapsed results), stories per value: copies count once."""
        counted: dict[str, Counter[str]] = {}
        for facet in FACETS:
            per_doc, names = self.per_doc[facet.name], self.names[facet.name]
            within = self.narrow(docs, chosen, except_for=facet.name)
            if story_of is None:
                tally: Counter[int] = Counter(value for doc in within for value in per_doc[doc])
            else:
                tally = Counter(
                    value for _, value in {(story_of[doc], value) for doc in within for value in per_doc[doc]}
                )
            counted[facet.name] = Counter({names[value]: count for value, count in tally.items()})
        return counted


class FacetValuesCache:
    """The ``FacetValues`` of the searcher last asked about; each segment is read once."""

    def __init__(self) -> None:
        self._segments: dict[tuple[str, str], list[tuple[str, ...]]] = {}
        self._searcher: Any = None
        self._values: FacetValues | None = None

    def values(self, searcher: Any) -> FacetValues:
        if self._values is None or searcher is not self._searcher:
            leaves = list(searcher.reader().leaf_readers())
            live = {leaf.segment().segment_id() for leaf, _ in leaves if leaf.doc_count_all()}
            self._segments = {key: value for key, value in self._segments.items() if key[0] in live}
            self._values, self._searcher = FacetValues(leaves, self._segments), searcher
        return self._values
