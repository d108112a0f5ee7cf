"""The vectorised executor: a query's exact matches and BM25F scores over whole posting arrays.

Whoosh answers a query by walking a tree of matchers one posting at a time, in Python (µs per
posting). Here each term's postings come as numpy arrays (``search/arrays.py``, cached per segment)
and the query tree is evaluated on whole arrays of document numbers: an And intersects, an Or
unites, a Not subtracts, a phrase compares positions only in the documents that already have every
word. Scores are Whoosh's BM25F computed on arrays with the same formula, the same parameters and
the same order of floating-point operations as ``Searcher.postings(...).score()`` term by term,
and summed the way the engine's term-by-term scoring sums them (an And over its children from
the fewest matches up, an Or in order), so they equal today's scores.

A query holding anything else (wildcards, ranges, fuzzy terms, sloppy phrases, a scoring model
other than BM25F) raises ``UnsupportedQueryError``; the engine (``search/query/vectored.py``)
then takes Whoosh's path.

Document numbers are global (segment offset + segment-local number), deleted documents left out,
arrays ascending (int64).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25FScorer, WeightScorer

from search.arrays import CACHE, ArrayCache, ForeignSegmentError, TermArrays

# positions are packed with their document number into one int64 key: doc * _SPAN + position
_SPAN = np.int64(1 << 32)
_EMPTY_IDS = np.zeros(0, dtype=np.int64)
_EMPTY_SCORES = np.zeros(0, dtype=np.float64)
# what an executor keeps of its terms (global ids, scores, position keys) before starting afresh:
# a searcher lives for many searches of one commit, and each search's terms are a handful
MAX_KEPT_BYTES = 32 * 2**20


class UnsupportedQueryError(Exception):
    """The query holds a node this executor does not evaluate."""


@dataclass
class _Term:
    """One term over every segment: global ids, weights, per-posting segment index, positions."""

    ids: np.ndarray
    weights: np.ndarray
    parts: list[tuple[Any, int, TermArrays]]  # (leaf searcher, offset, its arrays)
    scores: np.ndarray | None = None
    position_keys: np.ndarray | None = None  # doc * _SPAN + position, every occurrence


def _is_docset(node: wq.Query) -> bool:
    # the engine's confining DocSet query (kept apart to avoid an import cycle): a leaf with docnums
    return type(node).__name__ == "DocSet" and hasattr(node, "docnums")


def _compares_positions(node: wq.Query) -> bool:
    return isinstance(node, (wq.Phrase, wq.SpanNear2)) or any(_compares_positions(child) for child in node.children())


def _restrict(ids: np.ndarray, candidates: np.ndarray | None) -> np.ndarray:
    """A boolean mask of the ``ids`` (ascending) that are among ``candidates`` (ascending)."""
    if candidates is None:
        return np.ones(len(ids), dtype=bool)
    if not len(candidates) or not len(ids):
        return np.zeros(len(ids), dtype=bool)
    top = max(int(ids[-1]), int(candidates[-1]))
    if min(int(ids[0]), int(candidates[0])) >= 0 and top < 4 * (len(ids) + len(candidates)) + 4096:
        # document numbers: a table of them marked is cheaper than a binary search per id
        table = np.zeros(top + 1, dtype=bool)
        table[candidates] = True
        return table[ids]
    where = np.searchsorted(candidates, ids)
    where[where == len(candidates)] = 0
    return candidates[where] == ids


class Executor:
    """Evaluates queries over one searcher's snapshot (one per search; term arrays are shared
    across searches through ``cache``)."""

    def __init__(self, searcher: Any, cache: ArrayCache = CACHE):
        self.searcher = searcher
        self.schema = searcher.schema
        self.cache = cache
        self.leaves = [(leaf, offset) for leaf, offset in searcher.leaf_searchers() if leaf.doc_count_all()]
        self._terms: dict[tuple[str, bytes, bool], _Term] = {}
        self._frequencies: dict[tuple[str, Any], int] = {}
        self._kept_bytes = 0  # of the arrays made here (not those shared through the cache)
        self._live: np.ndarray | None = None

    # --- postings ---------------------------------------------------------------------------

    def live(self) -> np.ndarray:
        if self._live is None:
            parts = [self.cache.live(leaf.reader()) + offset for leaf, offset in self.leaves]
            self._live = np.concatenate(parts) if parts else _EMPTY_IDS
        return self._live

    def _btext(self, fieldname: str, text: Any) -> bytes | None:
        if fieldname not in self.schema:
            return None
        try:
            return self.schema[fieldname].to_bytes(text)
        except ValueError:
            return None

    def term(self, fieldname: str, text: Any, positions: bool = False) -> _Term | None:
        btext = self._btext(fieldname, text)
        if btext is None:
            return None
        key = (fieldname, btext, positions)
        if self._kept_bytes > MAX_KEPT_BYTES:
            self._terms, self._kept_bytes = {}, 0
        found = self._terms.get(key) or (None if positions else self._terms.get((fieldname, btext, True)))
        if found is not None:
            return found
        parts = []
        for leaf, offset in self.leaves:
            try:
                arrays = self.cache.term(leaf.reader(), fieldname, btext, positions)
            except ForeignSegmentError as error:
                raise UnsupportedQueryError(str(error)) from None
            if len(arrays.ids):
                parts.append((leaf, offset, arrays))
        if len(parts) == 1:
            _, offset, arrays = parts[0]
            ids, weights = (arrays.ids + offset if offset else arrays.ids), arrays.weights
        elif parts:
            ids = np.concatenate([arrays.ids + offset for _, offset, arrays in parts])
            weights = np.concatenate([arrays.weights for _, _, arrays in parts])
        else:
            ids, weights = _EMPTY_IDS, _EMPTY_SCORES
        found = self._terms[key] = _Term(ids, weights, parts)
        self._kept_bytes += ids.nbytes + weights.nbytes if len(parts) > 1 or (parts and parts[0][1]) else 0
        return found

    def doc_frequency(self, fieldname: str, text: Any) -> int:
        """``searcher.doc_frequency``, remembered: a search asks it of the same words again and again."""
        key = (fieldname, text)
        found = self._frequencies.get(key)
        if found is None:
            if len(self._frequencies) > 4096:
                self._frequencies = {}
            found = self._frequencies[key] = self.searcher.doc_frequency(fieldname, text)
        return found

    def term_ids(self, fieldname: str, text: Any) -> np.ndarray:
        found = self.term(fieldname, text)
        return _EMPTY_IDS if found is None else found.ids

    def term_scores(self, fieldname: str, text: Any) -> tuple[np.ndarray, np.ndarray]:
        """Every posting of the term scored as ``searcher.postings(...).score()`` scores it."""
        found = self.term(fieldname, text)
        if found is None or not len(found.ids):
            return _EMPTY_IDS, _EMPTY_SCORES
        if found.scores is None:
            btext = self._btext(fieldname, text)
            found.scores = np.concatenate(
                [self._leaf_scores(leaf, fieldname, btext, arrays) for leaf, _, arrays in found.parts]
            )
            self._kept_bytes += found.scores.nbytes
        return found.ids, found.scores

    def _leaf_scores(self, leaf: Any, fieldname: str, btext: bytes, arrays: TermArrays) -> np.ndarray:
        scorer = leaf.weighting.scorer(leaf, fieldname, btext)
        if type(scorer) is WeightScorer:
            return arrays.weights
        if type(scorer) is not BM25FScorer:
            raise UnsupportedQueryError(f"scorer {type(scorer).__name__}")
        saved = getattr(scorer.dfl, "__self__", None)  # SavedLengthsBM25F: the segment's length column
        if isinstance(saved, array) and saved.typecode == "I":
            fl = np.frombuffer(saved, dtype=np.uint32)[arrays.ids].astype(np.float64)
        else:
            fl = np.array([scorer.dfl(doc) for doc in arrays.ids.tolist()], dtype=np.float64)
        tf, idf, avgfl, b, k1 = arrays.weights, scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        # whoosh.scoring.bm25, operation for operation
        return idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))

    def _position_keys(self, fieldname: str, text: Any) -> np.ndarray:
        found = self.term(fieldname, text, positions=True)
        if found is None or not len(found.ids):
            return _EMPTY_IDS
        if found.position_keys is None:
            keys = []
            for _, offset, arrays in found.parts:
                if arrays.position_starts is None:
                    raise UnsupportedQueryError(f"no positions in {fieldname}")
                docs = np.repeat(arrays.ids + offset, np.diff(arrays.position_starts))
                keys.append(docs * _SPAN + arrays.positions)
            found.position_keys = np.concatenate(keys)
            self._kept_bytes += found.position_keys.nbytes
        return found.position_keys

    # --- matching ---------------------------------------------------------------------------

    def docs(self, node: wq.Query, within: np.ndarray | None = None) -> np.ndarray:
        """The live documents ``node`` matches, as Whoosh's ``docs_for_query`` lists them.

        ``within`` (ascending) is a hint: only the answer's documents among them must be right
        (an And passes its cheaper children's matches down, so that phrases compare positions
        only there); None, the whole answer."""
        kind = type(node)
        if node is wq.NullQuery:
            return _EMPTY_IDS
        if kind is wq.Term:
            return self.term_ids(node.fieldname, node.text)
        if _is_docset(node):
            return np.asarray(node.docnums, dtype=np.int64)
        if kind is wq.Every:
            if node.fieldname not in (None, "", "*"):
                raise UnsupportedQueryError("Every of one field")
            return self.live()
        if kind is wq.And:
            found = None
            # the children comparing positions last, within what the others matched
            for child in sorted(node.subqueries, key=_compares_positions):
                part = self.docs(child, within if found is None else found)
                found = part if found is None else found[_restrict(found, part)]
                if not len(found):
                    break
            return _EMPTY_IDS if found is None else found
        if kind is wq.Or:
            if node.minmatch:
                raise UnsupportedQueryError("Or with minmatch")
            return self._union([self.docs(child, within) for child in node.subqueries])
        if kind is wq.Not:
            return np.setdiff1d(self.live(), self.docs(node.query, within), assume_unique=True)
        # AndNot, AndMaybe and Require are left to Whoosh: its matchers for them misbehave
        # (AndNot(a, b) keeps a document of both when b's list starts lower; Require and AndMaybe
        # under an Or or a Not), and today's answers are kept, whatever they are. ``a NOT b``
        # parses to And([a, Not(b)]), which is evaluated here.
        chain = self._chain(node)
        if chain is not None:
            fieldname, links, _ = chain
            return self._chain_docs(fieldname, links, within)
        raise UnsupportedQueryError(kind.__name__)

    @staticmethod
    def _intersection(parts: list[np.ndarray]) -> np.ndarray:
        if not parts:
            return _EMPTY_IDS
        parts = sorted(parts, key=len)
        found = parts[0]
        for other in parts[1:]:
            if not len(found):
                break
            found = found[_restrict(found, other)]
        return found

    def _union(self, parts: list[np.ndarray]) -> np.ndarray:
        parts = [part for part in parts if len(part)]
        if not parts:
            return _EMPTY_IDS
        if len(parts) == 1:
            return parts[0]
        # a mark per document: linear, where sorting the concatenation is not
        marked = np.zeros(self.searcher.doc_count_all(), dtype=bool)
        for part in parts:
            marked[part] = True
        return np.flatnonzero(marked).astype(np.int64, copy=False)

    def _chain(self, node: wq.Query) -> tuple[str, list[tuple[Any, int]], float] | None:
        """A phrase or an ordered span of exact distances as (field, [(term text, offset)], boost):
        a document matches when each term occurs at one position plus its offset."""
        if isinstance(node, wq.Phrase):
            if node.slop != 1:
                raise UnsupportedQueryError("sloppy phrase")
            return node.fieldname, [(word, i) for i, word in enumerate(node.words)], node.boost
        if isinstance(node, wq.SpanNear2):
            if not node.ordered or node.slop != node.mindist or node.mindist < 1 or not node.qs:
                raise UnsupportedQueryError("span of varying distance")
            fieldname, chain, end = None, [], 0
            for i, child in enumerate(node.qs):
                if type(child) is wq.Term:
                    part, width = [(child.text, 0)], 0
                    child_field = child.fieldname
                else:
                    inner = self._chain(child) if isinstance(child, wq.SpanNear2) else None
                    if inner is None or inner[2] != 1.0:
                        raise UnsupportedQueryError("span of another kind")
                    child_field, part, _ = inner
                    width = part[-1][1]
                if fieldname is not None and child_field != fieldname:
                    raise UnsupportedQueryError("span across fields")
                fieldname = child_field
                shift = 0 if i == 0 else end + node.slop
                chain += [(text, offset + shift) for text, offset in part]
                end = shift + width
            return fieldname, chain, getattr(node, "boost", 1.0)
        return None

    def _chain_docs(self, fieldname: str, chain: list[tuple[Any, int]], within: np.ndarray | None = None) -> np.ndarray:
        if fieldname not in self.schema:
            return _EMPTY_IDS
        field = self.schema[fieldname]
        if not field.format or not field.format.supports("positions"):
            raise UnsupportedQueryError("phrase on a field without positions")
        texts = [text for text, _ in chain]
        if len(chain) == 1:
            return self.term_ids(fieldname, texts[0])
        candidates = self._intersection([self.term_ids(fieldname, text) for text in texts])
        if within is not None:
            candidates = candidates[_restrict(candidates, within)]
        if not len(candidates):
            return candidates
        matched: np.ndarray | None = None
        # rarest first: the candidate keys shrink fastest
        for text, offset in sorted(chain, key=lambda item: len(self.term_ids(fieldname, item[0]))):
            keys = self._position_keys(fieldname, text)
            # a term's keys are ascending (by document, then position), so stay so once shifted
            keys = keys[_restrict(keys // _SPAN, candidates)] - offset
            matched = keys if matched is None else matched[_restrict(matched, keys)]
            if not len(matched):
                return _EMPTY_IDS
        docs = matched // _SPAN  # ascending, a document once per match (never empty here)
        return docs[np.concatenate(([True], docs[1:] != docs[:-1]))]

    # --- scoring ----------------------------------------------------------------------------

    def scored(self, node: wq.Query, candidates: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(documents, scores) of the ``candidates`` (None: every document) that ``node`` matches,
        as the engine's term-by-term scoring sums them (``_tally``); phrases and spans score the
        sum of their terms, as Whoosh's span matchers do."""
        kind = type(node)
        if node is wq.NullQuery:
            return _EMPTY_IDS, _EMPTY_SCORES
        if kind is wq.Term:
            ids, scores = self.term_scores(node.fieldname, node.text)
            keep = _restrict(ids, candidates)
            ids, scores = ids[keep], scores[keep]
        elif _is_docset(node):
            ids = np.asarray(node.docnums, dtype=np.int64)
            ids = ids[_restrict(ids, candidates)]
            return ids, np.zeros(len(ids), dtype=np.float64)
        elif kind in (wq.And, wq.Or):
            if kind is wq.Or and (node.scale or node.minmatch):
                raise UnsupportedQueryError("Or with scale or minmatch")
            if not node.subqueries:
                return _EMPTY_IDS, _EMPTY_SCORES
            # (a Not under an And is scored by Whoosh as 1.0 more, its inverse matcher's weight: left
            # to Whoosh)
            children = [self.scored(child, candidates) for child in node.subqueries]
            ids, scores = (self._scored_and if kind is wq.And else self._scored_or)(children)
        else:
            chain = self._chain(node)
            if chain is None:
                raise UnsupportedQueryError(kind.__name__)
            fieldname, links, _ = chain
            ids = self._chain_docs(fieldname, links, candidates)
            ids = ids[_restrict(ids, candidates)]
            texts = [text for text, _ in links]
            scores = self._phrase_scores(node, fieldname, ids) if len(texts) > 1 else None
            if scores is None:
                _, scores = self._scores_at(fieldname, texts[0], ids)
        boost = getattr(node, "boost", 1.0)  # Whoosh's own SpanNear2 has none
        if boost != 1.0:
            scores = scores * boost
        return ids, scores

    def _scores_at(self, fieldname: str, text: Any, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        all_ids, all_scores = self.term_scores(fieldname, text)
        return ids, all_scores[np.searchsorted(all_ids, ids)]

    def _phrase_scores(self, node: wq.Query, fieldname: str, ids: np.ndarray) -> np.ndarray:
        """Whoosh's span matcher scores its intersection of terms: a binary tree of sums
        (``make_binary_tree``: the first half, plus the second half), boosts applied per node."""

        def tree(parts: list[Any]) -> np.ndarray:
            if len(parts) == 1:
                return leaf(parts[0])
            half = len(parts) // 2
            return tree(parts[:half]) + tree(parts[half:])

        def leaf(part: Any) -> np.ndarray:
            if isinstance(part, wq.Term):
                scores = self._scores_at(part.fieldname, part.text, ids)[1]
                return scores * part.boost if part.boost != 1.0 else scores
            if isinstance(part, wq.SpanNear2):
                scores = tree(list(part.qs))
                boost = getattr(part, "boost", 1.0)
                return scores * boost if boost != 1.0 else scores
            return self._scores_at(fieldname, part, ids)[1]

        if isinstance(node, wq.Phrase):
            return tree(list(node.words))
        return tree(list(node.qs))

    @staticmethod
    def _scored_and(children: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        children = sorted(children, key=lambda child: len(child[0]))  # stable, as ``_tally`` sorts
        ids = Executor._intersection([child[0] for child in children])
        scores = np.zeros(len(ids), dtype=np.float64)
        first = True
        for child_ids, child_scores in children:
            values = child_scores[np.searchsorted(child_ids, ids)] if len(ids) else _EMPTY_SCORES
            scores = values.copy() if first else scores + values
            first = False
        return ids, scores

    def _scored_or(self, children: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        ids = self._union([child[0] for child in children])
        # summed per document number, each in the children's order (so the same sums), then read
        # at the union: no binary search of every child's documents in it
        totals = np.zeros(self.searcher.doc_count_all(), dtype=np.float64)
        for child_ids, child_scores in children:
            if len(child_ids):
                totals[child_ids] += child_scores
        return ids, totals[ids]
