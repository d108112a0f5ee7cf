"""The banded copy search finds what datasketch's MinHashLSH finds, then weighs the earliest
``limit`` candidates of each new release, as the book always did: on signatures that share bands
in every pattern (one band, several, all, none), with the prefix of earliest releases and the
band-by-band search both in play, across updates that add, change and remove releases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from search import story_bands
from search.stories import _LSH_THRESHOLD, SignedReleases, StoryBook, copies
from search.story_bands import CopySearch, band_shape
from search.story_signatures import _SCHEME, NUM_PERM
from search.story_store import TileWriter


def _signatures(seed: int, count: int, shared: float) -> np.ndarray:
    """Random signatures; with probability ``shared`` a band is copied from an earlier one, and as
    often copied with one value changed (a near miss, which must not make a candidate). With the
    highest ``shared``, a third are whole copies: clusters that share every band."""
    rng = np.random.default_rng(seed)
    bands, rows = band_shape(_LSH_THRESHOLD, NUM_PERM)
    made = np.empty((count, NUM_PERM), dtype=np.uint32)
    for row in range(count):
        signature = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint64).astype(np.uint32)
        for band in range(bands):
            if row and rng.random() < 2 * shared:
                source = made[rng.integers(row)]
                signature[band * rows : (band + 1) * rows] = source[band * rows : (band + 1) * rows]
                if rng.random() < 0.5:
                    signature[band * rows + rng.integers(rows)] ^= np.uint32(1)
        made[row] = made[rng.integers(row)] if row and shared > 0.4 and rng.random() < 0.3 else signature
    return made


def _expected(signatures: np.ndarray, orders: np.ndarray, sequence: np.ndarray, new: set[int], limit: int) -> set:
    """MinHashLSH's candidates of each new row among the rows inserted before it, the ``limit``
    earliest by order."""
    lsh = MinHashLSH(threshold=_LSH_THRESHOLD, num_perm=NUM_PERM)
    pairs = set()
    for row in np.argsort(sequence).tolist():
        sketch = MinHash(num_perm=NUM_PERM, hashvalues=signatures[row].astype(np.uint64), scheme=_SCHEME)
        if row in new:
            found = sorted(lsh.query(sketch), key=lambda other: orders[other])[:limit]
            pairs |= {(row, other) for other in found}
        lsh.insert(row, sketch)
    return pairs


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    count=st.integers(1, 60),
    shared=st.sampled_from([0.0, 0.02, 0.2, 0.45]),
    prefix=st.sampled_from([1, 4, 1024]),
    limit=st.sampled_from([1, 3, 200]),
    rising=st.booleans(),
)
def test_candidates_are_minhash_lshs_earliest(
    tmp_path_factory: pytest.TempPathFactory,
    seed: int,
    count: int,
    shared: float,
    prefix: int,
    limit: int,
    rising: bool,
) -> None:
    """``rising``: indexing order is insertion order (a full build), the case the band search cuts short."""
    signatures = _signatures(seed, count, shared)
    rng = np.random.default_rng(seed)
    orders = rng.permutation(count) + 1
    sequence = orders - 1 if rising else rng.permutation(count)
    old = int(rng.integers(0, count))  # rows inserted before: candidates, never searched for
    new = np.nonzero(sequence >= old)[0]
    writer = TileWriter(tmp_path_factory.mktemp("sig") / "s")
    writer.append(signatures)
    store = writer.close()
    eligible = np.ones(count, dtype=bool)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(story_bands, "PREFIX", prefix)
        patch.setattr(story_bands, "BLOCK", 7)
        patch.setattr(story_bands, "_PAIRS_AT_ONCE", 1 + seed % 50)  # pieces of pairs, one to many
        search = CopySearch(store, eligible, sequence, orders, new, band_shape(_LSH_THRESHOLD, NUM_PERM), limit)
        found = list(search.pairs())
    pairs = [(own, other) for left, right, _ in found for own, other in zip(left.tolist(), right.tolist(), strict=True)]
    assert len(pairs) == len(set(pairs))
    assert set(pairs) == _expected(signatures, orders, sequence, set(new.tolist()), limit)
    for left, right, equal in found:
        assert equal.tolist() == (signatures[left] == signatures[right]).sum(axis=1).tolist()


def test_band_shape_is_the_librarys() -> None:
    lsh = MinHashLSH(threshold=_LSH_THRESHOLD, num_perm=NUM_PERM)
    assert band_shape(_LSH_THRESHOLD, NUM_PERM) == (lsh.b, lsh.r) == (117, 2)


def _reference_links(signatures: np.ndarray, sizes: np.ndarray, ids: list[str]) -> set[frozenset[str]]:
    """The book's rule on one full build, the direct way: MinHashLSH in id order, the 200
    earliest candidates, the containment estimate."""
    by_id = sorted(range(len(ids)), key=ids.__getitem__)
    orders = np.empty(len(ids), dtype=np.int64)
    orders[by_id] = np.arange(1, len(ids) + 1)
    eligible = [row for row in by_id if sizes[row] >= 20]
    sequence = np.zeros(len(ids), dtype=np.int64)
    sequence[eligible] = np.arange(len(eligible))
    pairs = _expected(signatures[eligible], orders[eligible], sequence[eligible], set(range(len(eligible))), 200)
    links = set()
    for own, other in pairs:
        left, right = eligible[own], eligible[other]
        equal = np.array([(signatures[left] == signatures[right]).sum()])
        if copies(equal, sizes[left : left + 1], sizes[right : right + 1])[0]:
            links.add(frozenset((ids[left], ids[right])))
    return links


def test_a_book_built_then_updated_links_what_the_direct_rule_links(tmp_path: Path) -> None:
    signatures = _signatures(7, 300, 0.05)
    rng = np.random.default_rng(7)
    for row in range(1, 300, 3):  # copies: most values of an earlier release
        source = rng.integers(row)
        keep = rng.random(NUM_PERM) < 0.6
        signatures[row, keep] = signatures[source, keep]
    sizes = rng.integers(5, 3000, 300)
    ids = [f"{rng.integers(2**60):016x}" for _ in range(300)]
    book = StoryBook(tmp_path)
    releases = SignedReleases(tmp_path)
    for row in range(300):
        releases.add(ids[row], (signatures[row].astype(np.uint64), int(sizes[row])))
    book.update(ids, releases)
    book.save(tmp_path)
    links = {frozenset((str(book.ids[a]), str(book.ids[b]))) for a, b in book.edges.tolist()}
    assert links and links == _reference_links(signatures, sizes, ids)
    # removing releases drops their links and nothing else
    gone = set(ids[:40])
    book = StoryBook.load(tmp_path)
    book.update(ids[40:], SignedReleases(tmp_path))
    after = {frozenset((str(book.ids[a]), str(book.ids[b]))) for a, b in book.edges.tolist()}
    assert after == {link for link in links if not link & gone}
    assert [path.name for path in tmp_path.iterdir() if "signing" in path.name] == []


def test_a_cluster_of_identical_releases_beyond_the_prefix_gets_its_earliest_candidates(tmp_path: Path) -> None:
    """Every release shares every band with the others: each gets the ``limit`` earliest before it,
    whether they lie in the prefix of earliest releases or beyond it."""
    signatures = np.repeat(_signatures(3, 1, 0.0), 12, axis=0)
    writer = TileWriter(tmp_path / "s")
    writer.append(signatures)
    orders = np.arange(1, 13)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(story_bands, "PREFIX", 2)
        search = CopySearch(
            writer.close(),
            np.ones(12, dtype=bool),
            orders - 1,
            orders,
            np.arange(12),
            band_shape(_LSH_THRESHOLD, NUM_PERM),
            3,
        )
        pairs = {
            (own, other)
            for left, right, _ in search.pairs()
            for own, other in zip(left.tolist(), right.tolist(), strict=True)
        }
    assert pairs == {(own, other) for own in range(12) for other in range(min(own, 3))}
