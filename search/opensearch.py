"""The way out when one machine is outgrown: every release of the index as OpenSearch (or
Elasticsearch) bulk actions, and the index body (settings + mappings) they are meant for.

The server cannot segment Chinese as we do (our dictionaries, the parts/whole-word/sub-word
stacking, script and width folding, our stop words), so the text fields leave *pre-segmented*:
our analyser's tokens joined by single spaces. The mapping gives those fields an analyzer of
tokenizer ``whitespace`` plus ``lowercase`` (ours lowercases too, so this changes nothing in the
documents and lowercases a query typed in capitals), which hands the server exactly our tokens.
What the server cannot reproduce is where the tokens stand: a whole word stacked on the position of
its first part here takes the next position there, so phrase and proximity queries on the server
see the tokens one after another. Queries sent to the server should be segmented by our analyser
too (``search.analysis.query_words``); the original text travels along in ``title_raw`` and
``body_raw``, kept in ``_source`` only.

Export is streamed: one stored document is read, turned into two NDJSON lines and written before
the next is read, so memory stays flat however large the index.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from search.analysis import ChineseAnalyzer
from search.index import new_file_mode
from search.query import SearchEngine

DEFAULT_INDEX_NAME = "police-releases"
ANALYZER_NAME = "police_whitespace"
TOKENIZER_NAME = "police_whitespace"
# Lucene rejects a term longer than 32,766 UTF-8 bytes; 8,191 UTF-16 units never exceed it. The
# whitespace tokenizer's default (255) would cut a long run of Latin letters or digits that our
# analyser keeps whole.
MAX_TOKEN_LENGTH = 8191
# OpenSearch's index naming rules (create-index API): lowercase, none of these characters, not
# starting with - _ +, not . or .., at most 255 bytes.
_FORBIDDEN_IN_NAME = '\\/*?"<>|,# :'
_MAX_NAME_BYTES = 255

# The text fields: each is our analyser's tokens of its ``<name>_raw`` twin.
TEXT_FIELDS = ("title", "subtitle", "body")
KEYWORD_FIELDS = ("id", "province", "city", "district", "source", "crime_types", "story", "report_year")


class IndexNameError(ValueError):
    """An index name OpenSearch would refuse."""


def check_index_name(name: str) -> str:
    """``name`` when OpenSearch accepts it as an index name; otherwise ``IndexNameError`` saying why."""
    if not name:
        raise IndexNameError("an index name cannot be empty")
    if name in (".", ".."):
        raise IndexNameError(f"an index name cannot be {name!r}")
    if name != name.lower():
        raise IndexNameError(f"{name!r}: index names must be lowercase (try {name.lower()!r})")
    forbidden = sorted({char for char in name if char in _FORBIDDEN_IN_NAME})
    if forbidden:
        shown = " ".join("space" if char == " " else char for char in forbidden)
        raise IndexNameError(f"{name!r}: index names cannot contain {shown}")
    if name[0] in "-_+":
        raise IndexNameError(f"{name!r}: index names cannot start with {name[0]}")
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        raise IndexNameError(f"index names are at most {_MAX_NAME_BYTES} bytes (UTF-8)")
    return name


def index_body() -> dict[str, Any]:
    """Settings and mappings for ``PUT /<index>``: the whitespace analyzer for the pre-segmented
    text fields, keywords for the facets, a date. ``dynamic: strict`` makes the server refuse a
    field the mapping does not declare rather than guess its type."""
    text = {"type": "text", "analyzer": ANALYZER_NAME}
    kept = {"type": "text", "index": False}  # the original text: in _source, not searchable
    properties: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        properties[name] = dict(text)
        properties[f"{name}_raw"] = dict(kept)
    for name in KEYWORD_FIELDS:
        properties[name] = {"type": "keyword"}
    properties["date"] = {"type": "date", "format": "strict_date"}
    return {
        "settings": {
            "analysis": {
                "tokenizer": {TOKENIZER_NAME: {"type": "whitespace", "max_token_length": MAX_TOKEN_LENGTH}},
                "analyzer": {ANALYZER_NAME: {"type": "custom", "tokenizer": TOKENIZER_NAME, "filter": ["lowercase"]}},
            }
        },
        "mappings": {"dynamic": "strict", "properties": properties},
    }


@functools.lru_cache(maxsize=1)
def _analyser() -> Any:
    return ChineseAnalyzer()


def segmented(text: str) -> str:
    """``text`` as our analyser indexes it (script and width folded, lowercased, stop words out),
    the tokens in stream order joined by single spaces. A token never holds whitespace: it is a
    run of letters, digits or ideographs (``analysis.coarse_words``)."""
    return " ".join(token.text for token in _analyser()(text))


_SURROGATES = re.compile("[\ud800-\udfff]")


def _clean(text: str) -> str:
    """A lone surrogate (from an undecodable file name or byte) cannot be written as UTF-8."""
    return _SURROGATES.sub("\ufffd", text)


def bulk_document(stored: dict[str, Any], story: str | None) -> dict[str, Any]:
    """One release's source document, from its stored fields; absent values are left out (an
    undated release has no ``date``)."""
    meta = stored.get("meta") or {}
    raw = {"title": stored.get("title"), "subtitle": meta.get("subtitle"), "body": stored.get("body")}
    document: dict[str, Any] = {"id": stored["id"]}
    for name in TEXT_FIELDS:
        if raw[name]:
            original = _clean(raw[name])
            document[name] = segmented(original)
            document[f"{name}_raw"] = original
    for name in ("date", "province", "city", "district", "source", "report_year"):
        if stored.get(name):
            document[name] = _clean(str(stored[name]))
    crime_types = [kind for kind in (stored.get("crime_type") or "").split(",") if kind]
    if crime_types:
        document["crime_types"] = crime_types
    if story:
        document["story"] = story
    return document


def stored_releases(engine: SearchEngine) -> Iterator[tuple[dict[str, Any], str | None]]:
    """Every release of the index once, as (stored fields, story id), read one at a time from one
    snapshot. Two files with the same text share an id: only the first is given, since the server
    keys documents by id."""
    with engine.snapshot():
        # the engine's searcher and story map of this snapshot (the same the engine's own reads use)
        searcher = engine._current_searcher()
        stories = engine._stories(searcher)
        reader = searcher.reader()
        for doc in reader.all_doc_ids():
            stored = reader.stored_fields(doc)
            # the first live document with this id; constant memory, unlike a set of ids seen
            if reader.first_id("id", stored["id"]) == doc:
                yield stored, stories.story_id(doc)


def bulk_actions(
    engine: SearchEngine, index_name: str = DEFAULT_INDEX_NAME
) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """For every release, its ``index`` action (``_index``, ``_id`` = the content id) and its document."""
    check_index_name(index_name)
    for stored, story in stored_releases(engine):
        yield {"index": {"_index": index_name, "_id": stored["id"]}}, bulk_document(stored, story)


def _json_line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False) + "\n"


def bulk_lines(engine: SearchEngine, index_name: str = DEFAULT_INDEX_NAME) -> Iterator[str]:
    """The bulk request body as NDJSON lines, each ending in a newline (the last one too, as the
    bulk API requires): an action line, then its document line."""
    for action, document in bulk_actions(engine, index_name):
        yield _json_line(action)
        yield _json_line(document)


def write_bulk(engine: SearchEngine, out: IO[bytes], index_name: str = DEFAULT_INDEX_NAME) -> int:
    """Write the bulk body to a binary stream as UTF-8, release by release; returns how many."""
    count = 0
    for action, document in bulk_actions(engine, index_name):
        out.write((_json_line(action) + _json_line(document)).encode())
        count += 1
    return count


def write_mapping(out: IO[bytes]) -> None:
    out.write((json.dumps(index_body(), ensure_ascii=False, indent=2) + "\n").encode())


def export(engine: SearchEngine, output: Path | IO[bytes], index_name: str, mapping: bool = False) -> int:
    """The bulk body (or with ``mapping``, the index body) to a binary stream or a file; returns
    how many releases it wrote. A file is written beside its final name and renamed into place
    when complete, so a failed export (no index, a full disk) never leaves half a file behind."""
    check_index_name(index_name)
    if not isinstance(output, Path):
        if mapping:
            write_mapping(output)
            return 0
        return write_bulk(engine, output, index_name)
    handle, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}-", suffix=".tmp")
    try:
        os.fchmod(handle, new_file_mode())
        with os.fdopen(handle, "wb") as out:
            count = export(engine, out, index_name, mapping)
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count
