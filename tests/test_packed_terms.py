"""A term's whole postings list decoded at once (``search.packed_terms``) equals its blocks decoded
one by one, whatever integer width each block chose and however its weights are packed."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from search import codec
from search.packed import (
    VALUES_POSITIONS,
    WEIGHTS_EACH,
    WEIGHTS_ONE,
    WEIGHTS_SAME,
    decode_ids_weights,
    decode_positions,
    pack_ints,
)
from search.packed_terms import decode_term, kept, positions_of

# one block: gaps between its ids (its first id follows the previous block's last), weights kind,
# positions per posting (each small or past what a byte holds, so widths differ between blocks)
block = st.tuples(
    st.lists(st.integers(1, 70_000), min_size=1, max_size=6),
    st.sampled_from([WEIGHTS_ONE, WEIGHTS_SAME, WEIGHTS_EACH]),
    st.lists(st.lists(st.integers(0, 300), min_size=1, max_size=3), min_size=6, max_size=6),
)


def _term_bytes(blocks: list) -> tuple[bytes, list]:
    """The bytes the codec writes for a term of these blocks, and each block's expected arrays."""
    data, expected, last_id = bytearray(codec.BLOCK_MAGIC), [], -1
    for number, (gaps, weight_mode, per_posting) in enumerate(blocks):
        ids = np.cumsum(gaps) + last_id
        last_id = int(ids[-1])
        count = len(ids)
        weights = [1.0] * count if weight_mode == WEIGHTS_ONE else [0.5 + i for i in range(count)]
        if weight_mode == WEIGHTS_SAME:
            weights = [2.5] * count
        weight_bytes = b"" if weight_mode == WEIGHTS_ONE else np.asarray(weights, "<f4").tobytes()
        if weight_mode == WEIGHTS_SAME:
            weight_bytes = weight_bytes[:4]
        positions = [sorted(set(p)) for p in per_posting[:count]]
        deltas = [int(ids[0]), *np.diff(ids).tolist()]
        values = pack_ints([len(p) for p in positions]) + pack_ints([x for p in positions for x in p])
        header = codec._HEADER.pack(count, last_id, max(weights), 0, 0, 0, weight_mode, VALUES_POSITIONS)
        body = header + pack_ints(deltas) + weight_bytes + values
        last = number == len(blocks) - 1
        data += codec._LENGTH.pack(-len(body) if last else len(body)) + body
        expected.append(body[codec._HEADER.size :])
    return bytes(data), [(len(b[0]), b[1], e) for b, e in zip(blocks, expected, strict=True)]


@settings(max_examples=200, deadline=None)
@given(blocks=st.lists(block, min_size=1, max_size=8), drop=st.lists(st.booleans(), max_size=48))
def test_a_whole_term_decodes_as_its_blocks_one_by_one(blocks: list, drop: list[bool]) -> None:
    data, described = _term_bytes(blocks)
    ids, weights, starts, positions = [], [], [np.zeros(1, dtype=np.int64)], []
    for count, weight_mode, raw in described:
        block_ids, block_weights, offset = decode_ids_weights(raw, count, weight_mode)
        block_starts, block_positions = decode_positions(raw, offset, count, VALUES_POSITIONS)
        ids.append(block_ids)
        weights.append(block_weights)
        starts.append(block_starts[1:] + sum(len(p) for p in positions))
        positions.append(block_positions)
    whole = decode_term(data, positions=True)
    assert np.array_equal(whole.ids, np.concatenate(ids)) and whole.ids.dtype == np.int64
    assert np.array_equal(whole.weights, np.concatenate(weights)) and whole.weights.dtype == np.float32
    assert np.array_equal(whole.position_starts, np.concatenate(starts))
    assert np.array_equal(whole.positions, np.concatenate(positions))
    assert np.array_equal(decode_term(data, positions=False).ids, whole.ids)
    keep = np.array([not d for d in drop] + [True] * len(whole.ids))[: len(whole.ids)]
    left = kept(whole, keep)
    assert left.ids.tolist() == whole.ids[keep].tolist()
    assert _served(left) == [p for p, k in zip(_served(whole), keep, strict=True) if k]
    # a few documents' positions, read without decoding the blocks as arrays
    wanted = sorted({*whole.ids[keep].tolist()[::3], -1 if not len(whole.ids) else int(whole.ids[-1]) + 1})
    expected = {doc: p for doc, p in zip(whole.ids.tolist(), _served(whole), strict=True) if doc in wanted}
    assert positions_of(data, [doc for doc in wanted if doc >= 0]) == expected


def _served(arrays: Any) -> list[list[int]]:
    starts = arrays.position_starts.tolist()
    return [arrays.positions[starts[i] : starts[i + 1]].tolist() for i in range(len(arrays.ids))]
