"""Query stage: the one search API the CLI and the web front end both call.

    engine = SearchEngine(index_dir)
    result = engine.search("诈骗", district="九龙坡", date_from="2024-01-01", sort="date")

Query syntax is Whoosh's (AND / OR / NOT, "quoted phrase", field:value, wildcards); every word is
required by default.  Facet counts follow faceted-search convention: each facet applies every active
filter except its own, so the counts say what clicking would give.

The engine holds the snapshots of the index and runs a search's steps: check the arguments,
parse (``parse``, ``limits``), find the matches (``plan``, ``execute``), count the facets
(``facets``), rank the page asked for (``execute``, ``proximity``, ``scoring``), describe the hits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from whoosh import query as wq
from whoosh.scoring import BM25F
from whoosh.searching import Searcher

from search import coordination
from search.collapse import Stories, StoryCache, describe_copies
from search.collapse import _stamp as story_map_stamp
from search.facet_arrays import ColumnArrays
from search.facet_registry import FACETS, FacetValues, FacetValuesCache, FilterValueError, chosen_filters
from search.facets import FacetColumns
from search.index import default_index_dir
from search.query.execute import Found, find, rank
from search.query.facets import _count, _iso_date, _ranked, as_date, count_facets
from search.query.limits import MAX_QUERY_WORDS, _bounded, _check_expansions, _check_query_text
from search.query.parse import _highlight_terms, parser_for
from search.query.parse_cache import ParseCache
from search.query.plan import _synonyms_found
from search.query.results import Document, Hit, QueryError, SearchResult, _described, region_name
from search.query.scoring import SavedLengthsBM25F
from search.segment_columns import SegmentColumns, segment_columns
from search.similar import similar_releases
from search.snapshots import CommitCache, SearcherPool, Snapshots
from search.snippets import find_spans, snippet
from search.synonyms import SynonymFileError

MAX_PER_PAGE = 100
MAX_PAGE = 10_000
SORTS = ("relevance", "date")


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a ``SearchEngine`` method on one snapshot of the index, its thread's own (search.snapshots):
    web workers share one engine, and no lock serialises their searches."""

    @functools.wraps(method)
    def on_one_snapshot(self: SearchEngine, *args: Any, **kwargs: Any) -> Any:
        with self._snapshots.operation():
            return method(self, *args, **kwargs)

    return on_one_snapshot


class SearchEngine:
    """Long-lived access to one index; reopens its searcher when the index changes."""

    def __init__(self, index_dir: Path | str | None = None):
        self.index_dir = Path(index_dir) if index_dir is not None else default_index_dir()
        # Each operation reads a snapshot of its own (search.snapshots): a searcher serves one
        # thread at a time, and refreshing one midway would close the reader still in use.
        self._snapshots = Snapshots(SearcherPool(self.index_dir, self._weighting))
        # facet columns, facet values, stories: built once per commit, shared by every thread
        self._derived = CommitCache()
        # (generation, segment id) → its saved columns, kept across commits: a reindex adds a segment or two
        self._segments: dict[tuple[str, str], SegmentColumns] = {}
        self._facet_values = FacetValuesCache()  # crime type, source (search.facet_registry)
        self._story_cache = StoryCache()
        self._parses = ParseCache()

    def close(self) -> None:
        self._snapshots.pool.close()
        self._derived.clear()
        self._segments = {}

    def snapshot(self) -> contextlib.AbstractContextManager[None]:
        """``with engine.snapshot():`` every call in the block reads the same commit."""
        return self._snapshots.operation()

    def _current_searcher(self) -> Searcher:
        """The searcher of this thread's operation, on the newest commit when the operation began:
        a reindex (new commit) or a rebuild (new generation) shows up on the next operation,
        without restarting a long-lived process."""
        return self._snapshots.current().searcher

    def _weighting(self) -> BM25F:
        return SavedLengthsBM25F(self._segment_lengths)

    def _facet_columns(self, searcher: Searcher) -> FacetColumns:
        snapshot = self._snapshots.current()
        return self._derived.get(("columns", snapshot.commit), lambda: self._build_columns(snapshot))

    def _build_columns(self, snapshot: Any) -> FacetColumns:
        live = {}
        for leaf, _ in snapshot.searcher.reader().leaf_readers():
            if leaf.doc_count_all() == 0:  # an empty index: no segment
                continue
            columns = self._segment(snapshot.generation, leaf)
            live[(str(snapshot.generation), columns.segment_id)] = columns
        self._segments = live  # forget segments merged away
        return FacetColumns.from_segments(list(live.values()))

    def _segment(self, generation: Path, leaf: Any) -> SegmentColumns:
        key = (str(generation), leaf.segment().segment_id())
        columns = self._segments.get(key)
        if columns is None:  # two threads may both read it: the same values, no harm
            columns = self._segments.setdefault(key, segment_columns(generation, leaf))
        return columns

    def _segment_lengths(self, leaf: Any) -> dict[str, Any]:
        """``leaf``'s field lengths; the leaf is of the calling thread's snapshot (scoring runs in it)."""
        return self._segment(self._snapshots.current().generation, leaf).lengths if leaf.doc_count_all() else {}

    @_locked
    def parse(self, text: str, fields: tuple[str, ...] = ("title", "body")) -> wq.Query:
        """Parse query syntax, raising ``QueryError`` with a clear message when it is malformed.

        Words without a field search ``fields``; the body field also indexes the headline, so
        ``fields=("body",)`` matches the same documents more cheaply (no union per word).
        """
        return self._parse(text, fields)[0]

    def _parse(
        self, text: str, fields: tuple[str, ...], widen: bool = True
    ) -> tuple[wq.Query, dict[str, tuple[str, ...]]]:
        """The query and the synonyms its words were widened to (``widen``: by synonyms at all)."""
        cleaned = _check_query_text(text)
        if not cleaned:
            return wq.Every(), {}
        key = (self._snapshots.current().commit, cleaned, tuple(fields), widen)
        return self._parses.get(key, lambda: self._parsed(cleaned, fields, widen))

    def _parsed(
        self, cleaned: str, fields: tuple[str, ...], widen: bool
    ) -> tuple[wq.Query, dict[str, tuple[str, ...]]]:
        schema = self._current_searcher().schema
        parser = parser_for(tuple(fields), schema, widen)
        try:
            parsed = parser.parse(cleaned)
        except SynonymFileError as error:
            raise QueryError(f"the synonym file cannot be used: {error}") from None
        except Exception as error:  # Whoosh's parser raises assorted types on odd input
            raise QueryError(f"could not parse the query: {error}") from None
        if parsed is None or parsed is wq.NullQuery:
            return wq.NullQuery, {}
        if parser.word_count > MAX_QUERY_WORDS:
            raise QueryError(f"query has {parser.word_count} words; at most {MAX_QUERY_WORDS}")
        bounded = _bounded(parsed)
        _check_expansions(bounded, self._current_searcher().reader())
        return bounded, parser.expanded

    @_locked
    def highlight_terms(self, q: str) -> list[str]:
        """The folded words a page should mark for query ``q`` (none when it does not parse)."""
        try:
            return _highlight_terms(self.parse(q or ""))
        except QueryError:
            return []

    @_locked
    def search(
        self,
        q: str = "",
        district: str | None = None,
        date_from: str | dt.date | None = None,
        date_to: str | dt.date | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 10,
        include_undated: bool = False,
        collapse: bool = False,
        rank_up_to: int | None = None,
        **facet_filters: str | None,
    ) -> SearchResult:
        """Hits for ``q`` (empty: everything, newest first) within the filters, with facets.

        ``district`` is a district, city or province name or alias; dates are ``YYYY-MM-DD``
        strings or ``date`` objects (undated releases pass them only with ``include_undated``); ``sort``
        is ``relevance`` or ``date``; ``facet_filters`` by facet parameter (search.facet_registry: ``crime``
        a crime type, ``source`` an outlet, ``reported`` a reported year). With ``collapse`` (the CLI's and
        the pages' default), copies of one release are one hit (search.collapse), and ``total`` and the
        facets count stories.
        ``rank_up_to``: no page, no hits; ``ranking`` holds the first that many matches (search.streaming).
        Raises ``QueryError`` for anything malformed.
        """
        started = time.perf_counter()
        q = q or ""
        start, end = _checked_arguments(sort, page, per_page, date_from, date_to)
        try:
            chosen = chosen_filters(facet_filters)
        except FilterValueError as error:
            raise QueryError(str(error)) from None

        searcher = self._current_searcher()
        text, units = self._searched_text(q)
        columns = self._facet_columns(searcher)
        values, stories = self._facet_values_of(searcher), self._stories(searcher)
        arrays = self._facet_arrays(searcher)
        region_ids, date_array = (arrays.region_ids, arrays.datekeys) if arrays is not None else (None, None)
        found = find(searcher, self._parse, text, units, columns, sort, region_ids)
        matched, facets, undated = count_facets(
            columns, values, stories, found.docs, chosen, region_name(district), start, end, include_undated, collapse,
            arrays,
        )  # fmt: skip
        if rank_up_to is None:
            ranked, ranking = rank(searcher, found, matched.both, page, per_page, columns.datekeys, date_array), []
        else:
            ranked, ranking = [], rank(searcher, found, matched.both, 1, rank_up_to, columns.datekeys, date_array)
        hits = [self._hit(searcher.stored_fields(doc), score, found.terms, stories, doc) for doc, score in ranked]
        mode, total_all_words = self._completeness(found, matched.both, hits, ranked)
        return SearchResult(
            query=q,
            total=len(matched.both),
            did_you_mean=self._without_quotes(q, len(matched.both), district, date_from, date_to),
            total_all_words=total_all_words,
            places=found.plan.places() if found.plan is not None else [],
            page=page,
            per_page=per_page,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            hits=hits,
            facets=facets,
            mode=mode,
            also_matched=_synonyms_found(searcher, found.expanded, matched.both, found.runs),
            highlight_terms=found.terms,
            undated=undated,
            ranking=ranking,
        )

    def _searched_text(self, q: str) -> tuple[str, list[str] | None]:
        """``_plain``, suggesting the query without quotes and brackets when they are unbalanced."""
        try:
            return self._plain(q)
        except QueryError as error:
            suggestion = coordination.without_quotes_and_brackets(q)
            if suggestion and suggestion != q.strip() and "unbalanced" in str(error):
                raise QueryError(f"{error} — or search without quotes and brackets: {suggestion}") from None
            raise

    @staticmethod
    def _completeness(
        found: Found, members: list[int], hits: list[Hit], ranked: list[tuple[int, float | None]]
    ) -> tuple[str, int]:
        """The result's mode and how many releases have every word; each hit of a coordinated
        query says which words it lacks."""
        # a boolean query's partial matches (mode "any") have not every word
        if found.plan is None:
            return found.mode, len(members) if found.mode == "all" else 0
        for hit, (doc, _) in zip(hits, ranked, strict=True):
            hit.missing = found.plan.missing(doc)
        # the tiers ranking read: those of every word are the releases with every word (``count_all``)
        total_all_words = sum(len(tier) for complete, tier in found.tiers_of(members) if complete)
        return ("any" if total_all_words < len(members) else "all"), total_all_words

    def _without_quotes(self, q: str, total: int, district: str | None, *dates: Any) -> str | None:
        """The query without quotes and brackets, when with them it finds nothing and without
        them it finds something (a phrase typed in quotes that no release has word for word)."""
        suggestion = coordination.without_quotes_and_brackets(q)
        if total or not suggestion or suggestion == " ".join(q.split()):
            return None
        try:
            return suggestion if self.search(suggestion, district, *dates, per_page=1).total else None
        except QueryError:
            return None

    def _plain(self, q: str) -> tuple[str, list[str] | None]:
        """The query as searched (without operators joining nothing: ``诈骗 AND`` is 诈骗) and its
        units when it is a plain query (``coordination``)."""
        text = coordination.without_dangling_operators(_check_query_text(q))
        units = coordination.plain_units(text)
        return (" ".join(units) if units else text), units

    def _hit(
        self,
        stored: dict[str, Any],
        score: float | None,
        terms: list[str],
        stories: Stories,
        doc: int,
        copies: bool = True,  # False: no other copies listed (search.streaming: a stored-field read each)
    ) -> Hit:
        return Hit(
            **_described(stored),
            score=round(score, 4) if score is not None else None,
            snippet=snippet(stored.get("body", ""), terms),
            story=stories.story_id(doc),
            copies=describe_copies(self._current_searcher(), stories, doc) if copies else [],
            title_spans=tuple(find_spans(stored["title"], terms)),
        )

    def _facet_arrays(self, searcher: Searcher) -> ColumnArrays:
        """The facet columns and values as numpy arrays (search.facet_arrays), built once per commit."""
        key = ("facet arrays", self._snapshots.current().commit, FACETS.version)
        return self._derived.get(
            key, lambda: ColumnArrays.build(self._facet_columns(searcher), self._facet_values_of(searcher))
        )

    def _facet_values_of(self, searcher: Searcher) -> FacetValues:
        """Crime types and sources per document (search.facet_registry), built once per commit."""
        key = ("facet values", self._snapshots.current().commit, FACETS.version)
        return self._derived.get(key, lambda: self._facet_values.values(searcher))

    def _stories(self, searcher: Searcher) -> Stories:
        """The stories of the commit searched (search.collapse), cached per commit and book."""
        snapshot = self._snapshots.current()
        key = ("stories", snapshot.commit, story_map_stamp(snapshot.generation))
        lengths = self._segment_lengths
        return self._derived.get(key, lambda: self._story_cache.stories(searcher, snapshot.generation, lengths))

    @_locked
    def similar(self, doc_id: str, limit: int = 5) -> list[Hit] | None:
        """Up to ``limit`` releases like ``doc_id`` (search.similar), copies of its own story left
        out; None when there is no such release."""
        searcher = self._current_searcher()
        doc = searcher.document_number(id=doc_id)
        if doc is None:
            return None
        stories = self._stories(searcher)
        ranked = similar_releases(searcher, doc, stories, limit)
        return [self._hit(searcher.stored_fields(other), score, [], stories, other) for score, other in ranked]

    @_locked
    def document(self, doc_id: str) -> Document | None:
        searcher = self._current_searcher()
        doc = searcher.document_number(id=doc_id)
        if doc is None:
            return None
        stored = searcher.stored_fields(doc)
        meta = stored.get("meta") or {}
        stories = self._stories(searcher)
        return Document(
            **_described(stored),
            story=stories.story_id(doc),
            copies=describe_copies(searcher, stories, doc),
            title_inferred=bool(meta.get("title_inferred")),
            subtitle=meta.get("subtitle"),
            report_year=meta.get("report_year"),
            filename=meta.get("filename") or Path(stored["path"]).name,
            encoding=meta.get("encoding"),
            date_rule=meta.get("date_rule"),
            paragraphs=[p for p in stored.get("body", "").split("\n\n") if p],
        )

    @_locked
    def stats(self) -> dict[str, Any]:
        searcher = self._current_searcher()
        overview = self.search("", per_page=1)
        sources = _count(searcher, wq.Every(), "source")
        datekeys = self._facet_columns(searcher).datekeys
        dated = [datekeys[doc] for doc in searcher.reader().all_doc_ids() if datekeys[doc]]
        return {
            "documents": searcher.doc_count(),
            "sources": [asdict(value) for value in _ranked(sources)],
            "facets": {name: [asdict(v) for v in values] for name, values in overview.facets.items()},
            "undated": searcher.doc_count() - len(dated),
            "earliest": _iso_date(min(dated)) if dated else None,
            "latest": _iso_date(max(dated)) if dated else None,
            "index": str(self.index_dir.resolve()),
        }


def _checked_arguments(
    sort: str, page: int, per_page: int, date_from: str | dt.date | None, date_to: str | dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """Refuse a sort, page or date range the engine cannot answer; the dates asked for."""
    if sort not in SORTS:
        raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    if not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
        raise QueryError(f"page must be a whole number from 1 to {MAX_PAGE}")
    if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
        raise QueryError(f"per_page must be a whole number from 1 to {MAX_PER_PAGE}")
    start, end = as_date(date_from, "from"), as_date(date_to, "to")
    if start and end and end < start:
        raise QueryError(f"'to' ({end}) is before 'from' ({start})")
    return start, end


_default_engine: SearchEngine | None = None


def search(*args: Any, **kwargs: Any) -> SearchResult:
    """``SearchEngine.search`` on the default index (``POLICE_SEARCH_INDEX`` or ``index/``)."""
    global _default_engine
    if _default_engine is None:
        _default_engine = SearchEngine()
    return _default_engine.search(*args, **kwargs)
