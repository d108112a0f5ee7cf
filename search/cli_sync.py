"""The CLI's indexing side: ``index``/``reindex`` (and the first build a query or ``serve`` starts)
run a sync with a progress bar on a terminal and report what it did, or why it failed, in words or
JSON, with the exit codes scripts test."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from search.formats.text import printable as _printable
from search.index import (
    IndexBusyError,
    IndexUnavailableError,
    WriterFailedError,
    default_samples_dir,
    index_exists,
)

if TYPE_CHECKING:
    from search.sync import SyncReport

EXIT_NOTHING_INDEXED = 1
EXIT_BUSY = 3
# Another process may be building the first index right now; wait for it rather than fail.
FIRST_BUILD_WAIT = 600.0


class _TerminalProgress:
    """A tqdm bar on stderr (a ``search.sync.Progress``)."""

    def __init__(self) -> None:
        self.bar = None

    def start(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="file", desc="indexing", file=sys.stderr, leave=False)

    def advance(self, path: Path) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def run_sync(
    index_dir: Path,
    paths: list[Path],
    *,
    full_rebuild: bool = False,
    show_progress: bool = True,
    wait: float = 0.0,
) -> SyncReport:
    """Sync or rebuild, with a progress bar when a person is watching a terminal."""
    # Imported here: the indexing pipeline (HTML parser, extractors) is not needed to query.
    from search.sync import rebuild, sync

    progress = _TerminalProgress() if show_progress and sys.stderr.isatty() else None
    try:
        if full_rebuild:
            return rebuild(index_dir, paths, progress, wait=wait)
        return sync(index_dir, paths, progress, wait=wait)
    finally:
        if progress is not None:
            progress.close()


def sync_and_report(index_dir: Path, paths: list[Path], full_rebuild: bool, as_json: bool, wait: float) -> None:
    try:
        report = run_sync(index_dir, paths, full_rebuild=full_rebuild, show_progress=not as_json, wait=wait)
    except IndexBusyError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(EXIT_BUSY)
    except IndexUnavailableError as error:
        raise click.ClickException(str(error)) from None
    except (WriterFailedError, OSError) as error:  # a dead writer process, a full or read-only disk
        raise click.ClickException(f"indexing failed, nothing was changed: {error}") from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        click.echo(summary(report))
    if report.nothing_indexable:
        if report.files:
            click.echo(f"Error: none of the {report.files} files could be indexed", err=True)
        elif report.unsupported:
            click.echo("Error: no file of a type that is read (.txt, .html) was given", err=True)
        else:
            click.echo("Error: nothing to search: no release files (.txt, .html) were found", err=True)
        sys.exit(EXIT_NOTHING_INDEXED)


def summary(report: SyncReport) -> str:
    lines = [
        f"indexed {report.added} new, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged, {len(report.skipped)} skipped, "
        f"{len(report.unsupported)} not taken (unsupported type) "
        f"in {report.seconds:.1f}s; the index holds {report.documents} documents"
    ]
    if not report.changed:
        lines.append("nothing changed")
    for skipped in report.skipped:
        lines.append(f"  skipped {_printable(skipped.path)}: {skipped.reason}")
    for unsupported in report.unsupported:
        lines.append(f"  not taken {_printable(unsupported.path)}: {unsupported.reason}")
    for warning in report.warnings:
        lines.append(f"  warning {_printable(warning.path)}: {warning.reason}")
    return "\n".join(lines)


def ensure_index(index_dir: Path, quiet: bool = False) -> None:
    """Build the index from the bundled samples when there is none yet, and say so."""
    try:
        if index_exists(index_dir):
            return
    except IndexUnavailableError as error:  # damaged, not absent: never build samples into it
        raise click.ClickException(str(error)) from None
    samples = default_samples_dir()
    if not samples.is_dir():
        raise click.ClickException(f"no index in {index_dir} and no samples/ folder to build one from")
    click.echo(f"No index in {index_dir} yet: building it from {samples} first.", err=True)
    try:
        report = run_sync(index_dir, [samples], show_progress=not quiet, wait=FIRST_BUILD_WAIT)
    except IndexBusyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(summary(report), err=True)
