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
import importlib.machinery
import importlib.util
import logging
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Protocol

from whoosh.analysis import Composable, Filter, LowercaseFilter, Token, Tokenizer

from search.memo import looked_up
from search.normalise import IDEOGRAPH, FoldedText, fold

ANALYSER_VERSION = 5  # 5: autonomous prefectures by their short names (西双版纳, 延边)

# A token must hold a letter, digit or ideograph; punctuation and spaces are not searchable words.
_WORDLIKE = re.compile(r"\w", re.UNICODE)
_WORD_RUNS = re.compile(r"\w+|\W", re.UNICODE)
# Ideographs (CJK unified, extension A, compatibility): runs of two or more feed the bigram field.
_IDEOGRAPH = IDEOGRAPH
_IDEOGRAPHS = re.compile(_IDEOGRAPH + "+")
_IDEOGRAPH_RUNS = re.compile(_IDEOGRAPH + "{2,}")
# Dictionaries in jieba's user-dictionary format ("word frequency [tag]"), applied in this order.
DICTIONARIES = ("userdict.txt", "placenames.txt")
SEGMENTER_ENV = "POLICE_SEARCH_SEGMENTER"


def _read_lines(name: str) -> list[str]:
    text = (resources.files("search") / "data" / name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    return frozenset(_read_lines("stopwords.txt"))


@functools.lru_cache(maxsize=1)
def common_place_words() -> frozenset[str]:
    """Place names that are also everyday words (和平, 江北, 城区), from scripts/build-dictionaries."""
    return frozenset(_read_lines("common_place_words.txt"))


@functools.lru_cache(maxsize=1)
def common_characters() -> frozenset[str]:
    """The most frequent Chinese characters, from scripts/build-dictionaries."""
    return frozenset("".join(_read_lines("common_chars.txt")))


def dictionary_entries() -> list[tuple[str, int]]:
    entries = []
    for name in DICTIONARIES:
        for line in _read_lines(name):
            word, frequency, *_ = line.split()
            entries.append((word, int(frequency)))
    return entries


class Segmenter(Protocol):
    """Accurate-mode jieba segmentation plus dictionary look-ups."""

    name: str

    def tokenize(self, text: str) -> list[tuple[str, int, int]]: ...

    def cut(self, text: str) -> list[str]:
        """The words of ``tokenize`` without their offsets (cheaper where offsets are not needed)."""
        ...

    def has_word(self, word: str) -> bool: ...


class RustJieba:
    """jieba-rs through ``rjieba``: the same tokens as jieba (tested on the samples), ~25× faster."""

    name = "rjieba"

    def __init__(self) -> None:
        self._jieba = _rjieba_class()()
        for word, frequency in dictionary_entries():
            self._jieba.add_word(word, frequency, None)

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        return self._jieba.tokenize(text, "default", True)

    def cut(self, text: str) -> list[str]:
        return self._jieba.cut(text, True)

    def has_word(self, word: str) -> bool:
        return self._jieba.has_word(word)


def _rjieba_class() -> type:
    """``rjieba.Jieba``, loaded from the compiled module itself when possible: importing the
    package builds a default instance with jieba's whole dictionary (~0.2 s of every CLI query's
    start) that we never use, since we need our own instance with our dictionaries added."""
    spec = importlib.util.find_spec("rjieba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("rjieba is not installed")
    for folder in spec.submodule_search_locations:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            library = Path(folder) / f"rjieba{suffix}"
            if library.is_file():
                # the module's init function is named after its last component: ``rjieba``
                loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(library))
                module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
                loader.exec_module(module)
                return module.Jieba
    import rjieba  # an unusual layout: pay for the default instance

    return rjieba.Jieba


class PythonJieba:
    """The reference ``jieba`` package, on a private instance (other users keep their dictionary)."""

    name = "jieba"

    def __init__(self) -> None:
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for word, frequency in dictionary_entries():
            previous = self._jieba.FREQ.get(word) or 0
            self._jieba.add_word(word, frequency)
            # jieba adds the new frequency to the corpus total; jieba-rs replaces the old one.
            # Do as jieba-rs does, so both segment alike.
            self._jieba.total -= previous

    def tokenize(self, text: str) -> list[tuple[str, int, int]]:
        return list(self._jieba.tokenize(text, mode="default", HMM=True))

    def cut(self, text: str) -> list[str]:
        return self._jieba.lcut(text, HMM=True)

    def has_word(self, word: str) -> bool:
        return bool(self._jieba.FREQ.get(word))


@functools.lru_cache(maxsize=1)
def segmenter() -> Segmenter:
    """rjieba when installed (``POLICE_SEARCH_SEGMENTER=jieba`` forces the Python package)."""
    choice = os.environ.get(SEGMENTER_ENV, "").lower()
    if choice != "jieba":
        try:
            return RustJieba()
        except ImportError:
            if choice == "rjieba":
                raise
    return PythonJieba()


def is_dictionary_word(word: str) -> bool:
    return segmenter().has_word(word)


def split_word_runs(tokens: Iterable[tuple[str, int, int]]) -> Iterator[tuple[str, int, int]]:
    """Split mixed runs such as ``2018-12-26`` or ``18.08%`` at punctuation.

    jieba and jieba-rs group such runs differently; splitting both the same way keeps their
    output identical (and lets ``2018`` match inside a date).
    """
    for text, start, end in tokens:
        if len(text) == 1 or text.isalnum():
            yield text, start, end
            continue
        for match in _WORD_RUNS.finditer(text):
            yield match.group(), start + match.start(), start + match.end()


@functools.lru_cache(maxsize=65536)
def parts_of(word: str) -> tuple[str, ...]:
    """The word split into dictionary words of at most two characters, greedily from the left.

    Deterministic for a given dictionary, so the same characters always give the same parts,
    whichever way jieba grouped them into words; characters in no two-character word stand alone.
    """
    if len(word) <= 2 or not _is_cjk(word):
        return (word,)
    has_word = segmenter().has_word
    parts = []
    index = 0
    while index < len(word):
        pair = word[index : index + 2]
        if len(pair) == 2 and has_word(pair):
            parts.append(pair)
            index += 2
        else:
            parts.append(word[index])
            index += 1
    return tuple(parts)


def _is_cjk(text: str) -> bool:
    return _IDEOGRAPHS.fullmatch(text) is not None


@functools.lru_cache(maxsize=65536)
def _subwords(word: str) -> tuple[tuple[int, str], ...]:
    """jieba search-mode sub-words (2- and 3-grams in the dictionary) with their offsets."""
    if len(word) <= 2 or not _is_cjk(word):
        return ()
    has_word = segmenter().has_word
    found = []
    for size in (2, 3):
        if len(word) > size:
            for start in range(len(word) - size + 1):
                gram = word[start : start + size]
                if has_word(gram):
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


@functools.lru_cache(maxsize=65536)
def token_words(token: str) -> tuple[str, ...]:
    """What one jieba token gives ``word_texts``: its word runs, punctuation and spaces dropped.
    Cached: a corpus repeats its vocabulary endlessly."""
    return tuple(
        text for text, _, _ in split_word_runs(((token, 0, len(token)),)) if text.isalnum() or _WORDLIKE.search(text)
    )


def word_texts(folded: str) -> list[str]:
    """Just the texts of ``coarse_words``, for callers that need no offsets."""
    words: list[str] = []
    for token in segmenter().cut(folded):
        words += token_words(token)
    return words


def coarse_words(folded: str) -> Iterator[Word]:
    """jieba accurate mode over already-folded text, punctuation and spaces dropped."""
    for text, start, end in split_word_runs(segmenter().tokenize(folded)):
        if text.isalnum() or _WORDLIKE.search(text):
            yield Word(text, start, end)


class _StatelessTokenizer(Tokenizer):
    """A tokenizer without settings: any two instances are equal (Whoosh compares schemas)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self)

    def __hash__(self) -> int:
        return hash(type(self))


class JiebaTokenizer(_StatelessTokenizer):
    """Folds script/width, segments with jieba and emits parts, whole words and sub-words."""

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
                # only a whole word can be a stop word: 所 in 派出所 stays searchable
                token.whole = text == word.text
                yield _filled(token, text, pos, start, folded, start_char, keeporiginal)


def _filled(
    token: Token, text: str, pos: int, start: int, folded: FoldedText, start_char: int, keeporiginal: bool
) -> Token:
    """The stream's one reused ``Token`` set to a term at folded offset ``start``."""
    token.text = text
    token.boost = 1.0
    token.stopped = False
    if keeporiginal:
        token.original = text
    if token.positions:
        token.pos = pos
    if token.chars:
        original_start, original_end = folded.original_span(start, start + len(text))
        token.startchar, token.endchar = start_char + original_start, start_char + original_end
    return token


@functools.lru_cache(maxsize=131072)
def word_template(text: str, indexing: bool) -> tuple[tuple[tuple[str, int, int], ...], int]:
    """The terms one word yields as ``(term, start offset, position offset)``, and its width in
    positions. Cached per word: a corpus repeats its vocabulary endlessly.

    Parts take consecutive positions.  When indexing, the whole word and the search-mode sub-words
    are stacked on the position of the part they start in, listed before that part so positions
    never decrease along the stream; a query (a quoted phrase, in practice) uses the parts alone.
    """
    parts = parts_of(text)
    part_starts = []
    offset = 0
    for index, part in enumerate(parts):
        part_starts.append((offset, index))
        offset += len(part)
    stacked: list[tuple[str, int, int]] = []
    if indexing:
        if len(parts) > 1:
            stacked.append((text, 0, 0))
        for start, gram in _subwords(text):
            stacked.append((gram, start, max(pos for part_start, pos in part_starts if part_start <= start)))
    terms: list[tuple[str, int, int]] = []
    seen: set[tuple[str, int]] = set()
    for (start, pos), part in zip(part_starts, parts, strict=True):
        for item in [*(entry for entry in stacked if entry[2] == pos), (part, start, pos)]:
            if (item[0], item[2]) not in seen:
                seen.add((item[0], item[2]))
                terms.append(item)
    return tuple(terms), len(parts)


def word_terms(word: Word, position: int, indexing: bool) -> tuple[list[tuple[str, int, int]], int]:
    """``(term, folded start, position)`` of every term ``word`` yields, and the next free position."""
    template, width = word_template(word.text, indexing)
    return [(term, word.start + start, position + offset) for term, start, offset in template], position + width


class StackedStopFilter(Filter):
    """Removes stop words (whole words only, not parts of longer ones), then numbers positions
    from 0 without the gaps they leave.

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
        next_position = -1
        for token in tokens:
            if token.text in stops and getattr(token, "whole", True):
                if not token.removestops:
                    token.stopped = True
                    yield token
                continue
            if token.positions:
                if last_source_position != token.pos:
                    next_position += 1
                    last_source_position = token.pos
                token.pos = next_position
            yield token


def ChineseAnalyzer() -> Composable:  # noqa: N802 - named like Whoosh's analyzer factories
    """The analyser every text field of the index uses."""
    return JiebaTokenizer() | LowercaseFilter() | StackedStopFilter()


@functools.lru_cache(maxsize=8)
def _folded_for_indexing(text: str) -> str:
    """One fold per document although two fields (words and bigrams) read the same text."""
    return fold(text, lowercase=False).text


# What each jieba token adds to ``index_terms``, cached: a corpus repeats its vocabulary endlessly.
# Cleared when full, so that a writer's memory stays bounded.
_TOKEN_TERMS: dict[str, tuple[tuple[tuple[str, int], ...], int]] = {}
_TOKEN_TERMS_LIMIT = 50_000


def _token_terms(token: str) -> tuple[tuple[tuple[str, int], ...], int]:
    """The ``(lowercased term, position offset)`` pairs one jieba token gives ``index_terms``
    (its word runs, stop words left out, each word's template) and the positions it takes."""
    stops = stop_words()
    terms: list[tuple[str, int]] = []
    width = 0
    for word, _, _ in split_word_runs(((token, 0, len(token)),)):
        if not (word.isalnum() or _WORDLIKE.search(word)) or word.lower() in stops:
            continue
        template, word_width = word_template(word, True)
        terms.extend((term.lower(), width + offset) for term, _, offset in template)
        width += word_width
    return tuple(terms), width


def index_terms(text: str) -> dict[str, list[int]]:
    """``{term: [positions]}`` exactly as ``ChineseAnalyzer`` indexes ``text``, without building
    a ``Token`` per term: the fast path for bulk indexing (tested equal to the analyser)."""
    entries = looked_up(_TOKEN_TERMS, segmenter().cut(_folded_for_indexing(text)), _token_terms, _TOKEN_TERMS_LIMIT)
    postings: defaultdict[str, list[int]] = defaultdict(list)
    position = 0
    for terms, width in entries:
        if width:  # spaces, punctuation and stop words give no term and take no position
            for term, offset in terms:
                postings[term].append(position + offset)
            position += width
    return dict(postings)


def query_words(text: str) -> list[Word]:
    """Coarse words of a query string after folding, lowercasing and stop-word removal; a query of
    stop words only (一个) keeps them: the user asked for exactly those characters."""
    folded = fold(text)
    stops = stop_words()
    words = list(coarse_words(folded.text))
    return [word for word in words if word.text not in stops] or words


def character_bigrams(folded: str) -> list[str]:
    """Overlapping two-character grams of one run of ideographs: 杜荣良 → 杜荣, 荣良."""
    return [folded[index : index + 2] for index in range(len(folded) - 1)]


def is_ideograph_run(text: str) -> bool:
    return _IDEOGRAPH_RUNS.fullmatch(text) is not None


def gram_terms(text: str) -> dict[str, list[int]]:
    """``{bigram: [positions]}`` for the bigram field: every run of ideographs in the folded text
    as overlapping character bigrams, one position each, with a gap between runs so a phrase of
    bigrams never spans punctuation. Finds any 2+ character string however jieba split it."""
    # The runs joined: a bigram's position is its offset in the joined string, and the pair
    # across two runs (no bigram) is the gap between them.
    runs = _IDEOGRAPH_RUNS.findall(_folded_for_indexing(text))
    joined = "".join(runs)
    grams: list[str | None] = [joined[index : index + 2] for index in range(len(joined) - 1)]
    end = -1
    for run in runs[:-1]:
        end += len(run)
        grams[end] = None
    postings: defaultdict[str | None, list[int]] = defaultdict(list)
    for position, gram in enumerate(grams):
        postings[gram].append(position)
    postings.pop(None, None)  # the gaps between runs
    return dict(postings)  # type: ignore[arg-type]


class BigramTokenizer(_StatelessTokenizer):
    """Whoosh tokenizer form of ``gram_terms`` (folds script and width first)."""

    def __call__(  # Whoosh's tokenizer signature; the options it passes that bigrams ignore are in kwargs
        self, value: str, positions: bool = False, chars: bool = False, keeporiginal: bool = False,
        start_pos: int = 0, start_char: int = 0, **kwargs: object,
    ) -> Iterator[Token]:  # fmt: skip
        kwargs.pop("tokenize", None)
        token = Token(positions, chars, **kwargs)
        folded = fold(value, lowercase=False)
        position = start_pos
        for run in _IDEOGRAPH_RUNS.finditer(folded.text):
            for offset, gram in enumerate(character_bigrams(run.group())):
                yield _filled(token, gram, position, run.start() + offset, folded, start_char, keeporiginal)
                position += 1
            position += 1


def BigramAnalyzer() -> Composable:  # noqa: N802 - named like Whoosh's analyzer factories
    """The analyser of the character-bigram field."""
    return BigramTokenizer()
