"""The benchmark script runs end to end on a tiny corpus and writes its table (no timing asserted:
speed is measured by bench/run.py itself, never by a unit test)."""

import subprocess
import sys

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


def test_corpus_is_deterministic(tmp_path):
    from bench.corpus import build

    first = [path.read_bytes() for path in build(tmp_path / "a", 30)]
    second = [path.read_bytes() for path in build(tmp_path / "b", 30)]
    assert first == second
    assert all(5_000 < len(data) < 9_000 for data in first)
