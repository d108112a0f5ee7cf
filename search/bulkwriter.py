"""A Whoosh segment writer that keeps the postings of our analysed text fields as arrays.

Whoosh's ``SegmentWriter`` turns every posting (one term in one document) into a tuple with its
positions pickled by the field's format, sorts the tuples in a pool (pickled again into run
files when the pool is full) and hands them one by one to the codec, which unpickles the
positions again. At ~2,000 postings per release that was most of the build's time.

``BulkSegmentWriter`` keeps everything else of Whoosh's writer (stored fields, field lengths,
columns, deletions, the segment, the table of contents, merges) and replaces the pool for
fields that can give their terms as ``{term: [positions]}`` (``ChineseText.terms``) with a
``FieldPostings`` per field: term ids, document numbers, frequencies and positions appended to
flat arrays, sorted by term with numpy when the memory limit is reached (a run on disk) or at
the end, and written through the codec one block (128 postings) at a time
(``PackedPostingsWriter.add_term_arrays``). Terms, document numbers, weights, positions, field
lengths and block statistics are the ones the pool would give (tested equal).

Other fields (ids, facets) still go through Whoosh's pool, and so do postings copied from
merged segments (``add_reader``); a field whose postings end up in both is written from the
two sorted streams merged, posting by posting, as Whoosh would.

Written against Whoosh 2.7.4 exactly, like ``search.codec``.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterator
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

import numpy as np
from whoosh import formats
from whoosh.util import random_name
from whoosh.util.numeric import byte_to_length, length_to_byte
from whoosh.writing import SegmentWriter

from search.heap import release_freed_memory

_U32 = np.dtype("<u4")
# Terms with at most this many postings are packed from lists (numpy's fixed cost per call).
SMALL_TERM = 48
# Runs on disk per field before they are merged into one (each keeps three files open at the end).
MAX_RUNS = 32


class _Run:
    """One batch of a field's postings sorted by term (bytes) then document: in memory, or in
    three files read back sequentially as the final merge walks the terms in order."""

    def __init__(self, tids: np.ndarray, postings: np.ndarray, position_counts: np.ndarray, arrays: tuple):
        # compact arrays, not lists: a long build keeps dozens of runs until the end
        self.tids = tids.astype(np.uint32)  # the terms (ids into the field's vocabulary), sorted by bytes
        self.postings = postings.astype(np.uint32)  # postings per term
        self.position_counts = position_counts.astype(np.int64)  # positions per term
        self.arrays: tuple[np.ndarray, ...] | None = arrays  # docs, counts, positions
        self.files: list[Any] = []
        self.names: list[str] = []
        self._offsets = [0, 0]

    def spill(self, storage: Any) -> None:
        for values in self.arrays:
            name = f"{random_name()}.postings"
            with storage.create_file(name).raw_file() as out:
                out.write(values.astype(_U32, copy=False).tobytes())
            self.names.append(name)
        self.arrays = None

    def open(self, storage: Any) -> None:
        if self.arrays is None and not self.files:
            self.files = [storage.open_file(name).raw_file() for name in self.names]

    def close(self, storage: Any) -> None:
        for handle in self.files:
            handle.close()
        self.files = []
        for name in self.names:
            if storage.file_exists(name):
                storage.delete_file(name)
        self.names = []

    def take(self, index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The next term's postings (terms are taken in order)."""
        count, positions = int(self.postings[index]), int(self.position_counts[index])
        if self.arrays is not None:
            start, position_start = self._offsets
            docs, counts, all_positions = self.arrays
            self._offsets = [start + count, position_start + positions]
            return (
                docs[start : start + count],
                counts[start : start + count],
                all_positions[position_start : position_start + positions],
            )
        docs_file, counts_file, positions_file = self.files
        return (
            np.frombuffer(docs_file.read(4 * count), dtype=_U32),
            np.frombuffer(counts_file.read(4 * count), dtype=_U32),
            np.frombuffer(positions_file.read(4 * positions), dtype=_U32),
        )


class FieldPostings:
    """The postings of one field for the documents a writer has taken, as flat arrays."""

    def __init__(self, fieldname: str, boost: float):
        self.fieldname = fieldname
        self.boost = boost
        self._ids: dict[str, int] = {}
        self._term_bytes: list[bytes] = []
        self.lengths = array("I")  # quantized field length (as the length column keeps it) by docnum
        self._doc_limit = 0  # above every document number added
        self.runs: list[_Run] = []
        self._new_batch()

    def _new_batch(self) -> None:
        self._tids = array("I")
        self._docs = array("I")
        self._counts = array("I")
        self._positions = array("I")

    def __bool__(self) -> bool:
        return bool(self.runs or self._tids)

    def nbytes(self) -> int:
        return 4 * (3 * len(self._tids) + len(self._positions))

    def add(self, docnum: int, postings: dict[str, list[int]], scorable: bool) -> int:
        """Add a document's ``{term: [positions]}``; its field length (frequencies summed)."""
        ids = self._ids
        tids = [ids.get(term, -1) for term in postings]
        if -1 in tids:
            for index, term in enumerate(postings):
                if tids[index] == -1:
                    tids[index] = ids[term] = len(self._term_bytes)
                    self._term_bytes.append(term.encode("utf-8"))
        before = len(self._positions)
        self._doc_limit = max(self._doc_limit, docnum + 1)
        self._tids.extend(tids)
        self._docs.extend(array("I", (docnum,)) * len(tids))
        self._counts.extend(map(len, postings.values()))
        self._positions.extend(chain.from_iterable(postings.values()))
        length = len(self._positions) - before if scorable else 0
        if length:
            lengths = self.lengths
            if len(lengths) <= docnum:
                lengths.extend(array("I", (0,)) * (docnum + 1 - len(lengths)))
            lengths[docnum] = byte_to_length(length_to_byte(length))
        return length

    def _sorted_batch(self) -> _Run:
        """The current batch sorted by term bytes, then (stable) by document. Index arrays are
        int32 where they can be (a batch holds far fewer than 2**31 positions): the sort's
        temporary arrays are most of a writer's memory."""
        tids = np.frombuffer(self._tids, dtype=np.uint32)
        docs = np.frombuffer(self._docs, dtype=np.uint32)
        counts = np.frombuffer(self._counts, dtype=np.uint32)
        positions = np.frombuffer(self._positions, dtype=np.uint32)
        used = np.unique(tids).tolist()
        used.sort(key=self._term_bytes.__getitem__)
        rank = np.zeros(len(self._term_bytes), dtype=np.int32)
        rank[used] = np.arange(len(used), dtype=np.int32)
        posting_ranks = rank[tids]
        del rank
        order = np.argsort(posting_ranks, kind="stable")
        sorted_counts = counts[order]
        index = np.int32 if len(positions) < 2**31 else np.int64
        starts = np.zeros(len(counts) + 1, dtype=index)
        np.cumsum(counts, out=starts[1:])
        new_starts = np.zeros(len(counts) + 1, dtype=index)
        np.cumsum(sorted_counts, out=new_starts[1:])
        per_term = np.bincount(posting_ranks, minlength=len(used))
        del posting_ranks
        term_starts = np.zeros(len(used) + 1, dtype=np.int64)
        np.cumsum(per_term, out=term_starts[1:])
        positions_per_term = np.diff(new_starts[term_starts])
        # where each sorted position comes from: its posting's old start, shifted, plus its rank
        gather = np.repeat(starts[:-1][order] - new_starts[:-1], sorted_counts)
        del starts
        gather += np.arange(len(gather), dtype=index)
        sorted_positions = positions[gather]
        del gather
        run = _Run(
            np.array(used, dtype=np.uint32),
            per_term,
            positions_per_term,
            (docs[order], sorted_counts, sorted_positions),
        )
        del tids, docs, counts, positions  # views of the batch's arrays, which are dropped next
        self._new_batch()
        return run

    def add_sorted(self, run: Any, lengths: dict[int, int], storage: Any, keep_in_memory: bool) -> None:
        """Add postings already sorted by term (``search.bulkmerge.SortedRun``: a merged segment's,
        numbered after every document added so far) as a run of their own, and the field lengths
        of their documents (``{docnum: length}``, quantized)."""
        if self._tids:  # the documents added before come first, in a run of their own
            self.spill(storage)
        ids = self._ids
        tids = []
        for term in run.terms:
            text = term.decode("utf-8")
            tid = ids.get(text)
            if tid is None:
                tid = ids[text] = len(self._term_bytes)
                self._term_bytes.append(term)
            tids.append(tid)
        if lengths:
            self._set_lengths(lengths)
        if len(run.docs):
            self._doc_limit = max(self._doc_limit, int(run.docs.max()) + 1)
        sorted_run = _Run(np.array(tids, dtype=np.uint32), run.postings, run.position_counts, ())
        sorted_run.arrays = (run.docs.astype(np.uint32), run.counts.astype(np.uint32), run.positions.astype(np.uint32))
        if not keep_in_memory:
            sorted_run.spill(storage)
        self.runs.append(sorted_run)
        if len(self.runs) >= MAX_RUNS:
            self._merge_runs(storage)

    def _set_lengths(self, lengths: dict[int, int]) -> None:
        top = max(lengths) + 1
        if len(self.lengths) < top:
            self.lengths.extend(array("I", (0,)) * (top - len(self.lengths)))
        for docnum, length in lengths.items():
            self.lengths[docnum] = length

    def spill(self, storage: Any) -> None:
        if self._tids:
            run = self._sorted_batch()
            run.spill(storage)
            self.runs.append(run)
            if len(self.runs) >= MAX_RUNS:
                self._merge_runs(storage)
            # the sort's temporaries (several times the batch) are freed: give their pages back,
            # or every writer process keeps its largest sort's worth for the rest of the build
            release_freed_memory()

    def _merge_runs(self, storage: Any) -> None:
        """The runs on disk merged into one, so that the final merge never needs more open files
        than a few ``MAX_RUNS`` (three per run)."""
        runs, self.runs = self.runs, []
        tids: list[int] = []
        postings: list[int] = []
        position_counts: list[int] = []
        names = [f"{random_name()}.postings" for _ in range(3)]
        outputs = [storage.create_file(name).raw_file() for name in names]
        try:
            for term, *arrays in self._merged(runs, storage):
                tids.append(self._ids[term.decode("utf-8")])
                postings.append(len(arrays[0]))
                position_counts.append(len(arrays[2]))
                for out, values in zip(outputs, arrays, strict=True):
                    out.write(values.astype(_U32, copy=False).tobytes())
        finally:
            for out in outputs:
                out.close()
            for run in runs:
                run.close(storage)
        merged = _Run(np.array(tids, dtype=np.uint32), np.array(postings), np.array(position_counts), ())
        merged.arrays, merged.names = None, names
        self.runs = [merged]

    def terms(self, storage: Any) -> Iterator[tuple[bytes, np.ndarray, np.ndarray, np.ndarray]]:
        """``(term bytes, docs, counts, positions)`` for every term in order, over every run."""
        self.runs = self.runs + ([self._sorted_batch()] if self._tids else [])
        return self._merged(self.runs, storage)

    def _merged(self, runs: list[_Run], storage: Any) -> Iterator[tuple[bytes, np.ndarray, np.ndarray, np.ndarray]]:
        term_bytes = self._term_bytes
        if len(runs) == 1:
            (run,) = runs
            run.open(storage)
            for index, tid in enumerate(run.tids.tolist()):
                yield (term_bytes[tid], *run.take(index))
            return
        for run in runs:
            run.open(storage)
        entries = heapq.merge(*(_keyed(run, number, term_bytes) for number, run in enumerate(runs)))
        for term, group in groupby(entries, key=itemgetter(0)):
            parts = [runs[r].take(i) for _, r, i in group]
            if len(parts) == 1:
                yield (term, *parts[0])
            else:
                yield (term, *(np.concatenate(column) for column in zip(*parts, strict=True)))

    def close(self, storage: Any) -> None:
        for run in self.runs:
            run.close(storage)
        self.runs = []
        self._new_batch()

    def posting_tuples(self, storage: Any) -> Iterator[tuple[str, bytes, int, float, bytes]]:
        """The postings as Whoosh's pool items, for merging with pool postings of the same field."""
        encode = formats.Positions().encode
        for term, docs, counts, positions in self.terms(storage):
            offset = 0
            for docnum, count in zip(docs.tolist(), counts.tolist(), strict=True):
                yield (
                    self.fieldname,
                    term,
                    docnum,
                    count * self.boost,
                    encode(positions[offset : offset + count].tolist()),
                )
                offset += count

    def _write_small(self, postwriter: Any, ids: list[int], counts: list[int], positions: list[int]) -> None:
        lengths = self.lengths
        known = len(lengths)
        doc_lengths = [lengths[docnum] for docnum in ids if docnum < known and lengths[docnum]]
        block_lengths = (min(doc_lengths), max(doc_lengths)) if doc_lengths else (None, 0)
        weights = [count * self.boost for count in counts]
        postwriter.add_block_lists(ids, weights, counts, positions, block_lengths, True)

    def write(self, fieldwriter: Any, fieldobj: Any, storage: Any) -> None:
        """Every term of the field through the codec's field writer, whole blocks at a time."""
        fieldwriter.start_field(self.fieldname, fieldobj)
        postwriter = fieldwriter._postwriter
        # every document's field length (0: none), as far as the last document with postings
        lengths = np.zeros(max(self._doc_limit, len(self.lengths)), dtype=np.int64)
        lengths[: len(self.lengths)] = np.frombuffer(self.lengths, dtype=np.uint32) if self.lengths else 0
        boost = self.boost
        block = postwriter._blocklimit  # postings per block, as the codec's own path writes them
        small = min(block, SMALL_TERM)
        for term, docs, counts, positions in self.terms(storage):
            fieldwriter.start_term(term)
            total = len(docs)
            if total <= small:
                self._write_small(postwriter, docs.tolist(), counts.tolist(), positions.tolist())
                fieldwriter.finish_term()
                continue
            postwriter.add_term_arrays(docs, counts * boost, counts, positions, lengths[docs])
            fieldwriter.finish_term()
        fieldwriter.finish_field()
        self.close(storage)


def _keyed(run: _Run, number: int, term_bytes: list[bytes]) -> Iterator[tuple[bytes, int, int]]:
    return ((term_bytes[tid], number, index) for index, tid in enumerate(run.tids.tolist()))


def bulk_field(fieldobj: Any) -> bool:
    """Whether a field's postings can be kept as arrays: it gives ``{term: [positions]}``
    through ``terms`` and stores exactly Whoosh's ``Positions``, no vectors or spelling."""
    return (
        callable(getattr(fieldobj, "terms", None))
        and type(fieldobj.format) is formats.Positions
        and not fieldobj.vector
        and not fieldobj.separate_spelling()
    )


class BulkSegmentWriter(SegmentWriter):
    """Whoosh's ``SegmentWriter`` with array postings for the fields ``bulk_field`` accepts."""

    def __init__(self, ix: Any, limitmb: int = 128, **kwargs: Any):
        unsupported = [name for name, field in ix.schema.items() if field.separate_spelling() or field.vector]
        if unsupported:  # checked before anything is written, not halfway through a document
            raise ValueError(f"fields {unsupported}: spelling and vectors need Whoosh's own writer")
        super().__init__(ix, limitmb=limitmb, **kwargs)
        self._start_bulk(limitmb)

    def _start_bulk(self, limitmb: int) -> None:
        """The array postings' state (also called by ``search.writer``'s multiprocess parent)."""
        # the pool keeps the rest; sorting a full batch takes about twice its size again
        self._bulk_limit = limitmb * 1024 * 1024 // 4
        self._merged_in_memory = 0  # bytes of merged segments' runs kept in memory
        self.pool.limit //= 4  # it keeps the few postings of the other fields (ids, facets)
        self._bulk = {
            name: FieldPostings(name, fieldobj.format.field_boost)
            for name, fieldobj in self.schema.items()
            if fieldobj.indexed and bulk_field(fieldobj)
        }

    def add_document(self, **fields: Any) -> None:
        # Whoosh's SegmentWriter.add_document, with bulk fields' postings kept as arrays
        self._check_state()
        perdocwriter = self.perdocwriter
        schema = self.schema
        docnum = self.docnum
        add_post = self.pool.add
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                fieldboost = self._field_boost(fields, fieldname, docboost)
                bulk = self._bulk.get(fieldname)
                if bulk is not None and fieldboost == 1.0:
                    length = bulk.add(docnum, field.terms(value), field.scorable)
                else:
                    for tbytes, freq, weight, vbytes in field.index(value):
                        if field.scorable:
                            length += freq
                        add_post((fieldname, tbytes, docnum, weight * fieldboost, vbytes))
            stored = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
            column = field.column_type
            if column and stored is not None:
                perdocwriter.add_column_value(fieldname, column, field.to_column_value(stored))
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1
        if sum(bulk.nbytes() for bulk in self._bulk.values()) > self._bulk_limit:
            for bulk in self._bulk.values():
                bulk.spill(self._tempstorage)

    def add_reader(self, reader: Any) -> None:
        # Whoosh's SegmentWriter.add_reader (what merges call), with the bulk fields' postings
        # taken from the segment as arrays rather than one by one through the pool
        from search import bulkmerge  # it reads our codec, which imports this module

        if not self._bulk or not bulkmerge.packed_segment_reader(reader):
            super().add_reader(reader)
            return
        self._check_state()
        basedoc = self.docnum
        indexed = {name for name in reader.indexed_field_names() if name in self.schema}
        docmap = self.write_per_doc(set(self.schema.names()) | indexed, reader)
        new_numbers = bulkmerge.document_map(reader, docmap, basedoc)
        pooled: dict[str, list[bytes]] = {name: [] for name in indexed if name not in self._bulk}
        live = np.flatnonzero(new_numbers >= 0)
        for name in sorted(indexed & self._bulk.keys()):
            bulk, fieldobj = self._bulk[name], self.schema[name]
            lengths: dict[int, int] = {}
            if fieldobj.scorable:
                for docnum, new_docnum in zip(live.tolist(), new_numbers[live].tolist(), strict=True):
                    length = reader.doc_field_length(docnum, name)
                    if length:
                        lengths[new_docnum] = byte_to_length(length_to_byte(length))
            pooled[name] = []
            for run in bulkmerge.field_runs(reader, name, new_numbers, bulk.boost, pooled[name]):
                in_memory = self._merged_in_memory + run.nbytes() <= self._bulk_limit
                self._merged_in_memory += run.nbytes() if in_memory else 0
                bulk.add_sorted(run, lengths, self._tempstorage, keep_in_memory=in_memory)
                lengths = {}
            if lengths:  # no postings left (every document deleted), but lengths to keep
                bulk._set_lengths(lengths)
        add_post = self.pool.add
        for name in sorted(pooled):
            terms = pooled[name] if name in self._bulk else reader.lexicon(name)
            for term in terms:
                matcher = reader.postings(name, term)  # deleted documents left out
                while matcher.is_active():
                    newdoc = basedoc + matcher.id() if docmap is None else docmap[matcher.id()]
                    add_post((name, term, newdoc, matcher.weight(), matcher.value()))
                    matcher.next()
        self._added = True

    def _flush_segment(self) -> None:
        # Whoosh's, writing the fields in name order from the pool, the arrays, or both merged
        self.perdocwriter.close()
        lengths = self.per_document_reader() if self.codec.length_stats else None
        storage = self._tempstorage
        pooled = groupby(self.pool.iter_postings(), key=itemgetter(0))
        pooled_field = next(pooled, None)
        names = sorted({name for name, bulk in self._bulk.items() if bulk} | set(self.pool.fieldnames))
        for name in names:
            from_pool: Any = ()
            if pooled_field is not None and pooled_field[0] == name:
                from_pool = pooled_field[1]
            bulk = self._bulk.get(name)
            if bulk and from_pool == ():
                bulk.write(self.fieldwriter, self.schema[name], storage)
            else:
                items = heapq.merge(bulk.posting_tuples(storage), from_pool) if bulk else from_pool
                self.fieldwriter.add_postings(self.schema, lengths, items)
                if bulk:
                    bulk.close(storage)
            if from_pool != ():
                for _ in from_pool:  # anything the field writer left (nothing, normally)
                    pass
                pooled_field = next(pooled, None)
        self.fieldwriter.close()
        if lengths:
            lengths.close()

    def _close_segment(self) -> None:
        for bulk in self._bulk.values():
            bulk.close(self._tempstorage)
        super()._close_segment()
