"""The hostile-traffic harness runs end to end on a tiny corpus against a real server and finds
nothing: no 5xx, no response without the security headers, no document lost to a kill -9 (the long
run, with its figures in SECURITY.md, is ``python bench/hostile.py``)."""

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.slow
def test_hostile_harness_finds_nothing_on_a_small_corpus(tmp_path):
    sizes = ["--docs", "30", "--requests", "400", "--kills", "2"]
    completed = subprocess.run(
        [sys.executable, "bench/hostile.py", *sizes, "--work", str(tmp_path / "work")],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=REPO,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    out = completed.stdout
    assert "* requests answered: 400 (connection errors: 0)" in out
    assert "* 5xx: 0" in out and "without security headers (from the app): 0" in out
    assert "kill -9 of the writer child: 1 trials, exit codes {1: 1}" in out
    assert "kill -9 of the parent: 1 trials" in out and out.count("documents lost 0") == 2
