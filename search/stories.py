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
generation (``stories.npz``, the signatures in a file of their own: ``search.story_store``), so a
sync only signs the releases it adds or changes: a new copy joins its story on reindex, no rebuild.
A story's id is the id of its earliest-indexed member, so it stays put as copies arrive.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from search.heap import release_freed_memory
from search.index import new_file_mode
from search.story_signatures import NUM_PERM, Signable, signed

if TYPE_CHECKING:  # imported where used: datasketch pulls in scipy (~0.6 s) and numpy, which a search never needs
    import numpy as np

    from search.story_store import SignatureFile

CONTAINMENT = 0.3
# Candidates only: a copy whose text is a third of the original has a Jaccard similarity near
# 0.1 with it; the exact check decides.
_LSH_THRESHOLD = 0.1
# Candidates weighed per release: real collections have a handful; a collection of near-identical
# boilerplate would otherwise cost quadratic time.
MAX_CANDIDATES = 200
# Releases this short share boilerplate more than stories; they are never grouped.
MIN_SHINGLES = 20
FILE_NAME = "stories.npz"
# the book of format 1, one pickle; removed when a book of this format is saved
_OLD_FILE_NAME = "stories.pickle"
# What searches read (search.collapse): the book holds a 2 KB signature per release, too much to
# load on every command-line query.
MAP_FILE = "story-map.pickle"
FORMAT_VERSION = 2
_SIGNATURES = "stories-{token}.signatures"
# Row numbers of copy links: a book holds far fewer than 2**31 releases, and a big one millions of links.
_EDGE = "int32"
_EDGES_AT_A_TIME = 1 << 20


_MAP_VERSION = 1


class SignedReleases:
    """New and changed releases for ``StoryBook.update``: ids, sizes and signatures, the signatures
    written to a file as they come (``search.story_store``), so a full build of 200,000 releases
    does not hold 200 MB of them. The same id added twice keeps its last signature."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self.ids: list[str] = []
        self.sizes: list[int] = []
        self._writer: object | None = None
        self._file: SignatureFile | None = None

    def add(self, doc_id: str, release: Signable) -> None:
        """``release``: the story text, or its ``signed(text)``."""
        from search.story_store import TileWriter

        signature, size = release if isinstance(release, tuple) else signed(release)
        if self._writer is None:
            handle, name = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".signing.tmp")
            os.close(handle)
            self._writer = TileWriter(Path(name))
        self._writer.append(signature)  # type: ignore[attr-defined]
        self.ids.append(doc_id)
        self.sizes.append(size)

    def __len__(self) -> int:
        return len(self.ids)

    def signatures(self) -> SignatureFile | None:
        """The file of every signature added (none added: None); nothing can be added after."""
        if self._writer is not None:
            self._file = self._writer.close()  # type: ignore[attr-defined]
            self._writer = None
        return self._file

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.abort()  # type: ignore[attr-defined]
            self._writer = None
        if self._file is not None:
            self._file.path.unlink(missing_ok=True)
            self._file = None


@dataclass
class _Entry:
    """One release as the book knows it (``StoryBook.entries``: for inspection and tests)."""

    order: int
    signature: np.ndarray
    size: int
    copies: set[str] = field(default_factory=set)


class StoryBook:
    """Signature and copy links of every indexed release; stories are its connected groups.

    Rows are releases: ``ids``, ``orders`` (indexing order: a story's id is its earliest member's),
    ``sizes`` (shingle counts) and the signatures file share their row numbers; ``edges`` are copy
    links as pairs of rows."""

    def __init__(self, folder: Path | None = None):
        import numpy as np

        self.folder = folder
        self.ids = np.empty(0, dtype=str)
        self.orders = np.empty(0, dtype=np.int64)
        self.sizes = np.empty(0, dtype=np.int64)
        self.edges = np.empty((0, 2), dtype=_EDGE)
        self.next_order = 0
        self.signatures: SignatureFile | None = None

    # -- persistence -------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: Path | None) -> StoryBook:
        """The saved book, or an empty one (none yet, unreadable, another format)."""
        import numpy as np

        from search.story_store import SignatureFile

        book = cls(folder)
        if folder is None:
            return book
        try:
            with np.load(folder / FILE_NAME, allow_pickle=False) as data:
                if int(data["version"]) != FORMAT_VERSION:
                    return book
                ids, orders, sizes, edges = data["ids"], data["orders"], data["sizes"], data["edges"]
                next_order, name = int(data["next_order"]), str(data["signatures"])
            path = folder / name
            if not (len(ids) == len(orders) == len(sizes)) or path.name != name:
                return book
            if path.stat().st_size != SignatureFile.expected_bytes(len(ids)):
                return book
        except (OSError, ValueError, KeyError, TypeError, EOFError):
            return book
        book.ids, book.orders, book.sizes = ids, orders, sizes
        book.edges = edges.reshape(-1, 2).astype(_EDGE, copy=False)
        book.next_order, book.signatures = next_order, SignatureFile(path, len(ids))
        return book

    def save(self, folder: Path) -> None:
        """Write-then-rename: readers find the old book or the new one, never half (the signatures
        file has a name of its own per book). Beside it, the map of stories with copies
        (``MAP_FILE``), all a search reads."""
        import numpy as np

        signatures = self._signatures_in(folder)
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=".stories.tmp")
        os.fchmod(handle, new_file_mode())  # readable as the umask allows, like Whoosh's own files
        try:
            with os.fdopen(handle, "wb") as out:
                np.savez(
                    out, version=FORMAT_VERSION, ids=self.ids, orders=self.orders, sizes=self.sizes,
                    edges=self.edges, next_order=self.next_order, signatures=signatures.name,
                )  # fmt: skip
            os.replace(temporary, folder / FILE_NAME)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        # under the writer lock: signatures of a sync that died before its save are stale too
        leftovers = [*folder.glob(_SIGNATURES.format(token="*")), *folder.glob(".*.signing.tmp")]
        for stale in [*leftovers, folder / _OLD_FILE_NAME]:
            if stale != signatures:
                stale.unlink(missing_ok=True)
        _write_pickle(folder / MAP_FILE, {"version": _MAP_VERSION, "stories": self.shared_stories()})

    def _signatures_in(self, folder: Path) -> Path:
        """This book's signatures file, in ``folder`` (copied there if it is elsewhere)."""
        if self.signatures is not None and self.signatures.path.parent == folder:
            return self.signatures.path
        writer = self._new_signatures(folder)
        if self.signatures is not None:
            for rows in self.signatures.iter_rows():
                writer.append(rows)
        self.signatures = writer.close()
        return self.signatures.path

    @staticmethod
    def _new_signatures(folder: Path | None) -> object:
        from search.story_store import TileWriter

        folder = folder if folder is not None else Path(tempfile.mkdtemp(prefix="stories-"))
        handle, name = tempfile.mkstemp(dir=folder, prefix="stories-", suffix=".signatures")
        os.fchmod(handle, new_file_mode())
        os.close(handle)
        return TileWriter(Path(name))

    # -- keeping up with the index -------------------------------------------------------------
    def update(self, live: Iterable[str], changed: SignedReleases | dict[str, Signable]) -> None:
        """Forget releases no longer indexed, (re)sign ``changed`` (id → text or ``signed(text)``) and
        link each to its copies among the indexed releases."""
        import numpy as np

        live_ids = live if isinstance(live, set) else set(live)
        if isinstance(changed, dict):
            changed = _signed_releases(changed, self.folder)
        new_file = changed.signatures()
        # the last signature of each changed id, in id order; those still indexed are signed anew
        changed_ids = np.array(changed.ids, dtype=str)
        last = len(changed_ids) - 1 - np.unique(changed_ids[::-1], return_index=True)[1]
        by_id = last[np.array([changed.ids[row] in live_ids for row in last.tolist()], dtype=bool)]
        old_ids = self.ids.tolist()
        changed_set = set(changed.ids)
        kept = np.array([doc_id in live_ids and doc_id not in changed_set for doc_id in old_ids], dtype=bool)
        if kept.all() and not changed_set:
            return
        # a changed release keeps its place, so its story keeps its id; a new one takes the next
        order_of = {doc_id: int(order) for doc_id, order in zip(old_ids, self.orders.tolist(), strict=True)
                    if doc_id in changed_set}  # fmt: skip
        orders_by_id = np.array([order_of.get(changed.ids[row], 0) for row in by_id.tolist()], dtype=np.int64)
        fresh = orders_by_id == 0
        orders_by_id[fresh] = self.next_order + 1 + np.arange(int(fresh.sum()))
        self.next_order += int(fresh.sum())
        changed_rows = np.sort(by_id)  # the new rows in the order of the signatures file
        position_by_id = np.searchsorted(changed_rows, by_id)
        new_orders = np.empty(len(by_id), dtype=np.int64)
        new_orders[position_by_id] = orders_by_id
        old_count = int(kept.sum())
        # copy links among kept rows stay, renumbered
        renumber = np.full(len(old_ids) + 1, -1, dtype=_EDGE)
        renumber[np.nonzero(kept)[0]] = np.arange(old_count)
        edges = renumber[self.edges] if len(self.edges) else self.edges
        edges = edges[(edges >= 0).all(axis=1)] if len(edges) else edges.reshape(0, 2)
        wanted = np.zeros(new_file.rows if new_file is not None else 0, dtype=bool)
        wanted[changed_rows] = True
        # the previous file goes when the book is saved
        self.signatures = self._kept_signatures([(self.signatures, kept), (new_file, wanted)])
        changed.discard()
        self.ids = np.concatenate([self.ids[kept], changed_ids[changed_rows]]) if len(changed_rows) else self.ids[kept]
        new_sizes = np.array(changed.sizes, dtype=np.int64).reshape(-1)[changed_rows]
        self.orders = np.concatenate([self.orders[kept], new_orders])
        self.sizes = np.concatenate([self.sizes[kept], new_sizes])
        # the releases already in the book come first, then the changed ones in id order: each
        # changed release is weighed against those before it, as MinHashLSH's insert order would
        sequence = np.arange(len(self.ids), dtype=np.int64)
        sequence[old_count + position_by_id] = old_count + np.arange(len(by_id))
        links = self._links(sequence, old_count)
        self.edges = np.concatenate([edges, links]) if len(edges) else links
        del edges, links
        release_freed_memory()

    def _kept_signatures(self, sources: list[tuple[SignatureFile | None, np.ndarray]]) -> SignatureFile:
        """A new signatures file of the rows of each source that its mask keeps, in turn."""
        writer = self._new_signatures(self.folder)
        try:
            for source, mask in sources:
                if source is not None and mask.any():
                    for tile_start, rows in _tiles(source):
                        writer.append(rows[mask[tile_start : tile_start + len(rows)]])
            return writer.close()  # type: ignore[attr-defined]
        except BaseException:
            writer.abort()  # type: ignore[attr-defined]
            raise

    def _links(self, sequence: np.ndarray, first_new: int) -> np.ndarray:
        """Copy links of the rows from ``first_new`` on: candidates (``search.story_bands``) whose
        containment, estimated from the signatures, reaches ``CONTAINMENT``."""
        import numpy as np

        from search.story_bands import CopySearch, band_shape

        eligible = self.sizes >= MIN_SHINGLES
        new = np.nonzero(eligible[first_new:])[0] + first_new
        found = [np.empty((0, 2), dtype=_EDGE)]
        if not len(new) or self.signatures is None:
            return found[0]
        search = CopySearch(
            self.signatures, eligible, sequence, self.orders, new, band_shape(_LSH_THRESHOLD, NUM_PERM), MAX_CANDIDATES
        )
        for own, others, equal in search.pairs():
            if len(own):
                linked = copies(equal, self.sizes[own], self.sizes[others])
                found.append(np.stack([own[linked], others[linked]], axis=1).astype(_EDGE, copy=False))
        return np.concatenate(found)

    def _take_order(self) -> int:
        self.next_order += 1
        return self.next_order

    # -- reading -------------------------------------------------------------------------------
    @property
    def entries(self) -> dict[str, _Entry]:
        """Release id → its order, signature, size and copies (reads every signature: for tests)."""
        copies: dict[int, set[str]] = {row: set() for row in range(len(self.ids))}
        for first, second in self.edges.tolist():
            copies[first].add(str(self.ids[second]))
            copies[second].add(str(self.ids[first]))
        signatures = self.signatures.gather(list(range(len(self.ids)))) if self.signatures is not None else []
        return {
            str(doc_id): _Entry(int(self.orders[row]), signatures[row], int(self.sizes[row]), copies[row])
            for row, doc_id in enumerate(self.ids)
        }

    def shared_stories(self) -> dict[str, str]:
        """``stories()`` for the releases that have copies only."""
        return self.stories(shared_only=True)

    def stories(self, shared_only: bool = False) -> dict[str, str]:
        """Release id → story id (its earliest-indexed member's id)."""
        import numpy as np

        count = len(self.ids)
        if not count:
            return {}
        labels = _components(count, self.edges)
        by_order = np.argsort(self.orders, kind="stable")
        firsts, first_rows = np.unique(labels[by_order], return_index=True)
        story_row = np.empty(labels.max() + 1, dtype=np.int64)
        story_row[firsts] = by_order[first_rows]
        rows = np.arange(count)
        if shared_only:
            rows = rows[np.bincount(labels)[labels] > 1]
        # one string per story, shared by its members' entries (200,000 of them in a big book)
        used, members = np.unique(labels[rows], return_inverse=True)
        names = self.ids[story_row[used]].tolist()
        return dict(zip(self.ids[rows].tolist(), map(names.__getitem__, members.tolist()), strict=True))


def _components(count: int, edges: np.ndarray) -> np.ndarray:
    """A label per row, equal for rows joined by a path of ``edges`` (union by hooking each edge's
    larger root under its smaller one, then halving paths, until no edge joins two roots)."""
    import numpy as np

    parent = np.arange(count, dtype=_EDGE)
    while True:
        joined = False
        # a slice of the edges at a time: a big book has millions (7.5 million in the 200,000-release
        # benchmark), and each pass makes several arrays as long as the edges it looks at
        for start in range(0, len(edges), _EDGES_AT_A_TIME):
            first, second = edges[start : start + _EDGES_AT_A_TIME, 0], edges[start : start + _EDGES_AT_A_TIME, 1]
            one, other = parent[first], parent[second]
            apart = one != other
            if not apart.any():
                continue
            joined = True
            np.minimum.at(parent, np.maximum(one, other)[apart], np.minimum(one, other)[apart])
            while True:
                grand = parent[parent]
                if (grand == parent).all():
                    break
                parent = grand
        if not joined:
            return parent


def copies(equal: np.ndarray, own_sizes: np.ndarray, other_sizes: np.ndarray) -> np.ndarray:
    """Which pairs are copies: their containment, estimated from the number of equal signature values
    and the two shingle counts, reaches ``CONTAINMENT`` (the shorter one mostly inside the longer)."""
    import numpy as np

    jaccard = equal.astype(np.float64) / NUM_PERM
    sizes = other_sizes.astype(np.float64)
    smaller = np.minimum(sizes, own_sizes)
    estimated = jaccard * (sizes + own_sizes) / ((1 + jaccard) * smaller)
    return estimated >= CONTAINMENT


def _tiles(signatures: SignatureFile) -> Iterable[tuple[int, np.ndarray]]:
    from search.story_store import TILE

    for number, rows in enumerate(signatures.iter_rows()):
        yield number * TILE, rows


def _signed_releases(changed: dict[str, Signable], folder: Path | None) -> SignedReleases:
    releases = SignedReleases(folder)
    for doc_id, release in changed.items():
        releases.add(doc_id, release)
    return releases


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
        if data.get("version") == _MAP_VERSION and isinstance(data.get("stories"), dict):
            return data["stories"]
    except (OSError, pickle.UnpicklingError, EOFError, TypeError, AttributeError, ValueError):
        pass
    return StoryBook.load(folder).shared_stories()


def update_stories(
    folder: Path,
    live: Iterable[str],
    changed: SignedReleases | dict[str, Signable],
    text_of: Callable[[str], str | None],
) -> StoryBook:
    """Bring the generation's story book in line with the index and save it. Releases the book
    does not know yet (an index from before stories, a book lost) are signed from their text."""
    book = StoryBook.load(folder)
    releases = changed if isinstance(changed, SignedReleases) else _signed_releases(changed, folder)
    try:
        live_ids = set(live)
        known = set(book.ids.tolist())
        for doc_id in sorted(live_ids - known - set(releases.ids)):
            text = text_of(doc_id)
            if text is not None:
                releases.add(doc_id, text)
        if len(releases) or known - live_ids or not (folder / MAP_FILE).exists():
            book.update(live_ids, releases)
            book.save(folder)
    finally:
        releases.discard()
    return book
