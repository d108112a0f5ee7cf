"""Highlighted snippets without re-segmenting documents at query time.

Query words are folded the same way the analyser folds text, then found by plain substring search
in the folded document; the folded→original offset map puts ``<mark>`` on the characters the reader
sees.  Everything except our own ``<mark>`` tags is HTML-escaped.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from markupsafe import Markup, escape

from search.normalise import fold

_SENTENCE_END = re.compile(r"[。！？!?；;\n]+")
_MAX_OCCURRENCES_PER_TERM = 2000
SNIPPET_CHARS = 160
SNIPPET_FRAGMENTS = 2


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


def render(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> Markup:
    """``text[start:end]`` escaped, with the spans inside it wrapped in ``<mark>``."""
    end = len(text) if end is None else end
    pieces: list[str] = []
    cursor = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        pieces.append(str(escape(text[cursor:span_start])))
        pieces.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    pieces.append(str(escape(text[cursor:end])))
    return Markup("".join(pieces))


def highlight(text: str, terms: Iterable[str]) -> Markup:
    """The whole text, escaped, every occurrence of a term marked (titles, document pages)."""
    return render(text, find_spans(text, terms))


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
) -> Markup:
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
    for index, (start, end) in enumerate(_sentences(text)):
        inside = [span for span in spans if span[0] < end and span[1] > start]
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
        parts.append(prefix + render(text, spans, text_start, text_end).strip() + suffix)
    return Markup(" … ".join(parts))


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


def _lead(text: str, max_chars: int) -> Markup:
    lead = " ".join(text.split())
    if len(lead) > max_chars:
        return Markup(escape(lead[:max_chars]) + "…")
    return Markup(escape(lead))
