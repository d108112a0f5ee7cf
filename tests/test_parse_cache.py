"""Parsing once: parsed queries remembered per commit, boosts without Whoosh's deep copies."""

from __future__ import annotations

import shutil

import pytest
from whoosh import query as wq

from search.query import QueryError, SearchEngine
from search.query.nodes import DocSet, GramRun, boosted
from search.sync import sync
from tests.conftest import SEED_000, SEED_001, SEED_002


def test_boosted_equals_whoosh_with_boost_and_leaves_the_original_alone():
    word = wq.Or([wq.Term("body", "诈骗"), wq.Term("title", "诈骗", boost=2.0)])
    run = GramRun("grams", ["诈骗"], word=word, same_text=True)
    tree = wq.Or([wq.And([wq.Term("body", "民警"), run]), DocSet([3, 1, 2])])
    for node in (tree, run, tree.subqueries[0], wq.Term("body", "民警")):
        copy = boosted(node, 0.4)
        assert copy == node.with_boost(0.4) and copy is not node
        assert node.boost == 1.0
    assert boosted(tree, 0.7).subqueries is not tree.subqueries  # a list of its own, its nodes shared
    # a deep copy of a tree holding our nodes shares what they hold (nothing changes a tree in place)
    assert wq.Or([run]).with_boost(2.0).subqueries[0].word is run.word


def test_a_query_is_parsed_once_per_commit_and_searches_the_same(tmp_path):
    index_dir = tmp_path / "index"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in (SEED_000, SEED_001):
        shutil.copy(seed, corpus / seed.name)
    sync(index_dir, [corpus])
    engine = SearchEngine(index_dir)
    calls = []
    parsed = engine._parsed

    def counted(*args):
        calls.append(args)
        return parsed(*args)

    engine._parsed = counted
    first = engine.search("民警 诈骗")
    parses = len(calls)
    assert parses > 1  # the whole query, then each word for scoring and for matching
    again = engine.search("民警 诈骗")
    assert len(calls) == parses and again.hits == first.hits and again.total == first.total
    query, expanded = engine._parse("诈骗", ("body",))
    expanded["诈骗"] = ("changed",)  # the caller's own copy
    assert engine._parse("诈骗", ("body",)) == (query, engine._parse("诈骗", ("body",))[1])
    assert engine._parse("诈骗", ("body",))[1] != expanded
    shutil.copy(SEED_002, corpus / SEED_002.name)
    sync(index_dir, [corpus])  # a new commit: parsed again
    engine.search("民警 诈骗")
    assert len(calls) > parses + 1
    engine.close()


def test_a_remembered_word_still_counts_and_still_brings_its_synonyms(engine):
    from search.query.limits import MAX_QUERY_WORDS

    alone = engine._parse("扫黑除恶", ("body",))[1]
    assert alone  # widened by the synonym file
    # the same word made in one parse is replayed in the next, with what it adds
    assert engine._parse("扫黑除恶 民警", ("title", "body"))[1] == alone
    assert engine._parse("民警 扫黑除恶", ("body",))[1] == alone
    words = " ".join(["民警"] * (MAX_QUERY_WORDS + 1))
    engine.search("民警")
    with pytest.raises(QueryError, match=f"query has {MAX_QUERY_WORDS + 1} words"):
        engine.search(words)
