"""A release's MinHash signature for the story book (``search.stories``): the three-character
shingles of its ideographs and digits, script-folded, hashed and permuted exactly as datasketch's
``MinHash(num_perm=NUM_PERM, scheme=_SCHEME)`` would (tested equal: saved books are read back with
these bits), but in a few numpy operations per release instead of a ``MinHash`` per release.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from search.memo import looked_up
from search.normalise import IDEOGRAPH, fold_text

if TYPE_CHECKING:  # imported where used: a search never signs anything
    import numpy as np

SHINGLE = 3
NUM_PERM = 256
# Fixed, not the library's default: saved signatures must be read back with the scheme they were made with.
_SCHEME = "affine32"
_KEPT = re.compile(f"(?:{IDEOGRAPH}|[0-9])+")


def shingles(text: str) -> set[str]:
    """Three-character shingles of the ideographs and digits of ``text``, script-folded."""
    kept = "".join(_KEPT.findall(fold_text(text)))
    return {kept[index : index + SHINGLE] for index in range(len(kept) - SHINGLE + 1)}


# A shingle as one integer: its characters' code points (21 bits each) side by side.
_CODE_BITS = 21
_CODE_MASK = (1 << _CODE_BITS) - 1
assert SHINGLE * _CODE_BITS <= 64


def _shingle_keys(text: str) -> np.ndarray:
    """``shingles(text)`` as sorted unique integers (``_CODE_BITS`` per character): the same set,
    made by numpy without a Python string per shingle."""
    import numpy as np

    kept = "".join(_KEPT.findall(fold_text(text)))
    count = len(kept) - SHINGLE + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    codes = np.frombuffer(kept.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    keys = np.zeros(count, dtype=np.uint64)
    for offset in range(SHINGLE):
        keys <<= np.uint64(_CODE_BITS)
        keys |= codes[offset : offset + count]
    return np.unique(keys)


def _shingle_of(key: int) -> str:
    return "".join(chr((key >> (_CODE_BITS * place)) & _CODE_MASK) for place in reversed(range(SHINGLE)))


@functools.lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The scheme's permutations ``h → a·h + b (mod 2**32)``, as datasketch makes them (seed 1)."""
    from datasketch import MinHash

    a, b = MinHash(num_perm=NUM_PERM, scheme=_SCHEME).permutations
    return a, b


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, which the scheme applies to each hash before permuting."""
    import numpy as np

    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def _signature(keys: np.ndarray) -> np.ndarray:
    """What datasketch's ``MinHash(num_perm=NUM_PERM, scheme=_SCHEME)`` holds after
    ``update_batch`` with the shingles (tested equal), in a few array operations: the hashes
    come from a cache, and no ``MinHash`` (with its permutations drawn anew) is made per release."""
    import numpy as np

    if not len(keys):
        return np.full(NUM_PERM, np.iinfo(np.uint32).max, dtype=np.uint32)
    a, b = _permutations()
    permuted = np.multiply(_fmix32(_shingle_hashes(keys))[:, None], a)
    permuted += b  # uint32 arithmetic wraps: the scheme's modulo 2**32
    return permuted.min(axis=0)


# The scheme's own hash (SHA-1, first 32 bits) of each shingle by its key, cached: releases share
# most of their shingles, and hashing was most of the cost of signing one. Cleared when full.
_SHINGLE_HASHES: dict[int, int] = {}
_SHINGLE_HASHES_LIMIT = 50_000


def _shingle_hashes(keys: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.array(looked_up(_SHINGLE_HASHES, keys.tolist(), _shingle_hash, _SHINGLE_HASHES_LIMIT), dtype=np.uint32)


def _shingle_hash(key: int) -> int:
    from datasketch.hashfunc import sha1_hash32

    return sha1_hash32(_shingle_of(key).encode("utf-8"))


# a release's text, or its signature and shingle count (``signed``)
Signable = "str | tuple[np.ndarray, int]"


def signed(text: str) -> tuple[np.ndarray, int]:
    """A release's signature and shingle count: what ``StoryBook.update`` takes in place of its
    text (the bulk build signs releases in its writer processes, in parallel)."""
    keys = _shingle_keys(text)
    return _signature(keys), len(keys)
