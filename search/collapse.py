"""Copies of one release shown as one hit: the stories of the index generation, per document.

``search.stories`` groups copies into stories at index time and saves the book beside the
generation. Here the engine reads that book for the generation it searches and maps every
document number of its searcher to a story, so that a search can

* keep one release per story (``representatives``): the most complete copy among those the query
  matched (the longest body — a truncated repost or an outlet's abridgement loses to the full
  text), the earliest dated on a tie;
* count facets by story (``once``), so that a count says how many hits clicking would give;
* list a hit's other copies (``copies_of``).

A document the book does not know (indexed after the book was last saved) is a story of its own.
The mapping is cached per searcher and book file: a reindex changes one or the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from search.stories import MAP_FILE, load_story_map

# A story republished by more outlets than this lists the first indexed only: real stories have a
# handful of copies, and a corpus of releases made of shared boilerplate could chain thousands.
MAX_LISTED_COPIES = 30
# copies described per commit, kept: each description costs a stored-field read (the whole
# release, decompressed), and every hit of one story lists the same copies
MAX_DESCRIBED = 4096


@dataclass
class Stories:
    """Per global document number: its story (an index into ``story_ids``) and body length."""

    story_of: list[int]
    story_ids: list[str]
    body_lengths: list[int]
    # story index → its live documents, for stories of two or more
    members: dict[int, list[int]]
    # per document: 1 when its story has other copies (only those need thinning)
    shared: bytearray
    # document → its description as a copy (``describe_copies``), filled as hits are shown
    described: dict[int, dict[str, Any]] = field(default_factory=dict)

    def story_id(self, doc: int) -> str:
        return self.story_ids[self.story_of[doc]]

    def copies_of(self, doc: int, limit: int | None = None) -> list[int]:
        """The other live documents of ``doc``'s story (the first ``limit`` of them)."""
        others = (other for other in self.members.get(self.story_of[doc], ()) if other != doc)
        return list(islice(others, limit))

    def representatives(self, docs: list[int], datekeys: Any) -> list[int]:
        """One document per story among ``docs`` (ascending, as the ranking expects)."""
        if not self.members:
            return docs
        shared = self.shared
        alone = [doc for doc in docs if not shared[doc]]
        best: dict[int, int] = {}
        for doc in (doc for doc in docs if shared[doc]):
            story = self.story_of[doc]
            current = best.get(story)
            if current is None or self._rank(doc, datekeys) < self._rank(current, datekeys):
                best[story] = doc
        return sorted([*alone, *best.values()])

    def _rank(self, doc: int, datekeys: Any) -> tuple[int, int, int]:
        # longest body first; then the earliest date (undated last); then the first indexed
        date = datekeys[doc] or 99999999
        return (-self.body_lengths[doc], date, doc)

    def once(self, docs: list[int], keys: Any) -> list[int]:
        """``docs`` thinned to one per story and value of ``keys`` (a per-document column)."""
        if not self.members:
            return docs
        shared = self.shared
        seen: set[tuple[int, Any]] = set()
        kept = []
        for doc in docs:
            if shared[doc]:
                key = (self.story_of[doc], keys[doc])
                if key in seen:
                    continue
                seen.add(key)
            kept.append(doc)
        return kept


class StoryCache:
    """The ``Stories`` of the searcher last asked about, rebuilt when the searcher or the book changes."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._stories: Stories | None = None
        self._searcher: Any = None  # held, so that its id is not reused while cached
        self._ids: dict[str, list[str]] = {}  # segment id → id per document

    def stories(self, searcher: Any, generation: Path | None, lengths_of: Callable[[Any], dict[str, Any]]) -> Stories:
        key = (id(searcher), generation, _stamp(generation))
        if self._stories is None or key != self._key or searcher is not self._searcher:
            self._stories = self._build(searcher, generation, lengths_of)
            self._key, self._searcher = key, searcher
        return self._stories

    def _build(self, searcher: Any, generation: Path | None, lengths_of: Callable[[Any], dict[str, Any]]) -> Stories:
        story_by_release = load_story_map(generation) if generation is not None else {}
        story_index: dict[str, int] = {}
        story_of: list[int] = []
        body_lengths: list[int] = []
        members: dict[int, list[int]] = {}
        live_ids: dict[str, list[str]] = {}
        for leaf, offset in searcher.reader().leaf_readers():
            count = leaf.doc_count_all()
            if count == 0:
                continue
            segment_id = leaf.segment().segment_id()
            ids = live_ids[segment_id] = self._ids.get(segment_id) or _ids_of(leaf)
            lengths = lengths_of(leaf).get("body")
            for doc in range(count):
                release = ids[doc]
                story = story_index.setdefault(story_by_release.get(release, release), len(story_index))
                story_of.append(story)
                body_lengths.append(lengths[doc] if lengths is not None else 0)
                if not leaf.is_deleted(doc):
                    members.setdefault(story, []).append(offset + doc)
        self._ids = live_ids  # forget segments merged away
        shared = {story: docs for story, docs in members.items() if len(docs) > 1}
        flags = bytearray(len(story_of))
        for docs in shared.values():
            for doc in docs:
                flags[doc] = 1
        return Stories(story_of, list(story_index), body_lengths, shared, flags)


def _ids_of(leaf: Any) -> list[str]:
    column = leaf.column_reader("id")
    return [_text(column[doc]) for doc in range(leaf.doc_count_all())]


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _stamp(generation: Path | None) -> tuple[int, int] | None:
    """When and how big the generation's story map is: a sync rewrites it after its commit."""
    if generation is None:
        return None
    try:
        stat = (generation / MAP_FILE).stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def describe_copies(searcher: Any, stories: Stories, doc: int) -> list[dict[str, Any]]:
    """``[{"id", "title", "source", "date"}]`` of ``doc``'s other copies, earliest first; at most
    ``MAX_LISTED_COPIES`` (the first indexed), since each costs a stored-field read per hit shown."""
    described = []
    known = stories.described  # the stories of one commit: its document numbers stay valid
    for other in stories.copies_of(doc, MAX_LISTED_COPIES):
        copy = known.get(other)
        if copy is None:
            stored = searcher.stored_fields(other)
            copy = {key: stored.get(key) for key in ("id", "title", "source", "date")}
            if len(known) < MAX_DESCRIBED:
                known[other] = copy
        described.append(dict(copy))
    return sorted(described, key=lambda copy: (copy["date"] or "9999", copy["id"]))
