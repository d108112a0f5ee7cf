"""A release's story signature is exactly datasketch's MinHash of its shingles: saved story books
are read back and compared with signatures made later, so the fast path must not drift."""

from __future__ import annotations

import numpy as np
import opencc
import pytest
from datasketch import MinHash
from datasketch.hashfunc import sha1_hash32

from search import story_signatures as stories
from search.story_signatures import NUM_PERM, shingles, signed

TEXTS = [
    "石泉县公安局集中返还被盗被骗财物\n3月5日上午，石泉县公安局在县城广场举行涉案财物集中返还仪式，共计100余万元。",
    "２０２４年１２月，ＡＢＣ派出所破获盗窃案件63起。" * 3,
    opencc.OpenCC("s2t").convert("万州区公安局通报：电信网络诈骗案件发案数同比下降22%。"),
    "诈骗案",  # one shingle
    "诈骗",  # none
    "",
    "English only, no ideographs 2024",
    "𠀀𠀁𠀂 outside the basic plane, and 㐀㐁㐂 in extension A",
]


def _datasketch_signature(items: set[str]) -> np.ndarray:
    sketch = MinHash(num_perm=NUM_PERM, scheme="affine32", hashfunc=lambda s: sha1_hash32(s.encode("utf-8")))
    sketch.update_batch(items)
    return sketch.hashvalues


@pytest.mark.parametrize("text", TEXTS)
def test_a_signature_is_datasketchs_minhash_of_the_shingles_bit_for_bit(text: str) -> None:
    signature, size = signed(text)
    expected = _datasketch_signature(shingles(text))
    assert size == len(shingles(text))
    assert signature.dtype == expected.dtype and signature.shape == expected.shape
    assert signature.tobytes() == expected.tobytes()


def test_signing_again_from_a_warm_or_a_cleared_hash_cache_gives_the_same_signature() -> None:
    first = [signed(text) for text in TEXTS]
    stories._SHINGLE_HASHES.clear()
    again = [signed(text) for text in reversed(TEXTS)][::-1]
    for (signature, size), (other, other_size) in zip(first, again, strict=True):
        assert size == other_size and signature.tobytes() == other.tobytes()


def test_shingle_keys_stand_for_exactly_the_shingles() -> None:
    for text in TEXTS:
        keys = stories._shingle_keys(text)
        assert {stories._shingle_of(key) for key in keys.tolist()} == shingles(text)
        assert len(keys) == len(shingles(text))
