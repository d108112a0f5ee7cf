"""Request parameters → query API arguments, with a clear message for anything malformed."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from werkzeug.datastructures import MultiDict

from search.facet_registry import FACETS
from search.query import MAX_PAGE, MAX_PER_PAGE, SORTS

_WHOLE_NUMBER = re.compile(r"\d{1,9}")
# what people type in a date box: 2024-1-31, 2024/01/31, 2024.1.31, 2024年1月31日
_TYPED_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_SEARCH_PARAMS = ("q", "district", "from", "to", "sort", "page", "per_page", "undated")


def known() -> tuple[str, ...]:
    """Every search parameter: the search's own and one per registered facet."""
    return (*_SEARCH_PARAMS, *FACETS.params, "collapse")


class ParamError(ValueError):
    pass


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    district: str = ""
    date_from: str = ""
    date_to: str = ""
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    include_undated: bool = False  # undated=1: a date filter keeps releases without a date
    # the facet filters of search.facet_registry, by parameter name (``params.crime`` reads one)
    filters: dict[str, str] = field(default_factory=dict)
    collapse: bool = True  # copies of one release as one hit

    def __getattr__(self, name: str) -> str:
        # only reached for names that are not fields: a registered facet's parameter
        if name in FACETS.params:
            return self.filters.get(name, "")
        raise AttributeError(name)

    def engine_kwargs(self) -> dict[str, Any]:
        return {
            "q": self.q,
            "district": self.district or None,
            "date_from": self.date_from or None,
            "date_to": self.date_to or None,
            "sort": self.sort,
            "page": self.page,
            "per_page": self.per_page,
            "include_undated": self.include_undated,
            **{param: self.filters.get(param) or None for param in FACETS.params},
            "collapse": self.collapse,
        }

    def url_args(self, default_per_page: int = 10, **changes: Any) -> dict[str, Any]:
        """Query-string arguments for a link: current filters with ``changes``; back to page 1
        unless the change is the page itself."""
        if "page" not in changes:
            changes["page"] = 1
        chosen = {**self.filters, **{param: changes.pop(param) for param in FACETS.params if param in changes}}
        values = asdict(replace(self, **changes, filters=chosen))
        args = {
            "q": values["q"],
            "district": values["district"],
            "from": values["date_from"],
            "to": values["date_to"],
            "sort": values["sort"] if values["sort"] != "relevance" else "",
            "page": values["page"] if values["page"] != 1 else "",
            "per_page": values["per_page"] if values["per_page"] != default_per_page else "",
            "undated": 1 if values["include_undated"] else "",
            **{param: values["filters"].get(param, "") for param in FACETS.params},
            "collapse": "" if values["collapse"] else "0",
        }
        return {name: value for name, value in args.items() if value not in ("", None)}

    @property
    def has_filters(self) -> bool:
        return bool(self.district or self.date_from or self.date_to or any(self.filters.values()))

    @property
    def cleared_filters(self) -> dict[str, str]:
        """``link`` changes that clear every facet filter."""
        return dict.fromkeys(FACETS.params, "")

    @property
    def has_date_filter(self) -> bool:
        return bool(self.date_from or self.date_to)

    @property
    def chosen_year(self) -> int | None:
        """The year when the date filter spans exactly one calendar year or one of its months."""
        start, end = _date_or_none(self.date_from), _date_or_none(self.date_to)
        if start and end and start.year == end.year:
            return start.year
        return None


def _date_or_none(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def year_range(year: int) -> tuple[str, str]:
    return f"{year:04d}-01-01", f"{year:04d}-12-31"


def month_range(month: str) -> tuple[str, str]:
    year, number = (int(part) for part in month.split("-"))
    last = calendar.monthrange(year, number)[1]
    return f"{year:04d}-{number:02d}-01", f"{year:04d}-{number:02d}-{last:02d}"


def _single(args: MultiDict, name: str) -> str:
    values = args.getlist(name)
    if len(set(values)) > 1:
        raise ParamError(f"parameter '{name}' was given more than once with different values")
    value = values[0] if values else ""
    if any(not char.isprintable() for char in value if char not in "\t "):
        value = "".join(char if char.isprintable() else " " for char in value)
    return value.strip()


def _iso_date(typed: str) -> str:
    """A typed date as YYYY-MM-DD; anything else as typed (the engine then says what is wrong)."""
    match = _TYPED_DATE.fullmatch(typed)
    if not match:
        return typed
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _whole_number(args: MultiDict, name: str, default: int, low: int, high: int) -> int:
    raw = _single(args, name)
    if not raw:
        return default
    if not _WHOLE_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise ParamError(f"{name} must be a whole number from {low} to {high}, not {raw!r}")
    return int(raw)


def parse(args: MultiDict, default_per_page: int = 10) -> SearchParams:
    sort = _single(args, "sort") or "relevance"
    if sort not in SORTS:
        raise ParamError(f"sort must be one of {', '.join(SORTS)}, not {sort!r}")
    return SearchParams(
        q=_single(args, "q"),
        district=_single(args, "district"),
        date_from=_iso_date(_single(args, "from")),
        date_to=_iso_date(_single(args, "to")),
        sort=sort,
        page=_whole_number(args, "page", 1, 1, MAX_PAGE),
        per_page=_whole_number(args, "per_page", default_per_page, 1, MAX_PER_PAGE),
        include_undated=bool(_whole_number(args, "undated", 0, 0, 1)),
        filters={param: value for param in FACETS.params if (value := _single(args, param))},
        collapse=_collapse(args),
    )


def _collapse(args: MultiDict) -> bool:
    raw = _single(args, "collapse")
    if raw not in ("", "0", "1"):
        raise ParamError(f"collapse must be 0 (every copy) or 1 (copies of one release as one hit), not {raw!r}")
    return raw != "0"
