"""Keeping an index in line with source folders: the ``index`` / ``reindex`` job.

Files are listed, read and hashed in this process; only new and changed ones are (re)indexed, in
this process for a few, by writer processes for many (``search.sync_writing``), then copies are
grouped into stories. Either way the run is a single commit. See ``search.index`` for the on-disk
layout, the writer lock and why every run is atomic.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from whoosh.index import Index

from search.index import (
    FOLLOW_SYMLINKS_ENV,
    IndexMeta,
    failpoint,
    index_exists,
    new_generation,
    now,
    open_generation,
    open_index,
    path_key,
    point_current_at,
    remove_stale_generations,
    writer_lock,
)
from search.load import LoadError, checksum_of, is_supported, iter_source_files, read_release_bytes
from search.segment_columns import save_missing
from search.stories import SignedReleases, update_stories
from search.sync_writing import (
    deleting_replaced,
    merge_small_segments,
    prepare_release,
    story_text,
    warm_up,
    writer_for,
)


@dataclass
class Skipped:
    path: str
    reason: str


@dataclass
class SyncReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    warnings: list[Skipped] = field(default_factory=list)
    # files of a type that is not read (.pdf, .docx …), with the reason
    unsupported: list[Skipped] = field(default_factory=list)
    files: int = 0
    seconds: float = 0.0
    documents: int = 0
    rebuilt: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.rebuilt)

    @property
    def nothing_indexable(self) -> bool:
        """Files were offered and not one could be indexed, or there is nothing at all to search."""
        if self.files or self.unsupported:
            return not (self.added or self.updated or self.unchanged)
        return self.documents == 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["seconds"] = round(self.seconds, 3)
        return data


class Progress:
    """Told how many files a run will look at, then about each one (the CLI draws a bar)."""

    def start(self, total: int) -> None:
        pass

    def advance(self, path: Path) -> None:
        pass


def _group_copies(folder: Path, searcher: Any, changed: SignedReleases) -> None:
    """Link new and changed releases to their copies among the indexed ones (search.stories)."""
    reader = searcher.reader()
    ids = reader.column_reader("id") if reader.doc_count() else None
    live = [ids[docnum] for docnum in reader.all_doc_ids()] if ids is not None else []

    def text_of(doc_id: str) -> str | None:
        stored = searcher.document(id=doc_id)
        return story_text(stored.get("title", ""), stored.get("body", "")) if stored else None

    update_stories(folder, live, changed, text_of)


def _apply_outcomes(outcomes: Iterable[tuple[Any, ...]], report: SyncReport, signatures: SignedReleases) -> None:
    """What the writer processes' ``_prepare`` found, into the report."""
    for key, problem, *added in outcomes:
        if problem is not None:
            report.skipped.append(Skipped(key, problem))
            continue
        doc_id, warnings, signature = added
        report.warnings.extend(Skipped(key, warning) for warning in warnings)
        signatures.add(doc_id, signature)
        report.added += 1


def _by_path(skipped: Skipped) -> str:
    return skipped.path


def _under(key: str, roots: Iterable[Path]) -> bool:
    return any(key == root_key or key.startswith(root_key.rstrip("/") + "/") for root_key in map(path_key, roots))


def _stored_documents(ix: Index) -> dict[str, dict[str, str]]:
    """path → id and checksum of every document, read from columns (no stored bodies unpickled)."""
    with ix.searcher() as searcher:
        reader = searcher.reader()
        if reader.doc_count() == 0:
            return {}
        paths, ids, checksums = (reader.column_reader(name) for name in ("path_column", "id", "checksum"))
        return {
            paths[docnum].decode("utf-8"): {"id": ids[docnum], "checksum": checksums[docnum].decode("ascii")}
            for docnum in reader.all_doc_ids()
        }


def indexed_documents(index_dir: Path) -> dict[str, dict[str, str]]:
    """path → id and content checksum of every document in the index."""
    return _stored_documents(open_index(index_dir))


def list_source_files(
    paths: Iterable[Path],
    unlistable: list[tuple[Path, str]] | None = None,
    not_taken: list[tuple[Path, str]] | None = None,
    refused: list[tuple[Path, str]] | None = None,
) -> Iterator[Path]:
    follow = bool(os.environ.get(FOLLOW_SYMLINKS_ENV))
    for root in paths:
        yield from iter_source_files(root, unlistable, not_taken, refused, follow_symlinks=follow)


def remembered_sources(index_dir: Path) -> list[Path]:
    return [Path(source) for source in IndexMeta.read(index_dir).sources]


def sync(index_dir: Path, paths: list[Path], progress: Progress | None = None, wait: float = 0.0) -> SyncReport:
    """Bring the index in line with the files under ``paths``: add new, update changed (by
    content checksum), remove deleted.  One commit, so searches see the old or the new state.

    A file that cannot be read or parsed is skipped and reported; the rest of the batch goes on.
    A source folder that has gone missing is reported and its documents are kept.
    """
    with writer_lock(index_dir, wait):
        exists = index_exists(index_dir)  # a damaged index raises here, before anything is removed
        remove_stale_generations(index_dir)
        if not exists:
            point_current_at(index_dir, new_generation(index_dir))
        return _sync_generation(index_dir, open_index(index_dir), paths, progress or Progress())


def rebuild(index_dir: Path, paths: list[Path], progress: Progress | None = None, wait: float = 0.0) -> SyncReport:
    """Build a complete fresh generation beside the live one, then swap it in atomically."""
    with writer_lock(index_dir, wait):
        remove_stale_generations(index_dir)
        generation = new_generation(index_dir)
        try:
            report = _sync_generation(index_dir, open_generation(generation), paths, progress or Progress())
            failpoint("rebuild:before-swap")
        except BaseException:
            shutil.rmtree(generation, ignore_errors=True)  # never swapped in: nobody reads it
            raise
        point_current_at(index_dir, generation)
        failpoint("rebuild:after-swap")
        remove_stale_generations(index_dir)
        report.rebuilt = True
        meta = IndexMeta.read(index_dir)
        meta.last_run["rebuilt"] = True
        meta.write(index_dir)
        return report


def _read_or_skip(path: Path, key: str, report: SyncReport) -> bytes | None:
    try:
        return read_release_bytes(path)
    except LoadError as error:
        report.skipped.append(Skipped(key, str(error)))
        return None


def _sync_generation(index_dir: Path, ix: Index, paths: list[Path], progress: Progress) -> SyncReport:
    started = time.perf_counter()
    report = SyncReport()
    roots = [path.resolve() for path in paths]
    present = [root for root in roots if root.exists()]
    for root in roots:
        if root not in present:
            report.skipped.append(Skipped(str(root), "source folder or file not found; its documents were kept"))
    stored = _stored_documents(ix)
    unlistable: list[tuple[Path, str]] = []
    not_taken: list[tuple[Path, str]] = []
    refused: list[tuple[Path, str]] = []
    # names, not Path objects (~420 bytes each): whatever this process holds when the writer
    # processes fork is counted again in each of them (84 MB of Paths at 200,000 files)
    files = [os.fspath(path) for path in list_source_files(present, unlistable, not_taken, refused)]
    report.unsupported = [Skipped(path_key(path), reason) for path, reason in not_taken]
    report.skipped += [Skipped(os.fsencode(link).decode("utf-8", "backslashreplace"), why) for link, why in refused]
    for folder, reason in unlistable:
        report.skipped.append(Skipped(path_key(folder), f"cannot list folder: {reason}; its documents were kept"))
    protected = [folder for folder, _ in unlistable]
    # remembered before anything is written, so a run killed before its first commit still
    # leaves an index that ``reindex`` knows how to complete
    _remember_sources(index_dir, present, updated=False)
    report.files = len(files)
    progress.start(len(files))

    # Read and hash every indexed file (cheap); only new and changed ones are processed. A new
    # file is read when it is processed (a full build: by the writer processes, in parallel).
    seen: set[str] = set()  # only wanted to find removed files, which a new index has none of
    jobs: list[str] = []
    for name in files:
        path = Path(name)
        key = path_key(path)
        if key not in stored:
            jobs.append(name)
            continue
        seen.add(key)
        data = _read_or_skip(path, key, report)
        if data is None:
            progress.advance(path)
            continue
        previous = stored.get(key)
        if previous is not None and previous["checksum"] == checksum_of(data):
            report.unchanged += 1
            progress.advance(path)
            continue
        jobs.append(name)
    del files

    failpoint("sync:start")
    changed_texts = SignedReleases(Path(ix.storage.folder))  # signed as they come, kept on disk
    writer = writer_for(ix, len(jobs))
    replaced: list[str] = []  # indexed files the writer processes indexed again
    if getattr(writer, "prepare", None):
        writer.before_merge = deleting_replaced(replaced)
        if stored:  # a short incremental run: the loading would be most of each writer's time
            warm_up(ix, Path(jobs[0]))
    try:
        for name in jobs:
            path = Path(name)
            key = path_key(path)
            progress.advance(path)
            if getattr(writer, "prepare", None):  # a fresh build: the writer processes do the rest
                writer.add_job((path, key))
                if key in stored:  # until the outcomes are in (_apply_outcomes)
                    report.updated += 1
                else:
                    report.added += 1
            else:
                # read again rather than keep every changed file in memory since hashing
                data = _read_or_skip(path, key, report)
                if data is None:
                    continue
                fields, problem, warnings = prepare_release(path, data)
                if fields is None:
                    report.skipped.append(Skipped(key, problem or "could not be processed"))
                    continue
                report.warnings.extend(Skipped(key, warning) for warning in warnings)
                changed_texts.add(fields["id"], story_text(fields["_stored_title"], fields["_stored_body"]))
                if key in stored:
                    writer.update_document(**fields)
                    report.updated += 1
                else:
                    writer.add_document(**fields)
                    report.added += 1
            if report.added + report.updated == 1:
                failpoint("sync:after-first-document")
        for path in stored:
            gone = path not in seen and _under(path, present) and not _under(path, protected)
            if gone and not Path(path).exists():
                writer.delete_by_term("path", path)
                report.removed += 1
        failpoint("sync:before-commit")
        if report.added or report.updated or report.removed:
            prepared = getattr(writer, "prepare", None)
            if prepared:  # the outcomes are counted as the commit reads them back
                report.added = report.updated = 0
                skipped_before, warned_before = len(report.skipped), len(report.warnings)

                def absorb(batch: list[tuple[Any, ...]]) -> None:
                    _apply_outcomes(batch, report, changed_texts)
                    replaced.extend(key for key, problem, *_ in batch if problem is None and key in stored)

                writer.absorb = absorb
            writer.commit(mergetype=merge_small_segments)
            if prepared:  # in the order of the files, as a sequential sync reports them
                report.skipped[skipped_before:] = sorted(report.skipped[skipped_before:], key=_by_path)
                report.warnings[warned_before:] = sorted(report.warnings[warned_before:], key=_by_path)
                report.updated = len(replaced)
                report.added -= report.updated
        else:
            writer.cancel()
    except BaseException:
        changed_texts.discard()
        try:
            writer.cancel()
        finally:
            # whatever the failure (a full disk), no temporary postings stay behind
            shutil.rmtree(Path(ix.storage.folder) / f"{ix.indexname}.tmp", ignore_errors=True)
        raise
    failpoint("sync:after-commit")
    with ix.searcher() as searcher:
        save_missing(Path(ix.storage.folder), searcher.reader())
        _group_copies(Path(ix.storage.folder), searcher, changed_texts)
    last_run = {
        **{name: getattr(report, name) for name in ("added", "updated", "removed", "unchanged", "files")},
        "skipped": len(report.skipped),
        "unsupported": len(report.unsupported),
        "seconds": round(time.perf_counter() - started, 3),
    }
    _remember_sources(index_dir, present, updated=True, last_run=last_run)
    report.documents = ix.doc_count()
    report.seconds = time.perf_counter() - started
    return report


def _remember_sources(
    index_dir: Path, present: list[Path], updated: bool, last_run: dict[str, Any] | None = None
) -> None:
    meta = IndexMeta.read(index_dir)
    # a lone file of an unsupported type is not a source to re-sync
    sources = sorted({*meta.sources, *(str(root) for root in present if root.is_dir() or is_supported(root))})
    if sources == meta.sources and not updated:
        return
    meta.sources = sources
    if updated:
        meta.updated = now()
    if last_run is not None:
        meta.last_run = {"finished": meta.updated, **last_run}
    meta.write(index_dir)
