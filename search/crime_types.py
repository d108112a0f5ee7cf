"""Crime types of a release, from an editable vocabulary (``search/data/crime_types.txt``).

A type counts by where its words stand and how often — headline ×3, first paragraph ×2, the rest
×1 — not by one mention: a release gets a type its headline names, or one whose words weigh at
least ``MIN_WEIGHT`` and at least ``MIN_SHARE`` of the strongest type's weight. So a campaign
summary that lists every kind of crime once gets none of them, and a fraud case that mentions a
stolen phone in passing stays a fraud case.
"""

from __future__ import annotations

import functools
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources

from search.normalise import fold_text

CRIME_TYPES = (
    "诈骗", "盗窃", "抢劫", "命案", "伤害", "毒品", "涉黑涉恶", "赌博", "交通", "食品药品环境",
    "经济犯罪", "网络犯罪", "追逃", "治安管理", "其他",
)  # fmt: skip
_WEIGHT_TITLE, _WEIGHT_LEAD, _WEIGHT_BODY = 3.0, 2.0, 1.0
# Repeats of one word in the body count up to this many times (a long list of 诈骗 statistics).
_MAX_REPEATS = 4
MIN_WEIGHT = 5.0
MIN_SHARE = 0.4
_LEAD_CHARS = 200


class CrimeTypeFileError(ValueError):
    """A line of the vocabulary file that cannot be read; the message names the line."""


@dataclass(frozen=True)
class Vocabulary:
    """Per type: the words that name it, and look-alikes that do not (盗版 is not theft)."""

    words: dict[str, tuple[str, ...]]
    not_words: dict[str, tuple[str, ...]]

    @functools.cached_property
    def patterns(self) -> dict[str, re.Pattern[str]]:
        return {kind: _alternation(words) for kind, words in self.words.items() if words}

    @functools.cached_property
    def exclusions(self) -> dict[str, re.Pattern[str]]:
        return {kind: _alternation(words) for kind, words in self.not_words.items() if words}


def _alternation(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(word) for word in sorted(words, key=len, reverse=True)))


def parse_vocabulary(text: str, origin: str = "crime_types") -> Vocabulary:
    words: dict[str, list[str]] = defaultdict(list)
    not_words: dict[str, list[str]] = defaultdict(list)
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head, colon, listed = line.partition(":")
        kind, negative = head.strip(), False
        if kind.endswith("-"):
            kind, negative = kind[:-1].strip(), True
        if not colon or kind not in CRIME_TYPES:
            raise CrimeTypeFileError(f"{origin}:{number}: expected 'TYPE: word, …' with a type of {CRIME_TYPES}")
        target = not_words if negative else words
        target[kind].extend(fold_text(word.strip()) for word in listed.split(",") if word.strip())
    return Vocabulary({k: tuple(v) for k, v in words.items()}, {k: tuple(v) for k, v in not_words.items()})


@functools.lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    path = resources.files("search") / "data" / "crime_types.txt"
    return parse_vocabulary(path.read_text(encoding="utf-8"), "crime_types.txt")


def _mentions(pattern: re.Pattern[str], exclusion: re.Pattern[str] | None, text: str) -> int:
    if exclusion is not None:
        text = exclusion.sub("\x00", text)
    return len(pattern.findall(text))


def weights(title: str, paragraphs: list[str], vocab: Vocabulary | None = None) -> dict[str, float]:
    """How strongly each type is spoken of, by where its words stand."""
    vocab = vocab or vocabulary()
    body = fold_text("\n".join(paragraphs))
    zones = (
        (fold_text(title), _WEIGHT_TITLE, None),
        (body[:_LEAD_CHARS], _WEIGHT_LEAD, None),
        (body[_LEAD_CHARS:], _WEIGHT_BODY, _MAX_REPEATS),
    )
    found: dict[str, float] = {}
    for kind, pattern in vocab.patterns.items():
        exclusion = vocab.exclusions.get(kind)
        total = 0.0
        for text, weight, cap in zones:
            count = _mentions(pattern, exclusion, text)
            total += weight * (min(count, cap) if cap else count)
        if total:
            found[kind] = total
    return found


def classify(title: str, paragraphs: list[str], vocab: Vocabulary | None = None) -> list[str]:
    """The types a release is substantially about, in the vocabulary's order."""
    vocab = vocab or vocabulary()
    found = weights(title, paragraphs, vocab)
    if not found:
        return []
    folded_title = fold_text(title)
    strongest = max(found.values())
    chosen = set()
    for kind, weight in found.items():
        exclusion = vocab.exclusions.get(kind)
        in_title = _mentions(vocab.patterns[kind], exclusion, folded_title) > 0
        if in_title or (weight >= MIN_WEIGHT and weight >= MIN_SHARE * strongest):
            chosen.add(kind)
    return [kind for kind in CRIME_TYPES if kind in chosen]
