"""Serve the app from several processes behind one port (``police-search serve --workers N``).

Python runs one thread at a time per process, so a searching server uses one core however many
threads it has. Here the parent binds the listening socket, then forks N workers that each run
waitress on that same socket: the kernel hands each new connection to one of them. The parent only
supervises: it restarts a worker that dies, and on Ctrl+C or SIGTERM stops every worker (waiting
for the requests in progress) before it exits. A worker also stops if the parent is killed
outright, so none is left behind holding the port. Each worker has its own ``SearchEngine``, which
reopens its searchers when the index changes: a reindex is seen by every worker on its next query.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import waitress

from web import engine_of

IDENT = "police-search"
# A stopping worker finishes the requests it has (waitress waits up to 5 s for its threads).
STOP_GRACE_SECONDS = 10.0
# A worker that dies sooner than this after starting may be failing to start: after this many
# such deaths in a row, restarting would only loop, so the server stops.
MIN_WORKER_LIFE_SECONDS = 2.0
MAX_QUICK_DEATHS = 3
# A worker busy with a request leaves new connections to an idle one, for at most this long
# (then it takes them anyway: a worker kept busy by open connections must not starve new ones).
BUSY_WORKER_DEFERS_SECONDS = 0.2
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG = 1  # Linux prctl: the signal a process gets when its parent dies


class _StopRequestError(Exception):
    """Raised in the parent by SIGTERM or SIGINT: stop every worker, then exit."""


def default_workers() -> int:
    """One worker per core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound and listening before any worker starts (port 0: any free port, see ``getsockname``)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    return sock


def serve(app: Any, sock: socket.socket, workers: int, threads: int) -> None:
    """Serve ``app`` on ``sock`` until Ctrl+C or SIGTERM: in this process when ``workers`` is 1
    (or the system cannot fork), else from ``workers`` forked processes."""
    if workers <= 1 or not hasattr(os, "fork"):
        signal.signal(signal.SIGTERM, _exit_quietly)  # as Ctrl+C: finish the requests in progress
        _run_waitress(app, sock, threads)
        return
    # The workers must not share a reader with the parent (or each other): open files share offsets.
    engine_of(app).close()
    Supervisor(lambda: _run_waitress(app, sock, threads, prefer_idle=True), workers).run()
    sock.close()


def _run_waitress(app: Any, sock: socket.socket, threads: int, prefer_idle: bool = False) -> None:
    server = waitress.create_server(app, sockets=[sock], threads=threads, ident=IDENT)
    if prefer_idle:
        _leave_connections_to_idle_workers(server)
    server.run()  # returns on SystemExit or KeyboardInterrupt, after closing the server


class _CountedTask:
    """A waitress task that says when it is done: the count of requests in progress goes down,
    then the server's loop is woken to look again whether it may accept."""

    def __init__(self, task: Any, done: Callable[[], None]):
        self._task, self._done = task, done

    def service(self) -> None:
        try:
            self._task.service()
        finally:
            self._done()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)


def _leave_connections_to_idle_workers(server: Any) -> None:
    """While this worker serves a request, it does not accept connections (for a while): searching
    is CPU-bound and one process runs one thread at a time, so a second request taken here would
    wait for the first while another worker idles. Connections wait in the shared socket's queue
    for the first worker that is free."""
    accepting, dispatcher = server.readable, server.task_dispatcher
    add_task = dispatcher.add_task
    in_progress = [0]
    busy_since = [0.0]
    lock = threading.Lock()

    def done() -> None:
        with lock:
            in_progress[0] -= 1
        server.pull_trigger()

    def add(task: Any) -> None:
        with lock:
            if in_progress[0] == 0:
                busy_since[0] = time.monotonic()
            in_progress[0] += 1
        add_task(_CountedTask(task, done))

    def readable() -> bool:
        idle = in_progress[0] == 0
        return accepting() and (idle or time.monotonic() - busy_since[0] >= BUSY_WORKER_DEFERS_SECONDS)

    dispatcher.add_task = add
    server.readable = readable


def _exit_quietly(signum: int, frame: Any) -> None:
    raise SystemExit(0)  # waitress's run() catches it and closes its server


def _stop_when_parent_dies() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Forks ``count`` workers running ``body``, restarts those that die, stops them all on a signal."""

    def __init__(self, body: Callable[[], None], count: int):
        self.body = body
        self.count = count
        self.started: dict[int, float] = {}  # worker pid → when it started

    def run(self) -> None:
        previous = {signum: signal.getsignal(signum) for signum in _STOP_SIGNALS}
        for signum in _STOP_SIGNALS:
            signal.signal(signum, _raise_stop)
        try:
            for _ in range(self.count):
                self._start_worker()
            self._watch()
        except _StopRequestError:
            pass
        finally:
            # no second signal may interrupt the stopping itself
            for signum in _STOP_SIGNALS:
                signal.signal(signum, signal.SIG_IGN)
            self.stop()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    def _start_worker(self) -> None:
        # Signals wait until the child has its own handlers (not the parent's, which would run in it).
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                for signum in _STOP_SIGNALS:
                    signal.signal(signum, _exit_quietly)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
                _stop_when_parent_dies()
                if os.getppid() == parent:  # else the parent died before that took effect
                    self.body()
            except SystemExit:
                pass
            except BaseException:  # a worker reports its failure and exits; the parent decides
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)  # never return into the parent's code (its atexit, its finally blocks)
        self.started[pid] = time.monotonic()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)

    def _watch(self) -> None:
        """Wait for workers to die; restart each one, unless workers keep dying as they start."""
        quick_deaths = 0
        while self.started:
            pid, status = os.wait()
            began = self.started.pop(pid, None)
            if began is None:
                continue
            print(f"{IDENT}: worker {pid} stopped ({_describe(status)}); starting another", file=sys.stderr, flush=True)
            quick = time.monotonic() - began < MIN_WORKER_LIFE_SECONDS
            quick_deaths = quick_deaths + 1 if quick else 0
            if quick_deaths >= MAX_QUICK_DEATHS:
                raise SystemExit(f"{IDENT}: workers keep failing as they start; stopping")
            if quick:
                time.sleep(MIN_WORKER_LIFE_SECONDS / 4)
            self._start_worker()

    def stop(self) -> None:
        """SIGTERM every worker, wait for them, SIGKILL whichever is still running after the grace."""
        for pid in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self.started and time.monotonic() < deadline:
            for pid in list(self.started):
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0] == 0:
                        continue
                self.started.pop(pid)
            time.sleep(0.05)
        for pid in list(self.started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self.started.pop(pid)


def _raise_stop(signum: int, frame: Any) -> None:
    raise _StopRequestError(signum)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"
