"""Scores: Whoosh's BM25F reading saved field lengths, and a query of terms scored term by term
(one loop per posting list) with the same sums as Whoosh's matchers."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from typing import Any

from whoosh import query as wq
from whoosh.scoring import BM25F, BM25FScorer
from whoosh.searching import Searcher

from search.query import vectored
from search.query.nodes import DocSet


class SavedLengthsBM25F(BM25F):
    """Whoosh's BM25F (same parameters, same scores) reading each document's field length from
    the segment's saved columns rather than through a file read per scored document."""

    def __init__(self, lengths_of: Callable[[Any], dict[str, Any]], **kwargs: Any):
        super().__init__(**kwargs)
        self._lengths_of = lengths_of

    def scorer(self, searcher: Searcher, fieldname: str, text: bytes, qf: int = 1) -> Any:
        scorer = super().scorer(searcher, fieldname, text, qf=qf)
        reader = searcher.reader()
        if isinstance(scorer, BM25FScorer) and reader.is_atomic():
            lengths = self._lengths_of(reader).get(fieldname)
            if lengths is not None:
                scorer.dfl = lengths.__getitem__
        return scorer


def _tally_scores(searcher: Searcher, query: wq.Query, matches: list[int]) -> Mapping[int, float] | None:
    """``{doc: score}`` for the ``matches`` (ascending) the query matches, computed term by term: the
    same sums as Whoosh's matchers (BM25F per term × the boosts above it; an And adds its
    children's scores where all match, an Or those that match), with one loop per posting list
    instead of Whoosh's walk of its matcher tree per document, several times cheaper for queries
    matching most of the index. None when the query holds anything else (phrases, spans).

    Computed on posting arrays (``search.vector``, the same sums) whenever it can."""
    if not _tallyable(query):
        return None
    from_arrays = vectored.tally_scores(searcher, query, matches, vectored.executor_for(searcher))
    if from_arrays is not None:
        return from_arrays
    scores: dict[int, float] = {}
    for leaf, offset in searcher.leaf_searchers():
        end = offset + leaf.doc_count_all()
        local = {
            doc - offset for doc in matches[bisect.bisect_left(matches, offset) : bisect.bisect_left(matches, end)]
        }
        if local:
            for doc, score in _tally(leaf, query, local, offset).items():
                scores[doc + offset] = score
    return scores


def _tallyable(node: wq.Query) -> bool:
    if type(node) in (wq.Term, DocSet) or node is wq.NullQuery:  # not subclasses such as FuzzyTerm
        return True
    if isinstance(node, wq.Or) and (node.scale or node.minmatch):
        return False
    return type(node) in (wq.And, wq.Or) and all(_tallyable(child) for child in node.subqueries)


def _tally(searcher: Searcher, node: wq.Query, candidates: set[int], offset: int) -> dict[int, float]:
    """Scores of one segment's candidate documents (segment-local numbers) matching ``node``."""
    if isinstance(node, DocSet):
        return {doc - offset: 0.0 for doc in node.docnums if doc - offset in candidates}
    if type(node) is wq.Term:
        return _tally_term(searcher, node, candidates)
    if node is wq.NullQuery or not node.subqueries:
        return {}
    children = [_tally(searcher, child, candidates, offset) for child in node.subqueries]
    if isinstance(node, wq.And):
        children.sort(key=len)
        tallied = {doc: score for doc, score in children[0].items() if all(doc in other for other in children[1:])}
        for other in children[1:]:
            for doc in tallied:
                tallied[doc] += other[doc]
    else:
        tallied = dict(children[0])
        for other in children[1:]:
            for doc, score in other.items():
                tallied[doc] = tallied.get(doc, 0.0) + score
    if node.boost != 1.0:
        tallied = {doc: score * node.boost for doc, score in tallied.items()}
    return tallied


def _tally_term(searcher: Searcher, term: wq.Term, candidates: set[int]) -> dict[int, float]:
    schema = searcher.schema
    if term.fieldname not in schema:
        return {}
    text = schema[term.fieldname].to_bytes(term.text)
    if (term.fieldname, text) not in searcher.reader():
        return {}
    postings = searcher.postings(term.fieldname, text, weighting=searcher.weighting)
    tallied = {}
    if len(candidates) * 8 < searcher.doc_frequency(term.fieldname, text):
        for doc in sorted(candidates):  # a few candidates in a long list: skip to each
            postings.skip_to(doc)
            if not postings.is_active():
                break
            if postings.id() == doc:
                tallied[doc] = postings.score()
    else:
        while postings.is_active():
            doc = postings.id()
            if doc in candidates:
                tallied[doc] = postings.score()
            postings.next()
    if term.boost != 1.0:
        tallied = {doc: score * term.boost for doc, score in tallied.items()}
    return tallied
