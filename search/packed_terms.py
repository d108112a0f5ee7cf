"""A term's whole postings list (every packed block, ``search/codec.py``) decoded in a few numpy calls.

Decoding block by block costs numpy's fixed cost several times per block (``frombuffer``,
``cumsum``, the weights, the positions), ~15 µs per block of 128 postings: a common word at
20,000 releases has ~80 blocks per segment, and a query's first search of a word pays it (a
search process runs each query once). Here one pass over the block headers (a ``struct`` unpack
each) gathers the bytes of every block's ids, weights and positions, and each kind is decoded once
for the whole term: the same arrays, the same values.

Only the layout the codec writes for ids, weights and ``Positions`` values is read here; a field
storing characters asked for its positions returns None, and the caller decodes it block by block.
"""

from __future__ import annotations

import struct
import sys
from array import array
from bisect import bisect_left
from itertools import accumulate

import numpy as np

from search.packed import _DTYPE_OF_CODE, _TYPECODE_OF_CODE, VALUES_POSITIONS, WEIGHTS_EACH, WEIGHTS_ONE, BlockArrays

# int32 block length (negative for a term's last block), then the codec's block header: count,
# max id, max weight, min/max length bytes, reserved, weight mode, value mode
_BLOCK_START = struct.Struct("<iIIdBBBBB")
_HEADER_SIZE = _BLOCK_START.size - 4
_ONE = np.float32(1.0).astype("<f4").tobytes()
_ITEMSIZE_OF_CODE = {code: dtype.itemsize for code, dtype in _DTYPE_OF_CODE.items()}


class _Column:
    """One integer array of every block (ids' deltas, position counts, positions): the bytes of
    each block, grouped by the integer code each block chose, decoded once per code."""

    def __init__(self) -> None:
        self.chunks: dict[int, list[bytes]] = {}
        self.codes: list[int] = []
        self.lengths: list[int] = []

    def add(self, data: bytes, offset: int, count: int) -> int:
        """Take the array of ``count`` integers at ``offset``; the offset after it."""
        code = data[offset]
        end = offset + 1 + count * _ITEMSIZE_OF_CODE[code]
        self.chunks.setdefault(code, []).append(data[offset + 1 : end])
        self.codes.append(code)
        self.lengths.append(count)
        return end

    def decode(self) -> np.ndarray:
        """Every block's integers in block order, as int64."""
        if len(self.chunks) == 1:
            ((code, chunks),) = self.chunks.items()
            return np.frombuffer(b"".join(chunks), dtype=_DTYPE_OF_CODE[code]).astype(np.int64)
        values = np.empty(sum(self.lengths), dtype=np.int64)
        code_of_value = np.repeat(np.array(self.codes, dtype=np.uint8), self.lengths)
        for code, chunks in self.chunks.items():
            values[code_of_value == code] = np.frombuffer(b"".join(chunks), dtype=_DTYPE_OF_CODE[code])
        return values


def decode_term(data: bytes, positions: bool) -> BlockArrays | None:
    """Every posting of the term whose postings list (``BLOCK_MAGIC`` first) is ``data``: ids
    (segment-local, ascending), float32 weights and, with ``positions``, ``Positions`` values.
    None when positions are asked for and a block holds another kind of values (characters)."""
    deltas, counts, places = _Column(), _Column(), _Column()
    weight_chunks: list[bytes] = []
    offset, end_of_data = 4, len(data)  # past BLOCK_MAGIC, which the matcher checked
    while offset < end_of_data:
        length, count, _, _, _, _, _, weight_mode, value_mode = _BLOCK_START.unpack_from(data, offset)
        block_end = offset + 4 + abs(length)
        at = deltas.add(data, offset + 4 + _HEADER_SIZE, count)
        if weight_mode == WEIGHTS_ONE:
            weight_chunks.append(_ONE * count)
        elif weight_mode == WEIGHTS_EACH:
            weight_chunks.append(data[at : at + 4 * count])
            at += 4 * count
        else:  # one float32 for the whole block
            weight_chunks.append(data[at : at + 4] * count)
            at += 4
        if positions:
            if value_mode != VALUES_POSITIONS:
                return None
            at = counts.add(data, at, count)
            # the positions run to the end of the block
            places.add(data, at, (block_end - at - 1) // _ITEMSIZE_OF_CODE[data[at]])
        if length < 0:
            break
        offset = block_end
    ids = _ids(deltas)
    weights = np.frombuffer(b"".join(weight_chunks), dtype="<f4")
    if not positions:
        return BlockArrays(ids, weights)
    starts = np.zeros(len(ids) + 1, dtype=np.int64)
    np.cumsum(counts.decode(), out=starts[1:])
    return BlockArrays(ids, weights, starts, places.decode())


def _ids(deltas: _Column) -> np.ndarray:
    """Document numbers from every block's deltas (each block's first delta is its first id)."""
    running = np.cumsum(deltas.decode())
    if len(deltas.lengths) < 2:
        return running
    # a block's ids are the running sum less the sums of the blocks before it
    block_ends = np.cumsum(deltas.lengths)
    before = np.concatenate(([0], running[block_ends[:-1] - 1]))
    return running - np.repeat(before, deltas.lengths)


def kept(arrays: BlockArrays, keep: np.ndarray) -> BlockArrays:
    """The postings where ``keep`` (a mask over them) is true, their positions with them."""
    if keep.all():
        return arrays
    if arrays.position_starts is None:
        return BlockArrays(arrays.ids[keep], arrays.weights[keep])
    counts = np.diff(arrays.position_starts)
    starts = np.zeros(int(np.count_nonzero(keep)) + 1, dtype=np.int64)
    np.cumsum(counts[keep], out=starts[1:])
    return BlockArrays(arrays.ids[keep], arrays.weights[keep], starts, arrays.positions[np.repeat(keep, counts)])


def _int_list(data: bytes, code_offset: int, start: int, count: int) -> list[int]:
    """Integers ``start`` to ``start + count`` of the packed integer array at ``code_offset``."""
    typecode = _TYPECODE_OF_CODE[data[code_offset]]
    values = array(typecode)
    first = code_offset + 1 + start * values.itemsize
    values.frombytes(data[first : first + count * values.itemsize])
    if sys.byteorder == "big":
        values.byteswap()
    return values.tolist()


def positions_of(data: bytes, wanted: list[int]) -> dict[int, list[int]]:
    """``{doc: its positions}`` for the ``wanted`` documents (ascending, segment-local) the term
    whose postings list is ``data`` has. Only the blocks holding one are read, and of those only
    the ids, the counts and the wanted documents' positions, as Python lists (a handful of
    documents: numpy's fixed cost per block would be most of the work)."""
    found: dict[int, list[int]] = {}
    offset, next_wanted, end_of_data = 4, 0, len(data)
    while offset < end_of_data and next_wanted < len(wanted):
        length, count, maxid, _, _, _, _, weight_mode, _ = _BLOCK_START.unpack_from(data, offset)
        if wanted[next_wanted] <= maxid:
            ids_at = offset + 4 + _HEADER_SIZE
            ids = list(accumulate(_int_list(data, ids_at, 0, count)))
            counts_at = ids_at + 1 + count * _ITEMSIZE_OF_CODE[data[ids_at]]
            counts_at += 0 if weight_mode == WEIGHTS_ONE else 4 * count if weight_mode == WEIGHTS_EACH else 4
            counts = _int_list(data, counts_at, 0, count)
            positions_at = counts_at + 1 + count * _ITEMSIZE_OF_CODE[data[counts_at]]
            while next_wanted < len(wanted) and wanted[next_wanted] <= maxid:
                doc = wanted[next_wanted]
                at = bisect_left(ids, doc)
                if at < count and ids[at] == doc:
                    found[doc] = _int_list(data, positions_at, sum(counts[:at]), counts[at])
                next_wanted += 1
        if length < 0:
            break
        offset += 4 + abs(length)
    return found
