"""``police-search serve --workers 2`` as a real process tree: concurrent clients get the answers one
engine gives, a reindex under load is seen by every worker, and a signal leaves no worker behind."""

from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from search.formats.json_document import result_document
from search.query import SearchEngine
from search.sync import sync
from tests.conftest import REPO
from tests.synthetic import write_releases
from web.params import parse

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads Linux's /proc")

START_TIMEOUT = 60.0
STOP_TIMEOUT = 30.0
REQUESTS = [
    {"q": "民警"}, {"q": "诈骗", "sort": "date"}, {"district": "海淀区"}, {"q": '"公安分局"'},
    {"q": "派出所 民警"}, {"from": "2020-01-01"}, {"q": "嫌疑人", "district": "重庆市", "per_page": "20"},
]  # fmt: skip
# a sync writes the story map just after its commit: while it runs, totals are compared uncollapsed
UNCOLLAPSED = [{**args, "collapse": "0"} for args in REQUESTS]
_LISTENING = re.compile(r"http://127\.0\.0\.1:(\d+)/")


class Server:
    """``police-search serve --workers 2 --port 0`` on an index, and its worker processes."""

    def __init__(self, index_dir: Path):
        command = [sys.executable, "-m", "search.cli", "--index", str(index_dir), "serve", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--workers", "2", "--threads", "4"], cwd=REPO, stderr=subprocess.PIPE, text=True
        )
        self.stderr: list[str] = []
        found = threading.Event()

        def read_stderr() -> None:
            for line in self.process.stderr:
                self.stderr.append(line)
                if _LISTENING.search(line):
                    found.set()

        threading.Thread(target=read_stderr, daemon=True).start()
        assert found.wait(START_TIMEOUT), self.stderr
        self.port = int(_LISTENING.search("".join(self.stderr)).group(1))
        self.workers = self._wait_for_workers(2)

    def _wait_for_workers(self, count: int) -> list[int]:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            workers = children_of(self.process.pid)
            if len(workers) == count:
                return workers
            time.sleep(0.05)
        raise AssertionError(f"expected {count} workers, found {children_of(self.process.pid)}")

    def get(self, args: dict[str, str], connection: http.client.HTTPConnection | None = None) -> dict[str, Any]:
        """``/api/search`` with ``args``, on its own connection unless one is given."""
        own = connection is None
        connection = connection or http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request("GET", "/api/search?" + urllib.parse.urlencode(args))
            response = connection.getresponse()
            body = response.read()
            assert response.status == 200, body
            return json.loads(body)
        finally:
            if own:
                connection.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(STOP_TIMEOUT)
        for pid in self.workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def children_of(pid: int) -> list[int]:
    """The running children of ``pid`` (not those dead and waiting to be reaped)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid and stat[0] != b"Z":
                found.append(int(entry))
    return sorted(found)


def alive(pid: int) -> bool:
    """Running (a zombie waiting for a parent to reap it counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def wait_until_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(map(alive, pids)):
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def worker_serving(connection: http.client.HTTPConnection, server: Server) -> int | None:
    """The worker process holding the server side of ``connection`` (via /proc/net/tcp)."""
    client_port = connection.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port, remote_port = (int(address.split(":")[1], 16) for address in fields[1:3])
        if local_port == server.port and remote_port == client_port:
            inode = fields[9]
    for pid in server.workers:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def one_connection_per_worker(server: Server) -> Iterator[http.client.HTTPConnection]:
    """Kept-alive connections, at least one served by each worker (the kernel picks who accepts)."""
    by_worker: dict[int, http.client.HTTPConnection] = {}

    def connect() -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        server.get(REQUESTS[0], connection)  # accepted and answered: now bound to one worker
        return connection

    # Several connections at once per round: one at a time, an idle machine may hand every one
    # to the same worker (whichever wakes first), and the test would depend on the scheduler.
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for _ in range(30):  # bounded
            for connection in list(pool.map(lambda _: connect(), range(4))):
                worker = worker_serving(connection, server)
                if worker is not None and worker not in by_worker:
                    by_worker[worker] = connection
                else:
                    connection.close()
            if len(by_worker) == len(server.workers):
                break
    assert sorted(by_worker) == server.workers
    return iter(by_worker.values())


def expected(index_dir: Path, requests: list[dict[str, str]] = REQUESTS) -> list[dict[str, Any]]:
    """What one single-threaded engine answers to each request, as the API would return it."""
    engine = SearchEngine(index_dir)
    try:
        return [
            comparable(result_document(engine.search(**parse(MultiDict(args)).engine_kwargs()))) for args in requests
        ]
    finally:
        engine.close()


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in json.loads(json.dumps(result)).items() if key != "took_ms"}


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, list[Path], Path]:
    """An index of 40 releases, its source folders, and a folder of 15 more a reindex adds."""
    first, later = tmp_path / "first", tmp_path / "later"
    write_releases(first, 40, seed=11)
    write_releases(later, 15, seed=12)
    for number, path in enumerate(sorted(later.iterdir())):
        path.rename(later / f"later_{number:04d}.txt")
    index_dir = tmp_path / "index"
    sync(index_dir, [first])
    return index_dir, [first], later


def test_workers_answer_concurrent_clients_as_one_engine_does_and_all_see_a_reindex(corpus):
    index_dir, sources, later = corpus
    before = expected(index_dir)
    totals_before = [result["total"] for result in expected(index_dir, UNCOLLAPSED)]
    server = Server(index_dir)
    try:
        # many clients at once, each request on a connection of its own: whichever worker takes it
        work = [number for _ in range(6) for number in range(len(REQUESTS))]
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda number: (number, comparable(server.get(REQUESTS[number]))), work))
        assert all(found == before[number] for number, found in answers)

        # a reindex while clients keep searching: every answer is whole, old or new, never an error
        pinned = list(one_connection_per_worker(server))
        synced, failures, during = threading.Event(), [], []

        def client(offset: int) -> None:
            for turn in range(40):  # bounded
                number = (offset + turn) % len(REQUESTS)
                try:
                    during.append((number, server.get(UNCOLLAPSED[number])["total"]))
                except Exception as error:  # reported below, with the others
                    failures.append(repr(error))
                if synced.is_set() and turn >= 10:
                    return

        clients = [threading.Thread(target=client, args=(offset,)) for offset in range(4)]
        for thread in clients:
            thread.start()
        sync(index_dir, [*sources, later])
        synced.set()
        for thread in clients:
            thread.join()
        after = expected(index_dir)
        totals_after = [result["total"] for result in expected(index_dir, UNCOLLAPSED)]
        assert not failures
        assert all(total in (totals_before[number], totals_after[number]) for number, total in during)
        # each worker, on a connection it has served since before the reindex, answers with the new index
        for connection in pinned:
            assert [comparable(server.get(args, connection)) for args in REQUESTS] == after
            connection.close()
        assert totals_before[0] < totals_after[0] and before != after

        workers = server.workers
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(STOP_TIMEOUT) == 0
        assert wait_until_gone(workers, STOP_TIMEOUT) == []
        with pytest.raises(ConnectionRefusedError):
            server.get(REQUESTS[0])
    finally:
        server.stop()


def test_workers_stop_when_the_server_is_killed_outright(corpus):
    index_dir, _, _ = corpus
    server = Server(index_dir)
    try:
        assert server.get(REQUESTS[0])["total"] > 0
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        # the app factory's checks and headers hold in every worker
        connection.request("GET", "/?q=" + urllib.parse.quote("警") * 5000)
        response = connection.getresponse()
        assert response.status == 414 and "script-src" not in response.getheader("Content-Security-Policy")
        assert response.getheader("X-Frame-Options") == "DENY"
        connection.close()
        server.process.kill()  # no chance to stop its workers: they notice on their own
        server.process.wait(STOP_TIMEOUT)
        assert wait_until_gone(server.workers, STOP_TIMEOUT) == []
    finally:
        server.stop()


def test_a_worker_that_dies_is_replaced(corpus):
    index_dir, _, _ = corpus
    server = Server(index_dir)
    try:
        dead = server.workers[0]
        os.kill(dead, signal.SIGKILL)
        assert wait_until_gone([dead], STOP_TIMEOUT) == []
        server.workers = server._wait_for_workers(2)
        assert dead not in server.workers
        assert all(server.get(REQUESTS[0])["total"] > 0 for _ in range(4))
        assert server.process.poll() is None
    finally:
        server.stop()


def test_a_port_in_use_is_reported_not_a_traceback(corpus):
    index_dir, _, _ = corpus
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        command = [sys.executable, "-m", "search.cli", "--index", str(index_dir), "serve", "--port", str(port)]
        result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=START_TIMEOUT)
    assert result.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
