"""Place stage of extraction: the district, city or province a release is about.

A release names many places: its issuer (重庆市公安局九龙坡区分局), where the case happened, where
a suspect came from, streets and police stations named after districts, and everyday words that
happen to be place names too (公安, 和平, 城区). Reading them the way a person does:

* the **scope** first: a release in Taiwan's or Hong Kong's wording (警察局, 新台幣, 警務處, no
  公安) resolves within Taiwan or Hong Kong, a mainland release within the mainland;
* every name is read at its own level: 长沙 and 长沙市 are the city, only 长沙县 is the county;
  河北 and 海南 are provinces, only 河北区 and 海南区 are districts;
* a name that is also an everyday word counts only with its suffix (公安县) and a mention of its
  city or province, or right before a bureau (开平公安分局);
* the **lead** decides: a district in the headline, else the first issuing body of the text (a
  county bureau → its district; a city bureau, 全市 or 我市 → the city, even when it then presents
  one district's case; a province's 公安厅 → the province; 公安部 → nothing);
* only when nothing leads do mentions vote by where they stand (headline > issuer > body).
"""

from __future__ import annotations

import functools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import chain, compress

from search import gazetteer
from search.analysis import common_place_words, segmenter, token_words
from search.clean import CleanedDocument
from search.gazetteer import Region
from search.memo import looked_up
from search.normalise import fold_text
from search.place_scope import Scope, in_scope, release_scope, within_scope

# Words after a place name that make it the issuing body: 九龙坡区公安分局, 郾城分局, 南岸警方.
_ISSUER_WORDS = (
    "公安局",
    "公安分局",
    "公安厅",
    "公安机关",
    "公安",
    "分局",
    "警方",
    "派出所",
    "警察局",
    "警察",
    "交巡警",
    "交警",
    "刑警",
    "特警",
    "边境管理",
    "禁毒",
    "区委",
    "县委",
    "市委",
    "省委",
    "区政府",
    "县政府",
    "市政府",
    "政府",
    "检察院",
    "法院",
)
_SUB_BUREAUS = ("分局", "警分局", "公安分局", "派出所")
_PROVINCE_BODIES = ("公安厅", "省委", "省政府", "人民政府", "政府", "检察院", "高级人民法院", "法院")
# A bureau's own name standing for its area: 我市 (the issuer's city), 全省, 公安部 (the nation).
_CITY_MARKERS = frozenset({"我市", "本市", "市公安局", "市局"})
_PROVINCE_MARKERS = frozenset({"我省", "本省", "省公安厅", "公安厅"})
_NATION_MARKERS = frozenset({"公安部", "国务院", "国新办"})
# A district body speaking of itself (区公安分局, 我县): the release is its district's.
_DISTRICT_MARKERS = frozenset({"我区", "本区", "我县", "本县", "区公安分局", "区公安局", "县公安局", "区委", "县委"})
# 全市 and 全省 often only frame a campaign (全省开展…以来，汉中市公安局…): they lead only when
# no bureau is named.
_WIDE_MARKERS = {"全市": "marker-city", "全省": "marker-province"}
# After a district's name these make it a street, a town or a landmark, not the district itself.
_NOT_THE_PLACE = re.compile(r"^(?:[东南西北中]?(?:大街|街|路|大道|巷|桥)|镇|乡|村|社区|小区|站|机场|大学|影剧院|公园)")
_WEIGHTS = {"title": 5.0, "issuer": 3.0, "site": 3.0, "body": 1.0}
_DOMINANT_SHARE = 0.5
# 公安部 leads a release as the subject of its paragraph (after a dateline): 据公安部网站消息
_SUBJECT_WORDS = 12
_SAME_PHRASE = 3  # words between 重庆市公安局 and 九龙坡区分局 that still make one issuer's name

# Reporters' names in brackets (中新社西双版纳5月17日电 (卫海林 黄远飞), (记者 王涛)) are no places.
_BYLINE_NAMES = re.compile(
    r"(?:(?<=电)\s*[(（][^()（）]{1,30}[)）]|[(（]\s*(?:本报)?(?:见习)?记者[^()（）]{0,30}[)）])"
)


@dataclass
class Mention:
    """One place name (or bureau marker) as it stands in the release."""

    order: int  # word position in the release
    segment: int  # which headline, crumb, byline or paragraph
    index: int  # word position in that segment
    kind: str  # title, site, issuer (a byline) or body
    level: str  # district, city, province, or marker-district / -city / -province / -nation
    regions: list[Region]
    issuer: bool = False  # a bureau's name follows: 商水县公安局, 开平公安分局
    suffixed: bool = True  # written whole (公安县), not as its short form (公安)
    common: bool = False  # also an everyday word
    resolved: Region | None = None


def extract_region(cleaned: CleanedDocument, title: str) -> Region | None:
    """The district a release is about; its city (or province) when it is city-wide or wider."""
    # a headline made up from the first sentence adds no evidence of its own (a real headline
    # repeated as the first paragraph still counts)
    first = cleaned.paragraphs[0] if cleaned.paragraphs else ""
    derived = first != title and first.startswith(title.rstrip("…"))
    segments = [] if derived else [(title, "title")]
    if cleaned.subtitle:
        segments.append((cleaned.subtitle, "title"))
    segments += [(crumb, "site") for crumb in cleaned.breadcrumbs]
    segments += [(byline, "issuer") for byline in cleaned.bylines]
    segments += [(paragraph, "body") for paragraph in cleaned.paragraphs]
    folded = [_BYLINE_NAMES.sub(" ", fold_text(text)) for text, _ in segments]
    worded = [(_place_words(text), kind) for text, (_, kind) in zip(folded, segments, strict=True)]
    scope = release_scope(" ".join(folded), [words for words, _ in worded])
    mentions = _mentions(worded, scope)
    cities, provinces = _context(mentions)
    for mention in mentions:
        mention.resolved = _resolve(mention, cities, provinces)
    region = _lead(mentions, cities, provinces)
    if region is _NATIONAL:
        return None
    if region is None:
        region = _vote(mentions, cities, provinces, scope)
    return within_scope(region, scope)


def _mentions(segments: list[tuple[list[str], str]], scope: Scope) -> list[Mention]:
    mentions: list[Mention] = []
    position = 0
    candidates = _candidate_words().__contains__
    for segment, (words, kind) in enumerate(segments):
        # only where _mention can find something: most words are no place and no marker
        for index in compress(range(len(words)), map(candidates, words)):
            word = words[index]
            following = words[index + 1 : index + 4]
            mention = _mention(word, following, kind, scope)
            if mention is not None:
                mention.order, mention.segment, mention.index = position + index, segment, index
                mentions.append(mention)
        position += len(words) + _SAME_PHRASE + 1
    return mentions


@functools.lru_cache(maxsize=1)
def _candidate_words() -> frozenset[str]:
    """Every word ``_mention`` can make a mention of: place names and bureau markers."""
    markers = _CITY_MARKERS | _PROVINCE_MARKERS | _NATION_MARKERS | _DISTRICT_MARKERS
    return gazetteer.load().name_set | markers | {"全国", "该县", "该区", "区", "县", "市", "省", *_WIDE_MARKERS}


# The words each jieba token gives ``_place_words``, cached: a corpus repeats its vocabulary
# endlessly. Cleared when full, so that memory stays bounded.
_TOKEN_WORDS: dict[str, tuple[str, ...]] = {}
_TOKEN_WORDS_LIMIT = 50_000


def _place_words(folded: str) -> list[str]:
    """The words of folded text (``analysis.word_texts``) with bureaus split off their places."""
    entries = looked_up(_TOKEN_WORDS, segmenter().cut(folded), _token_place_words, _TOKEN_WORDS_LIMIT)
    return list(chain.from_iterable(entries))


def _token_place_words(token: str) -> tuple[str, ...]:
    return tuple(_split_bureaus(list(token_words(token))))


def _split_bureaus(words: list[str]) -> list[str]:
    """重庆市公安局 is one word to jieba; read it as the place and its bureau."""
    places = gazetteer.load()
    split: list[str] = []
    for word in words:
        for issuer in ("公安局", "公安分局", "公安厅", "警方", "公安"):
            stem = word[: -len(issuer)]
            if word.endswith(issuer) and stem in places.name_set:
                split += [stem, issuer]
                break
        else:
            split.append(word)
    return split


def _mention(word: str, following: list[str], kind: str, scope: Scope) -> Mention | None:
    places = gazetteer.load()
    if word in _CITY_MARKERS:
        return Mention(0, 0, 0, kind, "marker-city", [], issuer=True)
    if word in _PROVINCE_MARKERS:
        return Mention(0, 0, 0, kind, "marker-province", [], issuer=True)
    if word in _NATION_MARKERS or (word == "全国" and following[:1] == ["公安机关"]):
        return Mention(0, 0, 0, kind, "marker-nation", [], issuer=True)
    after = "".join(following)
    if word in _DISTRICT_MARKERS or (word in ("该县", "该区") and after.startswith(_ISSUER_WORDS)):
        return Mention(0, 0, 0, kind, "marker-district", [], issuer=True)
    if word in ("区", "县") and following[:1] in (["公安局"], ["公安分局"]):
        return _mention(word + following[0], [], kind, scope)  # 区 公安分局 split by jieba
    if word in ("市", "省") and following[:1] in (["公安局"], ["公安厅"]):
        return _mention(word + following[0], [], kind, scope)  # 市 公安局 split by jieba
    if word in _WIDE_MARKERS:
        return Mention(0, 0, 0, kind, _WIDE_MARKERS[word], [], issuer=False)
    if word not in places.name_set:
        return None
    if _NOT_THE_PLACE.match(after):
        return None
    issuer = after.startswith(_ISSUER_WORDS) or (after[:1] in ("区", "县") and after[1:].startswith(_ISSUER_WORDS))
    if issuer and after.startswith("派出所") and word not in _full_names():
        issuer = False  # 金山派出所 is named after its town, not after a county
    if following and following[0] in ("区", "县") and word + following[0] in places.name_set:
        word = word + following[0]  # 河北 区 → 河北区
    city, province, districts = _named(word, scope)
    suffixed = bool(districts) and any(word == r.district for r in districts)
    if districts and (suffixed or (city is None and province is None)):
        common = word in common_place_words()
        if common and not suffixed and not (issuer and not _is_bureau_word(word)):
            return None  # 公安, 和平, 新华 as words
        return Mention(0, 0, 0, kind, "district", list(districts), issuer, suffixed, common)
    if city is not None:
        # 屏東東港警分局, 福州金山派出所: the city's sub-bureau, named after a town, is the city's
        issuer = issuer or "".join(following[1:]).startswith(_SUB_BUREAUS)
        return Mention(0, 0, 0, kind, "city", [city], issuer, suffixed=word == city.city)
    if province is not None:
        # 内蒙古警方 is any police in the region; only the province's own bodies issue for it
        issuer = after.startswith(_PROVINCE_BODIES)
        return Mention(0, 0, 0, kind, "province", [province], issuer, suffixed=word == province.province)
    return None


@functools.lru_cache(maxsize=65536)
def _named(word: str, scope: Scope) -> tuple[Region | None, Region | None, list[Region]]:
    """The city, province and districts a name means on the release's side (cached per name)."""
    places = gazetteer.load()
    city = next(iter(in_scope([r for r in [places.city_named(word)] if r], scope)), None)
    province = next(iter(in_scope([r for r in [places.province_named(word)] if r], scope)), None)
    return city, province, in_scope(places.districts_named(word), scope)


@functools.lru_cache(maxsize=1)
def _full_names() -> frozenset[str]:
    places = gazetteer.load()
    return frozenset({r.district for r in places.regions if r.district} | set(places.cities) | set(places.provinces))


def _is_bureau_word(word: str) -> bool:
    """公安 is the start of 公安分局: never a place before a bureau word."""
    return any(issuer.startswith(word) for issuer in _ISSUER_WORDS)


def _context(mentions: list[Mention]) -> tuple[Counter[str], Counter[str]]:
    """How often each city and province is named, directly or through one of its districts."""
    cities: Counter[str] = Counter()
    provinces: Counter[str] = Counter()
    for mention in mentions:
        if mention.level in ("city", "province") or (
            mention.level == "district" and len(mention.regions) == 1 and not mention.common
        ):
            region = mention.regions[0]
            if region.city:
                cities[region.city] += 1
            provinces[region.province] += 1
    return cities, provinces


def _resolve(mention: Mention, cities: Counter[str], provinces: Counter[str]) -> Region | None:
    """Which of a name's regions the release means, or None when it cannot tell."""
    if mention.level != "district":
        return mention.regions[0] if mention.regions else None
    own = 1 if len(mention.regions) == 1 and not mention.common else 0

    def support(region: Region) -> int:
        """Mentions of the region's city or province besides this one."""
        in_city = cities[region.city] - own if region.city else 0
        return in_city * 2 + provinces[region.province] - own

    candidates = mention.regions
    if len(candidates) > 1 and mention.issuer:
        # a 分局 serves an urban district: 开平公安分局 is 唐山's 开平区, not the county-level 开平市
        urban = [r for r in candidates if r.district and r.district.endswith("区")]
        candidates = urban or candidates
    best = max(candidates, key=support)
    if support(best) > 0:
        return best
    if mention.issuer and len(candidates) == 1 and not mention.suffixed:
        return best  # 开平公安分局: a bureau bears its district's name
    if mention.common or len(candidates) > 1:
        return None  # 城区 of which city? 江北区 of Chongqing or of Ningbo? Nothing says.
    if mention.kind == "body" and not mention.issuer and any(n for c, n in cities.items() if c != best.city):
        return None  # a lone look-alike among releases that name other cities
    return best


class _National:
    """The lead is the ministry: the release is national."""


_NATIONAL: Region = _National()  # type: ignore[assignment]


def _lead(mentions: list[Mention], cities: Counter[str], provinces: Counter[str]) -> Region | None:
    """What the headline or the issuing body says the release is about, if they say."""
    titled = [m.resolved for m in mentions if m.kind == "title" and m.level == "district" and m.resolved]
    if titled:
        return Counter(titled).most_common(1)[0][0]
    strong = [m for m in mentions if m.issuer and (m.resolved or m.level.startswith("marker"))]
    # 全市 leads where no bureau is named in its paragraph (统筹全市刑侦系统…)
    named_in = {m.segment for m in strong if m.level != "marker-nation"}
    weak = [m for m in mentions if not m.issuer and m.level.startswith("marker") and m.segment not in named_in]
    leads = sorted(strong + weak, key=lambda m: m.order)
    title_cities = [m.resolved for m in mentions if m.kind == "title" and m.level == "city" and m.resolved]
    for position, lead in enumerate(leads):
        if lead.kind == "title" and lead.level in ("city", "province"):
            continue  # 昆明禁毒大队…: the body may name the district bureau; else title_cities below
        if lead.level == "district":
            if title_cities and all(lead.resolved.city != city.city for city in title_cities):
                continue  # the headline's city leads; this bureau is another city's
            return lead.resolved
        if lead.level == "marker-district":
            district = _own_district(mentions)
            if district is not None:
                return district
            continue
        finer = _finer_in_phrase(lead, leads[position + 1 :])
        if finer is not None:
            return finer
        if lead.level == "marker-nation":
            if title_cities or lead.index > _SUBJECT_WORDS:
                continue  # 按照公安部部署, 公安部督办: the ministry in passing, not the issuer
            return _one_place_under_ministry(lead, mentions) or _NATIONAL
        if lead.level in ("city", "marker-city"):
            return _city_of(lead, mentions, cities)
        if lead.level in ("province", "marker-province"):
            region = _province_of(lead, provinces)
            if region is not None and any(city.province == region.province for city in title_cities):
                continue  # 全省… in a release whose headline names one of its cities
            return region
    if title_cities:
        return title_cities[0]
    return None


def _own_district(mentions: list[Mention]) -> Region | None:
    """The district a district body's release names most (its site, its bureau, its body)."""
    scores: Counter[Region] = Counter()
    for mention in mentions:
        if mention.level == "district" and mention.resolved is not None:
            scores[mention.resolved] += _WEIGHTS[mention.kind] + _WEIGHTS["issuer"] * mention.issuer
    return scores.most_common(1)[0][0] if scores else None


def _finer_in_phrase(lead: Mention, rest: list[Mention]) -> Region | None:
    """重庆市公安局九龙坡区分局: the district bureau right after its city's names the issuer."""
    for mention in rest:
        if mention.order - lead.order > _SAME_PHRASE:
            break
        finer = mention.level == "district" and mention.resolved is not None
        if finer and (lead.resolved is None or lead.resolved.province == mention.resolved.province):
            return mention.resolved
    return None


def _one_place_under_ministry(lead: Mention, mentions: list[Mention]) -> Region | None:
    """公安部 announced it, but its paragraph names one place's case (福建省泉州市、安溪县两级公安机关):
    the finest of that place's names, when they all lie in one another."""
    near = [m for m in mentions if m.segment in (lead.segment, lead.segment + 1) and m.order > lead.order]
    named = [m.resolved for m in near if m.resolved and (m.issuer or m.suffixed)]
    if len({region.province for region in named} | {m.resolved.province for m in near if m.level == "province"}) > 1:
        return None  # 公安部统一指挥河北、湖南等省公安机关: a national operation
    if not named:
        return None
    if len({region.city for region in named if region.city}) > 1:
        return None
    districts = {region for region in named if region.district}
    if len(districts) > 1:
        return None
    return next(iter(districts), None) or max(named, key=lambda region: region.city is not None)


def _city_of(lead: Mention, mentions: list[Mention], cities: Counter[str]) -> Region | None:
    places = gazetteer.load()
    if lead.resolved is not None:
        return lead.resolved
    # 我市 in a county-level city's release (辛集市公安局…我市民警) is that county-level city
    issuers = [m.resolved for m in mentions if m.issuer and m.level in ("district", "city") and m.resolved]
    if lead.level == "marker-city" and lead.issuer and issuers and (issuers[0].district or "").endswith("市"):
        return issuers[0]
    if cities:
        return places.city_named(cities.most_common(1)[0][0])
    return None


def _province_of(lead: Mention, provinces: Counter[str]) -> Region | None:
    if lead.resolved is not None:
        return lead.resolved
    if provinces:
        return gazetteer.load().province_named(provinces.most_common(1)[0][0])
    return None


def _vote(mentions: list[Mention], cities: Counter[str], provinces: Counter[str], scope: Scope) -> Region | None:
    """No lead: the district holding the headline or half the weight, else the most named city."""
    scores: defaultdict[Region, float] = defaultdict(float)
    for mention in mentions:
        if mention.level == "district" and mention.resolved is not None:
            scores[mention.resolved] += _WEIGHTS[mention.kind]
    if scores:
        best, best_score = max(scores.items(), key=lambda item: item[1])
        # a district named once in passing is no evidence, except in Hong Kong, where releases
        # name the district a case happened in and nothing finer
        # (where it names several, the release is about none of them)
        minimum = _WEIGHTS["body"] if scope == "hongkong" else _WEIGHTS["issuer"]
        share = 1.0 if scope == "hongkong" else _DOMINANT_SHARE
        if best_score >= share * sum(scores.values()) and best_score >= minimum:
            return best
    votes = Counter(cities)
    for region, score in scores.items():
        if region.city:
            votes[region.city] += score
    places = gazetteer.load()
    if votes:
        return places.city_named(votes.most_common(1)[0][0])
    if provinces:
        return places.province_named(provinces.most_common(1)[0][0])
    return None
