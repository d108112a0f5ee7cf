"""The facet registry: every facet declared once, as one ``Facet`` entry of ``FACETS``.

A value facet (``ValueFacet``: crime type, source, reported year) declares its result key, its
parameter (the engine keyword, the CLI option ``--param``, the web and API parameter), its label
on the page, how a chosen value is shown, how a segment's values are read per document (its
column), how a filter value is read, and its OpenAPI description. The engine's filters and counts
(lists and arrays), the CLI options, the web parameters, facet lists, filter chips, the OpenAPI
parameters, feeds and text output all iterate ``FACETS``: one more facet is one ``register`` call.
Place and date are two special kinds (``RegionFacet``, ``DateFacet``): hierarchical names and
date ranges with months and undated releases do not fit "documents having a value"; they are
declared here (keys, parameters, labels) and counted by ``search.facets``.

Counts follow the faceted-search convention of the region and year facets: each facet's counts
apply every active filter except its own, so a count says what clicking would give.

Per document, the values are read once per index segment (a segment never changes once written)
from what Whoosh already holds: the ``source`` column (the field is sortable) and the posting
lists of the few ``crime_type`` terms — no stored field is read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
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
    """What every facet declares: ``name``, its key in a result's facets; ``param``, the engine
    keyword, CLI option (``--param``) and web parameter that filters by it; ``label``, its heading on
    the page; ``help``, the CLI's help; ``api``, the OpenAPI description of its parameter."""

    name: str
    param: str
    label: str
    help: str
    api: str


@dataclass(frozen=True)
class ValueFacet(Facet):
    """The common kind: documents have zero or more values; a filter keeps the documents having one
    value. ``read(leaf, field)`` gives a segment's values per document from ``field`` (the index
    field: ``column``, ``name`` by default); ``normalise`` reads a filter value (``FilterValueError`` for one no
    document can have); ``shown`` writes a chosen value in a heading (a feed's title). Counted per
    value, by ``FacetValues`` over lists and by ``facet_arrays`` (bincount) over arrays."""

    read: Callable[[Any, str], list[tuple[str, ...]]] = _keyword_values
    normalise: Callable[[str], str] = str.strip
    shown: Callable[[str], str] = str
    column: str = ""
    api_pattern: str = ""  # the OpenAPI schema's pattern of a filter value, if any

    @property
    def index_field(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class RegionFacet(Facet):
    """A special kind, counted and filtered by ``search.facets``: hierarchical (province → city →
    district), one filter naming a place at any level; ``keys`` are its result facets."""

    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class DateFacet(Facet):
    """A special kind, counted and filtered by ``search.facets``: a range filter (``params``), months
    offered within a chosen year, undated releases kept on request; ``keys`` are its result facets."""

    keys: tuple[str, ...] = ()
    params: tuple[str, ...] = ()


# Parameters a facet cannot take: the search's own.
RESERVED_PARAMS = frozenset(
    ("q", "district", "from", "to", "date_from", "date_to", "sort", "page", "per_page", "undated",
     "include_undated", "collapse", "format", "rank_up_to", "json", "index", "color", "base_url")
)  # fmt: skip


class FacetRegistry:
    """The registered facets. Iterating gives the value facets in order (what engine, CLI, web
    parameters, pages and OpenAPI spec go through); ``special`` the region and date facets.
    ``version`` changes with every registration, so caches of facet values know to rebuild."""

    def __init__(self, facets: Iterable[ValueFacet], special: Iterable[Facet]):
        self._facets: list[ValueFacet] = []
        self.special: tuple[Facet, ...] = tuple(special)
        self.version = 0
        for facet in facets:
            self.register(facet)

    def register(self, facet: ValueFacet) -> ValueFacet:
        taken = {other.name for other in self._facets} | {key for kind in self.special for key in _keys(kind)}
        if facet.name in taken:
            raise ValueError(f"a facet named {facet.name!r} is registered already")
        if facet.param in RESERVED_PARAMS or facet.param in self.params:
            raise ValueError(f"the parameter {facet.param!r} is taken")
        self._facets.append(facet)
        self.version += 1
        return facet

    def unregister(self, name: str) -> None:
        self._facets = [facet for facet in self._facets if facet.name != name]
        self.version += 1

    def __iter__(self) -> Iterator[ValueFacet]:
        return iter(tuple(self._facets))

    def __len__(self) -> int:
        return len(self._facets)

    @property
    def params(self) -> tuple[str, ...]:
        return tuple(facet.param for facet in self._facets)

    @property
    def keys(self) -> tuple[str, ...]:
        """Every result facet key: the special kinds' then the value facets'."""
        return (*(key for kind in self.special for key in _keys(kind)), *(facet.name for facet in self._facets))


def _keys(facet: Facet) -> tuple[str, ...]:
    return getattr(facet, "keys", ()) or (facet.name,)


REGION = RegionFacet(
    "region",
    "district",
    "地区",
    "District, city or province (aliases such as 九龙坡 work).",
    "District, city or province, full or short name.",
    keys=("district", "city", "province", "region"),
)
DATE = DateFacet(
    "date",
    "from",
    "日期",
    "Published on or after / before a date.",
    "Release date range, YYYY-MM-DD.",
    keys=("year", "month"),
    params=("from", "to", "undated"),
)
FACETS = FacetRegistry(
    (
        ValueFacet(
            "crime_type",
            "crime",
            "案件类型",
            f"Crime type ({'、'.join(CRIME_TYPES)}; either script).",
            f"Crime type: {', '.join(CRIME_TYPES)} (either script); anything else is a 400. Facet crime_type.",
            normalise=_crime_type_filter,
        ),
        ValueFacet(
            "source",
            "source",
            "来源",
            "Outlet, exactly as listed.",
            "Outlet, exactly as the source facet lists it. Unknown outlets give zero results.",
            read=_column_values,
            normalise=_source_filter,
        ),
        ValueFacet(
            "report_year",
            "reported",
            "报告年份",
            "Year a release reports on (a 2024年工作总结 published in 2025 reports on 2024).",
            "Year a release reports on (a 2024 year-end summary published in 2025 reports on 2024). Facet report_year.",
            normalise=_year_filter,
            shown=lambda year: f"所述年份 {year}",
            api_pattern="^\\d{4}$",
        ),
    ),
    special=(REGION, DATE),
)


def chosen_filters(values: dict[str, str | None]) -> dict[str, str]:
    """``{param: value}`` (None or blank: not filtering) → ``{facet name: normalised value}``;
    raises ``FilterValueError`` for a value no document can have."""
    unknown = sorted(set(values) - set(FACETS.params))
    if unknown:
        raise TypeError(f"no facet takes the parameter(s) {', '.join(unknown)}")
    chosen = {}
    for facet in FACETS:
        value = values.get(facet.param)
        if value is not None and value.strip():
            chosen[facet.name] = facet.normalise(value)
    return chosen


class FacetValues:
    """Per global document number, the values of every registered facet (as value ids)."""

    def __init__(self, leaves: Iterable[tuple[Any, int]], cache: dict[tuple[Any, ...], list[tuple[str, ...]]]):
        self.names: dict[str, list[str]] = {facet.name: [] for facet in FACETS}
        self.per_doc: dict[str, list[tuple[int, ...]]] = {facet.name: [] for facet in FACETS}
        ids: dict[str, dict[str, int]] = {facet.name: {} for facet in FACETS}
        for leaf, _ in leaves:
            if leaf.doc_count_all() == 0:
                continue
            segment_id = leaf.segment().segment_id()
            for facet in FACETS:
                key = (segment_id, facet.name, id(facet.read), facet.index_field)
                if key not in cache:
                    cache[key] = facet.read(leaf, facet.index_field)
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
        self._segments: dict[tuple[Any, ...], list[tuple[str, ...]]] = {}
        self._searcher: Any = None
        self._values: FacetValues | None = None
        self._version = FACETS.version

    def values(self, searcher: Any) -> FacetValues:
        if self._values is None or searcher is not self._searcher or self._version != FACETS.version:
            self._version = FACETS.version
            leaves = list(searcher.reader().leaf_readers())
            live = {leaf.segment().segment_id() for leaf, _ in leaves if leaf.doc_count_all()}
            self._segments = {key: value for key, value in self._segments.items() if key[0] in live}
            self._values, self._searcher = FacetValues(leaves, self._segments), searcher
        return self._values
