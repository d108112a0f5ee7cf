"""Calendar dates as releases and people write them.

Gregorian (2025-02-21, 2018/12/26, 2025年2月21日), and Taiwan's ROC calendar: 民國114年9月3日 and,
with three digits, 114年9月3日 or 114/09/03 (year + 1911). A date without its year (9月3日) or a
relative one (昨天) is read only against an anchor date from the same release: never a guessed year.
"""

from __future__ import annotations

import datetime as dt
import re

from search.normalise import fold_text

ROC_OFFSET = 1911
_DATE_PATTERN = re.compile(
    r"(?<!\d)(?P<roc>(?:中华)?民国\s*)?(?P<year>\d{4}|(?(roc)\d{1,3}|\d{3}))\s*"
    r"(?:[-/.]\s*(?P<month>\d{1,2})\s*[-/.]\s*(?P<day>\d{1,2})(?!\d)"
    r"|年\s*(?P<month_cn>\d{1,2})\s*月\s*(?P<day_cn>\d{1,2})\s*[日号])"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{4,6})?$")
_MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2, "前日": -2}
_RELATIVE = re.compile("|".join(_RELATIVE_DAYS))


def parse_date(text: str | None, anchor: dt.date | None = None) -> dt.date | None:
    """The first real calendar date in ``text``; with ``anchor``, also a month and day (in the
    anchor's year, or the year before when that would put it more than a month after the anchor)
    or 今天/昨天/前天 relative to it."""
    if not text:
        return None
    text = fold_text(text)
    compact = _COMPACT_DATE.match(text.strip())
    candidates = [tuple(int(group) for group in compact.groups())] if compact else []
    for match in _DATE_PATTERN.finditer(text):
        year = int(match["year"])
        if len(match["year"]) < 4:
            year += ROC_OFFSET
        candidates.append((year, int(match["month"] or match["month_cn"]), int(match["day"] or match["day_cn"])))
    for year, month, day in candidates:
        parsed = _real_date(year, month, day)
        if parsed is not None and 1949 <= parsed.year <= 2100:
            return parsed
    if anchor is None:
        return None
    return _partial_date(text, anchor)


def _real_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _partial_date(folded: str, anchor: dt.date) -> dt.date | None:
    month_day = _MONTH_DAY.search(folded)
    relative = _RELATIVE.search(folded)
    if month_day and (relative is None or month_day.start() < relative.start()):
        month, day = int(month_day.group(1)), int(month_day.group(2))
        for year in (anchor.year, anchor.year - 1):
            parsed = _real_date(year, month, day)
            if parsed is not None and parsed <= anchor + dt.timedelta(days=31):
                return parsed
        return None
    if relative:
        return anchor + dt.timedelta(days=_RELATIVE_DAYS[relative.group()])
    return None


def first_full_date(texts: list[str]) -> dt.date | None:
    """The first complete date written in ``texts``: the anchor for partial dates of a release."""
    for text in texts:
        found = parse_date(text)
        if found is not None:
            return found
    return None
