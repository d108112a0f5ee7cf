"""The packed array format of our posting blocks (``search/codec.py`` writes and reads it into
Whoosh's files): integer arrays in the narrowest type, float32 weights, and the arrays a block
decodes to. Plain ``array`` and numpy, no Whoosh."""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

import numpy as np

_FLOAT32 = struct.Struct("<f")

# integer array codes: the array typecode written, the numpy dtype read
_INT_CODES = (
    (0, "B", np.dtype("<u1")),
    (1, "H", np.dtype("<u2")),
    (2, "I", np.dtype("<u4")),
    (3, "q", np.dtype("<i8")),
)
_DTYPE_OF_CODE = {code: dtype for code, _, dtype in _INT_CODES}
_TYPECODE_OF_CODE = {code: typecode for code, typecode, _ in _INT_CODES}
_LIMITS = ((256, 0, "B"), (65536, 1, "H"), (1 << 32, 2, "I"))
_BIG_ENDIAN = sys.byteorder == "big"

WEIGHTS_ONE, WEIGHTS_SAME, WEIGHTS_EACH = 0, 1, 2
VALUES_NONE, VALUES_POSITIONS, VALUES_CHARACTERS, VALUES_RAW = 0, 1, 2, 3


def pack_ints(values: list[int]) -> bytes:
    """A code byte and the values in the narrowest integer type that holds them all."""
    code, typecode = 3, "q"
    if values and min(values) >= 0:
        top = max(values)
        for limit, limit_code, limit_typecode in _LIMITS:
            if top < limit:
                code, typecode = limit_code, limit_typecode
                break
    elif not values:
        code, typecode = 0, "B"
    packed = array(typecode, values)
    if _BIG_ENDIAN:
        packed.byteswap()
    return bytes((code,)) + packed.tobytes()


def pack_int_array(values: np.ndarray, top: int | None = None) -> bytes:
    """``pack_ints`` of a numpy integer array: the same bytes, without a Python list. ``top``,
    when the caller knows it, is the largest value of an array with no negative ones."""
    if not len(values):
        return b"\x00"
    code, dtype = 3, _DTYPE_OF_CODE[3]
    if top is not None or values.min() >= 0:
        top = int(values.max()) if top is None else top
        for limit, limit_code, _ in _LIMITS:
            if top < limit:
                code, dtype = limit_code, _DTYPE_OF_CODE[limit_code]
                break
    return bytes((code,)) + values.astype(dtype, copy=False).tobytes()


def unpack_ints(data: bytes, offset: int, count: int) -> tuple[np.ndarray, int]:
    """The integer array written by ``pack_ints`` at ``offset``, and the offset after it."""
    dtype = _DTYPE_OF_CODE[data[offset]]
    values = np.frombuffer(data, dtype=dtype, count=count, offset=offset + 1)
    return values, offset + 1 + count * dtype.itemsize


def unpack_int_list(data: bytes, offset: int, count: int) -> tuple[list[int], int]:
    """``unpack_ints`` as a Python list, through ``array`` (no numpy's fixed cost per call: the
    matcher's posting-by-posting path reads many short blocks)."""
    typecode = _TYPECODE_OF_CODE[data[offset]]
    values = array(typecode)
    end = offset + 1 + count * values.itemsize
    values.frombytes(data[offset + 1 : end])
    if _BIG_ENDIAN:
        values.byteswap()
    return values.tolist(), end


def decode_id_weight_lists(data: bytes, count: int, weight_mode: int) -> tuple[list[int], list[float], int]:
    """A block's ids and weights as lists, and the offset where its values start."""
    deltas, offset = unpack_int_list(data, 0, count)
    if weight_mode == WEIGHTS_ONE:
        weights = [1.0] * count
    elif weight_mode == WEIGHTS_SAME:
        weights = [_FLOAT32.unpack_from(data, offset)[0]] * count
        offset += 4
    else:
        packed = array("f")
        packed.frombytes(data[offset : offset + 4 * count])
        if _BIG_ENDIAN:
            packed.byteswap()
        weights = packed.tolist()
        offset += 4 * count
    return list(accumulate(deltas)), weights, offset


def decode_position_lists(data: bytes, offset: int, count: int, value_mode: int) -> tuple[list[int], list[Any]]:
    """Position starts and positions as lists; (position, start, end) triples for characters."""
    counts, offset = unpack_int_list(data, offset, count)
    starts = list(accumulate(counts, initial=0))
    positions, offset = unpack_int_list(data, offset, starts[-1])
    if value_mode == VALUES_POSITIONS:
        return starts, positions
    start_chars, offset = unpack_int_list(data, offset, starts[-1])
    end_chars, offset = unpack_int_list(data, offset, starts[-1])
    return starts, list(zip(positions, start_chars, end_chars, strict=True))


def pack_weights(weights: array) -> tuple[int, bytes]:
    """The weight mode and bytes of a block's float32 weights (W3 stores them as ``array("f")``)."""
    first = weights[0]
    if all(w == 1.0 for w in weights):
        return WEIGHTS_ONE, b""
    if all(w == first for w in weights):
        return WEIGHTS_SAME, _FLOAT32.pack(first)
    packed = array("f", weights)
    if _BIG_ENDIAN:
        packed.byteswap()
    return WEIGHTS_EACH, packed.tobytes()


def pack_characters(codes: list[list[tuple[int, int, int]]]) -> bytes:
    """Positions, start and end characters from Whoosh's ``Characters`` codes per posting:
    (position delta, start - previous end, end - start) per occurrence."""
    positions: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    for posting in codes:
        position = end = 0
        for position_delta, gap, width in posting:
            position += position_delta
            start = end + gap
            end = start + width
            positions.append(position)
            starts.append(start)
            ends.append(end)
    return pack_ints(positions) + pack_ints(starts) + pack_ints(ends)


@dataclass(frozen=True)
class BlockArrays:
    """Postings as arrays. ``positions[position_starts[i]:position_starts[i + 1]]`` are the
    positions of ``ids[i]``; the position arrays are None unless asked for (and the field has
    positions), ``start_chars``/``end_chars`` None unless the field stores characters."""

    ids: np.ndarray  # int64, ascending
    weights: np.ndarray  # float32, as Whoosh stores them
    position_starts: np.ndarray | None = None  # int64, len(ids) + 1
    positions: np.ndarray | None = None  # int64
    start_chars: np.ndarray | None = None  # int64
    end_chars: np.ndarray | None = None


def decode_ids_weights(
    data: bytes, count: int, weight_mode: int, offset: int = 0
) -> tuple[np.ndarray, np.ndarray, int]:
    """A block's ids and weights from its data at ``offset``, and the offset where its values start."""
    deltas, offset = unpack_ints(data, offset, count)
    ids = np.cumsum(deltas, dtype=np.int64)
    if weight_mode == WEIGHTS_ONE:
        weights = np.ones(count, dtype=np.float32)
    elif weight_mode == WEIGHTS_SAME:
        weights = np.full(count, _FLOAT32.unpack_from(data, offset)[0], dtype=np.float32)
        offset += 4
    else:
        weights = np.frombuffer(data, dtype="<f4", count=count, offset=offset)
        offset += 4 * count
    return ids, weights, offset


def decode_positions(data: bytes, offset: int, count: int, value_mode: int) -> tuple[np.ndarray, ...]:
    """Position starts and positions (and start and end characters) of a block's values."""
    counts, offset = unpack_ints(data, offset, count)
    starts = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    total = int(starts[-1])
    positions, offset = unpack_ints(data, offset, total)
    if value_mode == VALUES_POSITIONS:
        return starts, positions.astype(np.int64)
    start_chars, offset = unpack_ints(data, offset, total)
    end_chars, offset = unpack_ints(data, offset, total)
    return starts, positions.astype(np.int64), start_chars.astype(np.int64), end_chars.astype(np.int64)


def without(arrays: BlockArrays, deleted: np.ndarray) -> BlockArrays:
    keep = ~np.isin(arrays.ids, deleted)
    if arrays.position_starts is None:
        return BlockArrays(arrays.ids[keep], arrays.weights[keep])
    counts = np.diff(arrays.position_starts)
    kept_positions = np.repeat(keep, counts)
    starts = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(counts[keep], out=starts[1:])

    def chars(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else values[kept_positions]

    return BlockArrays(
        arrays.ids[keep],
        arrays.weights[keep],
        starts,
        arrays.positions[kept_positions],
        chars(arrays.start_chars),
        chars(arrays.end_chars),
    )


def concatenate(parts: list[BlockArrays], positions: bool, with_chars: bool) -> BlockArrays:
    if len(parts) == 1:
        return parts[0]
    empty = np.zeros(0, dtype=np.int64)
    ids = np.concatenate([p.ids for p in parts]) if parts else empty
    weights = np.concatenate([p.weights for p in parts]) if parts else np.zeros(0, dtype=np.float32)
    if not positions:
        return BlockArrays(ids, weights)
    starts = [np.zeros(1, dtype=np.int64)]
    base = 0
    for part in parts:
        starts.append(part.position_starts[1:] + base)
        base += int(part.position_starts[-1])

    def joined(name: str) -> np.ndarray:
        return np.concatenate([empty] + [getattr(p, name) for p in parts])

    chars = (joined("start_chars"), joined("end_chars")) if with_chars else (None, None)
    return BlockArrays(ids, weights, np.concatenate(starts), joined("positions"), *chars)
