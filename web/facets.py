"""Facet presentation: the province → city → district tree and the year/month bar charts."""

from __future__ import annotations

from dataclasses import dataclass, field

from search.query import FacetValue

CHART_WIDTH = 240
CHART_BAR_AREA = 70
CHART_LABEL_SPACE = 18
# Labels are drawn at 12 units (about 11 px in the sidebar), a digit ~7 units wide; when bars are
# narrower than their labels only every n-th bar (and the active one) is labelled.
DIGIT_WIDTH = 7


@dataclass
class RegionNode:
    name: str
    count: int
    children: list[RegionNode] = field(default_factory=list)


def region_tree(facets: dict[str, list[FacetValue]]) -> list[RegionNode]:
    """Nest the flat region facet (``province/city/district`` paths) into a tree with counts.

    Municipalities (重庆市 is both province and city) skip the repeated city level.
    """
    provinces = {f.value: RegionNode(f.value, f.count) for f in facets.get("province", [])}
    city_counts = {f.value: f.count for f in facets.get("city", [])}
    cities: dict[tuple[str, str], RegionNode] = {}
    for facet in facets.get("region", []):
        province, city, district = [*facet.value.split("/"), "", "", ""][:3]
        parent = provinces.setdefault(province, RegionNode(province, 0))
        if city and city != province:
            key = (province, city)
            if key not in cities:
                cities[key] = RegionNode(city, city_counts.get(city, 0))
                parent.children.append(cities[key])
            parent = cities[key]
        if district:
            parent.children.append(RegionNode(district, facet.count))
    ordered = sorted(provinces.values(), key=lambda node: (-node.count, node.name))
    for node in ordered:
        _sort_children(node)
    return ordered


def _sort_children(node: RegionNode) -> None:
    node.children.sort(key=lambda child: (-child.count, child.name))
    for child in node.children:
        _sort_children(child)


@dataclass
class Bar:
    label: str
    value: str
    count: int
    x: float
    y: float
    width: float
    height: float
    active: bool


def bar_chart(values: list[FacetValue], active: str | None, newest_last: bool = True) -> tuple[list[Bar], int]:
    """Geometry of an SVG bar chart (bars in chronological order); returns bars and total height."""
    ordered = sorted(values, key=lambda f: f.value) if newest_last else list(values)
    if not ordered:
        return [], 0
    peak = max(f.count for f in ordered)
    slot = CHART_WIDTH / len(ordered)
    width = max(min(slot * 0.7, 40), 2)
    bars = []
    labels = [facet.value[5:] if len(facet.value) == 7 else facet.value for facet in ordered]
    room = max(map(len, labels)) * DIGIT_WIDTH + 4
    every = -(-room // int(slot)) if slot < room else 1
    for index, (facet, label) in enumerate(zip(ordered, labels, strict=True)):
        height = max(CHART_BAR_AREA * facet.count / peak, 2)
        if (len(ordered) - 1 - index) % every and facet.value != active:
            label = ""  # the newest bar is always labelled; its title still names every bar
        bars.append(
            Bar(
                label=label,
                value=facet.value,
                count=facet.count,
                x=round(index * slot + (slot - width) / 2, 1),
                y=round(CHART_BAR_AREA - height + CHART_LABEL_SPACE, 1),
                width=round(width, 1),
                height=round(height, 1),
                active=facet.value == active,
            )
        )
    return bars, CHART_BAR_AREA + 2 * CHART_LABEL_SPACE
