"""The CLI's output side: the options every result-printing command shares (sqlite-utils'
``output_options``), choosing the format, and writing rendered chunks as they come."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable

import click

from search.formats import FORMATS

EXIT_USAGE = 2


def fail_usage(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def output_options(command: Callable[..., None]) -> Callable[..., None]:
    """``--format`` (every format of search.formats), ``--json`` (its alias for json) and ``--base-url``:
    the output options of a command that prints results, declared once (sqlite-utils' ``output_options``)."""
    decorators = [
        click.option(
            "--format",
            "output_format",
            type=click.Choice(list(FORMATS)),
            default=None,
            help="; ".join(f"{name}: {format_.summary}" for name, format_ in FORMATS.items()),
        ),
        click.option("--json", "as_json", is_flag=True, help="The same as --format json."),
        click.option(
            "--base-url",
            metavar="URL",
            default="",
            help="The site's address (https://example.org) for the document links of csv, jsonl and atom "
            "(default: /doc/ID).",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


def chosen_format(output_format: str | None, as_json: bool) -> str:
    if as_json and output_format not in (None, "json"):
        fail_usage(f"--json is --format json: it cannot go with --format {output_format}")
    return "json" if as_json else output_format or "text"


def write_chunks(chunks: Iterable[str], name: str, colour: bool) -> None:
    """Write rendered output as it comes (a download of every release is never held whole); a
    reader that stops early (``| head``) ends the command quietly."""
    try:
        if name == "text":
            for chunk in chunks:
                click.echo(chunk, nl=False, color=colour)
            return
        out = click.get_binary_stream("stdout")
        for chunk in chunks:
            out.write(chunk.encode("utf-8"))
        out.flush()
    except BrokenPipeError:
        # nothing more can be written; keep Python from complaining when it flushes stdout at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
