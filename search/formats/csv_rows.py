"""CSV: every match of a search, one release per row (``search.formats.rows``), streamed.

UTF-8 with a byte-order mark, so that spreadsheet programs (Excel above all) read the Chinese as
UTF-8 rather than the system's code page; crime types are joined with ``;``. Releases are text
from other people's websites: a cell that a spreadsheet would take for a formula (starting with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return) is written after an apostrophe, which
spreadsheets show as text (OWASP's advice on CSV injection). JSON lines keep every value as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from search.formats import EVERY, Format, Output, register
from search.formats.rows import COLUMNS, row

BOM = "\ufeff"
LIST_SEPARATOR = ";"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A value as a cell a spreadsheet shows as text (``None``: empty)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render(output: Output) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # excel dialect: quoted where needed, \r\n line ends (RFC 4180)

    def flushed() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield BOM + flushed()
    for hit in output.hits:
        values = row(hit, output.link)
        values["crime_types"] = LIST_SEPARATOR.join(values["crime_types"])
        writer.writerow([cell(values[column]) for column in COLUMNS])
        yield flushed()


register(
    Format(
        "csv",
        "text/csv",
        "csv",
        EVERY,
        render,
        "every matching release, one row each (the columns of jsonl; crime types joined by ;), UTF-8 with BOM",
    )
)
