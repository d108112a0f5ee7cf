"""Faults during indexing, with real processes: a writer child killed or out of disk, a full disk in
the parent, a first run killed before its first commit. Each must fail the run (non-zero exit, a
clear message, the previous state kept) and the next run must converge to the full count.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from search.index import FAILPOINT_ENV, current_generation
from search.sync_writing import PARALLEL_THRESHOLD, WORKERS_ENV
from tests.conftest import SEEDS
from tests.synthetic import write_releases
from tests.test_reindex import reindex_json, run_cli, start_until_failpoint, state

pytestmark = pytest.mark.slow

# enough new files for the multiprocessing writer to hand a first batch (256) to a worker
# before the commit
NEW_FILES = 300
PARALLEL = {WORKERS_ENV: "2"}


@pytest.fixture
def indexed(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """An index of the seeds, then NEW_FILES more releases dropped into its source folder."""
    source = tmp_path / "releases"
    source.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, source / seed.name)
    index_dir = tmp_path / "ix"
    reindex_json(index_dir, str(source))
    old = state(index_dir)
    write_releases(source / "new", NEW_FILES)
    assert NEW_FILES >= PARALLEL_THRESHOLD
    return index_dir, source, old


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


def assert_unchanged_then_converges(index_dir: Path, source: Path, old: dict[str, str], tmp_path: Path) -> None:
    assert state(index_dir) == old
    generation = current_generation(index_dir)
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")] == [generation.name]
    assert not (generation / "releases.tmp").exists()
    rerun = reindex_json(index_dir)
    assert rerun["added"] == NEW_FILES and rerun["skipped"] == []
    clean = tmp_path / "clean"
    assert run_cli(clean, "index", str(source), "--json").returncode == 0
    assert state(index_dir) == state(clean)


@pytest.mark.parametrize("extra", [(), ("--rebuild",)])
def test_kill_9_of_a_writer_child_fails_the_run_and_keeps_the_old_state(indexed, tmp_path, extra):
    index_dir, source, old = indexed
    process = start_until_failpoint(index_dir, "sync:before-commit", *extra, env=PARALLEL)
    workers = children(process.pid)
    assert workers, "the first batch should be with a writer process by now"
    os.kill(workers[0], signal.SIGKILL)
    os.kill(process.pid, signal.SIGUSR1)  # go on to the commit
    out, err = process.communicate(timeout=120)
    assert process.returncode == 1, (out, err)
    assert "writer process" in err and "SIGKILL" in err and "unchanged" in err
    assert "Traceback" not in err and out == ""
    assert_unchanged_then_converges(index_dir, source, old, tmp_path)


def test_full_disk_in_a_writer_child_fails_the_run(indexed, tmp_path):
    index_dir, source, old = indexed
    completed = run_cli(index_dir, "reindex", "--json", env={**PARALLEL, FAILPOINT_ENV: "writer-child:run:enospc"})
    assert completed.returncode == 1, completed.stdout
    assert "writer process" in completed.stderr and "exit code 1" in completed.stderr
    assert_unchanged_then_converges(index_dir, source, old, tmp_path)


@pytest.mark.parametrize("extra", [(), ("--rebuild",)])
def test_full_disk_in_the_parent_is_a_message_and_leaves_nothing_behind(indexed, tmp_path, extra):
    index_dir, source, old = indexed
    completed = run_cli(
        index_dir, "reindex", "--json", *extra, env={**PARALLEL, FAILPOINT_ENV: "writer:before-toc:enospc"}
    )
    assert completed.returncode == 1, completed.stdout
    assert "No space left on device" in completed.stderr and "Traceback" not in completed.stderr
    assert_unchanged_then_converges(index_dir, source, old, tmp_path)


def test_first_run_killed_before_its_commit_is_completed_by_plain_reindex(tmp_path):
    source = tmp_path / "releases"
    write_releases(source, 20)
    index_dir = tmp_path / "ix"
    process = start_until_failpoint(index_dir, "sync:after-first-document", str(source))
    process.kill()
    process.communicate(timeout=30)
    report = reindex_json(index_dir)  # no paths: cron's call
    assert report["added"] == 20
    assert len(state(index_dir)) == 20


@pytest.mark.parametrize("how", ["dangling current", "deleted toc", "empty toc", "garbage segment"])
def test_damaged_index_is_reported_and_never_rebuilt_from_samples(tmp_path, how):
    from tests.test_hostile_web import _damage

    source = tmp_path / "releases"
    write_releases(source, 3)
    index_dir = tmp_path / "ix"
    reindex_json(index_dir, str(source))
    _damage(index_dir, how)
    for command in (["query", "民警"], ["stats", "--json"], ["reindex"]):
        completed = run_cli(index_dir, *command)
        assert completed.returncode == 1, (command, completed.stdout, completed.stderr)
        assert "damaged" in completed.stderr and "--rebuild" in completed.stderr
        assert "Traceback" not in completed.stderr and "samples" not in completed.stderr
    rebuilt = reindex_json(index_dir, "--rebuild")
    assert rebuilt["added"] == 3 and len(state(index_dir)) == 3


def test_read_only_index_folder_is_a_message_not_a_traceback(indexed, tmp_path):
    from tests.test_hostile import run_index

    index_dir, source, old = indexed
    folders = [index_dir, current_generation(index_dir)]
    for folder in folders:
        folder.chmod(0o555)
    try:
        completed = run_index(index_dir, source, without_root_override=True)
    finally:
        for folder in folders:
            folder.chmod(0o755)
    assert completed.returncode == 1, completed.stdout
    assert "indexing failed" in completed.stderr and "Traceback" not in completed.stderr
    assert state(index_dir) == old
