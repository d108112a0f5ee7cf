"""Extract stage: title, publish date, source outlet, region and reported year of a cleaned release."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from search.clean import CleanedDocument
from search.crime_types import classify as crime_types_of
from search.dates import ROC_OFFSET
from search.gazetteer import Region
from search.headline import derive_headline
from search.normalise import fold_text
from search.places import extract_region
from search.publish_date import publish_date

_YEAR_IN_TEXT = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*(?:年|全年)")
# Taiwan's ROC years: 民國113年, or three digits before 年度 (113年度治安成果)
_ROC_YEAR_IN_TEXT = re.compile(r"(?:(?:中华)?民国\s*(\d{1,3})\s*年|(?<!\d)(1\d{2})\s*年度)")
_TITLE_MAX = 40


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
    # which rule of search.publish_date gave the date (None when undated)
    date_rule: str | None = None
    warnings: list[str] = field(default_factory=list)
    # photo captions: not part of the text a reader is shown, but what they name is searchable
    captions: list[str] = field(default_factory=list)
    crime_types: list[str] = field(default_factory=list)

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


def extract(cleaned: CleanedDocument) -> Release:
    title, inferred = _title(cleaned)
    raw = cleaned.raw
    published = publish_date(cleaned)
    source = cleaned.header.get("source") or raw.html_source
    return Release(
        path=raw.path,
        checksum=raw.checksum,
        encoding=raw.encoding,
        title=title,
        title_inferred=inferred,
        date=published.date,
        date_rule=published.rule,
        source=source.strip() if source else None,
        region=extract_region(cleaned, title),
        report_year=_report_year(title, cleaned.paragraphs),
        paragraphs=cleaned.paragraphs,
        subtitle=cleaned.subtitle,
        warnings=list(raw.warnings),
        captions=list(cleaned.captions),
        crime_types=crime_types_of(title, cleaned.paragraphs),
    )
