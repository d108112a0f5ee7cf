"""How a sync writes: a release turned into its index fields, one in-process writer for a few
files or writer processes for many (each reading, cleaning, extracting and signing its share of the
releases, ``_prepare``, and leaving its own segments), the deletions of the releases indexed again,
and the merge policy of incremental commits. ``search.sync`` decides what to (re)index and reports.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import multiprocessing
import multiprocessing.util
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whoosh.index import Index

from search.clean import clean
from search.extract import Release, extract
from search.index import document_id, path_key
from search.lean_imports import lean_package
from search.load import LoadError, load_bytes, read_release_bytes
from search.story_signatures import signed
from search.writer import CheckedMpWriter

# Per writer process the half of this (two cores): its batches of array postings are a quarter of
# that, and sorting one takes about three times the batch again, at the same time in every writer.
WRITER_MEMORY_MB = 64
WORKERS_ENV = "POLICE_SEARCH_WORKERS"
# Below this many files to (re)index, starting writer processes costs more than it saves.
PARALLEL_THRESHOLD = 64
_PR_SET_PDEATHSIG = 1
# Segments holding less than 1/SMALL_SEGMENT_SHARE of the index are merged on commit; bigger ones
# are left alone (the new small segment joins them), so an update never rewrites the whole index.
SMALL_SEGMENT_SHARE = 10
# What a writer process takes from ``datasketch`` to sign releases (search.stories), and where
# each is defined: just those modules are loaded there (search.lean_imports).
LEAN_DATASKETCH = {"MinHash": "minhash", "sha1_hash32": "hashfunc"}


def release_fields(release: Release, doc_id: str | None = None) -> dict[str, Any]:
    """One release as Whoosh field values; absent facets are simply not indexed. ``doc_id`` is
    the id of the loaded text (what sync passes); without it, one from the cleaned text."""
    headline = f"{release.title}\n\n{release.subtitle}" if release.subtitle else release.title
    fields: dict[str, Any] = {
        "id": doc_id or document_id(f"{release.title}\n{release.body}"),
        # the subtitle is searched as part of the headline; the headline (and photo captions) are
        # indexed with the body too, so one field finds every match. What is stored is what a
        # reader is shown.
        "title": headline,
        "_stored_title": release.title,
        "body": "\n\n".join([headline, release.body, *release.captions]),
        "_stored_body": release.body,
        "datekey": int(release.date.strftime("%Y%m%d")) if release.date else 0,
        "region": (release.region.path if release.region else "").encode("utf-8"),
        "path": path_key(release.path),
        "path_column": path_key(release.path).encode("utf-8"),
        "checksum": release.checksum.encode("ascii"),
        "meta": {
            "title_inferred": release.title_inferred,
            "subtitle": release.subtitle,
            "report_year": release.report_year,
            "date_rule": release.date_rule,
            "encoding": release.encoding,
            "filename": os.fsencode(release.path.name).decode("utf-8", "backslashreplace"),
        },
    }
    # the same text again as character bigrams; the same string, so it is folded only once
    fields["grams"] = fields["body"]
    if release.date:
        fields["date"] = release.date.isoformat()
        fields["year"] = str(release.date.year)
    for name in ("district", "city", "province"):
        value = getattr(release, name)
        if value:
            fields[name] = value
    if release.source:
        fields["source"] = release.source
    if release.crime_types:
        fields["crime_type"] = ",".join(release.crime_types)
    if release.report_year:
        fields["report_year"] = str(release.report_year)
    return fields


def prepare_release(path: Path, data: bytes) -> tuple[dict[str, Any] | None, str | None, list[str]]:
    """load → clean → extract one file: its fields, or the reason it cannot be indexed."""
    stage = "load"
    try:
        raw = load_bytes(path, data)
        stage = "clean"
        cleaned = clean(raw)
        stage = "extract"
        release = extract(cleaned)
        stage = "index"
        # the id is the loaded text's: the same release wherever it lies, however it was encoded
        fields = release_fields(release, document_id(f"{raw.html_title or ''}\n{raw.text}"))
    except LoadError as error:
        return None, str(error), []
    except Exception as error:  # one odd file must not sink the batch; the reason names the stage
        return None, f"could not be processed ({stage} stage failed): {type(error).__name__}: {error}", []
    return fields, None, list(release.warnings)


def story_text(title: str, body: str) -> str:
    """What copies of one release share: the headline and the text a reader is shown."""
    return f"{title}\n{body}"


def _worker_count() -> int:
    configured = os.environ.get(WORKERS_ENV)
    if configured:
        return max(1, int(configured))
    return os.cpu_count() or 1


def _die_with_parent(_: object = None) -> None:
    """In a forked writer process: exit when the parent dies, so a killed reindex leaves no
    orphan holding index files or Whoosh's lock."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


multiprocessing.util.register_after_fork(_die_with_parent, _die_with_parent)


def writer_for(ix: Index, batch: int) -> Any:
    """One in-process writer for small batches; for large ones Whoosh's multiprocessing writer,
    whose sub-writers analyse and write postings on every core and each leave their own segment
    instead of merging (into an existing index as well: the merge went posting by posting)."""
    workers = _worker_count()
    if workers > 1 and batch >= PARALLEL_THRESHOLD:
        # the writer processes also read, clean and extract (jobs: ``_prepare``)
        return CheckedMpWriter(
            ix, procs=workers, limitmb=WRITER_MEMORY_MB // workers, multisegment=True, batchsize=32,
            prepare=_prepare,
        )  # fmt: skip
    return ix.writer(limitmb=WRITER_MEMORY_MB)


def deleting_replaced(replaced: list[str]) -> Callable[[Any], None]:
    """For a writer whose processes prepare the releases: once their outcomes are in (``replaced``
    filled from them), the old document of every indexed file they indexed again is deleted
    (``update_document``'s deletion by the unique ``path``); a changed file that could not be
    processed keeps its old document."""

    def delete(writer: Any) -> None:
        if not replaced:
            return
        with writer.searcher() as searcher:
            for key in replaced:
                writer.delete_by_term("path", key, searcher=searcher)

    return delete


def _prepare(job: tuple[Path, str]) -> tuple[dict[str, Any] | None, tuple[Any, ...]]:
    """In a writer process: one new release read, cleaned and extracted into its fields, and
    what the report and the story book need of it (``_apply_outcomes``)."""
    # signing needs datasketch's MinHash, not the rest of the package (scipy: ~40 MB a process)
    lean_package("datasketch", LEAN_DATASKETCH)
    path, key = job
    try:
        data = read_release_bytes(path)
    except LoadError as error:
        return None, (key, str(error))
    fields, problem, warnings = prepare_release(path, data)
    if fields is None:
        return None, (key, problem or "could not be processed")
    signature = signed(story_text(fields["_stored_title"], fields["_stored_body"]))
    return fields, (key, None, fields["id"], warnings, signature)


def warm_up(ix: Index, path: Path) -> None:
    """Before writer processes are forked: what each of them would otherwise load for itself on
    its first release (the segmenter's dictionaries, the gazetteer's words, the signatures'
    libraries: seconds each, most of an incremental reindex's writer processes' time) loaded
    once here, by preparing and analysing one release and throwing it away."""
    fields, _ = _prepare((path, path_key(path)))
    for name, value in (fields or {}).items():
        terms = getattr(ix.schema[name], "terms", None) if name in ix.schema else None
        if callable(terms):
            terms(value)


def merge_small_segments(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh merge policy for incremental commits: fold small segments together, leave big ones.

    Whoosh's default (``MERGE_SMALL``) merges every segment while there are only a few, so a
    reindex of 1% of a large index would rewrite all of it.
    """
    from whoosh.reading import SegmentReader

    total = sum(segment.doc_count_all() for segment in segments)
    small = max(1, total // SMALL_SEGMENT_SHARE)
    keep = [segment for segment in segments if segment.doc_count_all() >= small]
    for segment in segments:
        if segment.doc_count_all() < small and segment.doc_count() > 0:
            reader = SegmentReader(writer.storage, writer.schema, segment)
            writer.add_reader(reader)
            reader.close()
    return keep
