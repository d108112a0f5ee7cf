"""Query-time synonyms from an editable file (``search/data/synonyms.txt`` or ``POLICE_SEARCH_SYNONYMS``).

The format is Solr's: ``a, b, c`` lists equivalent words; ``a => b, c`` widens a query for ``a`` to
``b`` and ``c`` only. Words are folded like queries and documents, so one line covers both scripts.
"""

from __future__ import annotations

import functools
import os
from importlib import resources
from pathlib import Path

from search.normalise import fold_text

SYNONYMS_ENV = "POLICE_SEARCH_SYNONYMS"


class SynonymFileError(ValueError):
    """A line of the synonym file that cannot be read; the message names the line."""


def parse_synonyms(text: str, origin: str = "synonyms") -> dict[str, tuple[str, ...]]:
    """``{folded word: (its expansions, in file order)}`` from the file's text."""
    expansions: dict[str, list[str]] = {}

    def add(word: str, others: list[str]) -> None:
        listed = expansions.setdefault(word, [])
        listed.extend(other for other in others if other != word and other not in listed)

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.count("=>") > 1:
            raise SynonymFileError(f"{origin}:{number}: more than one '=>' in {raw.strip()!r}")
        if "=>" in line:
            left, right = line.split("=>")
            sources, targets = _words(left), _words(right)
            if not sources or not targets:
                raise SynonymFileError(f"{origin}:{number}: '=>' needs words on both sides: {raw.strip()!r}")
            for word in sources:
                add(word, targets)
        else:
            group = _words(line)
            if len(group) < 2:
                raise SynonymFileError(f"{origin}:{number}: a group needs at least two words: {raw.strip()!r}")
            for word in group:
                add(word, group)
    return {word: tuple(others) for word, others in expansions.items() if others}


def _words(text: str) -> list[str]:
    words = []
    for item in text.replace("，", ",").split(","):
        folded = fold_text(item.strip())
        if folded and folded not in words:
            words.append(folded)
    return words


@functools.lru_cache(maxsize=4)
def _load(path: str | None, mtime: float | None) -> dict[str, tuple[str, ...]]:
    if path is None:
        text = (resources.files("search") / "data" / "synonyms.txt").read_text(encoding="utf-8")
        return parse_synonyms(text, "synonyms.txt")
    return parse_synonyms(Path(path).read_text(encoding="utf-8"), path)


def synonyms() -> dict[str, tuple[str, ...]]:
    """The synonym table in force; an edited file is read again on the next call."""
    configured = os.environ.get(SYNONYMS_ENV)
    if configured:
        try:
            mtime = os.stat(configured).st_mtime
        except OSError as error:
            raise SynonymFileError(f"{SYNONYMS_ENV}={configured}: {error.strerror}") from None
        return _load(configured, mtime)
    return _load(None, os.stat(_bundled_path()).st_mtime)


@functools.cache
def _bundled_path() -> str:
    """Where the bundled table is (looked up once: ``resources.files`` costs more than the stat)."""
    return str(resources.files("search") / "data" / "synonyms.txt")


def expansions_of(word: str) -> tuple[str, ...]:
    """What a query for ``word`` (already folded) also searches for."""
    return synonyms().get(word, ())
