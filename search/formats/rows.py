"""The columns of one release in a download (CSV and JSON lines share them): metadata, a link to its
page (never a path on the server) and the snippet as plain text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from search.query import Hit

COLUMNS = ("id", "title", "date", "province", "city", "district", "source", "crime_types", "story", "link", "snippet")


def row(hit: Hit, link: Callable[[str], str]) -> dict[str, Any]:
    """``{column: value}`` of one hit; ``crime_types`` is a list (CSV joins it)."""
    return {
        "id": hit.id,
        "title": hit.title,
        "date": hit.date,
        "province": hit.province,
        "city": hit.city,
        "district": hit.district,
        "source": hit.source,
        "crime_types": list(hit.crime_types),
        "story": hit.story,
        "link": link(hit.id),
        "snippet": hit.snippet.text,
    }
