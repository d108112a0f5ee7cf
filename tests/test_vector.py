"""The vectorised executor (search/vector.py) against Whoosh: on random multi-segment indexes with
deletions and merges, every query's matches equal ``docs_for_query`` and its scores Whoosh's
BM25F (1e-6 relative); on the engine's own index, the same against its term-by-term scoring, and
search results with the executor equal those without it."""

from __future__ import annotations

import heapq
import math
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import query as wq
from whoosh.scoring import BM25F

from bench.queries import QUERIES
from search import codec, facet_arrays, facets, vector
from search.arrays import ArrayCache
from search.facet_arrays import ColumnArrays
from search.facet_registry import FacetValues
from search.facets import FacetColumns
from search.index import current_generation, open_generation
from search.query import SearchEngine, scoring
from search.query.facets import _ranked
from search.query.plan import resolve_gram_runs
from search.query.vectored import Tallied
from search.segment_columns import segment_columns
from search.sync import sync
from search.vector import Executor, UnsupportedQueryError
from tests.conftest import SEEDS
from tests.synthetic import write_releases
from tests.test_codec import BLOCK_LIMIT, WORDS, history
from tests.test_codec import _build as build_index

FIELDS = ("body", "chars", "tags", "plain")  # of test_codec's schema ("plain" is not scorable)

term = st.builds(wq.Term, st.sampled_from(FIELDS), st.sampled_from([*WORDS, "absent"]))
boosted_term = st.builds(
    lambda t, boost: wq.Term(t.fieldname, t.text, boost=boost), term, st.sampled_from([1.0, 2.0, 0.4])
)
phrase = st.builds(
    lambda field, words, boost: wq.Phrase(field, words, boost=boost),
    st.sampled_from(["body", "chars"]),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=3),
    st.sampled_from([1.0, 0.4]),
)
scored_leaf = st.one_of(boosted_term, phrase)


def _compound(children: Any) -> Any:
    # two children or more: Whoosh drops the boost of a compound of one (the engine's scoring keeps it)
    lists = st.lists(children, min_size=2, max_size=3)
    boosts = st.sampled_from([1.0, 0.7])
    return st.one_of(
        st.builds(lambda qs, b: wq.And(qs, boost=b), lists, boosts),
        st.builds(lambda qs, b: wq.Or(qs, boost=b), lists, boosts),
    )


scored_query = st.recursive(scored_leaf, _compound, max_leaves=6)
# (Every and NullQuery stay at the top, and AndNot, Require and AndMaybe are left to Whoosh: Whoosh
# 2.7.4 gets AndNot(b, a) for a document of both, Not(Require(a, NullQuery)), Or([.., Require(a, a)])
# wrong)
matching_query = st.recursive(
    scored_leaf,
    lambda children: st.one_of(
        _compound(children),
        st.builds(wq.Not, children),
        st.builds(lambda a, b: wq.And([a, wq.Not(b)]), children, children),  # how ``a NOT b`` parses
    ),
    max_leaves=6,
)


def _build(directory: str, plan: dict[str, Any]) -> Any:
    return build_index(directory, plan, packed=True)


def _assert_scores_equal(ours: dict[int, float], theirs: dict[int, float]) -> None:
    assert sorted(ours) == sorted(theirs)
    for doc, score in theirs.items():
        assert math.isclose(ours[doc], score, rel_tol=1e-6, abs_tol=1e-12), (doc, ours[doc], score)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=history, queries=st.lists(matching_query, min_size=1, max_size=4))
def test_matches_equal_whoosh_on_random_indexes(plan: dict[str, Any], queries: list[wq.Query]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        ix = _build(directory, plan)
        with ix.searcher(weighting=BM25F()) as searcher:
            executor = Executor(searcher, ArrayCache())
            reader = searcher.reader()
            for query in [*queries, wq.Every(), wq.NullQuery, wq.Or([queries[0], wq.NullQuery])]:
                # live documents only: Whoosh's inverse matcher (a Not) lists a deleted document
                # just after its child's last match
                whoosh = sorted(doc for doc in searcher.docs_for_query(query) if not reader.is_deleted(doc))
                assert executor.docs(query).tolist() == whoosh, query


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=history, queries=st.lists(scored_query, min_size=1, max_size=4), keep=st.integers(1, 4))
def test_scores_equal_whoosh_bm25f_on_random_indexes(plan: dict[str, Any], queries: list[wq.Query], keep: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        ix = _build(directory, plan)
        with ix.searcher(weighting=BM25F(B=0.6, body_B=0.9, K1=1.5)) as searcher:
            executor = Executor(searcher, ArrayCache())
            for query in queries:
                whoosh = {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}
                ids, scores = executor.scored(query, None)
                _assert_scores_equal(dict(zip(ids.tolist(), scores.tolist(), strict=True)), whoosh)
                # confined to candidates: the same scores for the candidates it matches
                candidates = np.arange(0, searcher.doc_count_all(), keep, dtype=np.int64)
                ids, scores = executor.scored(query, candidates)
                confined = {doc: score for doc, score in whoosh.items() if doc % keep == 0}
                _assert_scores_equal(dict(zip(ids.tolist(), scores.tolist(), strict=True)), confined)


def test_spans_of_exact_distances_match_as_whoosh(tmp_path) -> None:
    plan = {
        "commits": [
            {"documents": ["alpha beta gamma alpha delta beta gamma", "alpha gamma beta", "beta alpha"],
             "deletions": [], "merge": False},
            {"documents": ["delta alpha zeta beta gamma gamma", "alpha alpha beta beta"], "deletions": [1],
             "merge": False},
        ],
        "optimize": False,
    }  # fmt: skip
    ix = _build(str(tmp_path), plan)
    term = lambda word: wq.Term("body", word)  # noqa: E731
    queries = [
        wq.SpanNear2([term("alpha"), term("beta")], slop=2, mindist=2),
        wq.SpanNear2([wq.SpanNear2([term("alpha"), term("beta")], slop=1, mindist=1), term("gamma")], slop=1,
                     mindist=1),
        wq.SpanNear2([term("alpha"), term("gamma")], slop=2, mindist=2),
        wq.Phrase("body", ["alpha", "beta", "gamma"]),
        wq.Phrase("body", ["beta", "beta"]),
    ]  # fmt: skip
    with ix.searcher(weighting=BM25F()) as searcher:
        executor = Executor(searcher, ArrayCache())
        for query in queries:
            assert executor.docs(query).tolist() == sorted(searcher.docs_for_query(query)), query
            whoosh = {hit.docnum: hit.score for hit in searcher.search(query, limit=None)}
            ids, scores = executor.scored(query, None)
            _assert_scores_equal(dict(zip(ids.tolist(), scores.tolist(), strict=True)), whoosh)


def test_what_it_does_not_evaluate_is_said(tmp_path) -> None:
    ix = _build(str(tmp_path), {"commits": [{"documents": ["alpha beta"], "deletions": [], "merge": False}],
                                "optimize": False})  # fmt: skip
    with ix.searcher() as searcher:
        executor = Executor(searcher, ArrayCache())
        unsupported = (
            wq.AndNot(wq.Term("body", "alpha"), wq.Term("body", "beta")),
            wq.Require(wq.Term("body", "alpha"), wq.Term("body", "beta")),
            wq.Prefix("body", "al"),
            wq.Phrase("body", ["alpha", "beta"], slop=3),
        )
        for query in unsupported:
            with pytest.raises(UnsupportedQueryError):
                executor.docs(query)
        for query in (
            wq.Or([wq.Term("body", "alpha")], minmatch=2),
            wq.And([wq.Term("body", "alpha"), wq.Not(wq.Term("body", "beta"))]),
        ):
            with pytest.raises(UnsupportedQueryError):
                executor.scored(query, None)


def test_the_cache_is_bounded_and_never_serves_a_segment_with_more_deletions(tmp_path) -> None:
    plan = {"commits": [{"documents": ["alpha beta"] * 8, "deletions": [], "merge": False}], "optimize": False}
    ix = _build(str(tmp_path), plan)
    cache = ArrayCache(max_bytes=2000)
    with ix.searcher() as searcher:
        assert Executor(searcher, cache).docs(wq.Term("body", "alpha")).tolist() == list(range(8))
        for word in WORDS:
            Executor(searcher, cache).docs(wq.Term("tags", word))
        assert cache.nbytes <= 2000
    writer = ix.writer(codec=codec.PackedCodec(blocklimit=BLOCK_LIMIT))
    writer.delete_by_term("key", "3")
    writer.commit(merge=False)
    with ix.searcher() as searcher:
        assert Executor(searcher, cache).docs(wq.Term("body", "alpha")).tolist() == [0, 1, 2, 4, 5, 6, 7]


@pytest.fixture(scope="module")
def synced_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seeds, then 60 synthetic releases, then 20 of them removed: three commits, deletions."""
    root = tmp_path_factory.mktemp("vector")
    seeds = root / "seeds"
    seeds.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, seeds)
    synthetic = root / "synthetic"
    paths = write_releases(synthetic, 60)
    sync(root / "index", [seeds])
    sync(root / "index", [synthetic])
    for path in paths[::3]:
        path.unlink()
    sync(root / "index", [synthetic])
    return root / "index"


def test_facet_arrays_count_and_filter_as_the_lists_do(synced_index: Path) -> None:
    generation = current_generation(synced_index)
    with open_generation(generation).searcher() as searcher:
        leaves = [leaf for leaf, _ in searcher.reader().leaf_readers() if leaf.doc_count_all()]
        columns = FacetColumns.from_segments([segment_columns(generation, leaf) for leaf in leaves])
        values = FacetValues(searcher.reader().leaf_readers(), {})
        live = sorted(searcher.reader().all_doc_ids())
    arrays = ColumnArrays.build(columns, values)
    rng = random.Random(3)
    regions = [None, *sorted({name for names in columns.region_names for name in names})[:6], "火星"]
    chosen_values = [{}] + [{name: names[0]} for name, names in values.names.items() if names]
    for _ in range(60):
        docs = sorted(rng.sample(live, rng.randint(0, len(live))))
        region = rng.choice(regions)
        date_range = rng.choice([None, (20180101, 20221231), (20250101, 99991231)])
        undated = rng.random() < 0.5
        chosen = rng.choice(chosen_values)
        expected = facets.apply_filters(columns, docs, region, date_range, undated)
        got = facet_arrays.apply_filters(columns, arrays, np.asarray(docs, dtype=np.int64), region, date_range, undated)
        for name in ("both", "by_date", "by_region"):
            assert getattr(got, name).tolist() == getattr(expected, name), name
        listed = facets.region_counts(columns, expected.by_date)
        assert facet_arrays.region_counts(columns, arrays, got.by_date) == listed
        for limit in (1, 3, 200):  # only what a facet of ``limit`` values lists
            limited = facet_arrays.region_counts(columns, arrays, got.by_date, limit)
            assert all(_ranked(limited[level], limit) == _ranked(listed[level], limit) for level in listed)
        for year in (None, 2020):
            assert facet_arrays.date_counts(arrays, got.by_region, year) == facets.date_counts(
                columns, expected.by_region, year
            )
        assert facet_arrays.undated_count(arrays, got.by_region) == facets.undated_count(columns, expected.by_region)
        assert facet_arrays.narrow(arrays, got.both, chosen).tolist() == values.narrow(expected.both, chosen)
        assert facet_arrays.value_counts(arrays, got.both, chosen) == values.counts(expected.both, chosen, None)


SEARCHES = [
    *QUERIES,
    {"q": "诈骗", "page": 2, "per_page": 5},
    {"q": "诈骗 嫌疑人", "collapse": True},
    {"q": '"公安分局" 通报', "sort": "date"},
    {"q": "民警 OR 巡逻"},
    {"q": "民警 NOT 巡逻"},
    {"q": "(诈骗 OR 盗窃) AND 公安"},
    {"q": "title:公安 诈骗"},
    {"q": "杜荣良"},
    {"q": "荣良"},
    {"q": "公安局 火星"},
    {"q": "派出所民警"},
    {"q": '"派出所民警"'},
    {"q": "电动车盗窃团伙"},
    {"q": "九龙坡区 诈骗", "date_from": "2018-01-01"},
]


def _without_executor(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise UnsupportedQueryError("switched off")

    monkeypatch.setattr(Executor, "docs", refuse)
    monkeypatch.setattr(Executor, "scored", refuse)
    monkeypatch.setattr(SearchEngine, "_facet_arrays", lambda self, searcher: None)  # facets from lists


def _outcomes(engine: SearchEngine) -> list[dict[str, Any]]:
    found = []
    for search in SEARCHES:
        result = engine.search(**search).as_dict()
        result.pop("took_ms")
        found.append(result)
    return found


def test_search_results_equal_those_without_the_executor(synced_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = SearchEngine(synced_index)
    try:
        with_arrays = _outcomes(engine)
        with monkeypatch.context() as patched:
            _without_executor(patched)
            without = _outcomes(engine)
    finally:
        engine.close()
    assert any(result["total"] > 5 for result in with_arrays)
    for search, ours, theirs in zip(SEARCHES, with_arrays, without, strict=True):
        ours_scores = [hit.pop("score") for hit in ours["hits"]]
        their_scores = [hit.pop("score") for hit in theirs["hits"]]
        assert ours == theirs, search
        # a search sorted by date has no scores (None), which pytest.approx cannot compare
        assert [score is None for score in ours_scores] == [score is None for score in their_scores], search
        scored = [(mine, theirs) for mine, theirs in zip(ours_scores, their_scores, strict=True) if mine is not None]
        expected = pytest.approx([theirs for _, theirs in scored], rel=1e-6, abs=1e-4)
        assert [mine for mine, _ in scored] == expected, search


def test_term_scores_equal_the_term_by_term_tally_exactly(synced_index: Path) -> None:
    engine = SearchEngine(synced_index)
    try:
        with engine.snapshot():
            searcher = engine._current_searcher()
            everything = sorted(searcher.reader().all_doc_ids())
            queries = [resolve_gram_runs(searcher, engine.parse(search["q"]), {}) for search in SEARCHES if search["q"]]
            tallyable = [query for query in queries if scoring._tallyable(query)]
            assert len(tallyable) > 10
            for query in tallyable:
                executor = Executor(searcher, ArrayCache())
                for candidates in (everything, everything[::3]):
                    expected = {}
                    for leaf, offset in searcher.leaf_searchers():
                        local = {doc - offset for doc in candidates if offset <= doc < offset + leaf.doc_count_all()}
                        expected.update(
                            {doc + offset: s for doc, s in scoring._tally(leaf, query, local, offset).items()}
                        )
                    ids, scores = executor.scored(query, np.asarray(candidates, dtype=np.int64))
                    assert dict(zip(ids.tolist(), scores.tolist(), strict=True)) == expected, query
    finally:
        engine.close()


def test_an_executor_forgets_its_terms_beyond_its_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = {
        "commits": [
            {"documents": ["alpha beta gamma"] * 6, "deletions": [], "merge": False},
            {"documents": ["beta gamma delta"] * 6, "deletions": [2], "merge": False},
        ],
        "optimize": False,
    }
    ix = _build(str(tmp_path), plan)
    monkeypatch.setattr(vector, "MAX_KEPT_BYTES", 100)
    with ix.searcher() as searcher:
        executor = Executor(searcher, ArrayCache())
        for _ in range(2):
            for word in ("alpha", "beta", "gamma", "delta"):
                query = wq.Phrase("body", [word, "gamma"]) if word == "beta" else wq.Term("body", word)
                assert executor.docs(query).tolist() == sorted(searcher.docs_for_query(query))
                assert len(executor._terms) <= 3  # started afresh when past the budget


@settings(max_examples=200, deadline=None)
@given(
    scores=st.lists(st.sampled_from([1.0, 1.0000004, 1.0000006, 0.9999995, 2.5, 2.5000001, 0.0]), max_size=40),
    wanted=st.integers(1, 12),
    seed=st.integers(0, 1000),
)
def test_the_best_tallied_are_those_of_the_full_ordering(scores: list[float], wanted: int, seed: int) -> None:
    rng = random.Random(seed)
    ids = np.arange(0, 3 * len(scores), 3, dtype=np.int64)
    datekeys = [rng.choice([0, 20200101, 20240505]) for _ in range(3 * len(scores) + 1)]
    tallied = Tallied(ids, np.asarray(scores, dtype=np.float64))
    full = heapq.nlargest(wanted, tallied.items(), key=lambda item: (round(item[1], 6), datekeys[item[0]], item[0]))
    assert tallied.top(wanted, datekeys) == [(score, doc) for doc, score in full]
