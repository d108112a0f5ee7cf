"""Extract stage: title, publish date, source outlet, region and reported year of a cleaned release."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from search import gazetteer
from search.analysis import common_place_words, word_texts
from search.clean import CleanedDocument
from search.dates import ROC_OFFSET, first_full_date, parse_date
from search.gazetteer import Region
from search.headline import derive_headline
from search.normalise import fold_text

_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|全年)")
# Taiwan's ROC years: 民國113年, or three digits before 年度 (113年度治安成果)
_ROC_YEAR_IN_TEXT = re.compile(r"(?:(?:中华)?民国\s*(\d{1,3})\s*年|(?<!\d)(1\d{2})\s*年度)")
_TITLE_MAX = 40
# Words after a place name that mark the issuing body: 九龙坡区公安分局, 郾城分局, 南岸警方.
_ISSUER_WORDS = (
    "公安局",
    "公安分局",
    "分局",
    "警方",
    "公安",
    "派出所",
    "区委",
    "县委",
    "市委",
    "区政府",
    "县政府",
    "政府",
    "警察局",
    "交巡警",
    "刑警",
    "检察院",
    "法院",
)
_CITYWIDE_TITLE = re.compile(r"我市|全市|本市|市公安局(?!.{0,6}分局)")
_WEIGHTS = {"title": 5.0, "issuer": 3.0, "site": 3.0, "body": 1.0}
_DOMINANT_SHARE = 0.5


@dataclass
class Release:
    """A release ready for indexing: what the reader sees plus the facets."""

    path: Path
    checksum: str
    encoding: str
    title: str
    title_inferred: bool
    date: dt.date | None
    source: str | None
    region: Region | None
    report_year: int | None
    paragraphs: list[str]
    subtitle: str | None = None
    warnings: list[str] = field(default_factory=list)
    # photo captions: not part of the text a reader is shown, but what they name is searchable
    captions: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @property
    def district(self) -> str | None:
        return self.region.district if self.region else None

    @property
    def city(self) -> str | None:
        return self.region.city if self.region else None

    @property
    def province(self) -> str | None:
        return self.region.province if self.region else None


def _title(cleaned: CleanedDocument) -> tuple[str, bool]:
    if cleaned.headline:
        return cleaned.headline, False
    if cleaned.raw.html_title:
        return cleaned.raw.html_title, False
    return derive_headline(cleaned.paragraphs, fallback=cleaned.raw.path.stem, limit=_TITLE_MAX), True


def _report_year(title: str, paragraphs: list[str]) -> int | None:
    """The year a release reports on: named anywhere in its headline, or opening its first paragraph."""
    return _year_in(fold_text(title), anywhere=True) or (
        _year_in(fold_text(paragraphs[0]), anywhere=False) if paragraphs else None
    )


def _year_in(folded: str, anywhere: bool) -> int | None:
    find = re.search if anywhere else re.match
    if match := find(_YEAR_IN_TEXT, folded):
        return int(match.group(1))
    if roc := find(_ROC_YEAR_IN_TEXT, folded):
        return int(roc.group(1) or roc.group(2)) + ROC_OFFSET
    return None


@dataclass
class _Mention:
    regions: list[Region]
    weight_kind: str
    common_word: bool


def _is_common_word(name: str) -> bool:
    """A place name that is also everyday vocabulary (和平, 江北, 城区)."""
    stem = name[:-1] if name[-1] in "区县市旗" else name
    if len(stem) < 2:
        return True
    return name in common_place_words()


def _mentions(segments: list[tuple[str, str]]) -> tuple[list[_Mention], Counter[str], Counter[str]]:
    places = gazetteer.load()
    mentions: list[_Mention] = []
    city_context: Counter[str] = Counter()
    province_context: Counter[str] = Counter()
    known = places.name_set
    for text, kind in segments:
        words = word_texts(fold_text(text))
        for index, word in enumerate(words):
            if word not in known:
                continue
            following = words[index + 1] if index + 1 < len(words) else ""
            following_two = following + (words[index + 2] if index + 2 < len(words) else "")
            regions = places.districts_named(word)
            if regions:
                issuer = kind == "body" and any(
                    following_two.startswith(w) or (following in ("区", "县") and following_two[1:].startswith(w))
                    for w in _ISSUER_WORDS
                )
                mentions.append(_Mention(regions, "issuer" if issuer else kind, _is_common_word(word)))
                continue
            city = places.city_named(word)
            if city is not None:
                city_context[city.city] += 1
                province_context[city.province] += 1
                continue
            province = places.province_named(word)
            if province is not None:
                province_context[province.province] += 1
    for mention in mentions:
        if len(mention.regions) == 1 and not mention.common_word:
            region = mention.regions[0]
            if region.city:
                city_context[region.city] += 1
            province_context[region.province] += 1
    return mentions, city_context, province_context


def _resolve(mention: _Mention, cities: Counter[str], provinces: Counter[str]) -> Region | None:
    def context(region: Region) -> int:
        return cities[region.city] * 2 + provinces[region.province] if region.city else provinces[region.province]

    best = max(mention.regions, key=context)
    if len(mention.regions) > 1 and context(best) == 0:
        return None  # 江北区 of Chongqing or of Ningbo? Nothing in the release says.
    if mention.common_word and mention.weight_kind == "body" and context(best) == 0:
        return None
    return best


def extract_region(cleaned: CleanedDocument, title: str) -> Region | None:
    """The district a release is about; the city (or province) when it is citywide.

    Mentions count by where they stand (headline > issuing bureau / site > body); the top district
    wins when the headline names it or it holds at least half the weight, otherwise the release
    is about its city as a whole.
    """
    segments = [(title, "title")]
    if cleaned.subtitle:
        segments.append((cleaned.subtitle, "title"))
    segments += [(crumb, "site") for crumb in cleaned.breadcrumbs]
    segments += [(byline, "issuer") for byline in cleaned.bylines]
    segments += [(paragraph, "body") for paragraph in cleaned.paragraphs]
    mentions, cities, provinces = _mentions(segments)

    scores: defaultdict[Region, float] = defaultdict(float)
    titled: set[Region] = set()
    for mention in mentions:
        region = _resolve(mention, cities, provinces)
        if region is None:
            continue
        scores[region] += _WEIGHTS[mention.weight_kind]
        if mention.weight_kind == "title":
            titled.add(region)

    headline_text = fold_text(" ".join(text for text, kind in segments if kind == "title"))
    citywide = not titled and bool(_CITYWIDE_TITLE.search(headline_text))
    if scores and not citywide:
        best, best_score = max(scores.items(), key=lambda item: item[1])
        if best in titled or best_score >= _DOMINANT_SHARE * sum(scores.values()):
            return best

    for region, score in scores.items():
        if region.city:
            cities[region.city] += score
        provinces[region.province] += score
    places = gazetteer.load()
    if cities:
        city_name = cities.most_common(1)[0][0]
        return places.city_named(city_name)
    if provinces:
        return places.province_named(provinces.most_common(1)[0][0])
    return None


def _publish_date(cleaned: CleanedDocument, title: str) -> dt.date | None:
    """The header's date, the page's date meta tag, or a date line; a header date written without
    its year (9月3日) takes the year of the first full date the release itself mentions."""
    written = cleaned.header.get("date"), cleaned.raw.html_date, cleaned.date_line
    for text in written:
        found = parse_date(text)
        if found is not None:
            return found
    partial = [text for text in written if text]
    if not partial:
        return None
    anchor = first_full_date([title, *cleaned.paragraphs])
    return parse_date(partial[0], anchor=anchor) if anchor else None


def extract(cleaned: CleanedDocument) -> Release:
    title, inferred = _title(cleaned)
    raw = cleaned.raw
    date = _publish_date(cleaned, title)
    source = cleaned.header.get("source") or raw.html_source
    return Release(
        path=raw.path,
        checksum=raw.checksum,
        encoding=raw.encoding,
        title=title,
        title_inferred=inferred,
        date=date,
        source=source.strip() if source else None,
        region=extract_region(cleaned, title),
        report_year=_report_year(title, cleaned.paragraphs),
        paragraphs=cleaned.paragraphs,
        subtitle=cleaned.subtitle,
        warnings=list(raw.warnings),
        captions=list(cleaned.captions),
    )
