"""Whoosh's multiprocessing writer, made to notice when one of its writer processes dies.

Whoosh's ``MpWriter`` hands batches of documents to sub-writer processes and, on commit, merges
whatever results come back. A sub-writer killed (OOM killer, ``kill -9``) or failing (disk full)
simply sends no result, and the commit goes ahead without its documents: the run reports success
over a partial index. A dead sub-writer can also leave the job queue's lock taken, so the others
(and the parent waiting for them) would block for ever.

``CheckedMpWriter`` watches its processes while it hands out work and while it waits for them;
any abnormal exit, or a missing result, raises ``WriterFailedError`` before a table of contents is
written, so nothing of the run is committed and the previous state stays what readers see.
"""

from __future__ import annotations

import pickle
import queue
import signal
from collections.abc import Callable
from typing import Any

from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util import random_name
from whoosh.writing import SegmentWriter

from search.bulkwriter import BulkSegmentWriter
from search.codec import PackedCodec
from search.heap import release_freed_memory
from search.index import WriterFailedError, failpoint

# How often a waiting parent looks at its writer processes, in seconds.
POLL_SECONDS = 0.25
# How long a finished writer process may take to deliver its result, in seconds.
RESULT_TIMEOUT = 30.0
# Documents after which a writer process that leaves its own segments starts a new one: what a
# segment's writer keeps per document and per term grows with its segment, and must not grow
# with the corpus. Big enough that a 200,000-release build has 8 segments, none of them small
# enough for the next sync to merge (``search.sync.SMALL_SEGMENT_SHARE``).
SEGMENT_DOCS = 25_000


def _describe(exitcode: int) -> str:
    if exitcode < 0:
        try:
            return f"was killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"was killed by signal {-exitcode}"
    return f"failed (exit code {exitcode}; out of disk space or memory?)"


# A job the writer processes prepare themselves (``CheckedMpWriter.add_job``), in the place of a
# document's fields.
JOB_FIELD = "_job"


class _WriterTask(SubWriterTask):
    # set by the parent before the process starts (inherited by the fork): turns a job into a
    # document's fields (or None) and what the parent should learn of it
    prepare: Callable[[Any], tuple[dict[str, Any] | None, Any]] | None = None

    def run(self) -> None:
        failpoint("writer-child:run")  # crash tests stop or fail a writer process here
        if not self.multisegment:  # the parent merges the sub-writers' pool files: Whoosh's writer
            super().run()
            return
        # Whoosh's SubWriterTask.run for a writer that leaves its own segments, with array postings
        index = self.storage.open_index(self.indexname)
        writer = self.writer = BulkSegmentWriter(index, _lk=False, **self.kwargs)
        segments = []
        # The outcomes go to a file, a pickled list per job file as it is done (not kept here, nor
        # sent through the result queue: a big result left in its pipe would keep this process
        # from exiting while the parent waits for it to exit).
        outcomes = f"{random_name()}.outcomes"
        with writer.temp_storage().create_file(outcomes).raw_file() as self._outcomes:
            while self.running:
                jobinfo = self.jobqueue.get()
                if jobinfo is None:
                    break
                self._process_file(*jobinfo)
                if writer.docnum >= SEGMENT_DOCS:  # a full segment: written out, a new one begun
                    segments.append(writer._finalize_segment())
                    release_freed_memory()  # the final merge's arrays, kept by glibc otherwise
                    writer = self.writer = BulkSegmentWriter(index, _lk=False, **self.kwargs)
        if not self.running:
            writer.cancel()
            return
        if writer._added:
            segments.append(writer._finalize_segment())
        else:  # an empty segment is no use to anybody (its files go with the next commit's clean-up)
            writer._close_segment()
        self.resultqueue.put((outcomes, segments), timeout=5)

    def _process_file(self, filename: str, doc_count: int) -> None:
        # Whoosh's, preparing jobs into documents here, in parallel, rather than in the parent
        storage = self.writer.temp_storage()
        outcomes = []
        with storage.open_file(filename).raw_file() as jobs:
            for _ in range(doc_count):
                _, fields = pickle.load(jobs)
                if JOB_FIELD not in fields:
                    self.writer.add_document(**fields)
                    continue
                prepared, outcome = self.prepare(fields[JOB_FIELD])
                outcomes.append(outcome)
                if prepared is not None:
                    self.writer.add_document(**prepared)
        if outcomes:  # jobs (given only to writers that leave their own segments, see run)
            pickle.dump(outcomes, self._outcomes, pickle.HIGHEST_PROTOCOL)
        storage.delete_file(filename)


class CheckedMpWriter(MpWriter, BulkSegmentWriter):
    """``MpWriter`` that fails the whole run when any of its writer processes fails. It and its
    sub-writers write with our codec, like every writer of the index (``search.codec``); with
    ``multisegment``, the segments it merges go through the bulk writer's ``add_reader``."""

    def __init__(
        self,
        index: Any,
        procs: int | None = None,
        prepare: Callable[[Any], tuple[dict[str, Any] | None, Any]] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("codec", PackedCodec())  # MpWriter hands its kwargs on to the sub-writers
        super().__init__(index, procs=procs, **kwargs)
        if prepare is not None and not self.multisegment:
            raise ValueError("jobs are prepared only by writer processes that leave their own segments")
        self.prepare = prepare
        # MpWriter's __init__ is SegmentWriter's: the bulk writer's state is set up here, and only
        # where nothing goes through MpWriter's own merge of the sub-writers' pools
        self._bulk = {}
        if self.multisegment:
            self._start_bulk(kwargs.get("limitmb", 128))
        # called once the outcomes are in, before segments are merged (deletions they call for)
        self.before_merge: Callable[[CheckedMpWriter], None] | None = None
        # what ``prepare`` said of each job, known once committed (in no particular order); or,
        # with ``absorb`` set, handed to it a batch at a time as they are read back, so that a
        # build of 200,000 releases never holds all their outcomes (and signatures) at once
        self.outcomes: list[Any] = []
        self.absorb: Callable[[list[Any]], None] | None = None

    def add_job(self, job: Any) -> None:
        """Have a writer process turn ``job`` into a document with ``prepare`` and index it: the
        work of preparing documents (reading, cleaning, extracting) is shared out as well."""
        if self.prepare is None:
            raise ValueError("this writer was given nothing to prepare jobs with")
        MpWriter.add_document(self, **{JOB_FIELD: job})

    def _new_task(self) -> SubWriterTask:
        task = _WriterTask(
            self.storage, self.indexname, self.jobqueue, self.resultqueue, self.subargs, self.multisegment
        )
        task.prepare = self.prepare
        self.tasks.append(task)
        task.start()
        return task

    def _check_tasks(self) -> None:
        for task in self.tasks:
            if task.exitcode not in (None, 0):
                raise WriterFailedError(
                    f"writer process {task.pid} {_describe(task.exitcode)}; nothing of this run was "
                    "committed and the index is unchanged. Run the command again."
                )

    def _put_job(self, item: Any) -> None:
        """Put on the job queue, watching the workers: a dead one may never take its share."""
        while True:
            self._check_tasks()
            try:
                self.jobqueue.put(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _enqueue(self) -> None:
        # Whoosh's, with the checked put: the batch goes to a job file the workers read
        filename = f"{random_name()}.doclist"
        with self.temp_storage().create_file(filename).raw_file() as out:
            for item in self.docbuffer:
                pickle.dump(item, out, 2)
        if len(self.tasks) < self.procs:
            self._new_task()
        self._put_job((filename, len(self.docbuffer)))
        self.docbuffer = []

    def _wait_for_tasks(self) -> list[Any]:
        """Every worker's result, or ``WriterFailedError`` as soon as one of them has died."""
        while True:
            self._check_tasks()
            running = [task for task in self.tasks if task.exitcode is None]
            if not running:
                break
            running[0].join(POLL_SECONDS)
        results = []
        for task in self.tasks:
            try:
                results.append(self.resultqueue.get(timeout=RESULT_TIMEOUT))
            except queue.Empty:
                raise WriterFailedError(
                    f"writer process {task.pid} ended without its result; nothing of this run was "
                    "committed and the index is unchanged. Run the command again."
                ) from None
        return results

    def _commit(self, mergetype: Any, optimize: Any, merge: Any) -> None:
        # Whoosh's MpWriter._commit with the waiting and result collection checked.
        if self.docbuffer:
            self._enqueue()
        for _ in self.tasks:
            self._put_job(None)
        if not self.multisegment:
            finalsegments = self._merge_segments(mergetype, optimize, merge)
        results = self._wait_for_tasks()
        if self.multisegment:
            for outcomes, _ in results:
                with self.temp_storage().open_file(outcomes).raw_file() as handle:
                    while True:
                        try:
                            batch = pickle.load(handle)
                        except EOFError:  # the last job file's
                            break
                        if self.absorb is not None:
                            self.absorb(batch)
                        else:
                            self.outcomes += batch
            if self.before_merge is not None:  # e.g. the old documents of updated releases deleted
                self.before_merge(self)
            finalsegments = self._merge_segments(mergetype, optimize, merge)
            finalsegments += [segment for _, segments in results for segment in segments]
            if self._added:
                finalsegments.append(self._finalize_segment())
            else:
                self._close_segment()
        else:
            self._merge_subsegments(results, mergetype)
            self._close_segment()
            self._assemble_segment()
            finalsegments.append(self.get_segment())
        failpoint("writer:before-toc")
        self._commit_toc(finalsegments)
        self._finish()

    def cancel(self) -> None:
        """Stop the workers (a surviving one would wait for jobs for ever) and drop the run."""
        for task in self.tasks:
            if task.exitcode is None:
                task.kill()
        for task in self.tasks:
            task.join(5)
        # an undelivered job left in the queue must not hold up this process's exit
        self.jobqueue.cancel_join_thread()
        self.resultqueue.cancel_join_thread()
        if not self.is_closed:
            try:
                SegmentWriter.cancel(self)
            except Exception:  # half-closed by the failure itself: drop its temporary files
                self._tempstorage.destroy()
                self.is_closed = True
