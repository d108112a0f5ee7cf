"""Per-segment copies of the values every search reads for every matching release.

Each search counts facets over all its matches (region and date of each) and BM25 reads each
scored release's field lengths. Whoosh hands these out one document at a time, each a small
file read: for 20,000 releases that is ~0.16 s to load the facet columns (paid by every
command-line query) and about a third of a scoring pass. A Whoosh segment never changes once
written (deletions are kept apart from it), so the writer saves these values beside each new
segment, in one file read back in one go; a segment without its file (a writer killed between
its commit and this step, an index from before this file existed) is read from Whoosh instead,
and the next reindex writes the missing file.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from search.index import new_file_mode

# Scored fields whose lengths BM25 reads (the fields a query searches).
LENGTH_FIELDS = ("title", "body", "grams")
SUFFIX = ".columns"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SegmentColumns:
    """Per document of one segment: date key (0 when undated), region path, field lengths as
    Whoosh's scorer sees them (its stored lengths are rounded to a byte code)."""

    segment_id: str
    datekeys: array
    regions: list[str]
    lengths: dict[str, array]

    def __len__(self) -> int:
        return len(self.datekeys)

    @classmethod
    def read_from(cls, reader: Any) -> SegmentColumns:
        """From a Whoosh segment reader, one document at a time (the slow way, done once)."""
        count = reader.doc_count_all()
        lengths = {}
        for name in LENGTH_FIELDS:
            # Whoosh answers None, not the default, for a document with no term in the field
            # (a headline of punctuation only, an English-only release).
            lengths[name] = array("I", (reader.doc_field_length(doc, name, 0) or 0 for doc in range(count)))
        return cls(
            segment_id=reader.segment().segment_id(),
            datekeys=array("i", reader.column_reader("datekey")),
            regions=[value.decode("utf-8") for value in reader.column_reader("region")],
            lengths=lengths,
        )

    def save(self, folder: Path) -> None:
        """Write-then-rename, so a reader finds the whole file or none."""
        data = {
            "version": FORMAT_VERSION,
            "segment_id": self.segment_id,
            "datekeys": self.datekeys.tobytes(),
            "regions": self.regions,
            "lengths": {name: values.tobytes() for name, values in self.lengths.items()},
        }
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=SUFFIX + ".tmp")
        os.fchmod(handle, new_file_mode())  # readable as the umask allows, like Whoosh's files
        try:
            with os.fdopen(handle, "wb") as out:
                pickle.dump(data, out, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path_for(folder, self.segment_id))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, folder: Path, segment_id: str, doc_count: int) -> SegmentColumns | None:
        """The saved copy, or None when there is none or it does not describe this segment."""
        try:
            with open(path_for(folder, segment_id), "rb") as handle:
                data = pickle.load(handle)
            if data.get("version") != FORMAT_VERSION or data.get("segment_id") != segment_id:
                return None
            datekeys = array("i")
            datekeys.frombytes(data["datekeys"])
            lengths = {}
            for name in LENGTH_FIELDS:
                lengths[name] = array("I")
                lengths[name].frombytes(data["lengths"][name])
            columns = cls(segment_id, datekeys, list(data["regions"]), lengths)
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError):
            return None
        if len(columns) != doc_count or any(len(values) != doc_count for values in lengths.values()):
            return None
        if len(columns.regions) != doc_count:
            return None
        return columns


def path_for(folder: Path, segment_id: str) -> Path:
    return folder / f"{segment_id}{SUFFIX}"


def segment_columns(folder: Path, reader: Any) -> SegmentColumns:
    """The saved copy for one segment reader, else read from Whoosh."""
    segment_id = reader.segment().segment_id()
    saved = SegmentColumns.load(folder, segment_id, reader.doc_count_all())
    return saved if saved is not None else SegmentColumns.read_from(reader)


def save_missing(folder: Path, reader: Any) -> int:
    """Write the file of every segment that lacks one and delete those of segments gone (merged
    away); only the writer calls this, under the writer lock. Returns how many were written."""
    live = set()
    written = 0
    for leaf, _ in reader.leaf_readers():
        if leaf.doc_count_all() == 0:  # an empty index: no segment
            continue
        segment_id = leaf.segment().segment_id()
        live.add(segment_id)
        if SegmentColumns.load(folder, segment_id, leaf.doc_count_all()) is None:
            SegmentColumns.read_from(leaf).save(folder)
            written += 1
    for path in folder.glob(f"*{SUFFIX}"):
        if path.name[: -len(SUFFIX)] not in live:
            path.unlink(missing_ok=True)
    for path in folder.glob(f".*{SUFFIX}.tmp"):
        path.unlink(missing_ok=True)
    return written
