"""Positions of a term in a few documents read block by block from the packed postings equal what
a Whoosh matcher walking them gives (the proximity rescoring reads them)."""

from __future__ import annotations

import shutil

from search import codec
from search.query import SearchEngine
from search.query.proximity import matcher_positions
from search.sync import sync
from tests.conftest import SEEDS, TELECOM_ONLY


def test_positions_in_a_few_documents_equal_the_matchers(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed in SEEDS[:3]:
        shutil.copy(seed, corpus / seed.name)
    index_dir = tmp_path / "index"
    sync(index_dir, [corpus])
    for seed in SEEDS[3:]:  # a second segment
        shutil.copy(seed, corpus / seed.name)
    (corpus / "telecom.txt").write_text(TELECOM_ONLY, encoding="utf-8")
    sync(index_dir, [corpus])
    (corpus / SEEDS[1].name).unlink()  # a deletion
    sync(index_dir, [corpus])
    engine = SearchEngine(index_dir)
    with engine.snapshot():
        reader = engine._current_searcher().reader()
        assert len(list(reader.leaf_readers())) > 1
        live = sorted(reader.all_doc_ids())
        words = ["民警", "诈骗", "电信诈骗", "公安", "派出所"]
        checked = 0
        for word in words:
            if ("body", word) not in reader:
                continue
            for docs in (live, live[::2], live[1:2], []):
                expected = matcher_positions(reader, word, docs)
                assert codec.positions_in(reader, "body", word, docs) == expected
                checked += bool(expected)
        assert checked >= 4
    engine.close()


def test_positions_across_many_blocks_and_segments(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    index_dir = tmp_path / "index"
    for batch in range(2):  # two segments, each with more postings of 民警 than a block holds
        for number in range(batch * 150, batch * 150 + 150):
            filler = "群众" * (number % 7)
            text = f"某县第{number}号通报\n发布时间:2024-03-05\n{filler}民警巡逻{number}次,民警发现线索。\n"
            (corpus / f"r{number:04d}.txt").write_text(text, encoding="utf-8")
        sync(index_dir, [corpus])
    engine = SearchEngine(index_dir)
    with engine.snapshot():
        reader = engine._current_searcher().reader()
        live = sorted(reader.all_doc_ids())
        for docs in (live, live[::37], live[-3:], [live[5], live[140], live[290]]):
            expected = matcher_positions(reader, "民警", docs)
            assert len(expected) == len(docs)
            assert codec.positions_in(reader, "body", "民警", docs) == expected
    engine.close()
