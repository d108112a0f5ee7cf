"""Calendar dates as releases and people write them.

Gregorian (2025-02-21, 2018/12/26, 2025年2月21日, the malformed 2021月06月15日, day.month.year
17.02.2023, 二〇二三年二月二十八日), and Taiwan's ROC calendar: 民國114年9月3日 and, with three
digits, 114年9月3日 or 114/09/03 (year + 1911). A date without its year (9月3日) or a relative one
(昨天) is read only against an anchor date from the same release: never a guessed year.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from search.normalise import fold_text

ROC_OFFSET = 1911
_FIRST_YEAR, _LAST_YEAR = 1949, 2100
# year first: 2025-02-21, 2025/2/21, 2025.02.21, 2025年2月21日, 2021月06月15日 (a typo seen on real
# pages), 民国114年9月3日; three-digit (ROC) years only with / . or 年, as Taiwan writes them
_YEAR_FIRST = re.compile(
    r"(?<![\d.])(?P<roc>(?:中华)?民国\s*)?"
    r"(?:(?P<year>\d{4}|(?(roc)\d{1,3}|\d{3}(?=\s*[/.年])))\s*"
    r"(?:(?P<sep>[-/.])\s*(?P<month>\d{1,2})\s*(?P=sep)\s*(?P<day>\d{1,2})(?!\d|\.\d)"
    r"|(?:年|(?<=\d{4})月)\s*(?P<month_cn>\d{1,2})\s*月\s*(?P<day_cn>\d{1,2})\s*[日号]))"
)
# day first, as aggregator pages print it: 17.02.2023, and 25/12/2015 where the order is unambiguous
_DAY_FIRST = re.compile(r"(?<![\d.])(?P<a>\d{1,2})(?P<sep>[./])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4})(?![\d.])")
_CN_DIGITS = {"〇": 0, "零": 0, "○": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = "[一二三四五六七八九十]{1,3}"
_CN_DATE = re.compile(
    rf"(?P<year>[〇零○一二三四五六七八九]{{4}})年(?P<month>{_CN_NUMBER})月(?P<day>{_CN_NUMBER})[日号]"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{4,6})?$")
_MONTH_DAY = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "昨天": -1, "昨日": -1, "前天": -2, "前日": -2}
_RELATIVE = re.compile("|".join(_RELATIVE_DAYS))


@dataclass(frozen=True)
class DateMention:
    """A complete calendar date written in a (folded) text, and where it stands."""

    date: dt.date
    start: int
    end: int


def full_dates(folded: str) -> list[DateMention]:
    """Every complete, real date written in ``folded`` (a text passed through ``fold_text``), in
    reading order."""
    found: list[DateMention] = []
    for match in _YEAR_FIRST.finditer(folded):
        year = int(match["year"])
        if len(match["year"]) < 4:
            year += ROC_OFFSET
        month, day = int(match["month"] or match["month_cn"]), int(match["day"] or match["day_cn"])
        _add(found, _real_date(year, month, day), match)
    for match in _DAY_FIRST.finditer(folded):
        first, second, year = int(match["a"]), int(match["b"]), int(match["year"])
        if match["sep"] == "/" and first <= 12 and second <= 12:
            continue  # 03/04/2023: March or April, nobody can tell
        day, month = (second, first) if match["sep"] == "/" and second > 12 else (first, second)
        _add(found, _real_date(year, month, day), match)
    for match in _CN_DATE.finditer(folded):
        year = int("".join(str(_CN_DIGITS[char]) for char in match["year"]))
        _add(found, _real_date(year, _cn_number(match["month"]), _cn_number(match["day"])), match)
    return sorted(found, key=lambda mention: mention.start)


def _add(found: list[DateMention], date: dt.date | None, match: re.Match[str]) -> None:
    if date is not None and _FIRST_YEAR <= date.year <= _LAST_YEAR:
        found.append(DateMention(date, match.start(), match.end()))


def _cn_number(text: str) -> int:
    """一 … 三十一 written in Chinese numerals; 0 (never a month or a day) for anything else."""
    tens, ten, units = text.partition("十")
    if not ten:
        return _CN_DIGITS[text] if len(text) == 1 else 0
    if "十" in units or len(tens) > 1 or len(units) > 1:
        return 0
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0)


def parse_date(text: str | None, anchor: dt.date | None = None) -> dt.date | None:
    """The first real calendar date in ``text``; with ``anchor``, also a month and day (in the
    anchor's year, or the year before when that would put it more than a month after the anchor)
    or 今天/昨天/前天 relative to it."""
    if not text:
        return None
    text = fold_text(text)
    compact = _COMPACT_DATE.match(text.strip())
    if compact:
        parsed = _real_date(*(int(group) for group in compact.groups()))
        if parsed is not None and _FIRST_YEAR <= parsed.year <= _LAST_YEAR:
            return parsed
    mentions = full_dates(text)
    if mentions:
        return mentions[0].date
    if anchor is None:
        return None
    return _partial_date(text, anchor)


def _real_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def month_days(folded: str) -> list[tuple[int, int, int, int]]:
    """Month-and-day dates without a year (9月3日): (month, day, start, end) each."""
    return [
        (int(match.group(1)), int(match.group(2)), match.start(), match.end()) for match in _MONTH_DAY.finditer(folded)
    ]


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
