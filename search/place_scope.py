"""Which side a release is on: mainland China, Taiwan or Hong Kong.

A release's place names resolve within its own side: Taiwan's 台中 is not 延边's 龙井市 district
short form, Hong Kong's 東區 is not a mainland 东区. A mainland release says 公安; Taiwan's and Hong
Kong's releases speak of 警察局, 新台幣, 警務處 and name their own places.
"""

from __future__ import annotations

from collections import Counter

from search import gazetteer
from search.gazetteer import Region

Scope = str  # "mainland", "taiwan" or "hongkong"
SCOPE_PROVINCES = {"taiwan": "台湾省", "hongkong": "香港特别行政区"}
_TAIWAN_WORDS = ("警察局", "新台币", "警政署", "地检署", "刑事局", "诈欺", "警分局", "车手")
_HONG_KONG_WORDS = ("警务处", "警署", "港岛", "新界", "九龙", "港元", "港币")


def release_scope(text: str, segments: list[list[str]]) -> Scope:
    """Mainland unless the release has no 公安 and speaks of Taiwan's or Hong Kong's places and police."""
    if "公安" in text:
        return "mainland"
    places = gazetteer.load()
    votes: Counter[Scope] = Counter()
    for scope, words in (("taiwan", _TAIWAN_WORDS), ("hongkong", _HONG_KONG_WORDS)):
        votes[scope] += sum(text.count(word) for word in words)
    for words in segments:
        for word in words:
            sides = {_side(region) for region in places.resolve(word)} if word in places.name_set else set()
            votes.update(sides)
    best = max(("taiwan", "hongkong"), key=votes.__getitem__)
    return best if votes[best] > votes["mainland"] else "mainland"


def _side(region: Region) -> Scope:
    for scope, province in SCOPE_PROVINCES.items():
        if region.province == province:
            return scope
    return "mainland"


def in_scope(regions: list[Region], scope: Scope) -> list[Region]:
    """Only the candidates on the release's side of the strait (台中 is not 延边's 龙井)."""
    wanted = SCOPE_PROVINCES.get(scope)
    if wanted:
        return [r for r in regions if r.province == wanted]
    outside = SCOPE_PROVINCES.values()
    return [r for r in regions if r.province not in outside]


def within_scope(region: Region | None, scope: Scope) -> Region | None:
    """Taiwan's releases are placed at county/city level: a Taipei district means 台北市."""
    if region is not None and scope == "taiwan" and region.district and region.city:
        return gazetteer.load().city_named(region.city)
    return region
