"""The banded candidate index finds what datasketch's MinHashLSH finds, on signatures that share
bands in every pattern (one band, several, all, none)."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from search.stories import _LSH_THRESHOLD, _SCHEME, NUM_PERM
from search.story_bands import BandIndex, band_keys, band_shape


def _signatures(seed: int, count: int, shared: float) -> list[np.ndarray]:
    """Random signatures; with probability ``shared`` a band is copied from an earlier one, and as
    often copied with one value changed (a near miss, which must not make a candidate)."""
    rng = np.random.default_rng(seed)
    bands, rows = band_shape(_LSH_THRESHOLD, NUM_PERM)
    made: list[np.ndarray] = []
    for _ in range(count):
        signature = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint64)
        for band in range(bands):
            if made and rng.random() < 2 * shared:
                source = made[rng.integers(len(made))]
                signature[band * rows : (band + 1) * rows] = source[band * rows : (band + 1) * rows]
                if rng.random() < 0.5:
                    signature[band * rows + rng.integers(rows)] ^= np.uint64(1)
        made.append(signature)
    return made


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), count=st.integers(1, 60), shared=st.sampled_from([0.0, 0.02, 0.2, 0.45]))
def test_candidates_equal_minhash_lsh(seed: int, count: int, shared: float) -> None:
    signatures = _signatures(seed, count, shared)
    index = BandIndex(band_keys(signatures, *band_shape(_LSH_THRESHOLD, NUM_PERM)))
    lsh = MinHashLSH(threshold=_LSH_THRESHOLD, num_perm=NUM_PERM)
    for row, signature in enumerate(signatures):
        sketch = MinHash(num_perm=NUM_PERM, hashvalues=signature, scheme=_SCHEME)
        expected = sorted(lsh.query(sketch))
        assert index.candidates(row, before=row).tolist() == expected
        lsh.insert(row, sketch)
    # without ``before``: every other row sharing a band, earlier or later
    last = len(signatures) - 1
    assert set(index.candidates(0).tolist()) == {other for other in range(1, last + 1)
                                                 if 0 in index.candidates(other).tolist()}  # fmt: skip


def test_band_shape_is_the_librarys() -> None:
    lsh = MinHashLSH(threshold=_LSH_THRESHOLD, num_perm=NUM_PERM)
    assert band_shape(_LSH_THRESHOLD, NUM_PERM) == (lsh.b, lsh.r)
    bands, rows = lsh.b, lsh.r
    assert bands * rows <= NUM_PERM
