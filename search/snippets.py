"""Highlighted snippets without re-segmenting documents at query time.

Query words are folded the same way the analyser folds text, then found by plain substring search
in the folded document; the folded→original offset map gives the spans of the characters the reader
sees.  A snippet is plain text with those spans (character offsets), never markup: HTML ``<mark>``,
terminal colour, CSV and Atom are renderers of it (``search.formats``).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from search.normalise import fold

_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_MAX_OCCURRENCES_PER_TERM = 2000
SNIPPET_CHARS = 160
SNIPPET_FRAGMENTS = 2
Span = tuple[int, int]


@dataclass(frozen=True)
class Snippet:
    """Text with highlighted stretches: ``spans`` are sorted, disjoint ``(start, end)`` offsets into ``text``."""

    text: str
    spans: tuple[Span, ...] = ()

    def pieces(self) -> Iterator[tuple[str, bool]]:
        """``(piece, highlighted)`` in order; the pieces joined are the text."""
        cursor = 0
        for start, end in self.spans:
            if start > cursor:
                yield self.text[cursor:start], False
            yield self.text[start:end], True
            cursor = end
        if cursor < len(self.text):
            yield self.text[cursor:], False

    def marked(self) -> list[str]:
        """The highlighted stretches of text."""
        return [self.text[start:end] for start, end in self.spans]


def find_spans(text: str, terms: Iterable[str]) -> list[tuple[int, int]]:
    """Merged, sorted spans of ``text`` (original offsets) where any folded term occurs."""
    wanted = sorted({term for term in terms if term and term.strip()}, key=len, reverse=True)
    if not wanted or not text:
        return []
    folded = fold(text)
    spans: list[tuple[int, int]] = []
    for term in wanted:
        start = 0
        for _ in range(_MAX_OCCURRENCES_PER_TERM):
            found = folded.text.find(term, start)
            if found < 0:
                break
            spans.append(folded.original_span(found, found + len(term)))
            start = found + 1
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def excerpt(text: str, spans: list[Span], start: int = 0, end: int | None = None) -> Snippet:
    """``text[start:end]`` with the spans inside it (cut to it), offsets counted from ``start``."""
    end = len(text) if end is None else end
    inside = tuple(
        (max(span_start, start) - start, min(span_end, end) - start)
        for span_start, span_end in spans
        if span_end > start and span_start < end
    )
    return Snippet(text[start:end], inside)


def highlight(text: str, terms: Iterable[str]) -> Snippet:
    """The whole text, every occurrence of a term highlighted (titles, document pages)."""
    return Snippet(text, tuple(find_spans(text, terms)))


def _sentences(text: str) -> list[tuple[int, int]]:
    bounds = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if match.end() > start:
            bounds.append((start, match.end()))
        start = match.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return bounds


def snippet(
    text: str,
    terms: Iterable[str],
    max_chars: int = SNIPPET_CHARS,
    fragments: int = SNIPPET_FRAGMENTS,
) -> Snippet:
    """The sentences that best show why a document matched, at most ``max_chars`` characters.

    Sentences are ranked by how many different query words they hold, then by how many matches;
    chosen sentences are shown in document order, trimmed around their first match.
    """
    terms = list(terms)
    spans = find_spans(text, terms)
    if not spans:
        return _lead(text, max_chars)
    folded_terms = [term for term in terms if term]
    ranked = []
    # spans are sorted and disjoint: a sentence's are one slice of them, found by bisection
    span_starts, span_ends = [span[0] for span in spans], [span[1] for span in spans]
    for index, (start, end) in enumerate(_sentences(text)):
        inside = spans[bisect.bisect_right(span_ends, start) : bisect.bisect_left(span_starts, end)]
        if not inside:
            continue
        distinct = {_folded_word(text[s:e]) for s, e in inside}
        variety = sum(1 for term in folded_terms if any(term in word for word in distinct))
        ranked.append((-variety, -len(inside), index, start, end, inside))
    ranked.sort()
    chosen = []
    seen_texts = set()
    for candidate in ranked:
        sentence = text[candidate[3] : candidate[4]].strip()
        if sentence not in seen_texts:  # a sentence repeated in the release is shown once
            seen_texts.add(sentence)
            chosen.append(candidate)
        if len(chosen) == fragments:
            break
    chosen.sort(key=lambda item: item[2])
    budget = max(max_chars // max(len(chosen), 1), 40)
    parts = []
    for _, _, _, start, end, inside in chosen:
        text_start, text_end = _window(start, end, inside, budget)
        prefix = "…" if text_start > start else ""
        suffix = "…" if text_end < end else ""
        parts.append((prefix, _stripped(text, text_start, text_end), suffix))
    return _joined(text, spans, parts, " … ")


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    """``(start, end)`` without the whitespace at either edge."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _joined(text: str, spans: list[Span], parts: list[tuple[str, tuple[int, int], str]], separator: str) -> Snippet:
    """Stretches of ``text`` (each with a prefix and a suffix) joined into one snippet, spans shifted."""
    pieces: list[str] = []
    shifted: list[Span] = []
    offset = 0
    for number, (prefix, (start, end), suffix) in enumerate(parts):
        lead = (separator if number else "") + prefix
        part = excerpt(text, spans, start, end)
        offset += len(lead)
        shifted += [(span_start + offset, span_end + offset) for span_start, span_end in part.spans]
        pieces.append(lead + part.text + suffix)
        offset += len(part.text) + len(suffix)
    return Snippet("".join(pieces), tuple(shifted))


@functools.lru_cache(maxsize=4096)
def _folded_word(word: str) -> str:
    """A matched word, folded: the same few words recur in every sentence of every hit."""
    return fold(word).text


def _window(start: int, end: int, inside: list[tuple[int, int]], budget: int) -> tuple[int, int]:
    """A stretch of at most ``budget`` chars of a sentence that starts a little before its first match."""
    if end - start <= budget:
        return start, end
    first = inside[0][0]
    window_start = max(start, min(first - budget // 4, end - budget))
    return window_start, min(end, window_start + budget)


def _lead(text: str, max_chars: int) -> Snippet:
    lead = " ".join(text.split())
    return Snippet(lead[:max_chars] + "…" if len(lead) > max_chars else lead)
