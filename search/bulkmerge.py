"""A merged segment's postings taken as arrays, for ``BulkSegmentWriter.add_reader``.

Whoosh merges a segment into a writer (``SegmentWriter.add_reader``, what every merge policy
calls) by sending each of its postings, one Python tuple at a time, through the writer's pool:
the positions unpickled from the segment, pickled again for the pool, and unpickled once more by
the codec. Most of an incremental reindex went there. Our codec stores a term's postings as
packed arrays (``search.codec``), so a segment's postings of a field come out term by term as
numpy arrays (``search.packed_terms.decode_term``): document numbers are renumbered with one
lookup into an array built from Whoosh's own docmap (deleted documents dropped), and the terms,
already in order, become sorted runs of the field's ``FieldPostings`` directly.

Terms whose weights are not their frequency times the field's boost (a document indexed with a
field boost) are handed back, to go through Whoosh's pool as before, so what is written is what
Whoosh's ``add_reader`` writes (tested equal in tests/test_bulkwriter.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from whoosh.reading import SegmentReader

from search.codec import BLOCK_MAGIC, is_packed
from search.packed_terms import decode_term

# Postings (and positions) taken per run before it is closed: bounds the memory of one merge.
RUN_VALUES = 4_000_000


@dataclass
class SortedRun:
    """Some of a field's terms, in order, with their (renumbered, live) postings."""

    terms: list[bytes]
    postings: np.ndarray  # postings per term
    position_counts: np.ndarray  # positions per term
    docs: np.ndarray
    counts: np.ndarray
    positions: np.ndarray

    def nbytes(self) -> int:
        return 4 * (2 * len(self.docs) + len(self.positions))


def packed_segment_reader(reader: Any) -> bool:
    """Whether ``reader`` is one segment of our codec, whose postings can be read as arrays."""
    return isinstance(reader, SegmentReader) and is_packed(reader)


def document_map(reader: Any, docmap: dict[int, int] | None, basedoc: int) -> np.ndarray:
    """The new number of each of the segment's documents (-1: deleted), from the docmap Whoosh's
    ``write_per_doc`` returned (None: no deletions, the documents follow ``basedoc`` in order)."""
    if docmap is None:
        return np.arange(basedoc, basedoc + reader.doc_count_all(), dtype=np.int64)
    new_numbers = np.full(reader.doc_count_all(), -1, dtype=np.int64)
    if docmap:
        new_numbers[np.fromiter(docmap.keys(), dtype=np.int64)] = np.fromiter(docmap.values(), dtype=np.int64)
    return new_numbers


def field_runs(
    reader: Any, fieldname: str, new_numbers: np.ndarray, boost: float, pooled: list[bytes]
) -> Iterator[SortedRun]:
    """The field's live postings in the segment, renumbered, as runs of whole terms in order.
    Terms whose weights are not frequency × ``boost`` are left out and appended to ``pooled``."""
    terms = reader._terms
    postfile = terms._postfile
    run_terms: list[bytes] = []
    parts: list[_Part] = []
    values = 0
    for (name, term), terminfo in terms.items_from(fieldname, b""):
        if name != fieldname:
            break
        offset, length = terminfo.extent()
        if isinstance(length, tuple):  # W3TermInfo.from_bytes keeps it as a 1-tuple
            (length,) = length
        data = postfile.get(offset, length)
        arrays = decode_term(data, positions=True) if data[:4] == BLOCK_MAGIC else None
        if arrays is None:
            pooled.append(term)
            continue
        counts = np.diff(arrays.position_starts)
        if not np.array_equal(arrays.weights, (counts * boost).astype(np.float32)):
            pooled.append(term)
            continue
        run_terms.append(term)
        parts.append((arrays.ids, counts, arrays.positions))
        values += 2 * len(counts) + len(arrays.positions)
        if values >= RUN_VALUES:
            yield _run(run_terms, parts, new_numbers)
            run_terms, parts, values = [], [], 0
    if run_terms:
        yield _run(run_terms, parts, new_numbers)


_Part = tuple[np.ndarray, np.ndarray, np.ndarray]  # a term's ids, frequencies and positions


def _run(terms: list[bytes], parts: list[_Part], new_numbers: np.ndarray) -> SortedRun:
    """Terms' postings joined, renumbered, deleted documents (and terms left empty) dropped."""
    ids = np.concatenate([part[0] for part in parts])
    counts = np.concatenate([part[1] for part in parts])
    positions = np.concatenate([part[2] for part in parts])
    per_term = np.fromiter((len(part[0]) for part in parts), dtype=np.int64, count=len(parts))
    term_of_posting = np.repeat(np.arange(len(parts)), per_term)
    docs = new_numbers[ids]
    live = docs >= 0
    if not live.all():
        positions = positions[np.repeat(live, counts)]
        docs, counts, term_of_posting = docs[live], counts[live], term_of_posting[live]
        per_term = np.bincount(term_of_posting, minlength=len(parts))
    position_counts = np.bincount(term_of_posting, weights=counts, minlength=len(parts)).astype(np.int64)
    kept = per_term > 0
    return SortedRun(
        [term for term, keep in zip(terms, kept.tolist(), strict=True) if keep],
        per_term[kept],
        position_counts[kept],
        docs,
        counts,
        positions,
    )
