"""``police-search``: index releases, query them, show one, print statistics, serve the web UI.

Every command takes ``--json`` for scripts; errors go to stderr with exit code 2 for bad usage or a
malformed query.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from search.cli_output import chosen_format, fail_usage, output_options, write_chunks
from search.cli_sync import ensure_index, sync_and_report
from search.facet_registry import FACETS
from search.formats import EVERY, relative_link
from search.formats.json_document import hit_document
from search.formats.produce import produce
from search.formats.text import printable as _printable
from search.formats.text import types_and_copies
from search.index import (
    FOLLOW_SYMLINKS_ENV,
    IndexUnavailableError,
    default_index_dir,
    default_samples_dir,
)
from search.query import MAX_PER_PAGE, SORTS, Document, Hit, QueryError, SearchEngine

# Threads per serving process (``serve --threads``): one process alone needs threads to serve
# requests side by side; with a process per core, the other processes do that, and a second thread
# in a CPU-bound process only costs hand-offs of the interpreter (bench/concurrency.py). A long
# download then holds its worker: serve many downloads with --threads 2 or more.
SINGLE_PROCESS_THREADS = 4
WORKER_THREADS = 1


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


class _Context:
    def __init__(self, index_dir: Path):
        self.index_dir = index_dir
        self._engine: SearchEngine | None = None

    @property
    def engine(self) -> SearchEngine:
        if self._engine is None:
            self._engine = SearchEngine(self.index_dir)
        return self._engine


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="POLICE_SEARCH_INDEX",
    default=None,
    help="Index directory (default: index/ in the project, or $POLICE_SEARCH_INDEX).",
)
@click.version_option(package_name="police-search")
@click.pass_context
def main(ctx: click.Context, index_dir: Path | None) -> None:
    """Full-text search over Chinese police press releases."""
    ctx.obj = _Context(index_dir or default_index_dir())


def _set_index_dir(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.find_object(_Context).index_dir = value


# ``--index`` is taken after the command too (``police-search query 诈骗 --index DIR``), as most CLIs do
_index_after_command = click.option(
    "--index",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    expose_value=False,
    callback=_set_index_dir,
    help="Index directory (same as --index before the command).",
)


def _sync_options(command: Callable[..., None]) -> Callable[..., None]:
    """The arguments ``index`` and ``reindex`` share."""
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
        click.option(
            "--rebuild", "full_rebuild", is_flag=True, help="Build a fresh index beside the live one, swap it in."
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON line."),
        click.option(
            "--wait",
            type=click.FloatRange(min=0),
            default=0.0,
            show_default=True,
            help="Seconds to wait for another writer to finish before giving up (exit code 3).",
        ),
        _index_after_command,
        click.option(
            "--follow-symlinks",
            is_flag=True,
            expose_value=False,  # read by search.sync from the environment (cron can set it too)
            callback=lambda _ctx, _param, value: value and os.environ.__setitem__(FOLLOW_SYMLINKS_ENV, "1"),
            help="Also index files that symlinks in a source folder point to outside it (refused by default).",
        ),
        click.pass_obj,
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


@main.command("index")
@_sync_options
def index_command(obj: _Context, paths: tuple[Path, ...], full_rebuild: bool, as_json: bool, wait: float) -> None:
    """Sync PATHS (files or folders; default samples/) into the index.

    New files are added, changed ones (by content checksum) updated and deleted ones removed.
    Files that cannot be read are skipped and listed.
    """
    sync_and_report(obj.index_dir, list(paths) or [default_samples_dir()], full_rebuild, as_json, wait)


@main.command("reindex")
@_sync_options
def reindex_command(obj: _Context, paths: tuple[Path, ...], full_rebuild: bool, as_json: bool, wait: float) -> None:
    """Bring the index up to date with its source folders (or PATHS); for cron and timers.

    Adds new files, updates changed ones and removes deleted ones in one atomic commit; with
    --rebuild, builds a fresh index beside the live one and swaps it in. One writer at a time:
    if another reindex is running this exits with code 3 (after --wait seconds).
    """
    targets = list(paths)
    if not targets:
        from search.sync import remembered_sources

        try:
            targets = remembered_sources(obj.index_dir)
        except IndexUnavailableError as error:
            raise click.ClickException(str(error)) from None
        if not targets:
            fail_usage(f"{obj.index_dir} remembers no source folders yet; name them: police-search reindex PATH ...")
    sync_and_report(obj.index_dir, targets, full_rebuild, as_json, wait)


class _FacetCommand(click.Command):
    """A command with one filter option per facet registered when it runs (search.facet_registry:
    --crime, --source, --reported …), placed before ``--collapse``; the callback gets them as
    keywords named by each facet's parameter."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        at = next((i for i, param in enumerate(params) if param.name == "collapse"), len(params))
        options = [click.Option([f"--{facet.param}", facet.param], help=facet.help) for facet in FACETS]
        return [*params[:at], *options, *params[at:]]


def _echo_types_and_copies(hit: Hit | Document) -> None:
    """Its crime types, and the other outlets that carried the same release (its story's copies)."""
    for line in types_and_copies(hit):
        click.echo(line)


@main.command("query", cls=_FacetCommand)
@_index_after_command
@click.argument("q", required=False, default="")
@click.option("--district", help="District, city or province (aliases such as 九龙坡 work).")
@click.option("--from", "date_from", metavar="YYYY-MM-DD", help="Published on or after this date.")
@click.option("--to", "date_to", metavar="YYYY-MM-DD", help="Published on or before this date.")
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, MAX_PER_PAGE), default=10, show_default=True)
@click.option("--include-undated", is_flag=True, help="With --from/--to, keep the releases whose date is unknown too.")
@output_options
@click.option("--color/--no-color", "colour", default=None, help="Highlight matches (default: on a terminal).")
@click.option("--collapse/--no-collapse", default=True, help="Copies of one release as one hit (default) or each.")
@click.pass_obj
def query_command(
    obj: _Context,
    q: str,
    district: str | None,
    date_from: str | None,
    date_to: str | None,
    sort: str,
    page: int,
    per_page: int,
    include_undated: bool,
    output_format: str | None,
    as_json: bool,
    base_url: str,
    colour: bool | None,
    collapse: bool,
    **filters: str | None,
) -> None:
    """Search for Q (Whoosh syntax: AND OR NOT, "phrase", field:value). Empty Q lists the newest.

    csv and jsonl write every matching release (not one page; at most 100,000), atom the newest 50.
    """
    name = chosen_format(output_format, as_json)
    ensure_index(obj.index_dir, quiet=name != "text")
    search = {
        **{"q": q, "district": district, "date_from": date_from, "date_to": date_to, "sort": sort},
        **{"page": page, "per_page": per_page, "include_undated": include_undated, "collapse": collapse},
        **filters,
    }
    colour = sys.stdout.isatty() if colour is None else colour
    base = base_url.rstrip("/")
    try:
        produced = produce(
            obj.engine,
            name,
            search,
            link=(lambda doc_id: base + relative_link(doc_id)) if base else relative_link,
            with_path=True,  # the CLI's user owns the index: JSON says where each file lies
            colour=colour and name == "text",
        )
    except QueryError as error:
        fail_usage(str(error))
    except IndexUnavailableError as error:
        raise click.ClickException(str(error)) from None
    try:
        if produced.format.scope == EVERY and produced.truncated:
            click.echo(
                f"{produced.result.total} releases match; only the first {produced.rows} are written (the cap).",
                err=True,
            )
        write_chunks(produced.chunks, name, colour)
    finally:
        produced.close()


def _by_id(obj: _Context, lookup: Callable[[str], Any], doc_id: str, as_json: bool) -> Any:
    """What ``lookup`` gives for one release; exit code 1 when there is no such release."""
    ensure_index(obj.index_dir, quiet=as_json)
    try:
        found = lookup(doc_id)
    except IndexUnavailableError as error:
        raise click.ClickException(str(error)) from None
    if found is None:
        click.echo(f"Error: no document with id {doc_id!r}", err=True)
        sys.exit(1)
    return found


@main.command("show")
@_index_after_command
@click.argument("doc_id")
@click.option("--json", "as_json", is_flag=True, help="Print the document as JSON.")
@click.pass_obj
def show_command(obj: _Context, doc_id: str, as_json: bool) -> None:
    """Print one release, cleaned, with its metadata."""
    document = _by_id(obj, obj.engine.document, doc_id, as_json)
    if as_json:
        _echo_json(document.as_dict())
        return
    click.echo(_printable(document.title))
    if document.subtitle:
        click.echo(f"—— {_printable(document.subtitle)}")
    place = " / ".join(dict.fromkeys(p for p in (document.province, document.city, document.district) if p))
    click.echo(
        f"日期 {document.date or '不详'} · 地区 {place or '不详'} · 来源 {_printable(document.source) or '不详'}"
    )
    if document.report_year:
        click.echo(f"所述年份 {document.report_year}")
    _echo_types_and_copies(document)
    for copy in document.copies:
        click.echo(f"   {copy['date'] or '日期不详'} · {_printable(copy['source']) or '来源不详'} · id {copy['id']}")
    click.echo(f"文件 {_printable(document.path)}\n")
    for paragraph in document.paragraphs:
        click.echo(_printable(paragraph) + "\n")


@main.command("similar")
@_index_after_command
@click.argument("doc_id")
@click.option("--json", "as_json", is_flag=True, help="Print the similar releases as JSON.")
@click.pass_obj
def similar_command(obj: _Context, doc_id: str, as_json: bool) -> None:
    """Five releases like DOC_ID (by its key terms; same crime type or place first), copies of it left out."""
    hits = _by_id(obj, obj.engine.similar, doc_id, as_json)
    if as_json:
        _echo_json({"id": doc_id, "hits": [hit_document(hit, with_path=True) for hit in hits]})
        return
    if not hits:
        click.echo("No similar releases.")
    for number, hit in enumerate(hits, start=1):
        kinds = "、".join(hit.crime_types) or "类型不详"
        click.echo(f"{number}. {_printable(hit.title)}")
        click.echo(f"   {hit.date or '日期不详'} · {_printable(hit.source) or '来源不详'} · {kinds} · id {hit.id}")


@main.command("stats")
@_index_after_command
@click.option("--json", "as_json", is_flag=True, help="Print the statistics as JSON.")
@click.pass_obj
def stats_command(obj: _Context, as_json: bool) -> None:
    """Documents, sources, dates, the last reindex and what it did, index size, version."""
    from search.status import describe_run, human_size, index_status

    ensure_index(obj.index_dir, quiet=as_json)
    try:
        stats = index_status(obj.engine)
    except IndexUnavailableError as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        _echo_json(stats)
        return
    click.echo(f"version    police-search {stats['version']}")
    click.echo(f"index      {stats['index']} ({human_size(stats['index_bytes'])})")
    click.echo(f"documents  {stats['documents']} ({stats['undated']} without a date)")
    click.echo(f"dates      {stats['earliest'] or '—'} … {stats['latest'] or '—'}")
    click.echo(f"folders    {', '.join(map(_printable, stats['source_folders'])) or '—'}")
    click.echo(f"reindexed  {describe_run(stats['last_reindex'])}")
    for label, key in (("sources", None), ("districts", "district"), ("cities", "city"), ("years", "year")):
        values = stats["sources"] if key is None else stats["facets"][key]
        listed = ", ".join(f"{_printable(v['value'])} ({v['count']})" for v in values) or "—"
        click.echo(f"{label:<10} {listed}")


@main.command("serve")
@_index_after_command
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (localhost only by default).")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True, help="0: any free port.")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    default=None,
    help="Threads per worker [default: 1 with several workers, 4 with one].",
)
@click.option("--workers", type=click.IntRange(1, 64), default=None, help="Processes on the one port [default: cores].")
@click.pass_obj
def serve_command(obj: _Context, host: str, port: int, threads: int | None, workers: int | None) -> None:
    """Serve the web search UI and JSON API (builds the index from samples/ on first start)."""
    from search.analysis import segmenter
    from web import create_app
    from web.server import default_workers, listening_socket, serve

    ensure_index(obj.index_dir)
    app = create_app({"INDEX_DIR": str(obj.index_dir)})
    segmenter()  # load the dictionary now (once, shared by the workers), not on the first query
    workers = workers or default_workers()
    threads = threads or (SINGLE_PROCESS_THREADS if workers == 1 else WORKER_THREADS)
    try:
        sock = listening_socket(host, port)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    processes = f"{workers} worker processes" if workers > 1 else "1 process"
    click.echo(f"Serving {obj.index_dir} on http://{shown}:{bound_port}/ ({processes}; Ctrl+C to stop)", err=True)
    serve(app, sock, workers=workers, threads=threads)


@main.command("export")
@_index_after_command
@click.option("--format", "export_format", type=click.Choice(["opensearch"]), default="opensearch", show_default=True)
@click.option("--index-name", default="police-releases", show_default=True, help="The OpenSearch index to fill.")
@click.option("--mapping", is_flag=True, help="Print the index's settings and mappings (JSON) instead of the releases.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of stdout.")
@click.pass_obj
def export_command(obj: _Context, export_format: str, index_name: str, mapping: bool, output: Path | None) -> None:
    """Every release as OpenSearch/Elasticsearch bulk actions (NDJSON, text pre-segmented by our analyser)."""
    from search import opensearch

    try:
        count = opensearch.export(obj.engine, output or click.get_binary_stream("stdout"), index_name, mapping)
    except opensearch.IndexNameError as error:
        raise click.BadParameter(str(error), param_hint="'--index-name'") from None
    except IndexUnavailableError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"export to {output or 'stdout'} failed: {error.strerror or error}") from None
    if not mapping:
        click.echo(f"exported {count} releases for index {index_name} to {output or 'stdout'}", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
