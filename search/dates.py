"""Calendar dates as releases and people write them."""

from __future__ import annotations

import datetime as dt
import re

from search.normalise import fold_text

_DATE_PATTERN = re.compile(
    r"(?<!\d)(\d{4})\s*(?:[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?!\d)|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日)"
)
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:\d{4,6})?$")


def parse_date(text: str | None) -> dt.date | None:
    """The first real calendar date in ``text`` (2025-02-21, 2018/12/26, 2025年2月21日, ISO 8601)."""
    if not text:
        return None
    text = fold_text(text)
    compact = _COMPACT_DATE.match(text.strip())
    candidates = [compact.groups()] if compact else []
    for match in _DATE_PATTERN.finditer(text):
        year, month, day = match.group(1), match.group(2) or match.group(4), match.group(3) or match.group(5)
        candidates.append((year, month, day))
    for year, month, day in candidates:
        try:
            parsed = dt.date(int(year), int(month), int(day))
        except ValueError:
            continue
        if 1949 <= parsed.year <= 2100:
            return parsed
    return None
