"""The per-segment column files: written by every sync, equal to what Whoosh stores, giving the
same scores as Whoosh's own BM25F, and never required (a missing or damaged file is read from
Whoosh instead, and the next sync writes it again)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from whoosh.scoring import BM25F

from search.index import current_generation, open_index
from search.query import SearchEngine
from search.segment_columns import SUFFIX, SegmentColumns, path_for
from search.sync import sync
from tests.conftest import REPO, SEEDS

FIXTURE_RELEASES = REPO / "tests" / "fixtures" / "releases"
QUERIES = ["诈骗", "民警 抓获", "九龙坡", '"电信诈骗"', "萬州", "立集体", "公安局 火星", "詐欺"]


def _segments(index_dir: Path) -> dict[str, int]:
    """Live segment id → document count (deleted ones included, as in the files)."""
    with open_index(index_dir).searcher() as searcher:
        return {leaf.segment().segment_id(): leaf.doc_count_all() for leaf, _ in searcher.reader().leaf_readers()}


def _column_files(index_dir: Path) -> set[str]:
    return {path.name[: -len(SUFFIX)] for path in current_generation(index_dir).glob(f"*{SUFFIX}")}


@pytest.fixture
def multi_segment_index(tmp_path: Path) -> Path:
    """Seeds, then the authored fixture releases: two commits, two segments."""
    seeds, fixtures = tmp_path / "seeds", tmp_path / "fixtures"
    seeds.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, seeds)
    shutil.copytree(FIXTURE_RELEASES, fixtures)
    index_dir = tmp_path / "index"
    sync(index_dir, [seeds])
    sync(index_dir, [fixtures])
    assert len(_segments(index_dir)) == 2
    return index_dir


def _results(engine: SearchEngine) -> list[tuple]:
    results = []
    for query in QUERIES:
        result = engine.search(q=query)
        results.append((query, result.total, [(hit.id, hit.score) for hit in result.hits], result.facets))
    return results


class WhooshScoredEngine(SearchEngine):
    """The same engine scoring with Whoosh's BM25F, which reads lengths from Whoosh per document."""

    def _weighting(self) -> BM25F:
        return BM25F()


def test_every_segment_has_a_file_equal_to_what_whoosh_stores(multi_segment_index):
    generation = current_generation(multi_segment_index)
    with open_index(multi_segment_index).searcher() as searcher:
        for leaf, _ in searcher.reader().leaf_readers():
            segment_id = leaf.segment().segment_id()
            saved = SegmentColumns.load(generation, segment_id, leaf.doc_count_all())
            assert saved is not None
            assert saved == SegmentColumns.read_from(leaf)
            assert len(saved) == leaf.doc_count_all()
            assert any(saved.datekeys) and any(saved.regions)
            assert all(length > 0 for length in saved.lengths["body"])
    assert _column_files(multi_segment_index) == set(_segments(multi_segment_index))


def test_scores_and_facets_equal_whooshs_own_bm25f(multi_segment_index):
    saved, whoosh = SearchEngine(multi_segment_index), WhooshScoredEngine(multi_segment_index)
    try:
        ours, theirs = _results(saved), _results(whoosh)
    finally:
        saved.close()
        whoosh.close()
    assert ours == theirs
    assert sum(total for _, total, _, _ in ours) > 10


def test_a_missing_or_damaged_file_is_read_from_whoosh_and_rewritten_by_the_next_sync(multi_segment_index):
    engine = SearchEngine(multi_segment_index)
    before = _results(engine)
    engine.close()
    generation = current_generation(multi_segment_index)
    first, second = sorted(_segments(multi_segment_index))
    path_for(generation, first).unlink()
    path_for(generation, second).write_bytes(b"not a pickle")

    engine = SearchEngine(multi_segment_index)
    assert _results(engine) == before
    engine.close()
    assert SegmentColumns.load(generation, second, _segments(multi_segment_index)[second]) is None

    report = sync(multi_segment_index, [])  # nothing changed: only the missing files are written
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    for segment_id, count in _segments(multi_segment_index).items():
        assert SegmentColumns.load(generation, segment_id, count) is not None


def test_files_of_segments_merged_away_are_deleted(multi_segment_index, tmp_path):
    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(SEEDS[0], extra / "copy-a.txt")
    sync(multi_segment_index, [extra])  # a one-release segment, small enough to be merged next time
    small = set(_segments(multi_segment_index))
    assert len(small) == 3
    shutil.copy(SEEDS[1], extra / "copy-b.txt")
    sync(multi_segment_index, [extra])
    live = set(_segments(multi_segment_index))
    assert small - live, "the small segment should have been merged"
    assert _column_files(multi_segment_index) == live
    assert not list(current_generation(multi_segment_index).glob(f".*{SUFFIX}.tmp"))


def test_the_rust_segmenter_starts_without_building_rjiebas_unused_default_instance():
    probe = (
        "import sys; from search.analysis import segmenter; s = segmenter(); "
        "print(s.name, 'rjieba' in sys.modules, [t[0] for t in s.tokenize('杜荣良民警在九龙坡区')])"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO)
    assert output.stdout.split(" ", 2)[:2] == ["rjieba", "False"]
    assert "九龙坡区" in output.stdout


@pytest.mark.parametrize(
    "odd_release",
    [
        "|\n6月9日下午，民警接到报警后赶赴现场。",
        "Police report: two arrested.",
        "![]() |\n\n民警提醒。",
        '9 M2 z! E5 X"\n',
    ],
)
def test_a_release_with_a_wordless_field_beside_ordinary_ones_is_indexed_and_searchable(
    tmp_path: Path, odd_release: str
) -> None:
    """Whoosh answers None for the length of a field with no term; the columns must read it as 0
    (this batch used to crash after its commit and leave every later search failing)."""
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(SEEDS[0], source / SEEDS[0].name)
    (source / "odd.txt").write_text(odd_release, encoding="utf-8")
    report = sync(tmp_path / "index", [source])
    assert report.added == 2 and not report.skipped
    assert _column_files(tmp_path / "index") == set(_segments(tmp_path / "index"))
    engine = SearchEngine(tmp_path / "index")
    try:
        assert engine.search("九龙坡").total == 1
        assert engine.stats()["documents"] == 2
    finally:
        engine.close()
    assert sync(tmp_path / "index", [source]).unchanged == 2
