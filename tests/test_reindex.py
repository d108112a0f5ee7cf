"""The reindex job with real processes on a real index: incremental, atomic, crash-safe, one writer.

Crash points are reached through failpoints (POLICE_SEARCH_FAILPOINT): the child process stops at
the named point and announces it on stderr, and the test kills it with SIGKILL there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.index import FAILPOINT_ENV, GENERATION_FILE, current_generation
from search.query import SearchEngine
from search.sync import indexed_documents
from tests.conftest import REPO, SEEDS
from tests.synthetic import write_releases
from web import create_app

pytestmark = pytest.mark.slow

CLI = [sys.executable, "-m", "search.cli"]


def run_cli(index_dir: Path, *args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "--index", str(index_dir), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=REPO,
        check=False,
    )


def reindex_json(index_dir: Path, *args: str) -> dict:
    completed = run_cli(index_dir, "reindex", "--json", *args)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


def start_until_failpoint(index_dir: Path, point: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    process = subprocess.Popen(
        [*CLI, "--index", str(index_dir), "reindex", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {}), FAILPOINT_ENV: point},
        cwd=REPO,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if f"failpoint {point} reached" in line:
            return process
        if not line and process.poll() is not None:
            break
    process.kill()
    pytest.fail(f"reindex never reached failpoint {point}")


def kill_hard(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def state(index_dir: Path) -> dict[str, str]:
    """id → checksum of every document a fresh reader sees."""
    return {document["id"]: document["checksum"] for document in indexed_documents(index_dir).values()}


@pytest.fixture
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "releases"
    folder.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, folder / seed.name)
    return folder


def change_source(folder: Path) -> None:
    """Add 40 releases, edit one seed, delete another."""
    write_releases(folder / "new", 40)
    edited = folder / SEEDS[0].name
    edited.write_text(edited.read_text(encoding="utf-8") + "\n补充通报:警方再次提醒防范养老诈骗。", encoding="utf-8")
    (folder / SEEDS[1].name).unlink()


def clean_build_state(folder: Path, tmp_path: Path) -> dict[str, str]:
    index_dir = tmp_path / "clean-build"
    completed = run_cli(index_dir, "index", str(folder), "--json")
    assert completed.returncode == 0, completed.stderr
    return state(index_dir)


def test_second_run_changes_nothing_and_says_so(source, tmp_path):
    index_dir = tmp_path / "ix"
    first = reindex_json(index_dir, str(source))
    assert (first["added"], first["skipped"]) == (5, [])
    second = reindex_json(index_dir)  # no paths: the sources the index remembers
    assert (second["added"], second["updated"], second["removed"], second["unchanged"]) == (0, 0, 0, 5)
    text = run_cli(index_dir, "reindex")
    assert text.returncode == 0 and "nothing changed" in text.stdout


def test_add_modify_delete_give_exactly_those_changes(source, tmp_path):
    index_dir = tmp_path / "ix"
    reindex_json(index_dir, str(source))
    before = state(index_dir)
    (source / "new.txt").write_text("新增通报\n发布时间:2024-01-02\n郾城分局破获一起伪基站案件。", encoding="utf-8")
    modified = source / SEEDS[3].name
    modified.write_text(modified.read_text(encoding="utf-8") + "\n补充:民警又破获一起养老诈骗案。", encoding="utf-8")
    (source / SEEDS[2].name).unlink()
    report = reindex_json(index_dir)
    assert (report["added"], report["updated"], report["removed"], report["unchanged"]) == (1, 1, 1, 3)
    after = state(index_dir)
    assert len(after) == 5
    # ids come from content: the deleted seed's id and the edited seed's old id are gone
    assert len(set(before) - set(after)) == 2
    engine = SearchEngine(index_dir)
    assert engine.search("伪基站 郾城").total_all_words == 1
    assert engine.search('"养老诈骗"').total == 1
    assert engine.search("", district="郾城区").total == 2  # the edited seed and the new file
    assert engine.search("套路贷").total == 0  # only the deleted seed said it


def test_missing_source_folder_keeps_its_documents(source, tmp_path):
    index_dir = tmp_path / "ix"
    reindex_json(index_dir, str(source))
    moved = tmp_path / "moved-away"
    source.rename(moved)
    report = reindex_json(index_dir)
    assert report["removed"] == 0 and "not found" in report["skipped"][0]["reason"]
    assert len(state(index_dir)) == 5


@pytest.mark.parametrize(
    ("point", "extra", "survivor"),
    [
        ("sync:start", (), "old"),
        ("sync:after-first-document", (), "old"),
        ("sync:before-commit", (), "old"),
        ("sync:after-commit", (), "new"),
        ("rebuild:before-swap", ("--rebuild",), "old"),
        ("rebuild:after-swap", ("--rebuild",), "new"),
    ],
)
def test_kill_9_leaves_a_searchable_index_and_rerun_converges(source, tmp_path, point, extra, survivor):
    index_dir = tmp_path / "ix"
    reindex_json(index_dir, str(source))
    old = state(index_dir)
    change_source(source)
    expected = clean_build_state(source, tmp_path)

    process = start_until_failpoint(index_dir, point, *extra)
    engine = SearchEngine(index_dir)  # a long-lived reader, as the web server has
    visible = old if survivor == "old" else expected
    assert engine.search("").total == len(visible)
    kill_hard(process)

    assert state(index_dir) == visible
    assert engine.search("公安").total > 0
    rerun = reindex_json(index_dir)  # no --wait: a killed writer leaves no stale lock
    assert rerun["skipped"] == []
    assert state(index_dir) == expected
    assert engine.search("").total == len(expected)
    leftovers = [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")]
    assert leftovers == [current_generation(index_dir).name]


@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_kill_9_at_arbitrary_moments_of_a_big_batch(tmp_path, delay):
    source = tmp_path / "releases"
    write_releases(source, 300, seed=int(delay * 10))
    index_dir = tmp_path / "ix"
    process = subprocess.Popen(
        [*CLI, "--index", str(index_dir), "reindex", str(source), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    time.sleep(delay)
    if process.poll() is None:
        kill_hard(process)
    found = state(index_dir) if current_generation(index_dir) else {}
    assert len(found) in (0, 300)  # all or nothing, never part of the batch
    reindex_json(index_dir, str(source))
    assert state(index_dir) == clean_build_state(source, tmp_path)


def test_second_writer_reports_the_lock_and_index_stays_intact(source, tmp_path):
    index_dir = tmp_path / "ix"
    reindex_json(index_dir, str(source))
    before = state(index_dir)
    change_source(source)
    holder = start_until_failpoint(index_dir, "sync:after-first-document")
    try:
        competitor = run_cli(index_dir, "reindex", "--json")
        assert competitor.returncode == 3
        assert "another police-search process is writing" in competitor.stderr
        waited = run_cli(index_dir, "reindex", "--wait", "1")
        assert waited.returncode == 3
    finally:
        kill_hard(holder)
    assert state(index_dir) == before
    assert reindex_json(index_dir)["added"] == 40


def test_searches_in_another_process_see_old_then_new_only(tmp_path):
    source = tmp_path / "releases"
    write_releases(source / "first", 200, seed=1)
    index_dir = tmp_path / "ix"
    reindex_json(index_dir, str(source))
    write_releases(source / "second", 1500, seed=2)
    log = tmp_path / "totals.txt"
    stop = tmp_path / "stop"
    searcher_script = f"""
import sys, time
from pathlib import Path
from search.query import SearchEngine
engine = SearchEngine({str(index_dir)!r})
with open({str(log)!r}, "w") as out:
    while not Path({str(stop)!r}).exists():
        try:
            total = engine.search("").total
            hits = engine.search("公安 分局", per_page=5).total
            out.write(f"{{total}} {{hits}}\\n")
        except Exception as error:
            out.write(f"ERROR {{type(error).__name__}}: {{error}}\\n")
        out.flush()
"""
    searcher = subprocess.Popen([sys.executable, "-c", searcher_script], cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        while not (log.exists() and log.read_text().count("\n") >= 3) and time.monotonic() < deadline:
            time.sleep(0.1)  # the searcher is up and has seen the old state
        report = reindex_json(index_dir)
        assert report["added"] == 1500
        time.sleep(1.0)
    finally:
        stop.touch()
        searcher.wait(timeout=60)
    lines = log.read_text().splitlines()
    assert lines and not [line for line in lines if line.startswith("ERROR")]
    totals = [int(line.split()[0]) for line in lines]
    assert set(totals) <= {200, 1700}
    assert totals[0] == 200 and totals[-1] == 1700
    assert totals == sorted(totals)  # only ever moves from old to new


def test_running_server_sees_reindex_and_rebuild_without_restart(source, tmp_path):
    index_dir = tmp_path / "ix"
    reindex_json(index_dir, str(source))
    client = create_app({"INDEX_DIR": str(index_dir)}).test_client()
    assert client.get("/api/search").get_json()["total"] == 5
    (source / "fresh.txt").write_text("新通报\n发布时间:2025-05-05\n渝北警方破获伪基站诈骗案。", encoding="utf-8")
    reindex_json(index_dir)
    assert client.get("/api/search").get_json()["total"] == 6
    assert client.get("/api/search", query_string={"q": "伪基站"}).get_json()["total"] >= 1
    (source / "fresh.txt").unlink()
    reindex_json(index_dir, "--rebuild")
    assert client.get("/api/search").get_json()["total"] == 5


def test_analyser_change_asks_for_rebuild_instead_of_mixing(source, tmp_path):
    index_dir = tmp_path / "ix"
    reindex_json(index_dir, str(source))
    info_path = current_generation(index_dir) / GENERATION_FILE
    info = json.loads(info_path.read_text())
    info["analyser_version"] = 0
    info_path.write_text(json.dumps(info))
    refused = run_cli(index_dir, "reindex")
    assert refused.returncode == 1 and "reindex --rebuild" in refused.stderr
    query = run_cli(index_dir, "query", "诈骗")
    assert query.returncode == 1 and "Rebuild it" in query.stderr
    rebuilt = reindex_json(index_dir, "--rebuild")
    assert rebuilt["rebuilt"] and rebuilt["added"] == 5
    assert run_cli(index_dir, "query", "诈骗").returncode == 0


def test_reindex_without_remembered_sources_is_a_usage_error(tmp_path):
    completed = run_cli(tmp_path / "empty", "reindex")
    assert completed.returncode == 2 and "remembers no source folders" in completed.stderr


def test_worker_processes_build_the_same_index_as_one_process(tmp_path):
    from search.sync_writing import PARALLEL_THRESHOLD, WORKERS_ENV

    source = tmp_path / "releases"
    write_releases(source, PARALLEL_THRESHOLD + 20)
    for seed in SEEDS:
        shutil.copy(seed, source / seed.name)
    parallel = run_cli(tmp_path / "parallel", "index", str(source), "--json", env={WORKERS_ENV: "2"})
    serial = run_cli(tmp_path / "serial", "index", str(source), "--json", env={WORKERS_ENV: "1"})
    assert parallel.returncode == serial.returncode == 0
    assert state(tmp_path / "parallel") == state(tmp_path / "serial")
    for query in ("诈骗", '"电信诈骗"', "萬州", "公安 分局"):
        first = SearchEngine(tmp_path / "parallel").search(query, per_page=100)
        second = SearchEngine(tmp_path / "serial").search(query, per_page=100)
        assert first.total == second.total and first.facets == second.facets
        # equal scores may come in another order: documents are numbered differently
        assert sorted((h.score, h.id, h.snippet) for h in first.hits) == sorted(
            (h.score, h.id, h.snippet) for h in second.hits
        )


def test_index_change_during_one_search_does_not_close_its_reader(source, tmp_path):
    """A commit landing between a search's first look at the index and its parse must not close
    the reader the search is using (CI once saw ReaderClosed from exactly this interleaving)."""
    from search.sync import sync

    index_dir = tmp_path / "ix"
    sync(index_dir, [source])
    extra = tmp_path / "extra"
    write_releases(extra, 3, seed=5)

    class CommitDuringParse(SearchEngine):
        committed = False

        def _parse(self, text, fields):
            if not self.committed:
                self.committed = True
                sync(index_dir, [source, extra])
            return super()._parse(text, fields)

    engine = CommitDuringParse(index_dir)
    try:
        first = engine.search("公安")
        assert first.total >= 1
        assert engine.search("").total == len(SEEDS) + 3  # the next search sees the new commit
    finally:
        engine.close()
