"""The benchmark script runs end to end on a tiny corpus and writes its table (no timing asserted:
speed is measured by bench/run.py itself, never by a unit test)."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_benchmark_runs_and_writes_results(tmp_path):
    results = tmp_path / "RESULTS.md"
    completed = subprocess.run(
        [sys.executable, "bench/run.py", "--docs", "80", "--work", str(tmp_path / "work"), "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    table = results.read_text(encoding="utf-8")
    assert "## 80 releases" in table
    for row in ("full build, docs/s", "reindex 1% / full build", "query p95, ms", "cold start", "peak RSS serving"):
        assert row in table
    assert "×" in table
    figures = json.loads((tmp_path / "results" / "run-80.json").read_text(encoding="utf-8"))
    assert figures["docs"] == 80 and figures["rows"]["query p95, ms"]["baseline"] > 0

    # Ours only, on the indexes just built (the way a 200,000-release run skips the naive setup).
    subprocess.run(
        [sys.executable, "bench/run.py", "--docs", "80", "--work", str(tmp_path / "work"), "--results", str(results),
         "--reuse", "--skip-baseline", "--rounds", "1"],
        capture_output=True, text=True, timeout=900, cwd=REPO, check=True,
    )  # fmt: skip
    requeried = json.loads((tmp_path / "results" / "run-80-queries.json").read_text(encoding="utf-8"))
    assert requeried["rows"]["query p95, ms"]["baseline"] is None
    assert "not run at this size" in results.read_text(encoding="utf-8")

    svg = tmp_path / "latency.svg"
    subprocess.run([sys.executable, "bench/plot.py", "--results", str(tmp_path / "results"), "--output", str(svg)],
                   cwd=REPO, check=True, capture_output=True)  # fmt: skip
    drawn = ET.parse(svg).getroot()
    lines = drawn.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 4  # p50 and p95 of both systems (the baseline's from the full run)


def test_corpus_is_deterministic(tmp_path):
    from bench.corpus import build

    first = [path.read_bytes() for path in build(tmp_path / "a", 30)]
    second = [path.read_bytes() for path in build(tmp_path / "b", 30)]
    assert first == second
    assert all(5_000 < len(data) < 9_000 for data in first)
