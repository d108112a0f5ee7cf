"""Query stage: the one search API the CLI and the web front end both call.

    engine = SearchEngine(index_dir)
    result = engine.search("诈骗", district="九龙坡", date_from="2024-01-01", sort="date")

Query syntax is Whoosh's (AND / OR / NOT, "quoted phrase", field:value, wildcards); every word is
required by default.  Facet counts follow faceted-search convention: each facet applies every active
filter except its own, so the counts say what clicking would give.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import functools
import heapq
import itertools
import re
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from whoosh import collectors, sorting
from whoosh import query as wq
from whoosh.matching import ListMatcher, NullMatcher, WrappingMatcher
from whoosh.qparser import MultifieldPlugin, QueryParser
from whoosh.scoring import BM25F, BM25FScorer
from whoosh.searching import Searcher

from search import coordination, gazetteer
from search.analysis import Word, character_bigrams, is_dictionary_word, is_ideograph_run, query_words
from search.collapse import Stories, StoryCache, describe_copies
from search.collapse import _stamp as story_map_stamp
from search.dates import parse_date
from search.facet_registry import FacetValues, FacetValuesCache, FilterValueError, chosen_filters
from search.facets import FacetColumns, apply_filters, date_counts, region_counts, undated_count
from search.index import default_index_dir
from search.normalise import fold_text
from search.segment_columns import SegmentColumns, segment_columns
from search.similar import similar_releases
from search.snapshots import CommitCache, SearcherPool, Snapshots
from search.snippets import Snippet, find_spans, snippet
from search.synonyms import SynonymFileError, expansions_of

MAX_PER_PAGE = 100
MAX_QUERY_CHARS = 1000
MAX_PAGE = 10_000
MAX_QUERY_WORDS = 64
# Facets list at most this many values (the most frequent): enough for any screen, and a query
# over a national corpus would otherwise return thousands of districts.
FACET_LIMIT = 200
MAX_EXPANDING_TERMS = 3
# The work budget of one query (bench/hostile.py measures the slowest query that fits, on 2,000
# releases): vocabulary words one wildcard, prefix or range may stand for, words in one quoted
# phrase, depth of nested parentheses.
MAX_EXPANDED_WORDS = 300
MAX_PHRASE_WORDS = 24
MAX_NESTING = 16
# ... and the search terms the parsed query expands to (each word becomes its term, its parts in
# sequence, its bigrams; a positional clause adds POSITIONAL_COST, as it compares positions): a
# sentence of ordinary words fits; a pasted paragraph does not.
MAX_QUERY_COST = 110
POSITIONAL_COST = 2
SORTS = ("relevance", "date")
# Relative weights of the ways a query word can match: the whole word (1.0) ranks above the same
# characters found only as bigrams inside other words, and above a synonym the user did not type.
GRAM_BOOST = 0.4
SYNONYM_BOOST = 0.7
# Words of a multi-word query found within this many positions of each other raise the score, by up
# to this fraction when adjacent.
PROXIMITY_WINDOW = 8
PROXIMITY_BOOST = 0.5
# how many of the best releases the proximity boost may reorder
RESCORE_WINDOW = 30
QUERY_FIELDS = ("title", "body", "district", "city", "province", "source", "year", "crime_type")
_REGION_FIELDS = ("district", "city", "province")
_REGION_FACETS = ("district", "city", "province", "region")
_FIELD_SYNTAX = re.compile(r"(?<![\w])([A-Za-z_][A-Za-z0-9_]*)\s*:")


class QueryError(ValueError):
    """A query or parameter the engine cannot answer; the message says what to change."""


@dataclass
class Hit:
    id: str
    title: str
    date: str | None
    district: str | None
    city: str | None
    province: str | None
    source: str | None
    path: str
    score: float | None
    snippet: Snippet  # text and highlight spans (search.formats renders them)
    crime_types: list[str] = field(default_factory=list)
    story: str | None = None  # the id of the story (copies of one release) it belongs to
    copies: list[dict[str, Any]] = field(default_factory=list)  # the story's other copies
    title_spans: tuple[tuple[int, int], ...] = field(default=(), repr=False)
    # the query's words (as typed) this release lacks: it is a partial match
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("title_spans")
        return data


@dataclass
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResult:
    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    # "all": every release listed has every word; "any": after those with every word (if any) come
    # releases with most of them, each hit saying which it lacks
    mode: str = "all"
    # how many of the ``total`` releases have every word
    total_all_words: int | None = None
    # query words naming a place that also matched releases located there: {"word", "region"}
    places: list[dict[str, str]] = field(default_factory=list)
    # the query without its quotes and brackets, when with them it finds nothing and without them it does
    did_you_mean: str | None = None
    # synonyms of the query's words that matching releases use (詐欺 for 诈骗)
    also_matched: list[str] = field(default_factory=list)
    highlight_terms: list[str] = field(default_factory=list, repr=False)
    # matches without a date, under every filter but the date filter's (which hides them unless
    # include_undated): the year facet's "date unknown" count
    undated: int = 0
    # with ``rank_up_to`` (search.streaming): the matches in result order, (document number, score)
    ranking: list[tuple[int, float | None]] = field(default_factory=list, repr=False)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "took_ms": self.took_ms,
            "mode": self.mode,
            "total_all_words": self.total if self.total_all_words is None else self.total_all_words,
            "places": self.places,
            "did_you_mean": self.did_you_mean,
            "also_matched": self.also_matched,
            "undated": self.undated,
            "hits": [hit.as_dict() for hit in self.hits],
            "facets": {name: [asdict(value) for value in values] for name, values in self.facets.items()},
        }


@dataclass
class Document:
    id: str
    title: str
    title_inferred: bool
    subtitle: str | None
    date: str | None
    report_year: int | None
    district: str | None
    city: str | None
    province: str | None
    source: str | None
    path: str
    filename: str
    encoding: str | None
    paragraphs: list[str]
    crime_types: list[str] = field(default_factory=list)
    # which rule found the date (search.publish_date), None when undated
    date_rule: str | None = None
    story: str | None = None
    copies: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def region_name(name: str | None, level: str | None = None) -> str | None:
    """The official district, city or province name a filter value designates (九龙坡 →
    九龙坡区, 萬州區 → 万州区, 河南 → 河南省); an unknown name is kept as typed (and matches nothing).

    ``level`` (``district``, ``city``, ``province``) is looked up first. Otherwise an official name
    means itself, and a short form the larger unit it names: 河南 is 河南省 rather than 河南县
    (河南蒙古族自治县), 长沙 长沙市 rather than 长沙县.
    """
    if not name or not name.strip():
        return None
    name = name.strip()
    folded = fold_text(name)
    places = gazetteer.load()
    province, city = places.province_named(folded), places.city_named(folded)
    districts = places.districts_named(folded)
    meanings = {
        "province": province.province if province else None,
        "city": city.city if city else None,
        "district": districts[0].district if districts else None,
    }
    if meanings.get(level):
        return meanings[level]
    if folded in meanings.values():
        return folded
    return meanings["province"] or meanings["city"] or meanings["district"] or name


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

    @property
    def word_count(self) -> int:
        return max(self._words_per_field.values(), default=0)

    def term_query(self, fieldname, text, termclass, boost=1.0, tokenize=True, removestops=True):
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
            query = query.with_boost(boost)
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
        return wq.Or([query, *(alternative.with_boost(SYNONYM_BOOST) for alternative in alternatives)])


def _word_query(fieldname: str, word: Word) -> wq.Query:
    """A dictionary word is indexed whole wherever it occurs, so its term finds it; a word jieba
    made up (a name, new slang) may be grouped differently elsewhere, so match its parts in order.
    In the body, the word's characters found anywhere as bigrams also match, ranked lower."""
    if len(word.parts) == 1 or is_dictionary_word(word.text):
        query: wq.Query = wq.Term(fieldname, word.text)
    else:
        query = WordPhrase(fieldname, list(word.parts))
    return _or_bigrams(fieldname, word.text, query, same_text=True)


class _MarkedPhrase(wq.Phrase):
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


class WordPhrase(wq.Phrase):
    """The parts of one unknown query word, in order: already paired with its bigrams, unlike a
    phrase the user quoted."""


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
    return wq.Or([query, run.with_boost(GRAM_BOOST)])


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


class DocSet(wq.Query):
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

    def word_docs(node: GramRun) -> set[int]:
        key = ("word", repr(node.word))
        if key not in cache:
            word = resolve_gram_runs(searcher, node.word, cache) if node.word is not None else wq.NullQuery
            cache[key] = set(searcher.docs_for_query(word))
        return cache[key]

    def run_docs(node: GramRun) -> list[int]:
        key = (tuple(node.words), repr(node.word))
        if key not in cache:
            frequencies = [searcher.doc_frequency(node.fieldname, gram) for gram in node.words]
            word = node.word
            if (
                node.same_text
                and isinstance(word, wq.Term)
                and searcher.doc_frequency(word.fieldname, word.text) == min(frequencies)
            ):
                # the word is in as many releases as the rarest bigram: no release has the run alone
                cache[key] = []
                return cache[key]
            found = word_docs(node)
            bigrams = wq.And([wq.Term(node.fieldname, gram) for gram in dict.fromkeys(node.words)])
            candidates = [doc for doc in searcher.docs_for_query(bigrams) if doc not in found]
            if candidates and len(node.words) > 1:
                exact = wq.And([DocSet(candidates), wq.Phrase(node.fieldname, node.words)])
                candidates = list(searcher.docs_for_query(exact))
            cache[key] = candidates
        return cache[key]

    def absent(node: wq.Query) -> bool:
        """Matches nothing here: a term no release has, or an and/phrase/span needing one."""
        if isinstance(node, wq.Term):
            return searcher.doc_frequency(node.fieldname, node.text) == 0
        if isinstance(node, wq.Phrase):
            return any(searcher.doc_frequency(node.fieldname, word) == 0 for word in node.words)
        if isinstance(node, (wq.And, wq.SpanNear2)):
            return any(absent(child) for child in node.children())
        return False

    def bigram_terms(node: GramRun) -> list[wq.Query]:
        return [wq.Term(node.fieldname, gram) for gram in dict.fromkeys(node.words)]

    def positional_pair(node: GramRun) -> wq.Query:
        """A word matched by positions (a name's parts, a quoted phrase's words) beside its bigrams:
        their releases are found once here. Listing matches, that set is the answer; scoring, the
        word's terms score them without comparing positions again, and the caller confines the
        search to the matches (``LOOSENED`` in the cache says so)."""
        releases = sorted(word_docs(node).union(run_docs(node)))
        if not releases:
            return wq.Term("id", "")  # matches nothing, and an And keeps it (a NullQuery it would drop)
        if matching:
            return DocSet(releases)
        cache[LOOSENED] = True
        only_here = run_docs(node)
        scored = [_terms_only(node.word)]
        if only_here:
            scored.append(wq.And([DocSet(only_here), *bigram_terms(node)], boost=node.boost))
        return wq.Or(scored)

    def rewrite(node: wq.Query) -> wq.Query:
        if isinstance(node, GramRun):
            if len(node.words) == 1 and (matching or node.word is None):
                return wq.Term(node.fieldname, node.words[0], boost=node.boost)
            only_here = run_docs(node)
            if not only_here:
                return wq.NullQuery
            if matching:
                return DocSet(only_here)
            if len(only_here) > LOOSEN_ABOVE:
                # scoring many releases through a confining list costs more than filtering them
                cache[LOOSENED] = True
                return wq.And(bigram_terms(node), boost=node.boost)
            return wq.And([DocSet(only_here), *bigram_terms(node)], boost=node.boost)
        if isinstance(node, wq.Or):
            subqueries = list(node.subqueries)
            pairs = [child for child in subqueries if isinstance(child, GramRun) and _positional(child.word)]
            for run in pairs:
                subqueries = [child for child in subqueries if child is not run and child != run.word]
            if matching:
                covered = [
                    child.word
                    for child in subqueries
                    if isinstance(child, GramRun) and child.same_text and len(child.words) == 1
                ]
                subqueries = [child for child in subqueries if child not in covered]
            rewritten = [rewrite(child) for child in subqueries] + [positional_pair(run) for run in pairs]
            present = [child for child in rewritten if child is not wq.NullQuery and not absent(child)]
            # an alternative that matches nothing stays when none is left: under an And, a
            # NullQuery would be dropped, making a required word optional
            nothing = [child for child in rewritten if child is not wq.NullQuery][:1] or [wq.Term("id", "")]
            return wq.Or(present or nothing, boost=node.boost)
        return node.apply(rewrite) if not node.is_leaf() else node

    return rewrite(query).normalize()


def _positional(query: wq.Query | None) -> bool:
    return query is not None and any(isinstance(node, (wq.Phrase, wq.SpanQuery)) for node in _walk(query))


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


def gram_query(text: str) -> wq.Query | None:
    """The bigram-field query for a run of ideographs: its one bigram, or its bigrams in order."""
    if not is_ideograph_run(text):
        return None
    grams = character_bigrams(text)
    return wq.Term("grams", grams[0]) if len(grams) == 1 else wq.Phrase("grams", grams)


_QUOTE_MARKS = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"'})


def _check_query_text(text: str) -> str:
    """Normalise what people type (full-width punctuation, Chinese quotes, control characters)
    and refuse what cannot be parsed, with a message saying what to change."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    normalised = unicodedata.normalize("NFKC", text).translate(_QUOTE_MARKS)
    cleaned = "".join(ch if ch.isprintable() else " " for ch in normalised).strip()
    if cleaned.count('"') % 2:
        raise QueryError('unbalanced quote: close the phrase with a second "')
    depth = 0
    for char in re.sub(r'"[^"]*"', "", cleaned):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise QueryError("unbalanced parenthesis: ')' without '('")
        if depth > MAX_NESTING:
            raise QueryError(f"parentheses nested more than {MAX_NESTING} deep; write the query flatter")
    if depth:
        raise QueryError("unbalanced parenthesis: '(' is never closed")
    for name in _FIELD_SYNTAX.findall(re.sub(r'"[^"]*"', "", cleaned)):
        if name not in QUERY_FIELDS:
            raise QueryError(f"unknown field '{name}:'; searchable fields are {', '.join(QUERY_FIELDS)}")
    return cleaned


def as_date(value: str | dt.date | None, name: str) -> dt.date | None:
    """Accept ``YYYY-MM-DD`` (or a date object); anything else is a ``QueryError``."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", value.strip()):
        raise QueryError(f"{name} must be a date written YYYY-MM-DD, not {value!r}")
    parsed = parse_date(value)
    if parsed is None:
        raise QueryError(f"{name} is not a real calendar date: {value!r}")
    return parsed


def _iso_date(key: int) -> str:
    return f"{key // 10000:04d}-{key // 100 % 100:02d}-{key % 100:02d}"


def _date_key(value: dt.date) -> int:
    return int(value.strftime("%Y%m%d"))


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


def _described(stored: dict[str, Any]) -> dict[str, Any]:
    """The metadata every hit and document carries, from a document's stored fields."""
    return {
        "id": stored["id"],
        "title": stored["title"],
        "date": stored.get("date"),
        "district": stored.get("district"),
        "city": stored.get("city"),
        "province": stored.get("province"),
        "source": stored.get("source"),
        "path": stored["path"],
        "crime_types": [kind for kind in (stored.get("crime_type") or "").split(",") if kind],
    }


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
        schema = self._current_searcher().schema
        parser = ChineseQueryParser(list(fields), schema, fieldboosts={"title": 2.0}, widen=widen)
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
        crime: str | None = None,
        reported: str | None = None,
        source: str | None = None,
        collapse: bool = False,
        rank_up_to: int | None = None,
    ) -> SearchResult:
        """Hits for ``q`` (empty: everything, newest first) within the filters, with facets.

        ``district`` is a district, city or province name or alias; dates are ``YYYY-MM-DD``
        strings or ``date`` objects (undated releases pass them only with ``include_undated``); ``sort``
        is ``relevance`` or ``date``; ``crime`` a crime type, ``source`` an outlet, ``reported`` a reported year
        (search.facet_registry). With ``collapse`` (the CLI's and the pages' default), copies of one
        release are one hit (search.collapse), and ``total`` and the facets count stories.
        ``rank_up_to``: no page, no hits; ``ranking`` holds the first that many matches (search.streaming).
        Raises ``QueryError`` for anything malformed.
        """
        started = time.perf_counter()
        q = q or ""
        if sort not in SORTS:
            raise QueryError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
        if not isinstance(page, int) or not 1 <= page <= MAX_PAGE:
            raise QueryError(f"page must be a whole number from 1 to {MAX_PAGE}")
        if not isinstance(per_page, int) or not 1 <= per_page <= MAX_PER_PAGE:
            raise QueryError(f"per_page must be a whole number from 1 to {MAX_PER_PAGE}")
        start, end = as_date(date_from, "from"), as_date(date_to, "to")
        if start and end and end < start:
            raise QueryError(f"'to' ({end}) is before 'from' ({start})")
        try:
            chosen = chosen_filters({"crime": crime, "source": source, "reported": reported})
        except FilterValueError as error:
            raise QueryError(str(error)) from None

        searcher = self._current_searcher()
        try:
            text, units = self._plain(q)
        except QueryError as error:
            suggestion = coordination.without_quotes_and_brackets(q)
            if suggestion and suggestion != q.strip() and "unbalanced" in str(error):
                raise QueryError(f"{error} — or search without quotes and brackets: {suggestion}") from None
            raise
        parsed, expanded = self._parse(text, ("title", "body"))
        terms = _highlight_terms(parsed)
        browsing = isinstance(parsed, wq.Every)
        columns = self._facet_columns(searcher)
        values, stories = self._facet_values_of(searcher), self._stories(searcher)
        once = stories.once if collapse else lambda docs, _: docs
        region = region_name(district)
        date_range = (_date_key(start) if start else 1, _date_key(end) if end else 99991231) if start or end else None
        by_date = sort == "date" or browsing

        mode = "all"
        runs: dict[Any, list[int]] = {}
        parsed = resolve_gram_runs(searcher, parsed, runs)
        plan = self._plan(searcher, units, columns, runs, parsed) if units and not browsing else None
        if browsing:
            docs, everything_scored = list(searcher.reader().all_doc_ids()), None
            matching = parsed
        elif plan is not None:
            # releases with every word first, then those with most of them (``coordination``)
            docs, everything_scored = plan.docs, None
            terms = sorted({*terms, *plan.part_texts()}, key=len, reverse=True)
        else:
            matching = resolve_gram_runs(searcher, self._parse(text, ("body",))[0], runs, matching=True)
            docs, everything_scored = _matches(searcher, parsed, matching, by_date, bool(runs.get(LOOSENED)))
            if not docs and units is None:
                # a boolean query no release satisfies: rank releases by how many of its words they have
                partial, partial_matching = _any_word(parsed), _any_word(matching)
                if partial is not None and partial_matching is not None:
                    parsed, matching = partial, partial_matching
                    docs, everything_scored = _matches(searcher, parsed, matching, by_date, bool(runs.get(LOOSENED)))
                    mode = "any" if docs else mode
        # One pass over the query's matches gives the total and every facet; each facet ignores
        # its own filter (region counts apply the date filter, year counts the region filter).
        matched = apply_filters(columns, values.narrow(docs, chosen), region, date_range, include_undated)
        regions = region_counts(columns, once(matched.by_date, columns.region_ids))
        chosen_year = start.year if start and end and start.year == end.year else None
        if chosen_year is not None:
            # months are offered within the chosen year, counted over that whole year
            year_docs = apply_filters(
                columns, matched.by_region, None, (chosen_year * 10000 + 101, chosen_year * 10000 + 1231)
            )
            years, _ = date_counts(columns, once(matched.by_region, columns.years), None)
            _, months = date_counts(columns, once(year_docs.both, columns.months), chosen_year)
        else:
            years, months = date_counts(columns, once(matched.by_region, columns.years), None)
        facets = {name: _ranked(regions[name]) for name in _REGION_FACETS}
        facets["year"] = sorted(_ranked(years), key=lambda item: item.value, reverse=True)
        facets["month"] = sorted(_ranked(months), key=lambda item: item.value)
        unfaceted = apply_filters(columns, docs, region, date_range, include_undated).both
        counted = values.counts(unfaceted, chosen, stories.story_of if collapse else None)
        facets.update({name: _ranked(counts) for name, counts in counted.items()})
        undated = undated_count(columns, matched.by_region)
        if collapse:  # one hit per story: what is ranked, paged and counted in ``total``
            undated_docs = [doc for doc in matched.by_region if not columns.datekeys[doc]]
            undated = len(stories.once(undated_docs, columns.datekeys))
            if date_range is not None and not include_undated:
                # what including the undated would add: stories that only undated copies bring in
                with_undated = apply_filters(columns, values.narrow(docs, chosen), region, date_range, True).both
                undated = len(stories.representatives(with_undated, columns.datekeys)) - len(
                    stories.representatives(matched.both, columns.datekeys)
                )
            matched.both = stories.representatives(matched.both, columns.datekeys)

        wanted = page * per_page if rank_up_to is None else rank_up_to
        first = (page - 1) * per_page if rank_up_to is None else 0
        filtering = len(matched.both) != len(docs)
        datekeys = columns.datekeys
        if plan is not None:
            ranked = _ranked_by_tiers(searcher, plan, matched.both, first, wanted, datekeys, by_date)
        elif by_date:
            # newest first; among equal dates, the most recently indexed first
            top = heapq.nlargest(wanted, matched.both, key=lambda doc: (datekeys[doc], doc))
            ranked = [(doc, None) for doc in top[first:]]
        elif everything_scored is not None:
            allowed = set(matched.both) if filtering else None
            scored = [(score, doc) for score, doc in everything_scored if allowed is None or doc in allowed]
            scored = _completed(scored, matched.both, wanted, datekeys)
            best = _with_proximity(searcher, parsed, _by_score_then_date(scored, datekeys), wanted, datekeys)
            ranked = [(doc, score) for score, doc in best[first:wanted]]
        else:
            # the top-k search ranks exactly the matches: the scoring query may match more (terms
            # standing in for positions, word-level alternatives for bigram runs)
            ranked = []
            if matched.both:
                pool = max(wanted, RESCORE_WINDOW) if _proximity_words(parsed) is not None else wanted
                top_n = _top_scored(searcher, parsed, matched.both, pool, datekeys)
                top_n = _completed(top_n, matched.both, pool, datekeys)
                best = _with_proximity(searcher, parsed, top_n, wanted, datekeys)
                ranked = [(doc, score) for score, doc in best[first:wanted]]
        ranking, ranked = (ranked, []) if rank_up_to is not None else ([], ranked)
        hits = [self._hit(searcher.stored_fields(doc), score, terms, stories, doc) for doc, score in ranked]
        # a boolean query's partial matches (mode "any") have not every word
        total_all_words = len(matched.both) if mode == "all" else 0
        if plan is not None:
            for hit, (doc, _) in zip(hits, ranked, strict=True):
                hit.missing = plan.missing(doc)
            total_all_words = sum(map(plan.has_all, matched.both))
            mode = "any" if total_all_words < len(matched.both) else "all"
        return SearchResult(
            query=q,
            total=len(matched.both),
            did_you_mean=self._without_quotes(q, len(matched.both), district, date_from, date_to),
            total_all_words=total_all_words,
            places=plan.places() if plan is not None else [],
            page=page,
            per_page=per_page,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            hits=hits,
            facets=facets,
            mode=mode,
            also_matched=self._synonyms_found(searcher, expanded, matched.both, runs),
            highlight_terms=terms,
            undated=undated,
            ranking=ranking,
        )

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

    def _plan(
        self, searcher: Searcher, units: list[str], columns: FacetColumns, runs: dict[Any, Any], parsed: wq.Query
    ) -> coordination.Plan | None:
        """How a plain query's units, their parts and the places they name match (``coordination``);
        ``parsed``: the whole query, resolved (the one unit's query when there is one)."""

        def parse(text: str, part: bool) -> tuple[wq.Query, wq.Query] | None:
            # parts are a fallback: matched as typed, not widened by synonyms (a cost for little)
            if len(units) == 1 and text == units[0]:
                scoring = parsed
            else:
                scoring = resolve_gram_runs(searcher, self._parse(text, ("title", "body"), widen=not part)[0], runs)
            if scoring is wq.NullQuery:
                return None
            matching = self._parse(text, ("body",), widen=not part)[0]
            return scoring, resolve_gram_runs(searcher, matching, runs, matching=True)

        def located_in(places: list[str]) -> set[int]:
            regions, region_ids = set().union(*map(columns.regions_named, places)), columns.region_ids
            return {doc for doc in searcher.reader().all_doc_ids() if region_ids[doc] in regions}

        return coordination.make_plan(units, parse, lambda query: set(searcher.docs_for_query(query)), located_in)

    def _synonyms_found(
        self, searcher: Searcher, expanded: dict[str, tuple[str, ...]], matched: list[int], runs: dict[Any, Any]
    ) -> list[str]:
        """The synonyms (of words the user typed) that occur in at least one matching release
        (their bigram runs were resolved for this search already: ``runs`` holds them)."""
        if not expanded or not matched:
            return []
        present = set(matched)
        found = []
        for synonym in dict.fromkeys(word for synonyms in expanded.values() for word in synonyms):
            if synonym in expanded:  # typed by the user too
                continue
            query = resolve_gram_runs(searcher, _sequence_query("body", query_words(synonym)), runs, matching=True)
            if any(doc in present for doc in searcher.docs_for_query(query)):
                found.append(synonym)
        return found

    def _count(self, searcher: Searcher, query: wq.Query, field_name: str) -> dict[str, int]:
        """Documents per value of a sortable field among the query's matches."""
        results = searcher.search(
            query, limit=1, scored=False, groupedby={field_name: sorting.FieldFacet(field_name, maptype=sorting.Count)}
        )
        return results.groups(field_name)

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

    def _facet_values_of(self, searcher: Searcher) -> FacetValues:
        """Crime types and sources per document (search.facet_registry), built once per commit."""
        key = ("facet values", self._snapshots.current().commit)
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
        sources = self._count(searcher, wq.Every(), "source")
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


def _bounded(parsed: wq.Query) -> wq.Query:
    """Refuse parse errors and queries that would scan the whole vocabulary.

    A wildcard needs a literal prefix (``诈*`` yes, ``*骗`` and ``?`` no) and a query holds at
    most ``MAX_EXPANDING_TERMS`` wildcard, prefix or range terms. ``*`` alone means everything.
    """
    expanding = set()  # each counted once, not once per field it is searched in
    for node in _walk(parsed):
        if getattr(node, "error", None):
            raise QueryError(f"could not parse the query: {node.error}")
        if isinstance(node, wq.Wildcard) and node.text[:1] in ("*", "?"):
            raise QueryError(f"a wildcard needs at least one character before * or ?: {node.text!r}")
        if isinstance(node, (wq.Wildcard, wq.Prefix, wq.TermRange)):
            expanding.add((type(node), str(node).split(":", 1)[-1]))  # the term without its field
        if isinstance(node, QuotedPhrase) and len(node.words) > MAX_PHRASE_WORDS:
            raise QueryError(
                f"a quoted phrase has {len(node.words)} words; at most {MAX_PHRASE_WORDS}: quote a shorter part"
            )
    if len(expanding) > MAX_EXPANDING_TERMS:
        raise QueryError(f"at most {MAX_EXPANDING_TERMS} wildcard, prefix or range terms per query")
    cheaper = _cheaper(parsed)
    nodes = list(_walk(cheaper))
    cost = sum(POSITIONAL_COST * isinstance(node, wq.Phrase | wq.SpanQuery) for node in nodes)
    cost += sum(not any(True for _ in node.children()) for node in nodes)
    if cost > MAX_QUERY_COST:
        raise QueryError(
            f"the query is too complex ({cost} search terms after expansion; at most {MAX_QUERY_COST}): "
            "use fewer or shorter words and phrases"
        )
    return cheaper


def _check_expansions(query: wq.Query, reader: Any) -> None:
    """Refuse a wildcard, prefix, range or fuzzy term that stands for too many indexed words: each
    one becomes a clause, and ``[一 TO 龥]`` would be the whole vocabulary (seconds per search)."""
    for node in _walk(query):
        if isinstance(node, wq.MultiTerm):
            count = sum(1 for _ in itertools.islice(node._btexts(reader), MAX_EXPANDED_WORDS + 1))
            if count > MAX_EXPANDED_WORDS:
                raise QueryError(
                    f"'{node}' stands for more than {MAX_EXPANDED_WORDS} indexed words; "
                    "narrow it (a longer prefix, a shorter range such as year:[2020 TO 2023])"
                )


def _cheaper(node: wq.Query) -> wq.Query:
    """``*`` parses to one Every per field, each walking every term; one plain Every is instant.

    A quoted phrase that is one dictionary word (``"电信诈骗"``) becomes that word's term: every
    occurrence is indexed as the whole word, so the term finds exactly the same sequence without
    comparing positions.
    """
    if isinstance(node, wq.Every):
        return wq.Every()
    if isinstance(node, QuotedPhrase) and node.slop == 1 and node.fieldname in ("title", "body"):
        text = node.typed if node.typed and is_ideograph_run(node.typed) else "".join(node.words)
        by_words = _phrase_by_words(node)
        same_text = isinstance(by_words, wq.Term) and by_words.text == text
        return _or_bigrams(node.fieldname, text, by_words, same_text=same_text)
    if isinstance(node, wq.Or) and any(isinstance(child, wq.Every) for child in node.subqueries):
        return wq.Every()
    if isinstance(node, wq.BinaryQuery):  # ANDNOT, ANDMAYBE, REQUIRE: two operands, no boost
        return node.apply(_cheaper)
    if isinstance(node, wq.CompoundQuery):
        return node.__class__([_cheaper(child) for child in node.subqueries], boost=node.boost)
    if isinstance(node, wq.Not):
        return wq.Not(_cheaper(node.query), boost=node.boost)
    return node


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
    return matcher.with_boost(phrase.boost) if phrase.boost != 1.0 else matcher


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
        everything = searcher.search(parsed, limit=None, scored=not by_date, terms=False)
        return [docnum for _, docnum in everything.top_n], everything.top_n
    return list(searcher.docs_for_query(matching)), None


def _any_word(query: wq.Query) -> wq.Query | None:
    """The same words with none required, when the query is several required words."""
    if isinstance(query, wq.And) and len(query.subqueries) > 1:
        return wq.Or(query.subqueries, boost=query.boost)
    return None


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
    """``{doc: [positions of each word in its body]}`` for ``docs`` (ascending), one posting walk per word."""
    found: dict[int, list[list[int]]] = {doc: [] for doc in docs}
    reader = searcher.reader()
    for word in words:
        if ("body", word) not in reader:
            return {}
        postings = reader.postings("body", word)
        for doc in docs:
            if not postings.is_active():
                break
            postings.skip_to(doc)
            if postings.is_active() and postings.id() == doc:
                found[doc].append(list(postings.value_as("positions")))
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
    searcher: Searcher, plan: coordination.Plan, docs: list[int], first: int, wanted: int, datekeys: Any, by_date: bool
) -> list[tuple[int, float | None]]:
    """Releases ``first`` to ``wanted`` of a coordinated query: tier by tier (every word, then most
    of them), each tier by score (words close together raising it among releases with every word)
    or newest first."""
    together = wq.And([unit.query for unit in plan.units]) if len(plan.units) > 1 else None
    tiers, reached = [], 0
    for complete, members in plan.tiers(docs):
        if reached >= wanted:
            break
        tiers.append((complete, members))
        reached += len(members)
    # the partial tiers shown are scored in one pass over the postings (None: not term by term)
    partial = sorted(doc for complete, members in tiers if not complete for doc in members)
    tallied = _tally_scores(searcher, plan.scoring_query(False), partial) if partial and not by_date else None
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


def _by_score_then_date(scored: list[tuple[float, int]], datekeys: Any) -> list[tuple[float, int]]:
    """Best score first; equal scores newest first, then the most recently indexed."""
    return sorted(scored, key=lambda item: (-round(item[0], 6), -datekeys[item[1]], -item[1]))


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
    tallied = _tally_scores(searcher, query, matches)
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


def _tally_scores(searcher: Searcher, query: wq.Query, matches: list[int]) -> dict[int, float] | None:
    """``{doc: score}`` for the ``matches`` (ascending) the query matches, computed term by term: the
    same sums as Whoosh's matchers (BM25F per term × the boosts above it; an And adds its
    children's scores where all match, an Or those that match), with one loop per posting list
    instead of Whoosh's walk of its matcher tree per document, several times cheaper for queries
    matching most of the index. None when the query holds anything else (phrases, spans)."""
    if not _tallyable(query):
        return None
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


def _walk(node: wq.Query) -> Iterator[wq.Query]:
    yield node
    for child in node.children():
        yield from _walk(child)


def _ranked(counts: dict[Any, int], limit: int | None = FACET_LIMIT) -> list[FacetValue]:
    """Facet values by count (then name), at most ``limit`` of them."""
    present = [(count, str(value)) for value, count in counts.items() if value not in (None, "", b"")]
    top = (
        heapq.nsmallest(limit, present, key=lambda item: (-item[0], item[1]))
        if limit
        else sorted(present, key=lambda item: (-item[0], item[1]))
    )
    return [FacetValue(value, count) for count, value in top]


_default_engine: SearchEngine | None = None


def search(*args: Any, **kwargs: Any) -> SearchResult:
    """``SearchEngine.search`` on the default index (``POLICE_SEARCH_INDEX`` or ``index/``)."""
    global _default_engine
    if _default_engine is None:
        _default_engine = SearchEngine()
    return _default_engine.search(*args, **kwargs)
