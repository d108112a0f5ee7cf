"""Candidate copies by MinHash banding, on sorted arrays instead of hash tables.

The same candidates as ``datasketch.MinHashLSH`` with the book's threshold and permutations: the
signature is cut into the ``b`` bands of ``r`` values that the library chooses, and two releases
are candidates when any band is equal. The library keeps a dictionary entry per band per release
(bytes keys and Python sets: ~580 MB at 20,000 releases, rebuilt on every sync); here each band is
one sorted array of 64-bit keys (~8 bytes per band per release), built in one numpy pass, and a
release's candidates are ``b`` binary searches. A key mixes the band's values into 64 bits, so two
different bands share a key with a chance of about one in 2^64 per pair: an extra candidate, which
the containment check (``StoryBook._copies_among``) still weighs like any other.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

_MIX = np.uint64(0x9E3779B97F4A7C15)
_CHUNK = 8192  # signatures stacked at a time: a 256-value signature is 2 KB


@functools.cache
def band_shape(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows per band)``: what ``datasketch.MinHashLSH`` picks for this threshold."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def band_keys(signatures: Sequence[np.ndarray], bands: int, rows: int) -> np.ndarray:
    """``(bands, len(signatures))`` uint64 keys: equal bands, equal keys."""
    keys = np.empty((bands, len(signatures)), dtype=np.uint64)
    for start in range(0, len(signatures), _CHUNK):
        chunk = np.stack(signatures[start : start + _CHUNK]).astype(np.uint64, copy=False)
        for band in range(bands):
            key = np.zeros(len(chunk), dtype=np.uint64)
            for value in chunk[:, band * rows : (band + 1) * rows].T:
                key = (key ^ value) * _MIX  # wraps modulo 2^64, as meant
                key ^= key >> np.uint64(29)
            keys[band, start : start + len(chunk)] = key
    return keys


class BandIndex:
    """Releases (rows) by band key; ``candidates(row)`` lists the rows sharing a band with it."""

    def __init__(self, keys: np.ndarray):
        self.keys = keys
        self.order = np.argsort(keys, axis=1, kind="stable")
        self.sorted = np.take_along_axis(keys, self.order, axis=1)

    def candidates(self, row: int, before: int | None = None) -> np.ndarray:
        """Rows other than ``row`` with a band equal to one of ``row``'s, only those below ``before``
        when given (the releases inserted earlier, in the library's terms)."""
        found = []
        for band, key in enumerate(self.keys[:, row]):
            keys = self.sorted[band]
            low, high = np.searchsorted(keys, key, "left"), np.searchsorted(keys, key, "right")
            if high - low > 1:
                found.append(self.order[band, low:high])
        if not found:
            return np.empty(0, dtype=np.int64)
        rows = np.concatenate(found)
        rows = rows[rows != row]
        if before is not None:
            rows = rows[rows < before]
        rows.sort()
        return rows[np.concatenate(([True], rows[1:] != rows[:-1]))] if len(rows) else rows
