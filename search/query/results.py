"""What a search returns: hits, facet values, whole documents, and the error for a query the
engine cannot answer; plus ``region_name``, the official place a filter value designates."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from markupsafe import Markup

from search import gazetteer
from search.normalise import fold_text


class QueryError(ValueError):
    """A query or parameter the engine cannot answer; the message says what to change."""


@dataclass
class Hit:
    id: str
    title: str
    date: str | None
    district: str | None
    city: str | None
    province: str | None
    source: str | None
    path: str
    score: float | None
    snippet: str
    crime_types: list[str] = field(default_factory=list)
    story: str | None = None  # the id of the story (copies of one release) it belongs to
    copies: list[dict[str, Any]] = field(default_factory=list)  # the story's other copies
    title_html: Markup = field(default=Markup(""), repr=False)
    # the query's words (as typed) this release lacks: it is a partial match
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("title_html")
        return data


@dataclass
class FacetValue:
    value: str
    count: int


@dataclass
class SearchResult:
    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit]
    facets: dict[str, list[FacetValue]]
    # "all": every release listed has every word; "any": after those with every word (if any) come
    # releases with most of them, each hit saying which it lacks
    mode: str = "all"
    # how many of the ``total`` releases have every word
    total_all_words: int | None = None
    # query words naming a place that also matched releases located there: {"word", "region"}
    places: list[dict[str, str]] = field(default_factory=list)
    # the query without its quotes and brackets, when with them it finds nothing and without them it does
    did_you_mean: str | None = None
    # synonyms of the query's words that matching releases use (詐欺 for 诈骗)
    also_matched: list[str] = field(default_factory=list)
    highlight_terms: list[str] = field(default_factory=list, repr=False)
    # matches without a date, under every filter but the date filter's (which hides them unless
    # include_undated): the year facet's "date unknown" count
    undated: int = 0

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "took_ms": self.took_ms,
            "mode": self.mode,
            "total_all_words": self.total if self.total_all_words is None else self.total_all_words,
            "places": self.places,
            "did_you_mean": self.did_you_mean,
            "also_matched": self.also_matched,
            "undated": self.undated,
            "hits": [hit.as_dict() for hit in self.hits],
            "facets": {name: [asdict(value) for value in values] for name, values in self.facets.items()},
        }


@dataclass
class Document:
    id: str
    title: str
    title_inferred: bool
    subtitle: str | None
    date: str | None
    report_year: int | None
    district: str | None
    city: str | None
    province: str | None
    source: str | None
    path: str
    filename: str
    encoding: str | None
    paragraphs: list[str]
    crime_types: list[str] = field(default_factory=list)
    # which rule found the date (search.publish_date), None when undated
    date_rule: str | None = None
    story: str | None = None
    copies: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def region_name(name: str | None, level: str | None = None) -> str | None:
    """The official district, city or province name a filter value designates (九龙坡 →
    九龙坡区, 萬州區 → 万州区, 河南 → 河南省); an unknown name is kept as typed (and matches nothing).

    ``level`` (``district``, ``city``, ``province``) is looked up first. Otherwise an official name
    means itself, and a short form the larger unit it names: 河南 is 河南省 rather than 河南县
    (河南蒙古族自治县), 长沙 长沙市 rather than 长沙县.
    """
    if not name or not name.strip():
        return None
    name = name.strip()
    folded = fold_text(name)
    places = gazetteer.load()
    province, city = places.province_named(folded), places.city_named(folded)
    districts = places.districts_named(folded)
    meanings = {
        "province": province.province if province else None,
        "city": city.city if city else None,
        "district": districts[0].district if districts else None,
    }
    if meanings.get(level):
        return meanings[level]
    if folded in meanings.values():
        return folded
    return meanings["province"] or meanings["city"] or meanings["district"] or name


def _described(stored: dict[str, Any]) -> dict[str, Any]:
    """The metadata every hit and document carries, from a document's stored fields."""
    return {
        "id": stored["id"],
        "title": stored["title"],
        "date": stored.get("date"),
        "district": stored.get("district"),
        "city": stored.get("city"),
        "province": stored.get("province"),
        "source": stored.get("source"),
        "path": stored["path"],
        "crime_types": [kind for kind in (stored.get("crime_type") or "").split(",") if kind],
    }
