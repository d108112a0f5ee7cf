"""Coordination: ranked partial matches for plain queries, as users of any search engine expect.

A plain query (words and quoted phrases, no AND/OR/NOT or brackets) is split into its *units*, the
words as typed. Releases with every unit come first, then those with most of them; among releases
missing a unit, those with more of its parts (电动车 盗窃 团伙 of 电动车盗窃团伙, 肇事 逃逸 of
肇事逃逸) come first. So a rare compound fills the page with its parts only after its whole matches,
and a query never comes back empty while some release has one of its words. Each hit says which
units it lacks. A unit naming a province, city or county also matches releases located there.

Quoted phrases stay exact: they have no parts. Queries with boolean syntax keep their exact logic.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

import numpy as np
from whoosh import query as wq

from search import gazetteer
from search.analysis import common_place_words, query_words, stop_words
from search.normalise import fold_text
from search.sorted_docs import DocList, SortedDocs

OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})
# a part found in a release counts this much of a whole unit's score (it already ranks lower)
PART_BOOST = 0.5
_TOKEN = re.compile(r'"[^"]*"|[^\s"]+')
# syntax that makes the query boolean: brackets, ranges, single-quoted terms, boosts, a field (a
# restriction the user asked for, not a word that may be missing), a word marked + or -
_BOOLEAN_SYNTAX = re.compile(r"""[()\[\]{}':^]|(?:^|\s)[+-]""")


_DANGLING_END = re.compile(r"(?:\s+(?:AND|OR|NOT|ANDNOT|ANDMAYBE))+\s*$")
_DANGLING_START = re.compile(r"^\s*(?:(?:AND|OR|ANDNOT|ANDMAYBE)\s+)+")


def without_dangling_operators(text: str) -> str:
    """``text`` without operators that join nothing: a trailing ``AND`` (``诈骗 AND``) or a
    leading ``OR`` is typed by mistake, not a search for the word "and" (alone, it is the word)."""
    if text.strip() in OPERATORS:
        return text
    return _DANGLING_START.sub("", _DANGLING_END.sub("", text))


_QUOTES_AND_BRACKETS = re.compile(r"""["“”「」『』()（）\[\]{}]""")


def without_quotes_and_brackets(text: str) -> str:
    """The query's words alone: what to offer when its quotes or brackets make it fail."""
    return " ".join(_QUOTES_AND_BRACKETS.sub(" ", text).split())


def tokens(text: str) -> list[str]:
    """The query's tokens: a quoted phrase is one."""
    return _TOKEN.findall(text)


def plain_units(text: str) -> list[str] | None:
    """The units of a plain query, or None when it uses boolean syntax (its logic is kept)."""
    found = tokens(text)
    if any(token in OPERATORS for token in found):
        return None
    if _BOOLEAN_SYNTAX.search(" ".join(token for token in found if not token.startswith('"'))):
        return None
    # stop words alone (的) are not indexed: nothing a release could lack
    return [token for token in found if not _stop_words_only(token)] or found


def _stop_words_only(token: str) -> bool:
    words = query_words(fold_text(token))
    return not is_quoted(token) and bool(words) and all(word.text in stop_words() for word in words)


def is_quoted(unit: str) -> bool:
    return len(unit) >= 2 and unit.startswith('"') and unit.endswith('"')


def word_parts(unit: str) -> list[str]:
    """What an unquoted unit can be tried by when a release lacks it whole: its words when it is
    several (电动车盗窃团伙 → 电动车 盗窃 团伙), else the parts of its one word when it has two or
    more (命案积案 → 命案 积案; not 公安局 → 公安); never a single character. None for a phrase or a
    field."""
    if is_quoted(unit) or ":" in unit or "*" in unit or "?" in unit:
        return []
    words = query_words(fold_text(unit))
    if len(words) > 1:
        texts = [word.text for word in words]
    elif words:
        texts = list(words[0].parts)
    else:
        return []
    # a single character alone (立 of 立集体, 局 of 公安局) would match nearly anything
    parts = list(dict.fromkeys(text for text in texts if len(text) >= 2))
    return parts if len(parts) >= 2 or (len(words) > 1 and parts) else []


def places_named(word: str) -> list[str]:
    """The official names of the province, city or counties ``word`` names (河北 → 河北省, 邢台 →
    邢台市, 萬州 → 万州区, 嘉義 → 嘉义县 and 嘉义市), or none. A province wins over a district of the
    same short name (河北 is the province, not Tianjin's 河北区); a district name that is also an
    everyday word (公安, 和平, 城区) is not taken for a place."""
    if is_quoted(word) or ":" in word or not word:
        return []
    folded = fold_text(word)
    places = gazetteer.load()
    province = places.province_named(folded)
    if province is not None:
        return [province.province]
    cities = places.cities_named(folded)
    stem = folded[:-1] if folded[-1:] in "区县市旗" else folded
    if len(stem) < 2 or folded in common_place_words():
        return cities
    # a city and districts of the same name (朝阳市, Beijing's 朝阳区): the word names them all
    districts = sorted({region.district for region in places.districts_named(folded) if region.district})
    return cities + [district for district in districts if district not in cities]


@dataclass
class Unit:
    """One word or phrase of the query as typed, and the releases it matches."""

    label: str
    query: wq.Query  # scores it (headline and body)
    docs: AbstractSet[int]  # a set, or the executor's sorted array (``SortedDocs``)
    parts: list[tuple[wq.Query, AbstractSet[int]]] = field(default_factory=list)
    part_labels: list[str] = field(default_factory=list)
    place: str | None = None  # the regions whose releases it also matches, as the notice names them


@dataclass
class Plan:
    units: list[Unit]
    # id of a unit's or part's set of releases → the set as a sorted array (the sets do not change
    # once planned)
    _arrays: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def docs(self) -> list[int]:
        """Every release matching a unit or a part, ascending."""
        return self.doc_array.tolist()

    @property
    def doc_array(self) -> np.ndarray:
        """``docs`` as an array."""
        found = [self._sorted_array(unit.docs) for unit in self.units]
        found += [self._sorted_array(docs) for unit in self.units for _, docs in unit.parts]
        return _distinct(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)

    def key(self, doc: int) -> tuple[int, int]:
        """(units matched, parts matched of the units it lacks): higher ranks first."""
        whole = parts = 0
        for unit in self.units:
            if doc in unit.docs:
                whole += 1
            else:
                parts += sum(doc in docs for _, docs in unit.parts)
        return whole, parts

    def has_all(self, doc: int) -> bool:
        return all(doc in unit.docs for unit in self.units)

    def missing(self, doc: int) -> list[str]:
        return [unit.label for unit in self.units if doc not in unit.docs]

    def tiers(self, docs: Iterable[int]) -> list[tuple[bool, list[int]]]:
        """The releases grouped by key, best first: (has every unit, ascending members, as a
        ``DocList``: scoring hands them to numpy again)."""
        docs = np.sort(docs.array if isinstance(docs, DocList) else np.fromiter(docs, dtype=np.int64))
        whole, parts = self._keys(docs)
        keys = whole * (1 << 32) + parts  # ordered as (units matched, parts matched)
        tiers = []
        for key in _distinct(keys)[::-1].tolist():
            tiers.append((key >> 32 == len(self.units), DocList(docs[keys == key])))
        return tiers

    def count_all(self, docs: Iterable[int]) -> int:
        """How many of ``docs`` have every unit (``has_all``)."""
        docs = np.fromiter(docs, dtype=np.int64)
        return int(np.count_nonzero(self._keys(docs)[0] == len(self.units)))

    def _sorted_array(self, docs: AbstractSet[int]) -> np.ndarray:
        if isinstance(docs, SortedDocs):
            return docs.array
        found = self._arrays.get(id(docs))
        if found is None:
            found = self._arrays[id(docs)] = np.sort(np.fromiter(docs, dtype=np.int64, count=len(docs)))
        return found

    def _keys(self, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``key`` of every document of ``docs``, as two arrays: units matched, parts matched."""
        whole = np.zeros(len(docs), dtype=np.int64)
        parts = np.zeros(len(docs), dtype=np.int64)
        for unit in self.units:
            has_unit = np.isin(docs, self._sorted_array(unit.docs))
            whole += has_unit
            for _, part_docs in unit.parts:
                parts += ~has_unit & np.isin(docs, self._sorted_array(part_docs))
        return whole, parts

    def scoring_query(self, complete: bool) -> wq.Query:
        """What scores a tier: the units; below the releases with every unit, their parts too."""
        clauses = [unit.query for unit in self.units]
        if not complete:
            clauses += [wq.Or([query], boost=PART_BOOST) for unit in self.units for query, _ in unit.parts]
        return clauses[0] if len(clauses) == 1 else wq.Or(clauses)

    def part_texts(self) -> list[str]:
        """The parts tried, to mark in snippets."""
        return [part for unit in self.units for part in unit.part_labels]

    def places(self) -> list[dict[str, str]]:
        return [{"word": unit.label, "region": unit.place} for unit in self.units if unit.place]


def _distinct(values: np.ndarray) -> np.ndarray:
    """``np.unique`` of an integer array, without it: its first call in a process imports
    ``numpy.ma`` (~20 ms, paid by whichever search comes first)."""
    if len(values) and values.dtype == np.int64 and values.min() >= 0 and values.max() < 4 * len(values) + 4096:
        # document numbers: marking them is linear, where sorting is not
        marked = np.zeros(int(values.max()) + 1, dtype=bool)
        marked[values] = True
        return np.flatnonzero(marked).astype(np.int64, copy=False)
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def region_docs(region_ids: list[int], regions: set[int]) -> set[int]:
    """The releases whose region id is one of ``regions``."""
    return {doc for doc, rid in enumerate(region_ids) if rid in regions} if regions else set()


def make_plan(
    units: list[str],
    parse: Callable[[str, bool], tuple[wq.Query, wq.Query] | None],
    matches: Callable[[wq.Query], AbstractSet[int]],
    located_in: Callable[[list[str]], set[int]],
) -> Plan | None:
    """The plan for a plain query's units, or None when plain matching says it all (one unit with
    neither parts nor a place). ``parse`` gives a unit's (or with True, a part's) scoring and
    matching queries (None when it has no searchable word), ``matches`` the releases a matching
    query finds, ``located_in`` the releases located within regions."""
    if len(units) == 1 and not word_parts(units[0]) and not places_named(units[0]):
        return None  # before any search: one plain word
    planned: list[Unit] = []
    for label in units:
        parsed = parse(label, False)
        if parsed is None:
            continue
        scoring, matching = parsed
        unit = Unit(label, scoring, matches(matching))
        for part in word_parts(label):
            parsed_part = parse(part, True)
            if parsed_part is not None:
                unit.parts.append((parsed_part[0], matches(parsed_part[1])))
                unit.part_labels.append(part)
        places = places_named(label)
        if places:
            located = located_in(places)
            if located - unit.docs:
                unit.place = "、".join(places)
                unit.docs |= located
        planned.append(unit)
    if not planned or (len(planned) == 1 and not planned[0].parts and planned[0].place is None):
        return None
    return Plan(planned)
