"""Parsed queries remembered per commit, and word queries remembered (``WordQueries``): a search
parses its text, each of its words and their parts, for scoring and for matching (up to nine
parses for two words), and the same words recur from search to search. A parse depends on the
text, the fields, widening, the commit (its schema and vocabulary: ``limits._check_expansions``)
and the synonym table; the key holds the first four and the cache is emptied when the synonym
table in force changes. Parsed trees are never changed in place (rewriting and normalising build
new nodes), so one tree serves every search."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from whoosh import query as wq

from search.synonyms import SynonymFileError, synonyms

MAX_PARSES = 512

Parsed = tuple[wq.Query, dict[str, tuple[str, ...]]]


class ParseCache:
    """A bounded, thread-safe map of (commit, text, fields, widen) → (query, synonyms widened to)."""

    def __init__(self, size: int = MAX_PARSES):
        self.size = size
        self._parsed: OrderedDict[Hashable, Parsed] = OrderedDict()
        self._synonyms: Any = None
        self._lock = threading.Lock()

    def get(self, key: Hashable, parse: Callable[[], Parsed]) -> Parsed:
        """``parse()``'s result for ``key``, parsed once; a parse that raises is not remembered.
        The synonym dict returned is the caller's own copy."""
        try:
            table = synonyms()
        except SynonymFileError:  # parsed without the cache: the parse says so if it needs the table
            return parse()
        with self._lock:
            if table is not self._synonyms:
                self._parsed.clear()
                self._synonyms = table
            found = self._parsed.get(key)
            if found is not None:
                self._parsed.move_to_end(key)
        if found is None:
            found = parse()
            with self._lock:
                if self._synonyms is table:
                    self._parsed[key] = found
                    while len(self._parsed) > self.size:
                        self._parsed.popitem(last=False)
        query, expanded = found
        return query, dict(expanded)


class WordQueries:
    """Word queries (``ChineseQueryParser.term_query``) with what making them added to the parser's
    word counts and synonyms, shared by every parser: they depend on the word, the field, the boost
    and the synonym table (emptied when it changes), never on the index. Trees are never changed
    in place once built, so one serves every query holding the word. Bounded by emptying."""

    def __init__(self, size: int = 4096):
        self.size = size
        # (the synonym table, the word queries made with it), replaced as one (threads share it)
        self._state: tuple[Any, dict[Any, Any]] = (None, {})

    def get(self, key: Any) -> tuple[Any, Any]:
        """(the remembered value or None, the table in force or None when it cannot be read)."""
        try:
            table = synonyms()
        except SynonymFileError:  # made afresh: it raises if it needs the table
            return None, None
        made_with, found = self._state
        if made_with is not table:
            self._state = (table, {})
            return None, table
        return found.get(key), table

    def put(self, key: Any, value: Any, table: Any) -> None:
        made_with, found = self._state
        if table is None or made_with is not table:  # the table changed while the word was made
            return
        if len(found) >= self.size:
            self._state = (table, {key: value})
        else:
            found[key] = value


WORD_QUERIES = WordQueries()
