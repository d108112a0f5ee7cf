"""JSON: one page of a search as one document — what ``query --json`` prints and ``/api/search`` returns.

A hit's ``snippet`` is HTML (escaped text, only ``<mark>`` tags: what the API has always returned),
with ``snippet_text`` and ``highlights`` (``[start, end]`` character offsets into it) beside it for
clients that render matches their own way. ``path`` (where the file lies on the server) is only in
the CLI's output: the HTTP API never shows a server path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from search.formats import PAGE, Format, Output, register
from search.formats.html import marked
from search.query import Document, Hit, SearchResult


def hit_document(hit: Hit, with_path: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in hit.as_dict().items():
        if key == "path" and not with_path:
            continue
        if key == "snippet":
            data["snippet"] = str(marked(hit.snippet))
            data["snippet_text"] = hit.snippet.text
            data["highlights"] = [list(span) for span in hit.snippet.spans]
            continue
        data[key] = value
    return data


def result_document(result: SearchResult, with_path: bool = False) -> dict[str, Any]:
    data = result.as_dict()
    data["hits"] = [hit_document(hit, with_path) for hit in result.hits]
    return data


def document_document(document: Document, with_path: bool = False) -> dict[str, Any]:
    """One release (``show --json``, ``/api/documents/<id>``); ``filename`` names its file either way."""
    data = document.as_dict()
    if not with_path:
        data.pop("path")
    return data


def render(output: Output) -> Iterator[str]:
    yield json.dumps(result_document(output.result, output.with_path), ensure_ascii=False, indent=2) + "\n"


register(
    Format(
        "json",
        "application/json",
        "json",
        PAGE,
        render,
        "one page of results with facets, as one JSON document",
    )
)
