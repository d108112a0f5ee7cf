"""Proximity: among the best releases of a multi-word query, those where the words stand close
together score higher (a rescoring window, as search engines do)."""

from __future__ import annotations

import bisect
import itertools
from typing import Any

from whoosh import query as wq
from whoosh.searching import Searcher

from search import codec
from search.query.nodes import _walk

# Words of a multi-word query found within this many positions of each other raise the score, by up
# to this fraction when adjacent.
PROXIMITY_WINDOW = 8
PROXIMITY_BOOST = 0.5
# how many of the best releases the proximity boost may reorder
RESCORE_WINDOW = 30


def _proximity_words(query: wq.Query) -> list[str] | None:
    """For a query of several required words: each word's whole-word body term."""
    if not isinstance(query, wq.And) or len(query.subqueries) < 2:
        return None
    words = []
    for clause in query.subqueries:
        term = next((node for node in _walk(clause) if isinstance(node, wq.Term) and node.fieldname == "body"), None)
        if term is None:
            return None
        words.append(term.text)
    return words


def _with_proximity(
    searcher: Searcher, query: wq.Query, ranked: list[tuple[float, int]], wanted: int, datekeys: Any
) -> list[tuple[float, int]]:
    """Raise the scores of the best ``RESCORE_WINDOW`` releases (whatever the page) where the words of a
    multi-word query stand close together — up to ``PROXIMITY_BOOST`` more when adjacent, nothing
    beyond ``PROXIMITY_WINDOW`` positions: a rescoring window, as search engines do, since comparing
    positions in every matching release would cost more than the rest of the search."""
    words = _proximity_words(query)
    # a fixed window, whatever the page: a window growing with the page would reorder releases
    # already shown on earlier pages
    window = ranked[:RESCORE_WINDOW]
    if not words or not window:
        return ranked
    positions = _positions_in(searcher, words, sorted(doc for _, doc in window))
    rescored = []
    for score, doc in window:
        lists = positions.get(doc)
        closeness = _closeness(lists) if lists and len(lists) == len(words) else 0.0
        rescored.append((score * (1 + PROXIMITY_BOOST * closeness), doc))
    return _by_score_then_date(rescored, datekeys) + ranked[len(window) :]


def _positions_in(searcher: Searcher, words: list[str], docs: list[int]) -> dict[int, list[list[int]]]:
    """``{doc: [positions of each word in its body]}`` for ``docs`` (ascending), one posting walk per word
    (only the blocks holding the documents decoded, ``codec.positions_in``, where the codec is ours)."""
    found: dict[int, list[list[int]]] = {doc: [] for doc in docs}
    reader = searcher.reader()
    for word in words:
        if ("body", word) not in reader:
            return {}
        in_blocks = codec.positions_in(reader, "body", word, docs)
        for doc, positions in (in_blocks if in_blocks is not None else matcher_positions(reader, word, docs)).items():
            found[doc].append(positions)
    return found


def matcher_positions(reader: Any, word: str, docs: list[int]) -> dict[int, list[int]]:
    """``{doc: positions of word in its body}`` for the ``docs`` (ascending) that have it, by a Whoosh matcher."""
    found = {}
    postings = reader.postings("body", word)
    for doc in docs:
        if not postings.is_active():
            break
        postings.skip_to(doc)
        if postings.is_active() and postings.id() == doc:
            found[doc] = list(postings.value_as("positions"))
    return found


def _closeness(lists: list[list[int]]) -> float:
    """Mean over consecutive query words of how near their nearest occurrences are: 1 adjacent,
    falling to 0 beyond ``PROXIMITY_WINDOW`` positions."""
    total = 0.0
    for first, second in itertools.pairwise(lists):
        distance = PROXIMITY_WINDOW + 1
        for position in first:  # positions are sorted: the nearest in ``second`` sits at the bisection
            index = bisect.bisect_left(second, position)
            for neighbour in second[max(0, index - 1) : index + 1]:
                distance = min(distance, abs(neighbour - position))
        total += max(0.0, (PROXIMITY_WINDOW + 1 - distance) / PROXIMITY_WINDOW)
    return total / (len(lists) - 1)


def _by_score_then_date(scored: list[tuple[float, int]], datekeys: Any) -> list[tuple[float, int]]:
    """Best score first; equal scores newest first, then the most recently indexed."""
    return sorted(scored, key=lambda item: (-round(item[0], 6), -datekeys[item[1]], -item[1]))
