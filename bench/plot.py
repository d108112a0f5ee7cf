#!/usr/bin/env python3
"""Plot query p50/p95 against corpus size from the runs ``bench/run.py`` saved in bench/results/.

    python bench/plot.py                  # writes bench/latency.svg

One line per system and percentile, both axes logarithmic (2,000 → 20,000 → 200,000 releases are
equal steps). A full run's figures are used for each size; where the queries were re-measured later
on the same indexes (``--reuse``), the newer figures win. Plain SVG, so no plotting library is needed
to regenerate it and it diffs in review.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT, MARGIN = 640, 420, 64
SERIES = {  # (system, percentile row) → colour, dash
    ("ours", "query p50, ms"): ("#1f6feb", ""),
    ("ours", "query p95, ms"): ("#1f6feb", "6 4"),
    ("baseline", "query p50, ms"): ("#cf222e", ""),
    ("baseline", "query p95, ms"): ("#cf222e", "6 4"),
}
LABELS = {"ours": "ours", "baseline": "naive jieba + Whoosh"}


def load_runs(folder: Path) -> dict[int, dict[str, dict[str, float | None]]]:
    """Rows of the latest run per corpus size (query re-measurements override a full run's)."""
    runs: dict[int, dict] = {}
    for path in sorted(folder.glob("run-*.json"), key=lambda p: ("-queries" in p.name, p.name)):
        run = json.loads(path.read_text(encoding="utf-8"))
        rows = runs.setdefault(run["docs"], {})
        for label, by_system in run["rows"].items():
            # A re-measurement without the naive setup keeps the full run's baseline figure.
            rows.setdefault(label, {}).update({system: v for system, v in by_system.items() if v is not None})
    return runs


def _log_scale(low: float, high: float, start: float, end: float):
    span = math.log10(high) - math.log10(low) or 1.0
    return lambda value: start + (math.log10(value) - math.log10(low)) / span * (end - start)


def render(runs: dict[int, dict[str, dict[str, float | None]]]) -> str:
    """The SVG document for ``runs``."""
    sizes = sorted(runs)
    values = [
        row[system]
        for size in sizes
        for (system, label) in SERIES
        if (row := runs[size].get(label)) and row.get(system)
    ]
    if not sizes or not values:
        raise SystemExit("no query figures in bench/results/: run bench/run.py first")
    low_ms, high_ms = 10 ** math.floor(math.log10(min(values))), 10 ** math.ceil(math.log10(max(values)))
    x = _log_scale(min(sizes) / 1.5, max(sizes) * 1.5, MARGIN, WIDTH - MARGIN)
    y = _log_scale(low_ms, high_ms, HEIGHT - MARGIN, MARGIN)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">'
        "Query latency against corpus size (log–log)</text>",
    ]
    decade = low_ms
    while decade <= high_ms:
        parts.append(f'<line x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{y(decade):.1f}" y2="{y(decade):.1f}" '
                     'stroke="#ddd"/>')  # fmt: skip
        parts.append(f'<text x="{MARGIN - 6}" y="{y(decade) + 4:.1f}" text-anchor="end">{decade:g} ms</text>')
        decade *= 10
    for size in sizes:
        parts.append(f'<text x="{x(size):.1f}" y="{HEIGHT - MARGIN + 18}" text-anchor="middle">{size:,}</text>')
    parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT - 18}" text-anchor="middle">releases indexed</text>')
    for number, ((system, label), (colour, dash)) in enumerate(SERIES.items()):
        points = [(size, runs[size][label][system]) for size in sizes if (runs[size].get(label) or {}).get(system)]
        if not points:
            continue
        path = " ".join(f"{x(size):.1f},{y(ms):.1f}" for size, ms in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2" '
                     f'stroke-dasharray="{dash}"/>')  # fmt: skip
        for size, ms in points:
            tooltip = f"{LABELS[system]} {label[6:9]} at {size:,}: {ms:.1f} ms"
            parts.append(f'<circle cx="{x(size):.1f}" cy="{y(ms):.1f}" r="3" fill="{colour}">'
                         f"<title>{escape(tooltip)}</title></circle>")  # fmt: skip
        legend_y = MARGIN + 16 * number
        parts.append(f'<line x1="{MARGIN + 12}" x2="{MARGIN + 40}" y1="{legend_y}" y2="{legend_y}" '
                     f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>')  # fmt: skip
        parts.append(f'<text x="{MARGIN + 46}" y="{legend_y + 4}">{escape(LABELS[system])}, {label[6:9]}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "latency.svg")
    args = parser.parse_args()
    args.output.write_text(render(load_runs(args.results)), encoding="utf-8")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
