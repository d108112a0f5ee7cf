"""Ranking is exhaustive and exact: term-by-term scoring gives Whoosh's BM25F sums, and neither it
nor the top-k fallback loses a release to Whoosh 2.7.4's pruning of boosted (headline) terms."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import search.query as query_module
from search.query import SearchEngine
from search.sync import sync
from tests.conftest import SEEDS
from tests.synthetic import write_releases

PATROL_BODY = "城区民警开展夜间巡逻,民警在巡逻中发现可疑人员。"
FILLER = "群众表示满意。" * 20


def _patrol_corpus(folder: Path) -> None:
    """Forty releases with 夜间巡逻 in a long headline, then one with it as its whole headline:
    the best match for 夜间巡逻, and the last document Whoosh reaches."""
    folder.mkdir(parents=True)
    for number in range(40):
        (folder / f"r{number:03d}.txt").write_text(
            f"某县民警夜间巡逻第{number}号通报\n发布时间:2024-03-{number % 28 + 1:02d} 09:00 | 来源:某县公安局\n"
            + PATROL_BODY * (1 + number % 3)
            + FILLER
            + "\n",
            encoding="utf-8",
        )
    (folder / "z999.txt").write_text(
        "夜间巡逻\n发布时间:2024-01-01 09:00 | 来源:某县公安局\n" + PATROL_BODY * 3 + FILLER + "\n", encoding="utf-8"
    )


@pytest.fixture(params=["term by term", "whoosh top-k"])
def scoring_path(request, monkeypatch):
    if request.param == "whoosh top-k":
        monkeypatch.setattr(query_module.scoring, "_tally_scores", lambda *args: None)
    return request.param


def test_the_best_headline_match_is_not_pruned_away(tmp_path, scoring_path):
    _patrol_corpus(tmp_path / "corpus")
    sync(tmp_path / "index", [tmp_path / "corpus"])
    engine = SearchEngine(tmp_path / "index")
    try:
        for query in ("夜间巡逻", "巡逻"):
            hits = engine.search(q=query).hits
            assert hits[0].title == "夜间巡逻", (query, [hit.title for hit in hits[:3]])
            assert hits[0].score > hits[1].score
    finally:
        engine.close()


@pytest.fixture(scope="module")
def two_segment_engine(tmp_path_factory):
    root = tmp_path_factory.mktemp("scoring")
    seeds = root / "seeds"
    seeds.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, seeds)
    write_releases(root / "synthetic", 60)
    sync(root / "index", [seeds])
    sync(root / "index", [root / "synthetic"])
    engine = SearchEngine(root / "index")
    yield engine
    engine.close()


QUERIES = [
    {"q": "民警"},
    {"q": "诈骗 嫌疑人"},
    {"q": "公安分局 通报"},
    {"q": "九龙坡 命案"},
    {"q": "萬州 诈骗"},
    {"q": "杜荣良"},
    {"q": "公安局 火星"},
    {"q": "诈欺"},
    {"q": "民警", "district": "渝中区"},
    {"q": "诈骗", "date_from": "2019-01-01", "date_to": "2023-12-31"},
]


def _ranking(engine: SearchEngine) -> list[tuple]:
    rankings = []
    for query in QUERIES:
        for page in (1, 2):
            result = engine.search(page=page, per_page=5, **query)
            rankings.append((query["q"], page, result.total, result.mode, [(hit.id, hit.score) for hit in result.hits]))
    return rankings


def test_term_by_term_scores_and_order_equal_whooshs_exhaustive_top_k(two_segment_engine, monkeypatch):
    term_by_term = _ranking(two_segment_engine)
    monkeypatch.setattr(query_module.scoring, "_tally_scores", lambda *args: None)
    whoosh = _ranking(two_segment_engine)
    assert term_by_term == whoosh
    assert sum(len(hits) for *_, hits in term_by_term) > 50


def test_queries_of_phrases_are_left_to_whoosh():
    from whoosh import query as wq

    assert query_module._tallyable(wq.And([wq.Term("body", "民警"), wq.Or([wq.Term("title", "a")])]))
    assert not query_module._tallyable(wq.And([wq.Term("body", "民警"), wq.Phrase("body", ["派出所", "民警"])]))


def test_an_alternative_needing_a_term_no_release_has_is_dropped_before_scoring(engine):
    """电信诈骗's synonym 电信诈欺 is matched in headlines as 电信 then 诈欺 (a span); no sample has
    诈欺, so the span is dropped and the query is scored term by term."""
    from whoosh import query as wq

    with engine.snapshot():
        searcher = engine._current_searcher()
        parsed = engine.parse("电信诈骗 抓获")
        assert any(isinstance(node, wq.SpanNear2) for node in query_module._walk(parsed))
        resolved = query_module.resolve_gram_runs(searcher, parsed, {})
    assert not any(isinstance(node, wq.SpanNear2) for node in query_module._walk(resolved))
    assert query_module._tallyable(resolved)
    assert engine.search(q="电信诈骗 抓获").total > 0


def test_only_plain_terms_are_scored_term_by_term():
    from whoosh import query as wq

    assert not query_module._tallyable(wq.FuzzyTerm("body", "民警"))
    assert not query_module._tallyable(wq.Or([wq.Term("body", "民警"), wq.Prefix("body", "民")]))
