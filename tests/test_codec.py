"""Our packed-postings codec against Whoosh's stock W3 codec: the same documents, commits,
deletions and merges give the same ids, frequencies, weights, positions, characters, scores and
block qualities, the same phrase and span results, and ``block_arrays``/``postings_arrays`` hand
out exactly what the matcher serves."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.query import spans
from whoosh.scoring import BM25F

from bench.codec import stock_codec
from search import codec
from search.index import (
    GENERATION_FILE,
    INDEX_NAME,
    ChineseText,
    GenerationInfo,
    RebuildNeededError,
    _write_json,
    build_schema,
    open_generation,
    open_index,
)
from search.query import SearchEngine
from search.sync import sync
from tests.conftest import REPO, SEEDS

# A block limit of 4 instead of 128, in both codecs, so small documents give many blocks.
BLOCK_LIMIT = 4
WORDS = ["alpha", "beta", "gamma", "delta", "omega", "zeta"]
CHINESE = ["民警", "诈骗", "公安局", "抓获", "电信"]


def _schema() -> Schema:
    return Schema(
        key=ID(stored=True, unique=True),
        body=TEXT(field_boost=1.3),  # Positions; weights that float32 cannot hold exactly
        chars=TEXT(chars=True),  # Characters: positions with start and end characters
        tags=KEYWORD(scorable=True),  # Frequency: packed as raw value bytes
        plain=KEYWORD(),  # Existence: no values
        zh=ChineseText(),  # the project's field, values encoded by its own indexing path
    )


document = st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join)
commit = st.fixed_dictionaries(
    {
        "documents": st.lists(document, min_size=1, max_size=12),
        "deletions": st.lists(st.integers(min_value=0, max_value=60), max_size=3),
        "merge": st.booleans(),
    }
)
history = st.fixed_dictionaries({"commits": st.lists(commit, min_size=1, max_size=4), "optimize": st.booleans()})


def _fields(number: int, text: str) -> dict[str, str]:
    zh = "".join(CHINESE[len(word) % len(CHINESE)] for word in text.split())
    return {"key": str(number), "body": text, "chars": text, "tags": text, "plain": text, "zh": zh}


def _build(directory: str, plan: dict[str, Any], packed: bool) -> Any:
    """One index through ``plan``'s commits; the stock one with W3, ours with ``PackedCodec``."""
    schema = _schema()
    if packed:
        ix = codec.create_index(directory, schema, "t")
    else:
        ix = whoosh_index.create_in(directory, schema, indexname="t")

    def new_codec() -> Any:
        return codec.PackedCodec(blocklimit=BLOCK_LIMIT) if packed else W3Codec(blocklimit=BLOCK_LIMIT)

    number = 0
    for step in plan["commits"]:
        writer = ix.writer(codec=new_codec())
        for text in step["documents"]:
            writer.add_document(**_fields(number, text))
            number += 1
        for deleted in step["deletions"]:
            writer.delete_by_term("key", str(deleted))
        writer.commit(merge=step["merge"])
    if plan["optimize"]:
        ix.writer(codec=new_codec()).commit(optimize=True)
    return ix


def _postings(ix: Any, blocks: bool = True) -> list[tuple]:
    """Every posting as Whoosh's public matcher interface serves it, with its BM25F score and
    (``blocks``) the quality of its block."""
    rows = []
    with ix.searcher(weighting=BM25F()) as searcher:
        for fieldname, text in searcher.reader().all_terms():
            for subsearcher, docbase in searcher.leaf_searchers():
                leaf = subsearcher.reader()
                if (fieldname, text) not in leaf:
                    continue
                rows.append(("all_ids", *leaf.postings(fieldname, text).all_ids()))
                scorer = searcher.weighting.scorer(subsearcher, fieldname, text)
                matcher = leaf.postings(fieldname, text, scorer=scorer)
                for row in _walk(matcher, searcher.schema[fieldname], blocks):
                    rows.append((fieldname, text, row[0] + docbase, *row[1:]))
    return rows


def _walk(matcher: Any, fieldobj: Any, blocks: bool) -> list[tuple]:
    supports = fieldobj.format.supports
    leaf = getattr(matcher, "child", matcher)  # under the wrapper that hides deleted documents
    rows = []
    while matcher.is_active():
        row = [matcher.id(), matcher.weight(), matcher.score(), matcher.value()]  # value: what merges copy
        row.append(matcher.value_as("frequency") if supports("frequency") else None)
        if supports("positions"):
            row += [tuple(matcher.value_as("positions")), [s.start for s in matcher.spans()]]
        if supports("characters"):
            row.append(tuple(matcher.value_as("characters")))
        if blocks and matcher.supports_block_quality():
            row += [matcher.block_quality(), leaf.block_max_weight(), leaf.block_min_length(), leaf.block_max_id()]
        rows.append(tuple(row))
        matcher.next()
    return rows


def _query_results(ix: Any) -> list[tuple]:
    """Scored results of term, phrase, span and boolean queries, and skip_to walks."""
    first, second = WORDS[0], WORDS[1]
    queries = [
        wq.Term("body", first),
        wq.Phrase("body", [first, second]),
        wq.Phrase("chars", [second, first], slop=2),
        spans.SpanNear(wq.Term("body", first), wq.Term("body", second), slop=2),
        spans.SpanFirst(wq.Term("body", second), limit=2),
        spans.SpanOr([wq.Term("chars", first), wq.Term("chars", second)]),  # (SpanNot: Whoosh fails on an absent term)
        wq.And([wq.Term("body", first), wq.Not(wq.Term("tags", second))]),
        wq.Or([wq.Term("body", w) for w in WORDS]),
        wq.Term("zh", CHINESE[0]),
    ]
    results = []
    with ix.searcher(weighting=BM25F()) as searcher:
        for query in queries:
            results.append([(hit.docnum, hit.score) for hit in searcher.search(query, limit=None)])
            # top-k with block-quality skipping for single terms only: Whoosh 2.7.4's union and
            # intersection matchers can loop forever in skip_to_quality (aq + bq <= minquality while
            # neither child moves), with its own codec as with ours; the engine never asks for it
            single_term = isinstance(query, wq.Term)
            results.append(searcher.search(query, limit=3, optimize=single_term).docs())
        matcher = wq.Term("body", first).matcher(searcher)
        walk = []
        for target in range(0, 80, 3):
            if not matcher.is_active():
                break
            matcher.skip_to(target)
            walk.append(matcher.id() if matcher.is_active() else None)
        results.append(walk)
    return results


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=history)
def test_every_posting_and_result_equals_the_stock_codec(plan: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as stock_dir, tempfile.TemporaryDirectory() as packed_dir:
        stock, packed = _build(stock_dir, plan, packed=False), _build(packed_dir, plan, packed=True)
        assert not codec.foreign_segments(packed)
        assert _postings(packed) == _postings(stock)
        assert _query_results(packed) == _query_results(stock)
        with stock.searcher() as s_stock, packed.searcher() as s_packed:
            assert [f for f in s_packed.all_stored_fields()] == [f for f in s_stock.all_stored_fields()]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=history)
def test_arrays_equal_what_the_matcher_serves(plan: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as packed_dir:
        ix = _build(packed_dir, plan, packed=True)
        with ix.searcher() as searcher:
            reader = searcher.reader()
            for fieldname, text in reader.all_terms():
                expected = _matcher_postings(reader, fieldname, text)
                arrays = codec.postings_arrays(reader, fieldname, text, positions=True)
                ids_only = codec.postings_arrays(reader, fieldname, text)
                assert np.array_equal(ids_only.ids, arrays.ids) and ids_only.positions is None
                assert arrays.ids.tolist() == [row[0] for row in expected]
                assert arrays.weights.tolist() == [row[1] for row in expected]
                if searcher.schema[fieldname].format.supports("positions"):
                    starts = arrays.position_starts.tolist()
                    served = [arrays.positions[starts[i] : starts[i + 1]].tolist() for i in range(len(expected))]
                    assert served == [row[2] for row in expected]
                if fieldname == "chars":
                    triples = list(zip(arrays.positions, arrays.start_chars, arrays.end_chars, strict=True))
                    assert [tuple(map(int, t)) for t in triples] == [c for row in expected for c in row[3]]
                _assert_block_arrays_match(reader, fieldname, text)
                _assert_segment_arrays_match(reader, fieldname, text)


def _matcher_postings(reader: Any, fieldname: str, text: str) -> list[tuple]:
    supports = reader.schema[fieldname].format.supports
    rows = []
    for leaf, docbase in reader.leaf_readers():
        try:
            matcher = leaf.postings(fieldname, text)
        except Exception:  # the term is not in this segment
            continue
        while matcher.is_active():
            positions = matcher.value_as("positions") if supports("positions") else None
            characters = matcher.value_as("characters") if supports("characters") else None
            rows.append((matcher.id() + docbase, matcher.weight(), positions, characters))
            matcher.next()
    return rows


def _assert_segment_arrays_match(reader: Any, fieldname: str, text: str) -> None:
    """One segment's arrays (one term lookup, no matcher) equal ``postings_arrays`` of that segment."""
    btext = reader.schema[fieldname].to_bytes(text)
    for leaf, _ in reader.leaf_readers():
        for positions in (False, True):
            got = codec.segment_postings_arrays(leaf, fieldname, btext, positions)
            expected = codec.postings_arrays(leaf, fieldname, text, positions)
            for name in ("ids", "weights", "position_starts", "positions", "start_chars", "end_chars"):
                mine, theirs = getattr(got, name), getattr(expected, name)
                assert (mine is None) == (theirs is None), name
                assert mine is None or (np.array_equal(mine, theirs) and mine.dtype == theirs.dtype), name


def _assert_block_arrays_match(reader: Any, fieldname: str, text: str) -> None:
    """Block by block, including deleted documents: the arrays are the block the matcher is in."""
    for leaf, _ in reader.leaf_readers():
        try:
            matcher = leaf.postings(fieldname, text)
        except Exception:
            continue
        raw = getattr(matcher, "child", matcher)  # under the wrapper that hides deleted documents
        raw.reset()
        while raw.is_active():
            block = codec.block_arrays(matcher, positions=True)
            for i in range(len(block.ids)):
                assert raw.id() == block.ids[i] and raw.weight() == block.weights[i]
                if reader.schema[fieldname].format.supports("positions"):
                    start, end = block.position_starts[i], block.position_starts[i + 1]
                    assert raw.value_as("positions") == block.positions[start:end].tolist()
                raw.next()


def test_multiprocess_writer_with_merged_subsegments_equals_stock(tmp_path: Path) -> None:
    """``ix.writer(procs=2)`` (sync's writer for big batches): sub-writers and their merge."""
    texts = [" ".join(WORDS[(i * j) % len(WORDS)] for j in range(i % 9)) for i in range(300)]

    def build(directory: Path, packed: bool, multisegment: bool) -> Any:
        directory.mkdir()
        schema = _schema()
        ix = (
            codec.create_index(str(directory), schema, "t")
            if packed
            else whoosh_index.create_in(str(directory), schema, indexname="t")
        )
        writer = ix.writer(procs=2, batchsize=40, multisegment=multisegment)
        for number, text in enumerate(texts):
            writer.add_document(**_fields(number, text))
        writer.commit()
        return ix

    for multisegment in (False, True):
        stock = build(tmp_path / f"stock-{multisegment}", packed=False, multisegment=multisegment)
        packed = build(tmp_path / f"packed-{multisegment}", packed=True, multisegment=multisegment)
        assert not codec.foreign_segments(packed)
        assert len(packed._segments()) == len(stock._segments())
        assert _by_key(packed) == _by_key(stock)


def _by_key(ix: Any) -> list[tuple]:
    """Postings keyed by document key (sub-writers may number documents in any order)."""
    with ix.searcher() as searcher:
        keys = {docnum: fields["key"] for docnum, fields in searcher.iter_docs()}
        postings = [row for row in _postings(ix, blocks=False) if row[0] != "all_ids"]
        return sorted((*row[:2], keys[row[2]], *row[3:]) for row in postings)


def test_an_index_written_by_the_stock_codec_is_refused(tmp_path: Path) -> None:
    """A generation written with W3 segments (whatever its generation.json says) asks for a rebuild."""
    generation = tmp_path / "gen-stock"
    generation.mkdir()
    ix = whoosh_index.create_in(str(generation), build_schema(), indexname=INDEX_NAME)
    writer = ix.writer()
    writer.add_document(id="x", path="/x", body="民警")
    writer.commit()
    _write_json(generation / GENERATION_FILE, asdict(GenerationInfo()))
    with pytest.raises(RebuildNeededError, match="reindex --rebuild"):
        open_generation(generation)


def test_block_arrays_refuses_a_foreign_matcher(tmp_path: Path) -> None:
    ix = whoosh_index.create_in(str(tmp_path), _schema(), indexname="t")
    writer = ix.writer()
    writer.add_document(**_fields(0, "alpha beta"))
    writer.commit()
    with ix.reader() as reader, pytest.raises(TypeError):
        codec.block_arrays(reader.postings("body", "alpha"))
    assert np.array_equal(codec.postings_arrays(ix.reader(), "body", "missing").ids, [])
    assert np.array_equal(codec.postings_arrays(ix.reader(), "chars", "missing", positions=True).end_chars, [])


def test_another_whoosh_version_is_refused_on_import() -> None:
    """The codec subclasses Whoosh 2.7.4's internals: under another version it must not load."""
    script = "import whoosh; whoosh.__version__ = (2, 7, 5); import search.codec"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO)
    assert result.returncode != 0 and "needs Whoosh 2.7.4 exactly" in result.stderr


FIXTURE_RELEASES = REPO / "tests" / "fixtures" / "releases"
QUERIES = [
    "诈骗",
    "民警 抓获",
    "九龙坡",
    '"电信诈骗"',
    "萬州",
    "立集体",
    "公安局 火星",
    "詐欺",
    "year:2024 民警",
    "title:公安",
]


def _engine_results(index_dir: Path) -> list[tuple]:
    engine = SearchEngine(index_dir)
    try:
        results = []
        for query in QUERIES:
            result = engine.search(q=query)
            results.append((query, result.total, [(hit.id, hit.score) for hit in result.hits], result.facets))
        return results
    finally:
        engine.close()


def _sync_history(index_dir: Path, tmp_path: Path) -> None:
    """Seeds, then the fixture releases, then one seed removed: three commits, deletions, merges."""
    seeds = tmp_path / f"seeds-{index_dir.name}"
    seeds.mkdir()
    for seed in SEEDS:
        shutil.copy(seed, seeds)
    sync(index_dir, [seeds])
    sync(index_dir, [seeds, FIXTURE_RELEASES])
    (seeds / SEEDS[0].name).unlink()
    sync(index_dir, [seeds, FIXTURE_RELEASES])


def test_search_results_equal_the_stock_codec_on_a_multi_segment_index(tmp_path: Path) -> None:
    """The whole engine (term-by-term scoring, phrases, facets) over both codecs: same totals,
    hits, scores and facet counts."""
    stock_dir, packed_dir = tmp_path / "stock", tmp_path / "packed"
    with stock_codec():  # the bench's switch to Whoosh's own codec
        _sync_history(stock_dir, tmp_path)
        expected = _engine_results(stock_dir)
    with pytest.raises(RebuildNeededError):  # written by the stock codec, so refused
        open_index(stock_dir)
    _sync_history(packed_dir, tmp_path)
    assert len(open_index(packed_dir)._segments()) > 1
    assert _engine_results(packed_dir) == expected
    assert sum(total for _, total, _, _ in expected) > 10
