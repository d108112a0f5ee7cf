"""Copies of one release, grouped into stories at index time.

One release is republished by many outlets — reworded headline, other bylines and page chrome, a
Traditional-script mirror, a truncated repost. Two releases are copies when most of the shorter
one's text is in the longer one: the *containment* of their character shingles (three ideographs
or digits in a row, after folding script and width, so chrome, spacing and Latin junk do not
count) is at least ``CONTAINMENT``. Containment, not Jaccard similarity, because a truncated repost
shares all of itself with the original but only a part of the original.

Comparing every pair is quadratic, so candidates come from MinHash LSH (``datasketch``) with a
generous threshold, and each candidate's containment is then estimated from the two MinHash
signatures and the sizes of the two sets (256 permutations keep the estimate within a few
hundredths; on the annotated real-world set copies score 0.33 and more, different releases of
one campaign 0.28 and less). The book of signatures and copy links is saved beside the index
generation (``stories.pickle``), so a sync only signs the releases it adds or changes: a new copy
joins its story on reindex, no rebuild.
A story's id is the id of its earliest-indexed member, so it stays put as copies arrive.
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from search.index import new_file_mode
from search.memo import looked_up
from search.normalise import IDEOGRAPH, fold_text

if TYPE_CHECKING:  # imported where used: datasketch pulls in scipy (~0.6 s) and numpy, which a search never needs
    import numpy as np
    from datasketch import MinHash

SHINGLE = 3
CONTAINMENT = 0.3
NUM_PERM = 256
# Fixed, not the library's default: saved signatures must be read back with the scheme they were made with.
_SCHEME = "affine32"
# Candidates only: a copy whose text is a third of the original has a Jaccard similarity near
# 0.1 with it; the exact check decides.
_LSH_THRESHOLD = 0.1
# Candidates weighed per release: real collections have a handful; a collection of near-identical
# boilerplate would otherwise cost quadratic time.
MAX_CANDIDATES = 200
# Releases this short share boilerplate more than stories; they are never grouped.
MIN_SHINGLES = 20
FILE_NAME = "stories.pickle"
# What searches read (search.collapse): the book holds a 2 KB signature per release, too much to
# load on every command-line query.
MAP_FILE = "story-map.pickle"
FORMAT_VERSION = 1
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


def _sketch(signature: np.ndarray) -> MinHash:
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, hashvalues=signature, scheme=_SCHEME)


@dataclass
class _Entry:
    order: int
    signature: np.ndarray
    size: int
    copies: set[str] = field(default_factory=set)


@dataclass
class StoryBook:
    """Signature and copy links of every indexed release; stories are its connected groups."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    next_order: int = 0

    # -- persistence -------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: Path | None) -> StoryBook:
        """The saved book, or an empty one (none yet, unreadable, another format)."""
        if folder is None:
            return cls()
        try:
            with open(folder / FILE_NAME, "rb") as handle:
                data = pickle.load(handle)
            if data.get("version") != FORMAT_VERSION:
                return cls()
            return cls(data["entries"], data["next_order"])
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, AttributeError, ValueError):
            return cls()

    def save(self, folder: Path) -> None:
        """Write-then-rename: readers find the old book or the new one, never half. Beside it, the
        map of stories with copies (``MAP_FILE``), all a search reads."""
        data = {"version": FORMAT_VERSION, "entries": self.entries, "next_order": self.next_order}
        _write_pickle(folder / FILE_NAME, data)
        _write_pickle(folder / MAP_FILE, {"version": FORMAT_VERSION, "stories": self.shared_stories()})

    # -- keeping up with the index -------------------------------------------------------------
    def update(
        self,
        live: Iterable[str],
        changed: dict[str, Signable],
    ) -> None:
        """Forget releases no longer indexed, (re)sign ``changed`` (id → text or ``signed(text)``) and link each to
        its copies among the indexed releases."""
        live_ids = set(live)
        for gone in [doc_id for doc_id in self.entries if doc_id not in live_ids or doc_id in changed]:
            self._forget(gone, keep_order=gone in changed and gone in live_ids)
        if not changed:
            return
        from search.story_bands import BandIndex, band_keys, band_shape

        # The releases already in the book come first, then the changed ones in id order; each
        # changed release is linked to the copies among those before it (its candidates share a
        # MinHash band with it, as MinHashLSH would find them, from sorted arrays: search.story_bands).
        rows = [doc_id for doc_id, entry in self.entries.items() if entry.size >= MIN_SHINGLES]
        first_changed = len(rows)
        for doc_id, text in sorted(changed.items()):
            if doc_id not in live_ids:
                continue
            signature, size = text if isinstance(text, tuple) else signed(text)
            entry = self.entries.get(doc_id)
            order = entry.order if entry else self._take_order()
            self.entries[doc_id] = _Entry(order, signature, size)
            if size >= MIN_SHINGLES:
                rows.append(doc_id)
        if len(rows) == first_changed:
            return
        index = BandIndex(
            band_keys([self.entries[doc_id].signature for doc_id in rows], *band_shape(_LSH_THRESHOLD, NUM_PERM))
        )
        for row in range(first_changed, len(rows)):
            doc_id = rows[row]
            candidates = [rows[other] for other in index.candidates(row, before=row).tolist()]
            for candidate in self._copies_among(doc_id, candidates):
                self.entries[doc_id].copies.add(candidate)
                self.entries[candidate].copies.add(doc_id)

    def _copies_among(self, doc_id: str, candidates: list[str]) -> list[str]:
        """The candidates whose containment with ``doc_id``, estimated from the signatures, reaches
        ``CONTAINMENT``; at most ``MAX_CANDIDATES`` of them (the earliest indexed) are weighed, so a
        collection of near-identical boilerplate costs linear time, not quadratic."""
        if not candidates:
            return []
        import numpy as np

        chosen = sorted(candidates, key=lambda other: self.entries[other].order)[:MAX_CANDIDATES]
        own = self.entries[doc_id]
        signatures = np.stack([self.entries[other].signature for other in chosen])
        jaccard = (signatures == own.signature).mean(axis=1)
        sizes = np.array([self.entries[other].size for other in chosen], dtype=float)
        smaller = np.minimum(sizes, own.size)
        estimated = jaccard * (sizes + own.size) / ((1 + jaccard) * smaller)
        return [other for other, value in zip(chosen, estimated, strict=True) if value >= CONTAINMENT]

    def _take_order(self) -> int:
        self.next_order += 1
        return self.next_order

    def _forget(self, doc_id: str, keep_order: bool) -> None:
        entry = self.entries.pop(doc_id)
        for other in entry.copies:
            if other in self.entries:
                self.entries[other].copies.discard(doc_id)
        if keep_order:  # a changed release keeps its place, so its story keeps its id
            self.entries[doc_id] = _Entry(entry.order, entry.signature, 0)

    # -- reading -------------------------------------------------------------------------------
    def shared_stories(self) -> dict[str, str]:
        """``stories()`` for the releases that have copies only."""
        story_of = self.stories()
        sizes = Counter(story_of.values())
        return {release: story for release, story in story_of.items() if sizes[story] > 1}

    def stories(self) -> dict[str, str]:
        """Release id → story id (its earliest-indexed member's id)."""
        story_of: dict[str, str] = {}
        for start in sorted(self.entries, key=lambda doc_id: self.entries[doc_id].order):
            if start in story_of:
                continue
            story_of[start] = start
            pending = [start]
            while pending:
                for other in self.entries[pending.pop()].copies:
                    if other in self.entries and other not in story_of:
                        story_of[other] = start
                        pending.append(other)
        return story_of


def _write_pickle(path: Path, data: dict[str, object]) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".stories.tmp")
    os.fchmod(handle, new_file_mode())  # readable as the umask allows, like Whoosh's own files
    try:
        with os.fdopen(handle, "wb") as out:
            pickle.dump(data, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_story_map(folder: Path) -> dict[str, str]:
    """Release id → story id for the releases that have copies (the others are stories of their
    own), from the small map saved beside the book; from the book itself when there is no map
    (a book saved before maps were)."""
    try:
        with open(folder / MAP_FILE, "rb") as handle:
            data = pickle.load(handle)
        if data.get("version") == FORMAT_VERSION and isinstance(data.get("stories"), dict):
            return data["stories"]
    except (OSError, pickle.UnpicklingError, EOFError, TypeError, AttributeError, ValueError):
        pass
    return StoryBook.load(folder).shared_stories()


def update_stories(
    folder: Path, live: Iterable[str], changed: dict[str, Signable], text_of: Callable[[str], str | None]
) -> StoryBook:
    """Bring the generation's story book in line with the index and save it. Releases the book
    does not know yet (an index from before stories, a book lost) are signed from their text."""
    book = StoryBook.load(folder)
    live_ids = set(live)
    changed = dict(changed)
    for doc_id in sorted(live_ids - set(book.entries) - set(changed)):
        text = text_of(doc_id)
        if text is not None:
            changed[doc_id] = text
    if changed or set(book.entries) - live_ids or not (folder / MAP_FILE).exists():
        book.update(live_ids, changed)
        book.save(folder)
    return book
