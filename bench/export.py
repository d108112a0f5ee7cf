#!/usr/bin/env python3
"""Memory and time of a CSV download of every release of a big index, streamed through the real app.

    python bench/export.py                                  # /work/bench-shared/ours-20000 (or ours-2000)
    python bench/export.py --index DIR --query 公安 --collapse

A child process opens the Flask app on the index (``web.create_app``), answers one ordinary search
to load what every search needs (dictionary, facet columns, stories), and reads its resident memory
(VmRSS): the baseline. Then it resets its peak (``/proc/self/clear_refs``) and takes
``/api/search?format=csv`` with the test client unbuffered, as a WSGI server would: the rows are
parsed as they arrive and thrown away. It reports the rows, the seconds, the peak resident memory
during the download (VmHWM) and the resident memory after it, in MB. Flat memory means the peak
stays near the baseline whatever the number of rows: the rows are read from the index one by one
(``search.streaming``), never held.

For comparison ``--pages`` also times fetching the same rows as JSON, page after page (100 a page,
as a client of the page API would); it is quadratic, so it is capped at the first 2,000 rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path("/work/bench-shared")
PAGED_ROWS = 2_000


def default_index() -> Path:
    """The biggest shared index whose build has finished (its build-N.json is written at the end)."""
    for size in ("20000", "2000"):
        built = SHARED / f"build-{size}.json"
        if (SHARED / f"ours-{size}" / "current").exists() and built.exists() and built.stat().st_size:
            return SHARED / f"ours-{size}"
    raise SystemExit(f"no index in {SHARED}: pass --index DIR")


def memory_mb(field: str) -> float:
    """``VmRSS`` or ``VmHWM`` (peak) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux ≥ 4.0: VmHWM := VmRSS
        return True
    except OSError:
        return False


def child(index_dir: str, query: str, collapse: bool, pages: bool) -> dict:
    sys.path.insert(0, str(ROOT))
    from web import create_app

    client = create_app({"INDEX_DIR": index_dir}).test_client()
    search = {"q": query, "collapse": "1" if collapse else "0"}
    warm = client.get("/api/search", query_string=search).get_json()  # the engine's first search
    baseline = memory_mb("VmRSS")
    peak_reset = reset_peak()
    started = time.perf_counter()
    response = client.get("/api/search", query_string={**search, "format": "csv"}, buffered=False)
    lines = (line for chunk in response.response for line in chunk.decode("utf-8").splitlines(keepends=True))
    rows = sum(1 for _ in csv.reader(lines)) - 1  # the header line aside
    response.close()
    seconds = time.perf_counter() - started
    figures = {
        "index": index_dir,
        "query": query,
        "collapse": collapse,
        "total": warm["total"],
        "rows": rows,
        "truncated": response.headers["X-Truncated"],
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds),
        "rss_before_mb": round(baseline, 1),
        "peak_rss_during_mb": round(memory_mb("VmHWM"), 1) if peak_reset else None,
        "rss_after_mb": round(memory_mb("VmRSS"), 1),
    }
    if pages:
        figures.update(paged(client, search, min(rows, PAGED_ROWS)))
    return figures


def paged(client, search: dict, rows: int) -> dict:
    """Seconds to fetch ``rows`` rows as pages of 100 (what a client without downloads would do)."""
    started, fetched, page = time.perf_counter(), 0, 1
    while fetched < rows:
        data = client.get("/api/search", query_string={**search, "per_page": 100, "page": page}).get_json()
        fetched += len(data["hits"])
        page += 1
    return {"paged_rows": fetched, "paged_seconds": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=None, help="index directory (default: the shared benchmark's)")
    parser.add_argument("--query", default="", help="the search (default: everything)")
    parser.add_argument("--collapse", action="store_true", help="one row per story (default: every release)")
    parser.add_argument("--pages", action="store_true", help=f"also time the first {PAGED_ROWS} rows as JSON pages")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        index_dir, query, collapse, pages = args.child
        print(json.dumps(child(index_dir, query, collapse == "1", pages == "1"), ensure_ascii=False))
        return
    index_dir = str(args.index or default_index())
    command = [sys.executable, __file__, "--child", index_dir, args.query, str(int(args.collapse))]
    output = subprocess.run([*command, str(int(args.pages))], check=True, capture_output=True, text=True).stdout
    figures = json.loads(output.strip().splitlines()[-1])
    print(json.dumps(figures, ensure_ascii=False, indent=2))
    query = urllib.parse.quote(args.query)
    print(
        f"\nGET /api/search?q={query}&format=csv on {index_dir}: {figures['rows']} rows in {figures['seconds']} s; "
        f"RSS {figures['rss_before_mb']} MB before, peak {figures['peak_rss_during_mb']} MB during, "
        f"{figures['rss_after_mb']} MB after"
    )


if __name__ == "__main__":
    main()
