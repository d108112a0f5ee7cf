#!/usr/bin/env python3
"""Benchmark our engine against the naive jieba + Whoosh setup, on the same corpus, in one run.

    python bench/run.py                 # 2,000 releases: a quick run (about a minute)
    python bench/run.py --docs 20000    # the full figure (several minutes)

Measures full-build docs/s and MB/s, incremental reindex of 1% changed files, index size, query
latency p50/p95/p99 over a fixed mix of queries (each run once per round, in a fresh process; the
median of three rounds), CLI cold start (median of five), and peak RSS of the process tree while
indexing and while serving. Prints a table with ratios ours/baseline and
writes it to bench/RESULTS.md. Every measurement runs in a fresh child process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
COLD_STARTS = 5


# --- measuring child processes -------------------------------------------------------------


def _tree_rss(root: int) -> int:
    """Resident set size of a process and all its descendants, in bytes."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except OSError:
                continue
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/statm", "rb") as handle:
                total += int(handle.read().split()[1]) * PAGE_SIZE
        except OSError:
            pass
        pending.extend(children.get(pid, []))
    return total


def measure(command: list[str], env: dict | None = None) -> tuple[float, int, str]:
    """Run ``command``; return wall seconds, peak RSS of its process tree, and its stdout."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, **(env or {})}, cwd=ROOT)  # fmt: skip
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
    return seconds, peak, stdout


# --- children ----------------------------------------------------------------------------


def child_baseline_build(corpus: str, index_dir: str) -> None:
    from bench import baseline

    shutil.rmtree(index_dir, ignore_errors=True)
    print(json.dumps({"documents": baseline.build(Path(corpus), Path(index_dir))}))


def child_query(system: str, index_dir: str) -> None:
    from bench.queries import QUERIES

    if system == "ours":
        from search.query import SearchEngine

        engine = SearchEngine(Path(index_dir))

        def run(query: dict) -> int:
            return engine.search(**query).total

    else:
        from bench.baseline import Searcher

        searcher = Searcher(Path(index_dir))

        def run(query: dict) -> int:
            return len(searcher.search(query["q"]))  # the baseline has no filters or sorting

    run({"q": "警方"})  # warm-up with a query outside the mix
    latencies = []
    for query in QUERIES:
        started = time.perf_counter()
        run(query)
        latencies.append((time.perf_counter() - started) * 1000)
    print(json.dumps({"latencies_ms": latencies}))


def child_baseline_cold(index_dir: str) -> None:
    from bench.baseline import Searcher

    Searcher(Path(index_dir)).search("诈骗")


# --- the run -----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def modify_one_percent(corpus: Path) -> int:
    files = sorted(corpus.glob("*.txt"))
    changed = files[:: max(1, 100)]
    for path in changed:
        path.write_text(
            path.read_text(encoding="utf-8") + "补充通报:警方再次提醒群众防范新型诈骗。\n", encoding="utf-8"
        )
    return len(changed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000, help="number of synthetic releases (default 2000)")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".work", help="scratch folder")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the corpus and both indexes of an earlier run in --work: measure queries, cold start "
        "and serving memory only (after a change to the query code)",
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="fresh query processes per system; the median is reported (default 3)"
    )
    parser.add_argument(
        "--skip-baseline",
        action="store_true",
        help="measure ours only (for corpus sizes the naive setup cannot build in reasonable time; say so)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.child:
        kind, *rest = args.child
        {"baseline-build": child_baseline_build, "query": child_query, "baseline-cold": child_baseline_cold}[kind](
            *rest
        )
        return

    from bench.corpus import build

    work = args.work.resolve()
    corpus = work / f"corpus-{args.docs}"
    ours_index, baseline_index = work / f"ours-{args.docs}", work / f"baseline-{args.docs}"
    rows: dict[str, tuple[float | None, float | None]] = {}
    cli = [PYTHON, "-m", "search.cli", "--index", str(ours_index)]
    systems = ("ours",) if args.skip_baseline else ("ours", "baseline")
    run_started = time.perf_counter()
    if args.reuse:
        needed = [corpus, ours_index] + ([] if args.skip_baseline else [baseline_index])
        if not all(folder.is_dir() for folder in needed):
            raise SystemExit(f"--reuse needs an earlier run's corpus and indexes in {work}")
        corpus_bytes = folder_bytes(corpus)
        ours_build_rss = base_build_rss = None
    else:
        print(f"building a corpus of {args.docs} releases in {corpus} …", flush=True)
        build(corpus, args.docs)
        corpus_bytes = folder_bytes(corpus)

        print("full build: ours …", flush=True)
        shutil.rmtree(ours_index, ignore_errors=True)
        ours_build, ours_build_rss, _ = measure([*cli, "index", str(corpus), "--json"])
        base_build = base_build_rss = None
        if not args.skip_baseline:
            print("full build: baseline …", flush=True)
            base_build, base_build_rss, _ = measure([PYTHON, "bench/run.py", "--child", "baseline-build",
                                                     str(corpus), str(baseline_index)])  # fmt: skip
        rows["full build, docs/s"] = (args.docs / ours_build, _per(args.docs, base_build))
        rows["full build, MB/s"] = (corpus_bytes / 1e6 / ours_build, _per(corpus_bytes / 1e6, base_build))
        rows["full build, seconds"] = (ours_build, base_build)

        print("incremental reindex of 1% …", flush=True)
        changed = modify_one_percent(corpus)
        incremental, _, output = measure([*cli, "reindex", "--json"])
        report = json.loads(output.strip().splitlines()[-1])
        assert report["updated"] == changed, report
        rows[f"reindex {changed} changed files, seconds"] = (incremental, None)
        rows["reindex 1% / full build"] = (incremental / ours_build, None)
        rows["index size, MB"] = (
            folder_bytes(ours_index) / 1e6,
            None if args.skip_baseline else folder_bytes(baseline_index) / 1e6,
        )

    print(f"queries ({args.rounds} rounds) …", flush=True)
    # Each round is a fresh process per system running every query once (no cache carries over);
    # the median round of each percentile damps this shared machine's noise.
    rounds: dict[str, list[list[float]]] = {system: [] for system in systems}
    serving_rss = {system: 0 for system in systems}
    index_of = {"ours": ours_index, "baseline": baseline_index}
    for _ in range(args.rounds):
        for system in systems:
            _, rss, output = measure([PYTHON, "bench/run.py", "--child", "query", system, str(index_of[system])])
            serving_rss[system] = max(serving_rss[system], rss)
            rounds[system].append(json.loads(output)["latencies_ms"])
    for label, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        rows[f"query {label}, ms"] = tuple(
            statistics.median(percentile(latencies, fraction) for latencies in rounds[system])
            if system in rounds
            else None
            for system in ("ours", "baseline")
        )

    print("cold start …", flush=True)
    ours_cold = statistics.median(measure([*cli, "query", "诈骗", "--json"])[0] for _ in range(COLD_STARTS))
    base_cold = None
    if not args.skip_baseline:
        baseline_cold = [PYTHON, "bench/run.py", "--child", "baseline-cold", str(baseline_index)]
        base_cold = statistics.median(measure(baseline_cold)[0] for _ in range(COLD_STARTS))
    rows["cold start of a CLI query, s"] = (ours_cold, base_cold)
    if ours_build_rss is not None:
        rows["peak RSS indexing, MB"] = (ours_build_rss / 2**20, _per(base_build_rss, 2**20))
    rows["peak RSS serving, MB"] = (serving_rss["ours"] / 2**20, _per(serving_rss.get("baseline"), 2**20))

    higher_is_better = ("docs/s", "MB/s")
    lines = [
        f"| measure ({args.docs:,} releases, {corpus_bytes / 1e6:.0f} MB) | ours | baseline | ours/baseline |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, (ours, base) in rows.items():
        ratio = f"{ours / base:.2f}×" if ours is not None and base else "—"
        better = "higher is better" if label.endswith(higher_is_better) else "lower is better"
        lines.append(f"| {label} ({better}) | {ours:.3f} | {'—' if base is None else f'{base:.3f}'} | {ratio} |")
    table = "\n".join(lines)
    print()
    print(table)
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}, {platform.system()}"
    reused = " (queries re-measured on the indexes of the run below)" if args.reuse else ""
    took = time.perf_counter() - run_started
    without_baseline = " The naive setup was not run at this size (`--skip-baseline`)." if args.skip_baseline else ""
    section = (
        f"## {args.docs:,} releases{reused} — {dt.date.today().isoformat()}\n\n"
        f"Machine: {machine}; the whole run took {took / 60:.0f} min.{without_baseline}\n"
        f"Query mix: {len(rounds['ours'][0])} queries, each run once per round in a fresh "
        f"process; {args.rounds} rounds, the median round of each percentile "
        f"(ours with facets and highlighted snippets; the baseline with its default highlighter).\n\n{table}\n"
    )
    _write_results(args.results, args.docs, section)
    figures = args.results.parent / "results" / f"run-{args.docs}{'-queries' if args.reuse else ''}.json"
    figures.parent.mkdir(parents=True, exist_ok=True)
    figures.write_text(
        json.dumps(
            {"docs": args.docs, "date": dt.date.today().isoformat(), "machine": machine, "minutes": took / 60,
             "reused_indexes": args.reuse, "rows": {label: {"ours": ours, "baseline": base}
                                                    for label, (ours, base) in rows.items()}},
            ensure_ascii=False, indent=1,
        ) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    print(f"\nwritten to {args.results} and {figures}")


def _per(amount: float | None, divisor: float | None) -> float | None:
    """``amount / divisor``, or None when the naive setup did not run (``--skip-baseline``)."""
    if amount is None or divisor is None:
        return None
    return amount / divisor


def _write_results(path: Path, docs: int, section: str) -> None:
    """Replace this corpus size's section of RESULTS.md (a full run, or queries re-measured),
    keeping the others and the notes."""
    marker = section.split(" — ", 1)[0]
    existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n\n"
    parts = existing.split("\n## ")
    head, sections = parts[0], ["## " + part for part in parts[1:]]
    sections = [s for s in sections if s.split(" — ", 1)[0] != marker] + [section]
    sections.sort(key=lambda s: (not s.startswith("## Notes"), s))
    path.write_text(head.rstrip() + "\n\n" + "\n".join(s.rstrip() + "\n" for s in sections), encoding="utf-8")


if __name__ == "__main__":
    main()
