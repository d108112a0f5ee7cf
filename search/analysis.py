"""Chinese analysis for Whoosh, built like Whoosh's own ``analysis`` package: a tokenizer and
small filters composed with ``|``.

    JiebaTokenizer (folds script and width first) | LowercaseFilter | StackedStopFilter

Documents are segmented finely and queries coarsely (the ik_max_word / ik_smart pairing):

* Every jieba word (accurate mode) is split into *parts*, the finest dictionary words it is made
  of (电信诈骗 → 电信 + 诈骗).  Parts take consecutive positions, so a phrase matches exactly its
  character sequence whichever way jieba grouped the characters in that sentence.
* The whole word and jieba's search-mode sub-words are *stacked* on the position of the part they
  start in, so 诈骗 finds 电信诈骗 and the whole word still ranks as a term of its own.
* Offsets point into the caller's original text (Traditional stays Traditional), so highlights
  land on what the reader sees.

Whoosh pickles the schema, analyser included, into the index: keep these classes importable and
bump ``ANALYSER_VERSION`` whenever tokens could change, so old indexes ask for a rebuild.
"""

from __future__ import annotations

import functools
import logging
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

import jieba
from whoosh.analysis import Composable, Filter, LowercaseFilter, Token, Tokenizer

from search import gazetteer
from search.normalise import fold

ANALYSER_VERSION = 1

# A token must hold a letter, digit or ideograph; punctuation and spaces are not searchable words.
_WORDLIKE = re.compile(r"\w", re.UNICODE)
# Parts are at most two characters, so every segmentation of the same characters shares them.
_MAX_PART = 2
_DISTRICT_NAME_FREQUENCY = 300


def _read_lines(name: str) -> list[str]:
    text = (resources.files("search") / "data" / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    return frozenset(_read_lines("stopwords.txt"))


@functools.lru_cache(maxsize=1)
def segmenter() -> jieba.Tokenizer:
    """A private jieba instance with the police dictionary and every place name added.

    Private so that other code in the process using ``jieba`` keeps its own dictionary.
    """
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for line in _read_lines("userdict.txt"):
        word, frequency, *_ = line.split()
        tokenizer.add_word(word, max(int(frequency), tokenizer.FREQ.get(word) or 0))
    for name in gazetteer.load().names():
        if len(name) >= 2:
            _PLACE_NAME_CORPUS_FREQUENCY[name] = tokenizer.FREQ.get(name) or 0
            tokenizer.add_word(name, max(_DISTRICT_NAME_FREQUENCY, _PLACE_NAME_CORPUS_FREQUENCY[name]))
    return tokenizer


_PLACE_NAME_CORPUS_FREQUENCY: dict[str, int] = {}


def corpus_frequency(word: str) -> int:
    """How common a word is in jieba's general corpus, before place names were added."""
    tokenizer = segmenter()
    if word in _PLACE_NAME_CORPUS_FREQUENCY:
        return _PLACE_NAME_CORPUS_FREQUENCY[word]
    return tokenizer.FREQ.get(word) or 0


@functools.lru_cache(maxsize=65536)
def parts_of(word: str) -> tuple[str, ...]:
    """The finest split of a word into one- and two-character dictionary words (most probable).

    Characters that belong to no shorter dictionary word stand alone, so the parts always
    concatenate back to the word.
    """
    if len(word) <= 2 or not _is_cjk(word):
        return (word,)
    dictionary = segmenter().FREQ
    log_total = math.log(segmenter().total)
    # best[i] = (log probability, parts) of the best split of word[:i]
    best: list[tuple[float, tuple[str, ...]]] = [(0.0, ())]
    for end in range(1, len(word) + 1):
        candidates = []
        for start in range(max(0, end - _MAX_PART), end):
            piece = word[start:end]
            if len(piece) == len(word):
                continue
            frequency = dictionary.get(piece) or (1 if len(piece) == 1 else 0)
            if frequency:
                score, parts = best[start]
                candidates.append((score + math.log(frequency) - log_total, (*parts, piece)))
        best.append(max(candidates, key=lambda candidate: candidate[0]))
    return best[-1][1]


def _is_cjk(text: str) -> bool:
    return all("\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff" for char in text)


@functools.lru_cache(maxsize=65536)
def _subwords(word: str) -> tuple[tuple[int, str], ...]:
    """jieba search-mode sub-words (2- and 3-grams in the dictionary) with their offsets."""
    if len(word) <= 2 or not _is_cjk(word):
        return ()
    dictionary = segmenter().FREQ
    found = []
    for size in (2, 3):
        if len(word) > size:
            for start in range(len(word) - size + 1):
                gram = word[start : start + size]
                if dictionary.get(gram):
                    found.append((start, gram))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class Word:
    """A coarse (accurate-mode) word of folded text with its span in the folded text."""

    text: str
    start: int
    end: int

    @property
    def parts(self) -> tuple[str, ...]:
        return parts_of(self.text)


def coarse_words(folded: str) -> Iterator[Word]:
    """jieba accurate mode over already-folded text, punctuation and spaces dropped."""
    for text, start, end in segmenter().tokenize(folded, mode="default", HMM=True):
        if _WORDLIKE.search(text) and not text.isspace():
            yield Word(text.strip(), start, end)


class JiebaTokenizer(Tokenizer):
    """Folds script/width, segments with jieba and emits parts, whole words and sub-words."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            token.original = token.text = value
            token.boost = 1.0
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return

        folded = fold(value, lowercase=False)
        position = start_pos
        indexing = mode != "query"
        for word in coarse_words(folded.text):
            terms, position = word_terms(word, position, indexing)
            for text, start, pos in terms:
                token.text = text
                if keeporiginal:
                    token.original = text
                token.boost = 1.0
                token.stopped = False
                if positions:
                    token.pos = pos
                if chars:
                    original_start, original_end = folded.original_span(start, start + len(text))
                    token.startchar = start_char + original_start
                    token.endchar = start_char + original_end
                yield token


def word_terms(word: Word, position: int, indexing: bool) -> tuple[list[tuple[str, int, int]], int]:
    """``(text, folded start, position)`` of every term one word yields, and the next free position.

    Parts take consecutive positions.  When indexing, the whole word and the search-mode sub-words
    are stacked on the position of the part they start in, listed before that part so positions
    never decrease along the stream; a query (a quoted phrase, in practice) uses the parts alone.
    """
    parts = word.parts
    part_starts = []
    offset = word.start
    for index, part in enumerate(parts):
        part_starts.append((offset, position + index))
        offset += len(part)
    stacked: list[tuple[str, int, int]] = []
    if indexing:
        if len(parts) > 1:
            stacked.append((word.text, word.start, position))
        for relative, gram in _subwords(word.text):
            start = word.start + relative
            stacked.append((gram, start, max(pos for part_start, pos in part_starts if part_start <= start)))
    terms: list[tuple[str, int, int]] = []
    seen: set[tuple[str, int]] = set()
    for (start, pos), part in zip(part_starts, parts, strict=True):
        for item in [*(entry for entry in stacked if entry[2] == pos), (part, start, pos)]:
            if (item[0], item[2]) not in seen:
                seen.add((item[0], item[2]))
                terms.append(item)
    return terms, position + len(parts)


class StackedStopFilter(Filter):
    """Removes stop words, then closes the position gaps they leave.

    Whoosh's ``StopFilter(renumber=True)`` renumbers token by token, which would pull stacked
    tokens (same position) apart; this one renumbers position by position.
    """

    def __init__(self, stoplist: Iterable[str] | None = None):
        self.stops = frozenset(stoplist) if stoplist is not None else None

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.stops == self.stops

    def __hash__(self) -> int:
        return hash((type(self), self.stops))

    def __call__(self, tokens: Iterator[Token]) -> Iterator[Token]:
        stops = self.stops if self.stops is not None else stop_words()
        last_source_position = None
        next_position = None
        for token in tokens:
            if token.text in stops:
                if not token.removestops:
                    token.stopped = True
                    yield token
                continue
            if token.positions:
                if last_source_position != token.pos:
                    next_position = token.pos if next_position is None else next_position + 1
                    last_source_position = token.pos
                token.pos = next_position
            yield token


def ChineseAnalyzer() -> Composable:  # noqa: N802 - named like Whoosh's analyzer factories
    """The analyser every text field of the index uses."""
    return JiebaTokenizer() | LowercaseFilter() | StackedStopFilter()


def query_words(text: str) -> list[Word]:
    """Coarse words of a query string after folding, lowercasing and stop-word removal."""
    folded = fold(text)
    stops = stop_words()
    return [word for word in coarse_words(folded.text) if word.text not in stops]


def highlight_terms(words: Iterable[str]) -> list[str]:
    """Folded, lowercased forms of query words, for the snippet matcher."""
    return [fold(word).text for word in words if word]
