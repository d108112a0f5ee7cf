"""Query syntax → our query tree: each word matched whole, by its parts in sequence or by its
bigrams, widened by synonyms; field values (places, crime types) mapped to what the index holds."""

from __future__ import annotations

import itertools
import re
import threading
from typing import Any

from whoosh import query as wq
from whoosh.qparser import MultifieldPlugin, QueryParser

from search import gazetteer
from search.analysis import Word, is_dictionary_word, is_ideograph_run, query_words
from search.normalise import fold_text
from search.query.nodes import GramRun, Near, QuotedPhrase, WordPhrase, _walk, boosted, gram_query
from search.query.parse_cache import WORD_QUERIES
from search.query.results import region_name
from search.synonyms import expansions_of

# Relative weights of the ways a query word can match: the whole word (1.0) ranks above the same
# characters found only as bigrams inside other words, and above a synonym the user did not type.
GRAM_BOOST = 0.4
SYNONYM_BOOST = 0.7
_REGION_FIELDS = ("district", "city", "province")


class ChineseQueryParser(QueryParser):
    """Whoosh's parser, with words analysed coarsely and matched at any segmentation.

    A query word such as 电信诈骗 becomes ``电信诈骗 OR "电信 诈骗"``: the whole dictionary word, or
    its parts in sequence, so it is found however jieba split the same characters in a document.
    """

    def __init__(
        self, fieldnames: list[str], schema: Any, fieldboosts: dict[str, float] | None = None, widen: bool = True
    ):
        super().__init__(None, schema, phraseclass=self._quoted_phrase)
        self.widen = widen  # by synonyms
        self._quotes: list[tuple[int, int, str]] = []
        self.add_plugin(MultifieldPlugin(fieldnames, fieldboosts=fieldboosts))
        self._words_per_field: dict[str, int] = {}
        # folded query word → the synonyms it was widened to
        self.expanded: dict[str, tuple[str, ...]] = {}

    def parse(self, text: str, *args: Any, **kwargs: Any) -> wq.Query:
        self._words_per_field, self.expanded = {}, {}  # a parser serves parse after parse (``parser_for``)
        # where each quoted phrase's characters are, to give each phrase the text typed
        self._quotes = [(match.start(1), match.end(1), match.group(1)) for match in re.finditer(r'"([^"]*)"', text)]
        return super().parse(text, *args, **kwargs)

    def _quoted_phrase(self, fieldname: str, words: list[str], **kwargs: Any) -> QuotedPhrase:
        phrase = QuotedPhrase(fieldname, words, **kwargs)
        # a phrase's words count towards the query's budget like loose words
        self._words_per_field[fieldname] = self._words_per_field.get(fieldname, 0) + len(words)
        ranges = kwargs.get("char_ranges") or []
        start = ranges[0][0] if ranges and ranges[0][0] is not None else None
        phrase.typed = next(
            (fold_text(literal) for begin, end, literal in self._quotes if start is not None and begin <= start < end),
            None,
        )
        return phrase

    def _priorized(self, methodname: str) -> list[Any]:
        # the plugins' taggers and filters, in priority order, gathered and sorted once per parser
        # (``parser_for`` reuses one parser for parse after parse; none is added after it is made)
        kept = self.__dict__.setdefault("_prioritised", {})
        if methodname not in kept:
            kept[methodname] = super()._priorized(methodname)
        return kept[methodname]

    def add_plugin(self, pin: Any) -> None:
        self.__dict__.pop("_prioritised", None)
        super().add_plugin(pin)

    def remove_plugin(self, pi: Any) -> None:
        self.__dict__.pop("_prioritised", None)
        super().remove_plugin(pi)

    def remove_plugin_class(self, cls: Any) -> None:
        self.__dict__.pop("_prioritised", None)
        super().remove_plugin_class(cls)

    @property
    def word_count(self) -> int:
        return max(self._words_per_field.values(), default=0)

    def term_query(self, fieldname, text, termclass, boost=1.0, tokenize=True, removestops=True):
        """A word's query, made once per word, field and boost (``parse_cache.WordQueries``): a
        search parses the whole query, then each word again for scoring and for matching."""
        key = (fieldname, text, termclass, boost, tokenize, removestops, self.widen)
        remembered, table = WORD_QUERIES.get(key)
        if remembered is None:
            outer_words, outer_expanded = self._words_per_field, self.expanded
            self._words_per_field, self.expanded = {}, {}  # what this word adds, to replay
            try:
                query = self._term_query(fieldname, text, termclass, boost, tokenize, removestops)
                remembered = (query, self._words_per_field, self.expanded)
            finally:
                self._words_per_field, self.expanded = outer_words, outer_expanded
            WORD_QUERIES.put(key, remembered, table)
        query, words, expanded = remembered
        for field, count in words.items():
            self._words_per_field[field] = self._words_per_field.get(field, 0) + count
        self.expanded.update(expanded)
        return query

    def _term_query(self, fieldname, text, termclass, boost=1.0, tokenize=True, removestops=True):
        if fieldname in _REGION_FIELDS:
            # district:台中 finds Taiwan's 台中市, filed as a city: the field of the level the name stands at
            name = region_name(text, fieldname) or text
            return wq.Term(gazetteer.load().level_of(name) or fieldname, name, boost=boost)
        if fieldname == "crime_type":  # a type of the fixed vocabulary, in either script
            return wq.Term(fieldname, fold_text(text).strip(), boost=boost)
        if fieldname not in ("title", "body") or termclass is not wq.Term or not tokenize:
            return super().term_query(fieldname, text, termclass, boost, tokenize, removestops)
        words = query_words(text)
        self._words_per_field[fieldname] = self._words_per_field.get(fieldname, 0) + len(words)
        if not words:
            return None
        whole = "".join(word.text for word in words)
        if len(words) > 1 and expansions_of(whole):
            # a synonym entry written as several words (酒后驾驶) is one unit, not each word
            query = self._widened(fieldname, whole, _sequence_query(fieldname, words))
        else:
            clauses = [self._widened(fieldname, word.text, _word_query(fieldname, word)) for word in words]
            query = clauses[0] if len(clauses) == 1 else wq.And(clauses)
            typed = fold_text(text)
            if len(clauses) > 1 or typed != words[0].text:
                # the characters as typed, contiguous, however they were segmented (立集体 in
                # 荣立集体) or whatever was dropped (了 of 毁了)
                query = _or_bigrams(fieldname, typed, query)
        if boost != 1.0:
            query = boosted(query, boost)
        return query

    def _widened(self, fieldname: str, text: str, query: wq.Query) -> wq.Query:
        """``query`` or any synonym of ``text`` (each matched as its exact character sequence)."""
        synonyms = expansions_of(text) if self.widen else ()
        if not synonyms:
            return query
        self.expanded[text] = synonyms
        # a synonym holding the word or another synonym (扫黑除恶 beside 扫黑) finds nothing more,
        # since each is matched as its characters anywhere: searching it would only cost
        shorter = [word for word in (text, *synonyms) if is_ideograph_run(word)]
        synonyms = tuple(
            synonym
            for synonym in synonyms
            if not (is_ideograph_run(synonym) and any(word != synonym and word in synonym for word in shorter))
        )
        alternatives = [_sequence_query(fieldname, query_words(synonym)) for synonym in synonyms]
        return wq.Or([query, *(boosted(alternative, SYNONYM_BOOST) for alternative in alternatives)])


_PARSERS = threading.local()


def parser_for(fields: tuple[str, ...], schema: Any, widen: bool) -> ChineseQueryParser:
    """A parser of this thread for ``fields`` of ``schema`` (the title boosted ×2): making one
    sets up Whoosh's plugins and compiles their patterns, a good part of a short query's parse."""
    parsers = _PARSERS.__dict__.setdefault("parsers", {})
    kept = parsers.get((fields, widen))
    if kept is None or kept.schema is not schema:
        kept = parsers[(fields, widen)] = ChineseQueryParser(list(fields), schema, {"title": 2.0}, widen)
    return kept


def _word_query(fieldname: str, word: Word) -> wq.Query:
    """A dictionary word is indexed whole wherever it occurs, so its term finds it; a word jieba
    made up (a name, new slang) may be grouped differently elsewhere, so match its parts in order.
    In the body, the word's characters found anywhere as bigrams also match, ranked lower."""
    if len(word.parts) == 1 or is_dictionary_word(word.text):
        query: wq.Query = wq.Term(fieldname, word.text)
    else:
        query = WordPhrase(fieldname, list(word.parts))
    return _or_bigrams(fieldname, word.text, query, same_text=True)


def _sequence_query(fieldname: str, words: list[Word]) -> wq.Query:
    """Exactly this sequence of words (a synonym such as 酒后驾驶: not 酒后 here and 驾驶 there)."""
    if len(words) == 1:
        return _word_query(fieldname, words[0])
    text = "".join(word.text for word in words)
    gram = gram_query(text)
    if fieldname == "body" and gram is not None:
        # its bigrams in sequence are the same characters exactly; their rarest bigram keeps the
        # positions to compare few (comparing 酒后 then 驾驶 would visit every release with 驾驶)
        return GramRun(gram.fieldname, list(gram.words), word=None)
    return _phrase_by_words(wq.Phrase(fieldname, [part for word in words for part in word.parts]))


def _or_bigrams(fieldname: str, text: str, query: wq.Query, same_text: bool = False) -> wq.Query:
    """``query`` or ``text``'s bigrams in sequence. ``same_text``: ``query`` only ever matches those
    very characters (a word's own term), so a release it matches has the bigrams too."""
    gram = gram_query(text)
    if fieldname != "body" or gram is None:
        return query
    words = gram.words if isinstance(gram, wq.Phrase) else [gram.text]
    run = GramRun(gram.fieldname, words, word=query, same_text=same_text)
    return wq.Or([query, boosted(run, GRAM_BOOST)])


def _phrase_by_words(phrase: wq.Phrase) -> wq.Query:
    """Match a phrase by its whole dictionary words rather than its parts, when it has some.

    Each dictionary word is indexed whole at the position of its first part, so ``"电信诈骗"``
    is just the term 电信诈骗, and ``"派出所民警"`` is 派出所 then 民警 exactly two positions
    later (派出所 has two parts): fewer posting lists to walk than 派出, 所, 民警.
    """
    words = query_words("".join(phrase.words))
    if [part for word in words for part in word.parts] != list(phrase.words):
        return phrase
    if not all(len(word.parts) == 1 or is_dictionary_word(word.text) for word in words):
        return phrase
    field = phrase.fieldname
    if len(words) == 1:
        return wq.Term(field, words[0].text, boost=phrase.boost)
    matcher: wq.Query = wq.Term(field, words[0].text)
    for previous, word in itertools.pairwise(words):
        distance = len(previous.parts)
        matcher = Near([matcher, wq.Term(field, word.text)], slop=distance, ordered=True, mindist=distance)
    return boosted(matcher, phrase.boost) if phrase.boost != 1.0 else matcher


def _highlight_terms(query: wq.Query) -> list[str]:
    """Folded strings to mark in snippets: the query's positive words and phrases."""
    found: list[str] = []

    def walk(node: wq.Query) -> None:
        if isinstance(node, wq.Not):
            return
        if isinstance(node, wq.AndNot):
            walk(node.a)
            return
        if isinstance(node, GramRun):  # the characters typed, however they are matched
            found.append(node.words[0] + "".join(word[1:] for word in node.words[1:]))
            return
        if isinstance(node, wq.Phrase):
            if node.fieldname in ("title", "body"):
                found.append("".join(node.words))
            return
        if isinstance(node, wq.SpanNear2):  # a phrase matched word by word
            leaves = [leaf for leaf in _walk(node) if isinstance(leaf, wq.Term)]
            if leaves and leaves[0].fieldname in ("title", "body"):
                found.append("".join(leaf.text for leaf in leaves))
            return
        if isinstance(node, (wq.Term, wq.Prefix)):
            if node.fieldname in ("title", "body") and isinstance(node.text, str):
                found.append(node.text)
            return
        if isinstance(node, wq.Wildcard):
            literal = max(re.split(r"[*?]", node.text), key=len)
            if node.fieldname in ("title", "body") and literal:
                found.append(literal)
            return
        for child in node.children():
            walk(child)

    walk(query)
    terms = {term for term in found if term}
    # a single character is marked only when typed on its own: 立 of 立集体 would light up 立功
    terms = {term for term in terms if len(term) > 1 or not any(term in longer for longer in terms if longer != term)}
    return sorted(terms, key=len, reverse=True)
