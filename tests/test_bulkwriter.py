"""The bulk writer (array postings, ``search.bulkwriter``) against Whoosh's own segment writer,
both with our codec: the same documents, commits, deletions and merges give the same terms,
term statistics, postings (ids, weights, positions), field lengths, stored fields and columns,
with and without runs spilled to disk."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from whoosh.writing import SegmentWriter

from search import bulkwriter, codec
from search.bulkwriter import BulkSegmentWriter, FieldPostings
from search.index import build_schema

# Small blocks, so short documents still give terms of several blocks.
BLOCK_LIMIT = 4
PIECES = ["民警", "电信诈骗", "九龙坡区", "公安局", "杜荣良", "的", "抓获", "2024年", "APP", "，", "。", " ", "\n"]
PIECES += ["南京市长江大桥", "萬州區"]

text = st.lists(st.sampled_from(PIECES), max_size=30).map("".join)
commit = st.fixed_dictionaries(
    {
        "documents": st.lists(st.tuples(text, text), min_size=1, max_size=8),
        "deletions": st.lists(st.integers(min_value=0, max_value=40), max_size=3),
        "merge": st.booleans(),
        "spill": st.booleans(),
    }
)
history = st.fixed_dictionaries({"commits": st.lists(commit, min_size=1, max_size=4), "optimize": st.booleans()})


def _fields(number: int, title: str, body: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": f"{number:04d}",
        "title": title,
        "_stored_title": title.strip(),
        "body": f"{title}\n\n{body}",
        "_stored_body": body,
        "grams": f"{title}\n\n{body}",
        "datekey": 20240100 + number % 28,
        "region": "重庆市/重庆市/九龙坡区".encode() if number % 2 else b"",
        "path": f"/releases/{number}.txt",
        "path_column": f"/releases/{number}.txt".encode(),
        "checksum": b"%064d" % number,
        "meta": {"number": number},
    }
    if number % 3:
        fields["district"] = "九龙坡区"
        fields["crime_type"] = "诈骗,盗窃" if number % 2 else "诈骗"
    return fields


def _build(directory: Path, plan: dict[str, Any], bulk: bool) -> Any:
    ix = codec.create_index(str(directory), build_schema(), "t")
    writer_class = BulkSegmentWriter if bulk else SegmentWriter
    number = 0
    for step in plan["commits"]:
        writer = writer_class(ix, codec=codec.PackedCodec(blocklimit=BLOCK_LIMIT))
        merge_runs_at = bulkwriter.MAX_RUNS
        if bulk and step["spill"]:
            writer._bulk_limit = 0  # a run on disk after every document, merged every third
            merge_runs_at = 3
        saved, bulkwriter.MAX_RUNS = bulkwriter.MAX_RUNS, merge_runs_at
        try:
            for title, body in step["documents"]:
                writer.add_document(**_fields(number, title, body))
                number += 1
        finally:
            bulkwriter.MAX_RUNS = saved
        for deleted in step["deletions"]:
            writer.delete_by_term("path", f"/releases/{deleted}.txt")
        writer.commit(merge=step["merge"])
    if plan["optimize"]:
        writer_class(ix, codec=codec.PackedCodec(blocklimit=BLOCK_LIMIT)).commit(optimize=True)
    return ix


def _content(ix: Any) -> list[tuple]:
    """Everything a segment holds, segment by segment, as Whoosh's reader serves it."""
    rows: list[tuple] = []
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            rows.append(("segment", leaf.doc_count_all(), sorted(leaf.all_doc_ids())))
            for fieldname, term in leaf.all_terms():
                info = leaf.term_info(fieldname, term)
                statistics = (info.weight(), info.doc_frequency(), info.min_length(), info.max_length())
                extent = (info.min_id(), info.max_id(), info.max_weight(), info.extent())
                rows.append(("term", fieldname, term, statistics, extent))
                fieldobj = leaf.schema[fieldname]
                matcher = leaf.postings(fieldname, term)
                while matcher.is_active():
                    positions = matcher.value_as("positions") if fieldobj.format.supports("positions") else None
                    rows.append((matcher.id(), matcher.weight(), positions))
                    matcher.next()
            for docnum in range(leaf.doc_count_all()):
                rows.append(("stored", docnum, leaf.stored_fields(docnum)))
                for fieldname in ("title", "body", "grams"):
                    rows.append(("length", docnum, fieldname, leaf.doc_field_length(docnum, fieldname)))
            for fieldname in ("id", "datekey", "region", "path_column", "checksum", "source"):
                if leaf.has_column(fieldname):
                    rows.append(("column", fieldname, list(leaf.column_reader(fieldname))))
            rows.append(("field lengths", [leaf.field_length(name) for name in ("title", "body", "grams")]))
    return rows


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=history)
def test_bulk_writer_writes_what_whooshs_writer_writes(tmp_path_factory: Any, plan: dict[str, Any]) -> None:
    stock = _build(tmp_path_factory.mktemp("stock"), plan, bulk=False)
    bulk = _build(tmp_path_factory.mktemp("bulk"), plan, bulk=True)
    assert _content(bulk) == _content(stock)


def test_segment_files_are_byte_identical(tmp_path: Path) -> None:
    """Without merges, the postings and terms files are the very same bytes."""
    # 150: terms of more than one full block of 128 postings
    documents = [("警方通报", "九龙坡区民警抓获电信诈骗嫌疑人杜荣良。" * (n % 7 + 1)) for n in range(150)]
    folders = {}
    for bulk in (False, True):
        folder = tmp_path / ("bulk" if bulk else "stock")
        folder.mkdir()
        ix = codec.create_index(str(folder), build_schema(), "t")
        writer = (BulkSegmentWriter if bulk else SegmentWriter)(ix, codec=codec.PackedCodec(), compound=False)
        if bulk:
            writer._bulk_limit = 50_000  # a few runs on disk
        for number, (title, body) in enumerate(documents):
            writer.add_document(**_fields(number, title, body))
        writer.commit()
        folders[bulk] = folder

    def files(folder: Path) -> dict[str, bytes]:
        # t_<segment id>.<what>: the segment id is random
        return {path.name.split(".", 1)[1]: path.read_bytes() for path in folder.glob("t_*.*")}

    stock_files, bulk_files = files(folders[False]), files(folders[True])
    assert {"pst", "trm", "_body_len.col", "_stored.col"} <= set(stock_files)
    assert bulk_files == stock_files


@pytest.mark.parametrize("max_runs", [32, 2])  # 2: runs on disk merged into one as they come
def test_runs_merge_in_term_then_document_order(tmp_path: Path, monkeypatch: Any, max_runs: int) -> None:
    from whoosh.filedb.filestore import FileStorage

    monkeypatch.setattr(bulkwriter, "MAX_RUNS", max_runs)
    storage = FileStorage(str(tmp_path)).create()
    postings = FieldPostings("f", 1.0)
    postings.add(0, {"b": [1, 2], "a": [0]}, True)
    postings.spill(storage)
    postings.add(1, {"a": [3], "c": [5]}, True)
    postings.spill(storage)
    postings.add(2, {"c": [1, 7, 9]}, True)  # left in memory: the last run
    terms = [(term, *(values.tolist() for values in arrays)) for term, *arrays in postings.terms(storage)]
    assert terms == [
        (b"a", [0, 1], [1, 1], [0, 3]),
        (b"b", [0], [2], [1, 2]),
        (b"c", [1, 2], [1, 3], [5, 1, 7, 9]),
    ]
    postings.close(storage)
    assert list(storage.list()) == []


def _by_path(index_dir: Path) -> dict[str, Any]:
    """Every posting, field length and stored field, documents keyed by path (numbering aside),
    and the story book."""
    from search.index import current_generation, open_index
    from search.stories import StoryBook

    content: dict[str, Any] = {}
    with open_index(index_dir).reader() as reader:
        paths = reader.column_reader("path_column")
        for fieldname, term in reader.all_terms():
            matcher = reader.postings(fieldname, term)
            rows = []
            while matcher.is_active():
                positions = matcher.value_as("positions") if fieldname in ("title", "body", "grams") else None
                rows.append((paths[matcher.id()], matcher.weight(), positions))
                matcher.next()
            content[(fieldname, term)] = sorted(rows)
        for docnum in reader.all_doc_ids():
            lengths = [reader.doc_field_length(docnum, name) for name in ("title", "body", "grams")]
            content[paths[docnum]] = (reader.stored_fields(docnum), lengths)
    book = StoryBook.load(current_generation(index_dir))
    content["stories"] = {doc: (list(entry.signature), entry.size, entry.copies) for doc, entry in book.entries.items()}
    return content


def test_parallel_full_build_equals_one_process_build(tmp_path: Path, monkeypatch: Any) -> None:
    """A full build's writer processes read, extract and sign the releases themselves: the report,
    the index and the story book are what one process building alone gives."""
    from search.sync import sync
    from search.sync_writing import PARALLEL_THRESHOLD, WORKERS_ENV
    from tests.synthetic import write_releases

    source = tmp_path / "releases"
    write_releases(source, PARALLEL_THRESHOLD + 16)
    (source / "binary.txt").write_bytes(b"\x00\x01\x02 not text")
    (source / "empty.txt").write_bytes(b"")
    (source / "truncated.txt").write_bytes("平安建设\n\n九龙坡区公安分局通报:民警抓获一名嫌疑人。".encode()[:-1])
    reports = {}
    for workers in ("1", "2"):
        monkeypatch.setenv(WORKERS_ENV, workers)
        reports[workers] = sync(tmp_path / f"ix-{workers}", [source])
    one, parallel = reports["1"], reports["2"]
    assert parallel.added == one.added == PARALLEL_THRESHOLD + 17
    assert sorted(map(repr, parallel.skipped)) == sorted(map(repr, one.skipped)) and len(one.skipped) == 2
    assert sorted(map(repr, parallel.warnings)) == sorted(map(repr, one.warnings)) and one.warnings
    assert _by_path(tmp_path / "ix-2") == _by_path(tmp_path / "ix-1")


def test_a_schema_with_term_vectors_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    from whoosh import fields

    schema = build_schema()
    schema.add("notes", fields.TEXT(vector=True))
    ix = codec.create_index(str(tmp_path), schema, "t")
    before = sorted(path.name for path in tmp_path.iterdir())
    with pytest.raises(ValueError, match="notes"):
        BulkSegmentWriter(ix, codec=codec.PackedCodec(), compound=False)
    assert sorted(path.name for path in tmp_path.iterdir()) == before  # no lock left, no segment begun


def _scored(index_dir: Path) -> dict[str, list[tuple[str, float]]]:
    from search.query import SearchEngine

    engine = SearchEngine(index_dir)
    try:
        return {
            query: [(hit.path, round(hit.score, 9)) for hit in engine.search(q=query, per_page=100).hits]
            for query in ("民警", "诈骗 嫌疑人", "公安分局通报")
        }
    finally:
        engine.close()


def test_writer_processes_start_a_new_segment_past_their_limit(tmp_path: Path, monkeypatch: Any) -> None:
    """A writer process's segment is bounded (its memory grows with it): past ``SEGMENT_DOCS`` it
    leaves a segment and starts another. The index, scores and a later sync are as with one."""
    from search import writer
    from search.index import open_index
    from search.sync import sync
    from search.sync_writing import PARALLEL_THRESHOLD, SMALL_SEGMENT_SHARE, WORKERS_ENV
    from tests.synthetic import write_releases

    source = tmp_path / "releases"
    write_releases(source, PARALLEL_THRESHOLD + 40)
    for workers in ("1", "2"):
        monkeypatch.setenv(WORKERS_ENV, workers)
        monkeypatch.setattr(writer, "SEGMENT_DOCS", 24)  # the writer processes are forked: they see it
        sync(tmp_path / f"ix-{workers}", [source])
    assert len(open_index(tmp_path / "ix-1")._segments()) == 1
    assert len(open_index(tmp_path / "ix-2")._segments()) >= 4
    assert _by_path(tmp_path / "ix-2") == _by_path(tmp_path / "ix-1")
    assert _scored(tmp_path / "ix-2") == _scored(tmp_path / "ix-1")
    # a later sync adds a small segment and folds the small ones together, as after any build
    # (scores are not compared: a merged segment's length totals are Whoosh's quantized lengths)
    write_releases(tmp_path / "more", 3, seed=11)
    for workers in ("1", "2"):
        monkeypatch.setenv(WORKERS_ENV, workers)
        report = sync(tmp_path / f"ix-{workers}", [source, tmp_path / "more"])
        assert report.added == 3
    assert _by_path(tmp_path / "ix-2") == _by_path(tmp_path / "ix-1")
    sizes = [segment.doc_count_all() for segment in open_index(tmp_path / "ix-2")._segments()]
    assert min(sizes) >= sum(sizes) // SMALL_SEGMENT_SHARE and len(sizes) >= 3


def _merged_index(directory: Path, bulk: bool) -> Any:
    """Three segments with deletions (one document indexed with a field boost), then merged
    into one by a writer of the kind asked for, whose own new documents come first."""
    from whoosh.writing import OPTIMIZE

    directory.mkdir()
    ix = codec.create_index(str(directory), build_schema(), "t")
    sentences = ["九龙坡区民警抓获电信诈骗嫌疑人杜荣良。", "南京市长江大桥公安局通报,", "萬州區的APP诈骗。"]
    number = 0
    for step, deleted in enumerate(([], [3, 17], [0, 25, 33, 38])):
        writer = SegmentWriter(ix, codec=codec.PackedCodec(blocklimit=BLOCK_LIMIT))
        for _ in range(20):
            fields = _fields(number, "警方通报", sentences[number % 3] * (number % 5 + 1) + sentences[step])
            if number == 30:
                fields["_body_boost"] = 2.0  # weights that are not frequencies: through the pool
            writer.add_document(**fields)
            number += 1
        for gone in deleted:
            writer.delete_by_term("path", f"/releases/{gone}.txt")
        writer.commit(merge=False)
    writer_class = BulkSegmentWriter if bulk else SegmentWriter
    writer = writer_class(ix, codec=codec.PackedCodec(blocklimit=BLOCK_LIMIT))
    writer.add_document(**_fields(number, "民警", "公安局民警抓获嫌疑人。"))
    writer.commit(mergetype=OPTIMIZE)
    return ix


def _scores(ix: Any) -> list[tuple]:
    from whoosh import scoring
    from whoosh.qparser import QueryParser

    rows = []
    with ix.searcher(weighting=scoring.BM25F()) as searcher:
        for fieldname in ("body", "grams", "title"):
            for text in ("民警", "诈骗", "长江大桥", "通报", "APP"):
                query = QueryParser(fieldname, ix.schema).parse(text)
                rows.append([(hit["path"], hit.score) for hit in searcher.search(query, limit=None)])
    return rows


def test_a_merged_segment_is_what_whooshs_add_reader_writes(tmp_path: Path) -> None:
    """Segments merged by the bulk writer's ``add_reader`` (postings as arrays, renumbered past
    deletions): the same terms, statistics, postings, lengths and scores as Whoosh's own."""
    stock = _merged_index(tmp_path / "stock", bulk=False)
    bulk = _merged_index(tmp_path / "bulk", bulk=True)
    content = _content(bulk)
    assert [row[:2] for row in content if row[0] == "segment"] == [("segment", 55)]  # one, deletions gone
    assert content == _content(stock)
    scores = _scores(bulk)
    assert sum(1 for hits in scores if hits) >= 10 and scores == _scores(stock)


def test_parallel_incremental_sync_equals_one_process_sync(tmp_path: Path, monkeypatch: Any) -> None:
    """Reindexes of 64 files or more into an existing index: writer processes that leave their
    own segments (the old documents of changed releases deleted; a changed file that can no longer
    be processed keeping its old document; earlier small segments merged by the parent) give the
    report, index and story book one process gives."""
    from search.sync import sync
    from search.sync_writing import PARALLEL_THRESHOLD, WORKERS_ENV
    from tests.synthetic import write_releases

    source = tmp_path / "releases"
    paths = write_releases(source, 2 * PARALLEL_THRESHOLD)
    for workers in ("1", "2"):
        monkeypatch.setenv(WORKERS_ENV, workers)
        sync(tmp_path / f"ix-{workers}", [source])
    broken = paths[1]
    for round_ in range(2):
        for path in paths[round_ : round_ + PARALLEL_THRESHOLD + 6]:
            text = path.read_text(encoding="utf-8") + f"补充通报{round_}:民警提醒群众防范诈骗。\n"
            path.write_text(text, encoding="utf-8")
        if round_ == 0:
            paths.pop().unlink()
            write_releases(tmp_path / "new", 3, seed=11)
            for number, new in enumerate(sorted((tmp_path / "new").iterdir())):
                new.rename(source / f"new_{number}.txt")
        else:
            broken.write_bytes(b"\x00\x01\x02 not text")  # changed, and skipped
        reports = {}
        for workers in ("1", "2"):
            monkeypatch.setenv(WORKERS_ENV, workers)
            reports[workers] = sync(tmp_path / f"ix-{workers}", [source])
        one, parallel = reports["1"], reports["2"]
        assert (parallel.added, parallel.updated, parallel.removed) == (one.added, one.updated, one.removed)
        assert one.updated > PARALLEL_THRESHOLD and (one.added, one.removed) == ((3, 1) if round_ == 0 else (0, 0))
        assert sorted(map(repr, parallel.skipped)) == sorted(map(repr, one.skipped))
        content = _by_path(tmp_path / "ix-2")
        assert content == _by_path(tmp_path / "ix-1")
        if round_ == 1:
            assert len(one.skipped) == 1 and str(broken.resolve()).encode() in content  # the old document kept
