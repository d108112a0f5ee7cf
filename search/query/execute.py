"""Plan → matches and scores: the releases a query matches, then the page asked for ranked (by
score, words close together raising it, or newest first; a coordinated query tier by tier)."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from whoosh import collectors
from whoosh import query as wq
from whoosh.searching import Searcher

from search import coordination
from search.facets import FacetColumns
from search.query import scoring as tallies  # called through the module: tests swap the tally out
from search.query import vectored
from search.query.nodes import _positional
from search.query.parse import _highlight_terms
from search.query.plan import LOOSENED, Parse, _plan, resolve_gram_runs
from search.query.proximity import RESCORE_WINDOW, _by_score_then_date, _proximity_words, _with_proximity
from search.sorted_docs import as_array


@dataclass
class Found:
    """What a query matches, before filters: the documents, and how to rank them."""

    parsed: wq.Query  # the scoring query (a boolean query's words with none required, in mode "any")
    by_date: bool  # ranked newest first (sorted by date, or browsing without a query)
    terms: list[str]  # to highlight
    expanded: dict[str, tuple[str, ...]]  # query word → the synonyms it was widened to
    runs: dict[Any, Any] = field(default_factory=dict)  # resolve_gram_runs' cache for this search
    # a list, or an array where the matches come as one (a plan's, browsing): facets count arrays
    docs: list[int] | np.ndarray = field(default_factory=list)
    # when positions had to be compared, every match scored (``_matches``)
    everything_scored: list[tuple[float, int]] | None = None
    plan: coordination.Plan | None = None  # a plain query's units (``coordination``)
    mode: str = "all"
    # the plan's tiers of the matches ranked (``tiers_of``): the ranking and the count of releases
    # with every word both read them
    tiers: tuple[list[int], list[tuple[bool, list[int]]]] | None = None

    def tiers_of(self, members: list[int]) -> list[tuple[bool, list[int]]]:
        """``plan.tiers(members)``, computed once for the same list of members."""
        if self.tiers is None or self.tiers[0] is not members:
            self.tiers = (members, self.plan.tiers(members))
        return self.tiers[1]


def find(
    searcher: Searcher, parse: Parse, text: str, units: list[str] | None, columns: FacetColumns, sort: str,
    region_ids: np.ndarray | None = None,
) -> Found:  # fmt: skip
    """The releases query ``text`` matches (``units``: its units when it is a plain query;
    ``region_ids``: ``columns.region_ids`` as an array, when the caller has it)."""
    parsed, expanded = parse(text, ("title", "body"))
    browsing = isinstance(parsed, wq.Every)
    found = Found(parsed, sort == "date" or browsing, _highlight_terms(parsed), expanded)
    found.parsed = parsed = resolve_gram_runs(searcher, parsed, found.runs)
    found.plan = (
        _plan(searcher, parse, units, columns, found.runs, parsed, region_ids) if units and not browsing else None
    )
    if browsing:
        found.docs = vectored.live_array(searcher)
    elif found.plan is not None:
        # releases with every word first, then those with most of them (``coordination``)
        found.docs = found.plan.doc_array
        found.terms = sorted({*found.terms, *found.plan.part_texts()}, key=len, reverse=True)
    else:
        _match_query(searcher, parse, text, units, found)
    return found


def _match_query(searcher: Searcher, parse: Parse, text: str, units: list[str] | None, found: Found) -> None:
    """Fill in ``found``'s matches for a query that is not coordinated (not plain, or no units)."""
    runs, by_date, parsed = found.runs, found.by_date, found.parsed
    matching = resolve_gram_runs(searcher, parse(text, ("body",))[0], runs, matching=True)
    found.docs, found.everything_scored = _matches(searcher, parsed, matching, by_date, bool(runs.get(LOOSENED)))
    if not found.docs and units is None:
        # a boolean query no release satisfies: rank releases by how many of its words they have
        partial, partial_matching = _any_word(parsed), _any_word(matching)
        if partial is not None and partial_matching is not None:
            found.parsed, matching = partial, partial_matching
            found.docs, found.everything_scored = _matches(
                searcher, partial, matching, by_date, bool(runs.get(LOOSENED))
            )
            found.mode = "any" if found.docs else found.mode


def rank(
    searcher: Searcher, found: Found, members: list[int], page: int, per_page: int, datekeys: Any,
    date_array: np.ndarray | None = None,
) -> list[tuple[int, float | None]]:  # fmt: skip
    """``(doc, score)`` of page ``page`` of ``members`` (``found``'s matches within the filters);
    ``date_array``: ``datekeys`` as an array, when the caller has it."""
    wanted = page * per_page
    first = (page - 1) * per_page
    parsed = found.parsed
    if found.plan is not None:
        tiers = found.tiers_of(members)
        return _ranked_by_tiers(searcher, found.plan, members, first, wanted, datekeys, found.by_date, tiers)
    if found.by_date:
        # newest first; among equal dates, the most recently indexed first
        if date_array is None:
            top = heapq.nlargest(wanted, members, key=lambda doc: (datekeys[doc], doc))
        else:
            top = _newest(as_array(members), wanted, date_array)
        return [(doc, None) for doc in top[first:]]
    if found.everything_scored is not None:
        allowed = set(members) if len(members) != len(found.docs) else None
        scored = [(score, doc) for score, doc in found.everything_scored if allowed is None or doc in allowed]
        scored = _completed(scored, members, wanted, datekeys)
        best = _with_proximity(searcher, parsed, _by_score_then_date(scored, datekeys), wanted, datekeys)
        return [(doc, score) for score, doc in best[first:wanted]]
    # the top-k search ranks exactly the matches: the scoring query may match more (terms
    # standing in for positions, word-level alternatives for bigram runs)
    if not members:
        return []
    pool = max(wanted, RESCORE_WINDOW) if _proximity_words(parsed) is not None else wanted
    top_n = _top_scored(searcher, parsed, members, pool, datekeys)
    top_n = _completed(top_n, members, pool, datekeys)
    best = _with_proximity(searcher, parsed, top_n, wanted, datekeys)
    return [(doc, score) for score, doc in best[first:wanted]]


def _matches(
    searcher: Searcher, parsed: wq.Query, matching: wq.Query, by_date: bool, loosened: bool = False
) -> tuple[list[int], list[tuple[float, int]] | None]:
    """The documents a query matches, and when positions had to be compared, every match scored
    (the documents then in score order; otherwise ascending, as the top-k scoring expects).

    Positional matching (phrases, bigram runs) is the costly part: it is done once, scoring every
    match with the full query, whose matches are the same documents (the body holds the headline).
    Otherwise (or when ``parsed`` was loosened to match more than the exact matches) the body-only
    query lists the documents, and scoring is left to a top-k search.
    """
    if _positional(matching) and not loosened:
        top_n = vectored.everything_scored(searcher, parsed, scored=not by_date)  # from arrays, when it can
        if top_n is None:
            top_n = searcher.search(parsed, limit=None, scored=not by_date, terms=False).top_n
        return [docnum for _, docnum in top_n], top_n
    return vectored.docs_for_query(searcher, matching), None


def _newest(docs: np.ndarray, wanted: int, date_array: np.ndarray) -> list[int]:
    """``heapq.nlargest(wanted, docs, key=lambda doc: (datekeys[doc], doc))`` over arrays: one
    key per document (date key above the document number: both fit), the ``wanted`` largest."""
    keys = date_array[docs] * (1 << 32) + docs
    if len(keys) > wanted:
        keys = np.partition(keys, len(keys) - wanted)[len(keys) - wanted :]
    return (np.sort(keys)[::-1] & 0xFFFFFFFF).tolist()


def _any_word(query: wq.Query) -> wq.Query | None:
    """The same words with none required, when the query is several required words."""
    if isinstance(query, wq.And) and len(query.subqueries) > 1:
        return wq.Or(query.subqueries, boost=query.boost)
    return None


def _completed(
    scored: list[tuple[float, int]], members: list[int], wanted: int, datekeys: Any
) -> list[tuple[float, int]]:
    """``scored`` followed, when it holds fewer than ``wanted``, by the ``members`` the scoring query
    does not reach (a release matched through another field, a place or a synonym the scorer
    skips), newest first, at score 0: every release counted in the total can be paged to."""
    if len(scored) >= wanted or len(scored) >= len(members):
        return scored
    seen = {doc for _, doc in scored}
    unscored = (doc for doc in members if doc not in seen)
    rest = heapq.nlargest(wanted - len(scored), unscored, key=lambda doc: (datekeys[doc], doc))
    return scored + [(0.0, doc) for doc in rest]


def _ranked_by_tiers(
    searcher: Searcher, plan: coordination.Plan, docs: list[int], first: int, wanted: int, datekeys: Any, by_date: bool,
    all_tiers: list[tuple[bool, list[int]]] | None = None,
) -> list[tuple[int, float | None]]:  # fmt: skip
    """Releases ``first`` to ``wanted`` of a coordinated query: tier by tier (every word, then most
    of them), each tier by score (words close together raising it among releases with every word)
    or newest first. ``all_tiers``: ``plan.tiers(docs)`` when already known."""
    together = wq.And([unit.query for unit in plan.units]) if len(plan.units) > 1 else None
    tiers, reached = [], 0
    for complete, members in plan.tiers(docs) if all_tiers is None else all_tiers:
        if reached >= wanted:
            break
        tiers.append((complete, members))
        reached += len(members)
    # the partial tiers shown are scored in one pass over the postings (None: not term by term)
    partial = sorted(doc for complete, members in tiers if not complete for doc in members)
    tallied = tallies._tally_scores(searcher, plan.scoring_query(False), partial) if partial and not by_date else None
    ranked: list[tuple[int, float | None]] = []
    for complete, members in tiers:
        needed = wanted - len(ranked)
        if by_date:
            ranked += [(doc, None) for doc in heapq.nlargest(needed, members, key=lambda doc: (datekeys[doc], doc))]
            continue
        if not complete and tallied is not None:
            scores = tallied  # releases it does not reach score 0, newest first, as ``_completed`` orders them
            best = heapq.nlargest(needed, members, key=lambda doc: (round(scores.get(doc, 0.0), 6), datekeys[doc], doc))
            ranked += [(doc, scores.get(doc, 0.0)) for doc in best]
            continue
        pool = max(needed, RESCORE_WINDOW) if complete and together is not None else needed
        scoring = plan.scoring_query(complete)
        top = _completed(_top_scored(searcher, scoring, members, pool, datekeys), members, pool, datekeys)
        if complete and together is not None:
            top = _with_proximity(searcher, together, top, pool, datekeys)
        ranked += [(doc, score) for score, doc in top[:needed]]
    return ranked[first:wanted]


def _top_scored(
    searcher: Searcher, query: wq.Query, matches: list[int], wanted: int, datekeys: Any
) -> list[tuple[float, int]]:
    """Top ``wanted`` of the ``matches`` (ascending document numbers) by score, equal scores newest first.

    A query of terms (and, or, confined to document sets) is scored term by term; anything else
    (spans) by Whoosh's top-k collector, without its pruning: Whoosh 2.7.4 prunes a boosted term
    against the threshold meant for its boosted score (``WrappingMatcher.replace`` passes it on
    unscaled), so releases with the words in their headline (boosted ×2) could go missing from the
    top (tested). Whoosh breaks ties by document number: ask for more until the last score fetched
    is below the score at the cut, so every release tied with the cut is in hand to be ordered by date.
    """
    tallied = tallies._tally_scores(searcher, query, matches)
    if isinstance(tallied, vectored.Tallied):  # from arrays: keys computed only near the cut
        return tallied.top(wanted, datekeys)
    if tallied is not None:
        best = heapq.nlargest(wanted, tallied.items(), key=lambda item: (round(item[1], 6), datekeys[item[0]], item[0]))
        return [(score, doc) for doc, score in best]
    allowed = set(matches)
    limit = wanted + 10
    while True:
        exhaustive = collectors.TopCollector(limit, usequality=False, replace=0)
        searcher.search_with_collector(query, collectors.FilterCollector(exhaustive, allowed))
        top = exhaustive.results().top_n
        if len(top) < limit or round(top[-1][0], 6) < round(top[wanted - 1][0], 6):
            return _by_score_then_date(top, datekeys)
        limit *= 4
