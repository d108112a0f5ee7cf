"""What an operator checks first: the index's contents, where they come from, when it was last
brought up to date and what that run did, its size on disk, the software's version.

Shared by ``police-search stats`` and the web's ``/about`` page and ``/api/stats``.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import Any

from search.index import IndexMeta, current_generation
from search.query import SearchEngine


def version() -> str:
    try:
        return importlib.metadata.version("police-search")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _size_on_disk(folder: Path | None) -> int:
    if folder is None:
        return 0
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def index_status(engine: SearchEngine) -> dict[str, Any]:
    """``engine.stats()`` (documents, outlets, dates, facets) with the source folders, the last
    sync run, the index's size in bytes and the version."""
    stats = engine.stats()
    meta = IndexMeta.read(engine.index_dir)
    return {
        **stats,
        "version": version(),
        "source_folders": meta.sources,
        "last_reindex": meta.last_run or ({"finished": meta.updated} if meta.updated else None),
        "index_bytes": _size_on_disk(current_generation(engine.index_dir)),
    }


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size} B"  # pragma: no cover


def describe_run(run: dict[str, Any] | None) -> str:
    """One line saying what the last sync did."""
    if not run:
        return "—"
    if "added" not in run:
        return str(run.get("finished", "—"))
    return (
        f"{run['finished']}: {'rebuilt, ' if run.get('rebuilt') else ''}"
        f"{run['added']} added, {run['updated']} updated, {run['removed']} removed, "
        f"{run['unchanged']} unchanged, {run['skipped']} skipped, {run['unsupported']} not taken "
        f"({run['seconds']:.1f}s)"
    )
