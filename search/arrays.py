"""A term's postings in one segment as numpy arrays, cached across searches.

The vectorised executor (``search/vector.py``) reads whole posting lists as arrays
(``codec.segment_postings_arrays``: ids, weights and, when asked, positions) instead of walking Whoosh's
matchers posting by posting. A segment never changes once written; only its set of deleted
documents grows (a later commit deletes more of it, never fewer). So the arrays of one term in one
segment, with the deleted documents left out, are keyed by the segment's id *and its count of
deleted documents*: a refreshed snapshot that deleted more of the segment asks for a new key and
never sees stale arrays, while every snapshot of an unchanged segment shares one copy.

The cache is bounded by bytes (least recently used entries go first) and shared by every thread
of a process; each entry is immutable once made.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from search.codec import is_packed, segment_postings_arrays

# Enough for every term of a few thousand queries at 20,000 releases (a common word's postings
# with positions are ~200 KB there); a server process stays well under its memory budget.
DEFAULT_MAX_BYTES = 64 * 2**20


@dataclass(frozen=True)
class TermArrays:
    """One term's live postings in one segment: segment-local document numbers (ascending), weights
    (float64 from Whoosh's float32, as its matcher hands them to the scorer) and, when asked for,
    ``positions[position_starts[i]:position_starts[i + 1]]`` for ``ids[i]``."""

    ids: np.ndarray
    weights: np.ndarray
    position_starts: np.ndarray | None = None
    positions: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        extra = 0 if self.positions is None else self.positions.nbytes + self.position_starts.nbytes
        return self.ids.nbytes + self.weights.nbytes + extra + 200


class ForeignSegmentError(TypeError):
    """A segment written by another codec (Whoosh's stock W3): its postings are not arrays."""


EMPTY = TermArrays(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


def segment_key(leaf: Any) -> tuple[str, int]:
    """What identifies one segment reader's live documents: the segment and how many it deleted."""
    segment = leaf.segment()
    return segment.segment_id(), segment.deleted_count() if segment.has_deletions() else 0


class ArrayCache:
    """Term arrays per (segment, deletions, field, term, positions?), least recently used evicted
    beyond ``max_bytes``."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, Any] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _get(self, key: tuple) -> Any:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def _put(self, key: tuple, value: Any, size: int) -> None:
        if size > self.max_bytes:
            return  # larger than the whole cache: computed each time
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def term(self, leaf: Any, fieldname: str, text: bytes, positions: bool = False) -> TermArrays:
        """The live postings of ``text`` in ``fieldname`` of segment reader ``leaf`` (EMPTY if none)."""
        segment = segment_key(leaf)
        with_positions = self._get((segment, fieldname, text, True))
        if with_positions is not None:
            return with_positions[0]
        if not positions:
            found = self._get((segment, fieldname, text, False))
            if found is not None:
                return found[0]
        arrays = _read(leaf, fieldname, text, positions)
        self._put((segment, fieldname, text, positions), arrays, arrays.nbytes)
        return arrays

    def live(self, leaf: Any) -> np.ndarray:
        """The segment's live document numbers (ascending)."""
        key = (segment_key(leaf), "live")
        found = self._get(key)
        if found is not None:
            return found[0]
        count = leaf.doc_count_all()
        if leaf.has_deletions():
            keep = np.ones(count, dtype=bool)
            deleted = np.fromiter(leaf.segment().deleted_docs(), dtype=np.int64)
            keep[deleted[deleted < count]] = False
            ids = np.flatnonzero(keep).astype(np.int64)
        else:
            ids = np.arange(count, dtype=np.int64)
        self._put(key, ids, ids.nbytes + 100)
        return ids


def _read(leaf: Any, fieldname: str, text: bytes, positions: bool) -> TermArrays:
    if not is_packed(leaf):
        raise ForeignSegmentError(f"segment {leaf.segment().segment_id()} is not in the packed format")
    if fieldname not in leaf.schema:
        return EMPTY
    arrays = segment_postings_arrays(leaf, fieldname, text, positions=positions)
    if not len(arrays.ids):
        return EMPTY
    ids = np.ascontiguousarray(arrays.ids, dtype=np.int64)
    weights = arrays.weights.astype(np.float64)
    if arrays.position_starts is None:
        return TermArrays(ids, weights)
    return TermArrays(ids, weights, arrays.position_starts, np.ascontiguousarray(arrays.positions, dtype=np.int64))


# one per process: segments are shared by every engine and snapshot reading the same index
CACHE = ArrayCache()
