"""The work budget of one query: normalise what people type and refuse, with a message saying what
to change, what cannot be parsed or would cost too much (bench/hostile.py measures the limits)."""

from __future__ import annotations

import itertools
import re
import unicodedata
from typing import Any

from whoosh import query as wq

from search.analysis import is_ideograph_run
from search.query.nodes import QuotedPhrase, _walk
from search.query.parse import _or_bigrams, _phrase_by_words
from search.query.results import QueryError

MAX_QUERY_CHARS = 1000
MAX_QUERY_WORDS = 64
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
QUERY_FIELDS = ("title", "body", "district", "city", "province", "source", "year", "crime_type")
_FIELD_SYNTAX = re.compile(r"(?<![\w])([A-Za-z_][A-Za-z0-9_]*)\s*:")
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
