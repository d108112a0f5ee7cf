"""The OpenAPI description served at ``/api/openapi.json``: ``openapi.json`` with one parameter per
registered facet (search.facet_registry) and the facet keys a result holds.

The file itself carries the built-in facets' parameters (marked ``x-facet``) for readers of the
checkout; a test checks that the file is what ``described`` makes of it, so the two cannot drift.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from search.facet_registry import FACETS, ValueFacet

SPEC_FILE = Path(__file__).resolve().parent / "openapi.json"
# the operations that take the search page's parameters; with or without descriptions
_SEARCH_OPERATIONS = (("/api/search", True), ("/feed.atom", False))
_FACETS_NOTE = ": each applies every active filter but its own; with collapse, they count stories"


def facet_parameter(facet: ValueFacet, described: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if facet.api_pattern:
        schema["pattern"] = facet.api_pattern
    parameter: dict[str, Any] = {"name": facet.param, "in": "query", "schema": schema}
    if described:
        parameter["description"] = facet.api
    parameter["x-facet"] = True
    return parameter


def described(spec: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with the parameters marked ``x-facet`` replaced by the registered facets' (before
    ``collapse``), and the result's facet keys listed."""
    spec = copy.deepcopy(spec)
    for path, with_descriptions in _SEARCH_OPERATIONS:
        operation = spec["paths"][path]["get"]
        kept = [parameter for parameter in operation["parameters"] if not parameter.get("x-facet")]
        at = next((i for i, parameter in enumerate(kept) if parameter["name"] == "collapse"), len(kept))
        facets = [facet_parameter(facet, with_descriptions) for facet in FACETS]
        operation["parameters"] = [*kept[:at], *facets, *kept[at:]]
    result_facets = spec["components"]["schemas"]["SearchResult"]["properties"]["facets"]
    result_facets["description"] = ", ".join(FACETS.keys) + _FACETS_NOTE
    return spec


def served() -> dict[str, Any]:
    return described(json.loads(SPEC_FILE.read_text(encoding="utf-8")))
