"""Our query-tree nodes: Whoosh query classes our rewriting recognises (quoted phrases, a word's
parts, bigram runs), a confining document set, a boostable span, and walking a tree."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from whoosh import query as wq
from whoosh.matching import ListMatcher, NullMatcher, WrappingMatcher
from whoosh.searching import Searcher

from search.analysis import character_bigrams, is_ideograph_run


class _SharedOnCopy:
    """Copied without copying what it holds: Whoosh's ``with_boost`` deep-copies a query (with a
    bigram run's whole word query, or a document set's list), but a query tree is never changed in
    place once built (rewriting and normalising build new nodes), so a copy may share its parts."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.copy(self)


def boosted(query: wq.Query, boost: float) -> wq.Query:
    """``query.with_boost(boost)`` without Whoosh's deep copy of the whole tree (see
    ``_SharedOnCopy``): the node copied, its children shared. Query types that pass a boost on to
    their children their own way keep Whoosh's method."""
    if type(query).with_boost is not wq.Query.with_boost or type(query).copy is not wq.Query.copy:
        return query.with_boost(boost)
    clone = copy.copy(query)
    if isinstance(clone, wq.CompoundQuery):
        clone.subqueries = list(clone.subqueries)
    clone.boost = boost
    return clone


class _MarkedPhrase(_SharedOnCopy, wq.Phrase):
    """A phrase our query rewriting must still recognise after Whoosh normalises it: one word stays
    a phrase (Whoosh would make it a plain term) and the attributes in ``carried`` survive."""

    carried: tuple[str, ...] = ()

    def normalize(self) -> wq.Query:
        normalized = self if len(self.words) == 1 else super().normalize()
        if isinstance(normalized, _MarkedPhrase) and normalized is not self:
            for name in self.carried:
                setattr(normalized, name, getattr(self, name))
        return normalized

    def matcher(self, searcher: Searcher, context: Any = None) -> Any:
        if len(self.words) == 1:  # Whoosh's phrase matcher wants two words or more
            return wq.Term(self.fieldname, self.words[0], boost=self.boost).matcher(searcher, context)
        return super().matcher(searcher, context)


class QuotedPhrase(_MarkedPhrase):
    """A phrase the user quoted, still paired with its bigrams when it analyses to one word."""

    carried = ("typed",)
    typed: str | None = None  # the characters between the quotes, folded


class WordPhrase(_SharedOnCopy, wq.Phrase):
    """The parts of one unknown query word, in order: already paired with its bigrams, unlike a
    phrase the user quoted."""


class GramRun(_MarkedPhrase):
    """Characters as their bigrams in sequence, beside ``word``, the word-level query that finds
    nearly all of the same releases. Before searching, ``resolve_gram_runs`` confines the bigram
    match (and any comparison of positions) to the few releases ``word`` does not find."""

    def __init__(
        self, fieldname: str, words: list[str], *args: Any, word: wq.Query | None = None, same_text: bool = False,
        **kwargs: Any,
    ):  # fmt: skip
        super().__init__(fieldname, words, *args, **kwargs)
        self.word = word.normalize() if word is not None else None
        self.same_text = same_text

    carried = ("word", "same_text")


class DocSet(_SharedOnCopy, wq.Query):
    """Exactly these documents (global numbers), adding nothing to the score: confines the query
    it is intersected with to them."""

    def __init__(self, docnums: list[int]):
        self.docnums = sorted(docnums)
        self.boost = 1.0

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.docnums == self.docnums

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.docnums)))

    def __repr__(self) -> str:
        return f"DocSet({len(self.docnums)} documents)"

    def estimate_size(self, ixreader: Any) -> int:
        return len(self.docnums)

    def field(self) -> None:
        return None

    def matcher(self, searcher: Searcher, context: Any = None) -> Any:
        offset = 0
        parent = searcher.parent() if searcher.parent is not None else None
        if parent is not None and parent is not searcher:  # one segment of several: local numbers
            offset = next(start for sub, start in parent.subsearchers if sub is searcher)
        end = offset + searcher.doc_count_all()
        local = [doc - offset for doc in self.docnums if offset <= doc < end]
        return ListMatcher(local, all_weights=0.0) if local else NullMatcher()


class Near(wq.SpanNear2):
    """Whoosh's ``SpanNear2`` with a boost, which it lacks (so it can stand in for a boosted phrase),
    and with its size estimate working (Whoosh 2.7.4's refers to an undefined name)."""

    boost = 1.0

    def _and_query(self) -> wq.Query:
        return wq.And(self.qs)

    def apply(self, fn: Callable[[wq.Query], wq.Query]) -> Near:
        applied = super().apply(fn)
        applied.boost = self.boost
        return applied

    def matcher(self, searcher: Searcher, context: Any = None) -> Any:
        matcher = super().matcher(searcher, context)
        return WrappingMatcher(matcher, boost=self.boost) if self.boost != 1.0 else matcher


def _positional(query: wq.Query | None) -> bool:
    return query is not None and any(isinstance(node, (wq.Phrase, wq.SpanQuery)) for node in _walk(query))


def _walk(node: wq.Query) -> Iterator[wq.Query]:
    yield node
    for child in node.children():
        yield from _walk(child)


def gram_query(text: str) -> wq.Query | None:
    """The bigram-field query for a run of ideographs: its one bigram, or its bigrams in order."""
    if not is_ideograph_run(text):
        return None
    grams = character_bigrams(text)
    return wq.Term("grams", grams[0]) if len(grams) == 1 else wq.Phrase("grams", grams)
