"""The engine's use of the vectorised executor (``search/vector.py``): one executor per searcher,
kept as long as the searcher lives, and the engine's questions (the documents a query matches,
every match scored, a tally of scores, the live documents, a document frequency) answered from
arrays when the executor evaluates the query, from Whoosh otherwise."""

from __future__ import annotations

import heapq
import threading
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
from whoosh import query as wq

from search.sorted_docs import DocList, as_array
from search.vector import Executor, UnsupportedQueryError

_EXECUTORS: weakref.WeakKeyDictionary[Any, Executor] = weakref.WeakKeyDictionary()
_EXECUTORS_LOCK = threading.Lock()


def executor_for(searcher: Any) -> Executor:
    """The executor of ``searcher`` (one snapshot, used by one thread at a time: see
    ``search.snapshots``), kept as long as the searcher lives, so that its terms' arrays and
    scores serve every search on it."""
    with _EXECUTORS_LOCK:
        executor = _EXECUTORS.get(searcher)
        if executor is None:
            executor = _EXECUTORS[searcher] = Executor(searcher)
        return executor


def docs_for_query(searcher: Any, query: wq.Query) -> list[int]:
    """``searcher.docs_for_query(query)`` as an ascending list, from arrays when the executor
    evaluates the query, else from Whoosh."""
    try:
        return DocList(executor_for(searcher).docs(query))
    except UnsupportedQueryError:
        return list(searcher.docs_for_query(query))


def doc_array(searcher: Any, query: wq.Query) -> np.ndarray:
    """``docs_for_query``'s documents as an ascending int64 array, without a Python list."""
    try:
        return executor_for(searcher).docs(query)
    except UnsupportedQueryError:
        return np.array(sorted(set(searcher.docs_for_query(query))), dtype=np.int64)


def everything_scored(searcher: Any, query: wq.Query, scored: bool) -> list[tuple[float | None, int]] | None:
    """``searcher.search(query, limit=None, scored=scored).top_n``: every match as (score, doc),
    best first and equal scores by document number (or ascending documents, score None, when not
    scored); None when the executor does not evaluate the query."""
    executor = executor_for(searcher)
    try:
        if not scored:
            return [(None, doc) for doc in executor.docs(query).tolist()]
        ids, scores = executor.scored(query, None)
    except UnsupportedQueryError:
        return None
    order = np.lexsort((ids, -scores))
    return list(zip(scores[order].tolist(), ids[order].tolist(), strict=True))


def doc_frequency(searcher: Any, fieldname: str, text: Any) -> int:
    """``searcher.doc_frequency(fieldname, text)``, remembered for the searcher's lifetime."""
    return executor_for(searcher).doc_frequency(fieldname, text)


def live_docs(searcher: Any) -> list[int]:
    """``searcher.reader().all_doc_ids()`` as a list, from the cached per-segment live arrays."""
    return live_array(searcher).tolist()


def live_array(searcher: Any) -> np.ndarray:
    """``live_docs`` as an ascending array."""
    return executor_for(searcher).live()


class Tallied(Mapping):
    """``{doc: score}`` as the engine's tallies give it (a read-only mapping, made into a dict
    only when looked into), with the arrays it comes from (``ids`` ascending, ``scores``), so
    that the best can be picked without a Python key per document (``top``)."""

    def __init__(self, ids: np.ndarray, scores: np.ndarray):
        self.ids, self.scores = ids, scores
        self._dict: dict[int, float] | None = None

    def _as_dict(self) -> dict[int, float]:
        if self._dict is None:
            self._dict = dict(zip(self.ids.tolist(), self.scores.tolist(), strict=True))
        return self._dict

    def __getitem__(self, doc: int) -> float:
        return self._as_dict()[doc]

    def __iter__(self) -> Iterator[int]:
        return iter(self._as_dict())

    def __len__(self) -> int:
        return len(self.ids)

    def top(self, wanted: int, datekeys: Any) -> list[tuple[float, int]]:
        """The ``wanted`` best ``(score, doc)``, ordered as ``heapq.nlargest`` orders the items by
        ``(round(score, 6), datekeys[doc], doc)``. The key is computed only for the documents
        whose score can reach the cut: rounding to 6 places moves a score by at most 5e-7, so none
        scoring below the ``wanted``-th best score minus 1e-6 can."""
        ids, scores = self.ids, self.scores
        if len(ids) > wanted > 0:
            cut = np.partition(scores, len(scores) - wanted)[len(scores) - wanted]
            near = scores >= cut - 1e-6
            ids, scores = ids[near], scores[near]
        pairs = zip(ids.tolist(), scores.tolist(), strict=True)
        best = heapq.nlargest(wanted, pairs, key=lambda item: (round(item[1], 6), datekeys[item[0]], item[0]))
        return [(score, doc) for doc, score in best]


def matching_docs(searcher: Any, query: wq.Query, executor: Executor | None = None) -> list[int] | None:
    """``searcher.docs_for_query(query)`` as a list, or None when the query is not supported."""
    try:
        return (executor or Executor(searcher)).docs(query).tolist()
    except UnsupportedQueryError:
        return None


def tally_scores(
    searcher: Any, query: wq.Query, matches: list[int] | np.ndarray, executor: Executor | None = None
) -> Tallied | None:
    """``{doc: score}`` of the ``matches`` the query matches, or None when it is not supported."""
    try:
        ids, scores = (executor or Executor(searcher)).scored(query, as_array(matches))
    except UnsupportedQueryError:
        return None
    return Tallied(ids, scores)
