"""What to run for a parsed query on this index: bigram runs resolved to the few releases their
word misses, alternatives the index never uses dropped, a plain query's units planned
(``coordination``), and which synonyms the matches use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from search import coordination
from search.analysis import query_words
from search.facets import FacetColumns
from search.query import vectored
from search.query.nodes import DocSet, GramRun, _positional, _walk
from search.query.parse import _sequence_query
from search.sorted_docs import SortedDocs, as_array

# ``parse(text, fields, widen=True)``: the engine's parser, giving the query and the synonyms its
# words were widened to
Parse = Callable[..., tuple[wq.Query, dict[str, tuple[str, ...]]]]

# set in a ``resolve_gram_runs`` cache when the scoring query matches more than the exact matches
LOOSENED = "loosened"
LOOSEN_ABOVE = 1000


def resolve_gram_runs(
    searcher: Searcher, query: wq.Query, cache: dict[Any, list[int]], matching: bool = False
) -> wq.Query:
    """Rewrite a parsed query for this index before searching it.

    * A ``GramRun`` of one bigram becomes its term. A longer one becomes its bigrams confined to the
      releases where the run occurs but its word-level query does not match (found by comparing
      positions only there): the same matches, without comparing positions in every release that
      has the word anyway.
    * Alternatives whose term is in no release are dropped, so a query widened by synonyms the
      index never uses costs what the plain query costs.
    * ``matching`` (listing documents, not scoring them): a word beside its one bigram is dropped,
      since every release with the word has the bigram too.
    """
    return _GramRunResolver(searcher, cache, matching).rewrite(query).normalize()


class _GramRunResolver:
    """``resolve_gram_runs``' steps, sharing the searcher, the search's cache and ``matching``."""

    def __init__(self, searcher: Searcher, cache: dict[Any, Any], matching: bool):
        self.searcher, self.cache, self.matching = searcher, cache, matching

    def word_docs(self, node: GramRun) -> np.ndarray:
        """The releases ``node``'s word-level query matches, ascending."""
        key = ("word", repr(node.word))
        if key not in self.cache:
            word = resolve_gram_runs(self.searcher, node.word, self.cache) if node.word is not None else wq.NullQuery
            self.cache[key] = vectored.doc_array(self.searcher, word)
        return self.cache[key]

    def run_docs(self, node: GramRun) -> list[int]:
        searcher, cache = self.searcher, self.cache
        key = (tuple(node.words), repr(node.word))
        if key not in cache:
            frequencies = [vectored.doc_frequency(searcher, node.fieldname, gram) for gram in node.words]
            word = node.word
            if (
                node.same_text
                and isinstance(word, wq.Term)
                and vectored.doc_frequency(searcher, word.fieldname, word.text) == min(frequencies)
            ):
                # the word is in as many releases as the rarest bigram: no release has the run alone
                cache[key] = []
                return cache[key]
            found = self.word_docs(node)
            bigrams = wq.And([wq.Term(node.fieldname, gram) for gram in dict.fromkeys(node.words)])
            with_bigrams = vectored.doc_array(searcher, bigrams)
            candidates = with_bigrams[~np.isin(with_bigrams, found)].tolist()
            if candidates and len(node.words) > 1:
                exact = wq.And([DocSet(candidates), wq.Phrase(node.fieldname, node.words)])
                candidates = vectored.docs_for_query(searcher, exact)
            cache[key] = candidates
        return cache[key]

    def absent(self, node: wq.Query) -> bool:
        """Matches nothing here: a term no release has, or an and/phrase/span needing one."""
        if isinstance(node, wq.Term):
            return vectored.doc_frequency(self.searcher, node.fieldname, node.text) == 0
        if isinstance(node, wq.Phrase):
            return any(vectored.doc_frequency(self.searcher, node.fieldname, word) == 0 for word in node.words)
        if isinstance(node, (wq.And, wq.SpanNear2)):
            return any(self.absent(child) for child in node.children())
        return False

    @staticmethod
    def bigram_terms(node: GramRun) -> list[wq.Query]:
        return [wq.Term(node.fieldname, gram) for gram in dict.fromkeys(node.words)]

    def positional_pair(self, node: GramRun) -> wq.Query:
        """A word matched by positions (a name's parts, a quoted phrase's words) beside its bigrams:
        their releases are found once here. Listing matches, that set is the answer; scoring, the
        word's terms score them without comparing positions again, and the caller confines the
        search to the matches (``LOOSENED`` in the cache says so)."""
        releases = sorted(set(self.word_docs(node).tolist()).union(self.run_docs(node)))
        if not releases:
            return wq.Term("id", "")  # matches nothing, and an And keeps it (a NullQuery it would drop)
        if self.matching:
            return DocSet(releases)
        self.cache[LOOSENED] = True
        only_here = self.run_docs(node)
        scored = [_terms_only(node.word)]
        if only_here:
            scored.append(wq.And([DocSet(only_here), *self.bigram_terms(node)], boost=node.boost))
        return wq.Or(scored)

    def rewrite(self, node: wq.Query) -> wq.Query:
        if isinstance(node, GramRun):
            return self.rewrite_run(node)
        if isinstance(node, wq.Or):
            return self.rewrite_alternatives(node)
        return node.apply(self.rewrite) if not node.is_leaf() else node

    def rewrite_run(self, node: GramRun) -> wq.Query:
        if len(node.words) == 1 and (self.matching or node.word is None):
            return wq.Term(node.fieldname, node.words[0], boost=node.boost)
        only_here = self.run_docs(node)
        if not only_here:
            return wq.NullQuery
        if self.matching:
            return DocSet(only_here)
        if len(only_here) > LOOSEN_ABOVE:
            # scoring many releases through a confining list costs more than filtering them
            self.cache[LOOSENED] = True
            return wq.And(self.bigram_terms(node), boost=node.boost)
        return wq.And([DocSet(only_here), *self.bigram_terms(node)], boost=node.boost)

    def rewrite_alternatives(self, node: wq.Or) -> wq.Query:
        subqueries = list(node.subqueries)
        pairs = [child for child in subqueries if isinstance(child, GramRun) and _positional(child.word)]
        for run in pairs:
            subqueries = [child for child in subqueries if child is not run and child != run.word]
        if self.matching:
            covered = [
                child.word
                for child in subqueries
                if isinstance(child, GramRun) and child.same_text and len(child.words) == 1
            ]
            subqueries = [child for child in subqueries if child not in covered]
        rewritten = [self.rewrite(child) for child in subqueries] + [self.positional_pair(run) for run in pairs]
        present = [child for child in rewritten if child is not wq.NullQuery and not self.absent(child)]
        # an alternative that matches nothing stays when none is left: under an And, a
        # NullQuery would be dropped, making a required word optional
        nothing = [child for child in rewritten if child is not wq.NullQuery][:1] or [wq.Term("id", "")]
        return wq.Or(present or nothing, boost=node.boost)


def _terms_only(query: wq.Query | None) -> wq.Query:
    """The query with phrases and spans loosened to their terms all present (for scoring releases
    already known to match exactly)."""
    if query is None:
        return wq.NullQuery
    if isinstance(query, wq.Phrase):
        return wq.And([wq.Term(query.fieldname, word) for word in query.words], boost=query.boost)
    if isinstance(query, wq.SpanQuery):
        return wq.And([_terms_only(leaf) for leaf in _walk(query) if isinstance(leaf, wq.Term)])
    if query.is_leaf():
        return query
    return query.apply(_terms_only)


def _plan(
    searcher: Searcher, parse_query: Parse, units: list[str], columns: FacetColumns, runs: dict[Any, Any],
    parsed: wq.Query, region_ids: np.ndarray | None = None,
) -> coordination.Plan | None:  # fmt: skip
    """How a plain query's units, their parts and the places they name match (``coordination``);
    ``parsed``: the whole query, resolved (the one unit's query when there is one); ``region_ids``:
    ``columns.region_ids`` as an array, when the caller has it."""

    def parse(text: str, part: bool) -> tuple[wq.Query, wq.Query] | None:
        # parts are a fallback: matched as typed, not widened by synonyms (a cost for little)
        if len(units) == 1 and text == units[0]:
            scoring = parsed
        else:
            scoring = resolve_gram_runs(searcher, parse_query(text, ("title", "body"), widen=not part)[0], runs)
        if scoring is wq.NullQuery:
            return None
        matching = parse_query(text, ("body",), widen=not part)[0]
        return scoring, resolve_gram_runs(searcher, matching, runs, matching=True)

    def located_in(places: list[str]) -> set[int]:
        regions = set().union(*map(columns.regions_named, places))
        if region_ids is not None:  # one mask over the live releases, not a Python loop over them
            live = vectored.live_array(searcher)
            return set(live[np.isin(region_ids[live], sorted(regions))].tolist()) if regions else set()
        return {doc for doc in vectored.live_docs(searcher) if columns.region_ids[doc] in regions}

    def matches(query: wq.Query) -> SortedDocs:
        return SortedDocs(vectored.doc_array(searcher, query))

    return coordination.make_plan(units, parse, matches, located_in)


def _synonyms_found(
    searcher: Searcher, expanded: dict[str, tuple[str, ...]], matched: list[int], runs: dict[Any, Any]
) -> list[str]:
    """The synonyms (of words the user typed) that occur in at least one matching release
    (their bigram runs were resolved for this search already: ``runs`` holds them)."""
    if not expanded or not matched:
        return []
    present = np.zeros(searcher.doc_count_all(), dtype=bool)
    present[as_array(matched)] = True
    found = []
    for synonym in dict.fromkeys(word for synonyms in expanded.values() for word in synonyms):
        if synonym in expanded:  # typed by the user too
            continue
        query = resolve_gram_runs(searcher, _sequence_query("body", query_words(synonym)), runs, matching=True)
        if present[vectored.doc_array(searcher, query)].any():
            found.append(synonym)
    return found
