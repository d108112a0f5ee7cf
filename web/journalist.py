"""What the pages show for journalists: crime-type and source lists (from the facet registry),
copies of a release, and a document's metadata as links to the searches they imply."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from search.facet_registry import FACETS
from search.query import Document, FacetValue
from web.params import SearchParams


@dataclass
class Choice:
    value: str
    count: int
    href: str
    active: bool


@dataclass
class FacetList:
    name: str
    param: str
    label: str
    choices: list[Choice]


def facet_lists(params: SearchParams, facets: dict[str, list[FacetValue]], link: Callable[..., str]) -> list[FacetList]:
    """One list per registered facet; a value's link filters by it, the active value's clears it."""
    lists = []
    for facet in FACETS:
        active = getattr(params, facet.param)
        choices = [
            Choice(
                value.value,
                value.count,
                link(**{facet.param: "" if value.value == active else value.value}),
                value.value == active,
            )
            for value in facets.get(facet.name, [])
        ]
        lists.append(FacetList(facet.name, facet.param, facet.label, choices))
    return lists


def active_filters(params: SearchParams) -> list[tuple[str, str, str]]:
    """``(param, label, value)`` of every registered facet filter in use, for the chips."""
    return [
        (facet.param, facet.label, getattr(params, facet.param)) for facet in FACETS if getattr(params, facet.param)
    ]


def metadata_links(document: Document, search_url: Callable[..., str]) -> dict[str, str | None]:
    """The searches a document's place, date, source and crime types imply."""
    place = document.district or document.city or document.province
    return {
        "place": search_url(district=place) if place else None,
        "date": search_url(**{"from": document.date, "to": document.date}) if document.date else None,
        "source": search_url(source=document.source) if document.source else None,
    }
