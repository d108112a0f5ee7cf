"""One ``SearchEngine`` shared by many threads (as a web server's threads share it): every thread
gets exactly what a single thread gets, also while a sync commits, and no operation waits for another."""

from __future__ import annotations

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from search.query import SearchEngine
from search.sync import sync
from tests.synthetic import write_releases

THREADS = 8
ROUNDS = 6
QUERIES: list[dict[str, Any]] = [
    {"q": "民警"}, {"q": "诈骗", "sort": "date"}, {"q": "", "district": "海淀区"}, {"q": '"公安分局"'},
    {"q": "派出所 民警"}, {"q": "", "date_from": "2020-01-01"}, {"q": "嫌疑人", "district": "重庆市"},
    {"q": "警情 通报", "collapse": True}, {"q": "民警 OR 诈骗", "page": 2, "per_page": 5},
]  # fmt: skip


def answer(engine: SearchEngine, query: dict[str, Any]) -> dict[str, Any]:
    """Everything a search returns but its timing."""
    result = engine.search(**{"per_page": 20, **query}).as_dict()
    result.pop("took_ms")
    return result


def commit_view(result: dict[str, Any]) -> str:
    """What the index's commit alone decides (a sync writes the story map, hence each hit's
    copies, just after its commit: in between, the stories lag), as comparable text."""
    return json.dumps([result["total"], [hit["id"] for hit in result["hits"]], result["facets"]], sort_keys=True)


def single_threaded(index_dir: Path) -> list[dict[str, Any]]:
    engine = SearchEngine(index_dir)
    try:
        return [answer(engine, query) for query in QUERIES]
    finally:
        engine.close()


@pytest.fixture
def two_segment_index(tmp_path: Path) -> tuple[Path, Path]:
    """An index of two syncs (two segments), and a folder of releases a later sync adds."""
    first, second, later = tmp_path / "first", tmp_path / "second", tmp_path / "later"
    write_releases(first, 30, seed=1)
    write_releases(second, 20, seed=2)
    write_releases(later, 25, seed=3)
    for number, path in enumerate(sorted(second.iterdir())):
        path.rename(second / f"second_{number:04d}.txt")
    for number, path in enumerate(sorted(later.iterdir())):
        path.rename(later / f"later_{number:04d}.txt")
    index_dir = tmp_path / "index"
    sync(index_dir, [first])
    sync(index_dir, [first, second])
    return index_dir, later


def test_threads_sharing_one_engine_get_what_one_thread_gets(two_segment_index):
    index_dir, _ = two_segment_index
    expected = single_threaded(index_dir)
    work = [number for number in range(len(QUERIES)) for _ in range(ROUNDS)]
    random.Random(5).shuffle(work)
    engine = SearchEngine(index_dir)
    try:
        with ThreadPoolExecutor(THREADS) as pool:
            answers = list(pool.map(lambda number: (number, answer(engine, QUERIES[number])), work))
    finally:
        engine.close()
    for number, found in answers:
        assert found == expected[number], QUERIES[number]
    assert any(found["total"] for found in expected) and len(answers) == len(work)


def test_searches_during_a_sync_see_the_old_commit_or_the_new_one_whole(two_segment_index):
    index_dir, later = two_segment_index
    before = [commit_view(result) for result in single_threaded(index_dir)]
    # collapsed results follow the story map too, written after the commit
    uncollapsed = [number for number, query in enumerate(QUERIES) if not query.get("collapse")]
    engine = SearchEngine(index_dir)
    synced = threading.Event()
    answers: list[tuple[bool, int, str]] = []

    def searcher(offset: int) -> None:
        # bounded: a fixed number of searches, some of them after the sync
        for turn in range(len(uncollapsed) * ROUNDS):
            number = uncollapsed[(offset + turn) % len(uncollapsed)]
            after_sync = synced.is_set()
            answers.append((after_sync, number, commit_view(answer(engine, QUERIES[number]))))

    threads = [threading.Thread(target=searcher, args=(offset,)) for offset in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        sync(index_dir, [index_dir.parent / "first", index_dir.parent / "second", later])
        synced.set()
        for thread in threads:
            thread.join()
        after = single_threaded(index_dir)
        final = [answer(engine, query) for query in QUERIES]  # the story map written too
    finally:
        engine.close()
    assert final == after
    after = [commit_view(result) for result in after]
    assert all(before[number] != after[number] for number in uncollapsed)  # the sync changed every answer
    for after_sync, number, found in answers:
        assert (found == after[number]) if after_sync else (found in (before[number], after[number])), QUERIES[number]
    assert {found for after_sync, _, found in answers if not after_sync} & set(before)


def test_a_search_does_not_wait_for_another_threads_operation(two_segment_index):
    index_dir, _ = two_segment_index
    engine = SearchEngine(index_dir)
    inside, others_done = threading.Event(), threading.Event()
    waited: list[bool] = []

    def long_operation() -> None:
        with engine.snapshot():
            engine.search("民警")
            inside.set()
            # a global lock would hold the other thread's search until this block ends
            waited.append(others_done.wait(20))

    thread = threading.Thread(target=long_operation)
    thread.start()
    try:
        assert inside.wait(20)
        assert engine.search("诈骗").total > 0
        others_done.set()
    finally:
        thread.join()
        engine.close()
    assert waited == [True]


def test_one_operation_reads_one_commit_while_a_sync_commits(two_segment_index):
    index_dir, later = two_segment_index
    engine = SearchEngine(index_dir)
    first, second = index_dir.parent / "first", index_dir.parent / "second"
    try:
        with engine.snapshot():
            count = engine.search("", per_page=1, collapse=False).total
            report = sync(index_dir, [first, second, later])
            assert report.added == 25
            assert engine.search("", per_page=1, collapse=False).total == count  # still the snapshot
            assert engine.stats()["documents"] == count
        assert engine.search("", per_page=1, collapse=False).total == count + 25  # the next operation
    finally:
        engine.close()
