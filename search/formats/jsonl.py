"""JSON lines: one release per line (``search.formats.rows``), every match of a search, streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator

from search.formats import EVERY, Format, Output, register
from search.formats.rows import row


def render(output: Output) -> Iterator[str]:
    for hit in output.hits:
        yield json.dumps(row(hit, output.link), ensure_ascii=False) + "\n"


register(
    Format(
        "jsonl",
        "application/x-ndjson",
        "jsonl",
        EVERY,
        render,
        "every matching release, one JSON object per line (id, title, date, place, source, crime types, "
        "story, link, snippet as text)",
    )
)
