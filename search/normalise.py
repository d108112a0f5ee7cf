"""Script and width normalisation that remembers where every character came from.

Documents and queries are both folded to Simplified, NFKC-normalised text before segmentation, so
that 萬州區 and 万州区 (or ＡＰＰ and APP) become the same tokens.  Highlights must still land on the
text the reader sees, so the folded text keeps a map back to offsets in the original string.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

import opencc


@functools.lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@dataclass(frozen=True, slots=True)
class FoldedText:
    """``text`` is the folded string; ``origin[i]`` is the original offset of folded char ``i``.

    ``origin`` is ``None`` when folding kept every character in place (the common case), which
    saves building a list as long as the document.
    """

    text: str
    origin: list[int] | None
    original_length: int

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the folded text to the original text."""
        if self.origin is None:
            return start, end
        if start >= end:
            position = self.origin[start] if start < len(self.origin) else self.original_length
            return position, position
        return self.origin[start], self.origin[end - 1] + 1


def _fold_width(text: str) -> tuple[str, list[int] | None]:
    folded = unicodedata.normalize("NFKC", text)
    if len(folded) == len(text):
        return folded, None
    # NFKC expanded or merged something (e.g. ㎡ → m2): redo it per character so every output
    # character knows its source.
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        normalised = unicodedata.normalize("NFKC", char)
        pieces.append(normalised)
        origin.extend([index] * len(normalised))
    return "".join(pieces), origin


def to_simplified(text: str) -> str:
    """Traditional → Simplified with OpenCC, never changing the length of the string.

    OpenCC converts phrase by phrase, which is more accurate than per character; in the rare case
    a phrase conversion changes the length, fall back to per-character conversion so offsets hold.
    """
    converter = _t2s()
    converted = converter.convert(text)
    if len(converted) == len(text):
        return converted
    out = []
    for char in text:
        single = converter.convert(char)
        out.append(single if len(single) == 1 else char)
    return "".join(out)


def _lower(text: str) -> str:
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def fold(text: str, lowercase: bool = True) -> FoldedText:
    """NFKC width folding, then Traditional → Simplified, then lowercase; offsets preserved."""
    widened, origin = _fold_width(text)
    simplified = to_simplified(widened)
    return FoldedText(_lower(simplified) if lowercase else simplified, origin, len(text))


def fold_text(text: str) -> str:
    """The folded string alone, for matching names and queries."""
    return fold(text).text
