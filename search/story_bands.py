"""Candidate copies by MinHash banding: the candidates ``datasketch.MinHashLSH`` would give, found
band by band on arrays, with bounded memory.

The signature is cut into the ``b`` bands of ``r`` values that the library chooses for the book's
threshold; two releases are candidates when any band is equal. With ``r = 2`` and 32-bit values a
band is exactly one 64-bit key, so equal keys are equal bands (no hashing, no false match).

The book weighs, for each new release, the ``limit`` earliest-indexed (smallest *order*) of its
candidates among the releases inserted before it (smaller *sequence*), as the library's query
would list them. Two cases cost very differently:
- Releases drawing on a shared pool of sentences share a band with a good part of the collection:
  each has its ``limit`` candidates among the earliest releases. So the ``PREFIX`` earliest
  releases are compared with every new one first, a block at a time (a dense hit matrix); a
  release with ``limit`` hits there is done, since nothing outside the prefix is earlier.
- The others (real collections: a handful of candidates each) are completed from whole bands,
  one band at a time: one sort of 8-byte keys, pairs emitted only inside groups of equal keys
  that hold such a release, the ``limit`` earliest kept.
Memory is a block of signatures, one band of keys and the pairs of one block, never all bands.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import numpy as np

from search.story_store import WIDTH, SignatureFile

PREFIX = 1024
BLOCK = 1024
_PAIRS_AT_ONCE = 1 << 20
_COLUMNS_AT_ONCE = 16


@functools.cache
def band_shape(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows per band)``: what ``datasketch.MinHashLSH`` picks for this threshold."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def band_key(columns: np.ndarray, band: int, rows: int) -> np.ndarray:
    """The 64-bit keys of one band from ``(256, n)`` columns (``rows`` must be 2: two 32-bit values)."""
    first, second = columns[band * rows], columns[band * rows + 1]
    return (first.astype(np.uint64) << np.uint64(32)) | second.astype(np.uint64)


def equal_counts(
    first: np.ndarray, second: np.ndarray, left: np.ndarray, right: np.ndarray, repeats: np.ndarray | None = None
) -> np.ndarray:
    """For each pair, how many of the 256 values of ``first[:, left]`` and ``second[:, right]``
    are equal (``first`` and ``second``: signatures column by column). ``repeats``: ``left`` is
    ``repeat(arange(n), repeats)``, which is cheaper to build than to gather."""
    counts = np.zeros(len(left), dtype=np.uint16)
    for column in range(len(first)):
        own = first[column].take(left) if repeats is None else np.repeat(first[column], repeats)
        counts += own == second[column].take(right)
    return counts


class CopySearch:
    """Candidates of ``new`` rows of ``store`` and the number of equal signature values of each pair.

    ``eligible``: rows that may be candidates at all; ``sequence``: insertion order (unique), a
    row's candidates come before it; ``orders``: indexing order (unique), the earliest are weighed.
    """

    def __init__(
        self,
        store: SignatureFile,
        eligible: np.ndarray,
        sequence: np.ndarray,
        orders: np.ndarray,
        new: np.ndarray,
        shape: tuple[int, int],
        limit: int,
    ):
        self.store, self.sequence, self.limit = store, sequence, limit
        self.bands, self.rows_per_band = shape
        if self.rows_per_band != 2:
            raise ValueError("bands of two 32-bit values are keys of 64 bits; other shapes are not supported")
        rows = np.nonzero(eligible)[0]
        self.by_order = rows[np.argsort(orders[rows], kind="stable")]
        self.rank = np.full(len(eligible), -1, dtype=np.int64)
        self.rank[self.by_order] = np.arange(len(self.by_order))
        self.prefix = self.by_order[:PREFIX]
        self.new = np.asarray(new, dtype=np.int64)

    def pairs(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(new rows, candidate rows, equal values)`` a block at a time; each new row's
        candidates are the ``limit`` earliest-indexed rows before it sharing a band with it."""
        if not len(self.new) or not len(self.prefix):
            return
        prefix_columns = self.store.gather(self.prefix).T.copy()
        prefix_keys = [band_key(prefix_columns, band, self.rows_per_band) for band in range(self.bands)]
        prefix_sorting = [np.argsort(keys, kind="stable") for keys in prefix_keys]
        prefix_sorted = [keys[order] for keys, order in zip(prefix_keys, prefix_sorting, strict=True)]
        prefix_runs = [_runs_from(keys) for keys in prefix_sorted]
        wanting: list[np.ndarray] = []
        needs: list[np.ndarray] = []
        for start in range(0, len(self.new), BLOCK):
            block = self.new[start : start + BLOCK]
            columns = self.store.gather(block).T.copy()
            hits = np.zeros((len(block), len(self.prefix)), dtype=bool)
            for band in range(self.bands):
                keys = band_key(columns, band, self.rows_per_band)
                low = np.minimum(np.searchsorted(prefix_sorted[band], keys), len(self.prefix) - 1)
                counts = np.where(prefix_sorted[band][low] == keys, prefix_runs[band][low], 0)
                if not counts.any():
                    continue
                left = np.repeat(np.arange(len(block)), counts)
                hits[left, prefix_sorting[band][_ranges(low, counts)]] = True
            hits &= self.sequence[self.prefix][None, :] < self.sequence[block][:, None]
            taken = hits & (np.cumsum(hits, axis=1, dtype=np.int16) <= self.limit)
            left, right = np.nonzero(taken)
            found = taken.sum(axis=1)
            yield block[left], self.prefix[right], equal_counts(columns, prefix_columns, left, right, found)
            wanting.append(block[found < self.limit])
            needs.append(self.limit - found[found < self.limit])
        outside = self.by_order[len(self.prefix) :]
        if len(outside):
            # only rows inserted after some row outside the prefix can find more there
            later = self.sequence[np.concatenate(wanting)] > self.sequence[outside].min()
            yield from self._beyond_prefix(np.concatenate(wanting)[later], np.concatenate(needs)[later])

    def _beyond_prefix(self, wanting: np.ndarray, needs: np.ndarray) -> Iterator[tuple[np.ndarray, ...]]:
        """The rest of the candidates of rows with fewer than ``limit`` in the prefix: the earliest
        ``needs`` rows outside the prefix, before them, sharing a band, whole band by band; as
        many wanting rows at a time as keep the pairs kept between bands to ``_PAIRS_AT_ONCE``."""
        for piece, piece_needs in _chunks(wanting, needs):
            yield from self._beyond_prefix_of(piece, piece_needs)

    def _beyond_prefix_of(self, wanting: np.ndarray, needs: np.ndarray) -> Iterator[tuple[np.ndarray, ...]]:
        outside = self.rank >= len(self.prefix)
        is_wanting = np.zeros(len(self.rank), dtype=bool)
        is_wanting[wanting] = True
        # rows inserted after every wanting row are nobody's candidates here
        useful = outside & (self.sequence < self.sequence[wanting].max())
        members = np.nonzero(useful | is_wanting)[0]
        members = members[np.argsort(self.sequence[members], kind="stable")]
        wanting_index = np.full(len(self.rank), -1, dtype=np.int64)
        wanting_index[wanting] = np.arange(len(wanting))
        kept = np.empty(0, dtype=np.int64)  # wanting index << 32 | rank of the candidate
        for band in range(self.bands):
            columns = self.store.columns(band * self.rows_per_band, self.rows_per_band)
            keys = ((columns[0].astype(np.uint64) << np.uint64(32)) | columns[1])[members]
            del columns
            # groups of equal keys, each in insertion order: a row's candidates come before it
            order = np.argsort(keys, kind="stable")  # stable: in insertion order within a group
            sorted_keys = keys[order]
            starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
            group = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(sorted_keys))))
            lengths = np.arange(len(order)) - starts[group]  # rows before each one in its group
            ranks = self.rank[members[order]]
            # where ranks rise with insertion order (a full build), the earliest candidates are the
            # first ones after the group's prefix rows: ``needs`` of them are enough
            falls = np.zeros(len(order), dtype=bool)
            falls[1:] = (ranks[1:] < ranks[:-1]) & (group[1:] == group[:-1])
            rising = np.bincount(group, weights=falls, minlength=len(starts)) == 0
            in_prefix = np.bincount(group, weights=ranks < len(self.prefix), minlength=len(starts)).astype(np.int64)
            positions = np.nonzero(is_wanting[members[order]] & (lengths > 0))[0]
            capped = in_prefix[group[positions]] + needs[wanting_index[members[order[positions]]]]
            counts = np.where(rising[group[positions]], np.minimum(lengths[positions], capped), lengths[positions])
            found = [kept]
            for chunk, chunk_counts in _chunks(positions, counts):
                left = members[order[np.repeat(chunk, chunk_counts)]]
                right = members[order[_ranges(starts[group[chunk]], chunk_counts)]]
                good = outside[right] & (self.sequence[right] < self.sequence[left])
                found.append((wanting_index[left[good]] << 32) | self.rank[right[good]])
            kept = _earliest(np.unique(np.concatenate(found)), needs)
        # every signature is read once per piece of pairs: a few large reads, little memory
        for start in range(0, len(kept), _PAIRS_AT_ONCE):
            piece = kept[start : start + _PAIRS_AT_ONCE]
            left, right = wanting[piece >> 32], self.by_order[piece & 0xFFFFFFFF]
            counts = np.zeros(len(piece), dtype=np.uint16)
            for first in range(0, WIDTH, _COLUMNS_AT_ONCE):
                columns = self.store.columns(first, min(_COLUMNS_AT_ONCE, WIDTH - first))
                counts += equal_counts(columns, columns, left, right)
            yield left, right, counts


def _runs_from(sorted_keys: np.ndarray) -> np.ndarray:
    """For each position of sorted keys, how many equal keys start there (to the run's end)."""
    starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
    ends = np.append(starts[1:], len(sorted_keys))
    run = np.repeat(np.arange(len(starts)), ends - starts)
    return ends[run] - np.arange(len(sorted_keys))


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + c) for s, c in zip(starts, counts)])``, vectorised."""
    total = int(counts.sum())
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + offsets


def _chunks(positions: np.ndarray, lengths: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``positions`` (and their ``lengths``) cut so that each piece emits about ``_PAIRS_AT_ONCE`` pairs."""
    ends = np.cumsum(lengths)
    start = 0
    while start < len(positions):
        stop = max(start + 1, int(np.searchsorted(ends, ends[start] - lengths[start] + _PAIRS_AT_ONCE, "right")))
        yield positions[start:stop], lengths[start:stop]
        start = stop


def _earliest(codes: np.ndarray, needs: np.ndarray) -> np.ndarray:
    """Of sorted unique ``wanting << 32 | rank`` codes, the ``needs[wanting]`` smallest ranks of each."""
    if not len(codes):
        return codes
    owners = codes >> 32
    first = np.searchsorted(owners, owners, "left")
    return codes[np.arange(len(codes)) - first < needs[owners]]
