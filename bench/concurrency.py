#!/usr/bin/env python3
"""Throughput of a real ``police-search serve`` under concurrent HTTP clients, one client vs several.

    python bench/concurrency.py                       # 2,000 releases, 1 then 4 clients, 30 s each
    python bench/concurrency.py --seconds 10 --workers 1

Builds the synthetic corpus (bench/corpus.py) and its index once in --work, starts
``police-search serve --workers N`` on 127.0.0.1 on a free port, warms every worker up, then drives
1 and then ``--clients`` clients (threads of this process), each sending the fixed query mix
(bench/queries.py) to ``/api/search`` in a loop for ``--seconds``, each client starting at a
different query. The two runs alternate in ``--slices`` slices, so that other work on the machine
weighs on both alike (the server's CPU use and the load average are printed beside the figures).
Each request opens its own connection, as independent visitors do (``--keep-alive`` reuses one per
client, which pins a client to the worker that accepted it). Prints requests per second, p50/p95
latency and errors for each run, and the ratio of the two throughputs. Traffic goes to 127.0.0.1
only; every loop is bounded by its deadline.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import corpus  # noqa: E402
from bench.queries import QUERIES  # noqa: E402
from search.index import index_exists  # noqa: E402

PYTHON = sys.executable
START_TIMEOUT = 120.0
REQUEST_TIMEOUT = 30.0
_API_NAMES = {"date_from": "from", "date_to": "to"}
_LISTENING = re.compile(r"http://127\.0\.0\.1:(\d+)/")


@dataclass
class Run:
    clients: int
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server's processes used during the run
    client_cpu: float = 0.0  # and this process (the clients)
    loads: list[float] = field(default_factory=list)  # the machine's 1-minute load average after each slice
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def absorb(self, other: Run) -> None:
        """Add a slice of the same run (runs alternate in slices: background load hits both alike)."""
        self.seconds += other.seconds
        self.server_cpu += other.server_cpu
        self.client_cpu += other.client_cpu
        self.latencies += other.latencies
        self.errors += other.errors
        self.loads += other.loads

    def figures(self) -> dict:
        ordered = sorted(self.latencies)
        count = len(ordered)
        return {
            "clients": self.clients,
            "requests": count,
            "errors": len(self.errors),
            "req_per_s": round(count / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(statistics.median(ordered) * 1000, 1) if ordered else None,
            "p95_ms": round(ordered[min(count - 1, int(count * 0.95))] * 1000, 1) if ordered else None,
            "server_cores": round(self.server_cpu / self.seconds, 2) if self.seconds else 0.0,
            "client_cores": round(self.client_cpu / self.seconds, 2) if self.seconds else 0.0,
            "load_average": round(statistics.mean(self.loads), 2) if self.loads else None,
        }


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of a process and its children (Linux /proc; 0 elsewhere)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total, parents = 0.0, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_bytes().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    for pid, (parent, seconds) in parents.items():
        if pid == root or parent == root:
            total += seconds
    return total


def api_paths() -> list[str]:
    """The query mix as ``/api/search`` request paths (facets and snippets are always on)."""
    paths = []
    for query in QUERIES:
        args = {_API_NAMES.get(name, name): value for name, value in query.items()}
        paths.append("/api/search?" + urllib.parse.urlencode(args))
    return paths


def build_index(work: Path, docs: int) -> Path:
    """The corpus and its index in ``work`` (reused when an earlier run built them)."""
    folder, index_dir = work / f"corpus-{docs}", work / f"serve-{docs}"
    if not index_exists(index_dir):
        corpus.build(folder, docs)
        print(f"indexing {docs} releases into {index_dir} …", file=sys.stderr, flush=True)
        subprocess.run([PYTHON, "-m", "search.cli", "--index", str(index_dir), "index", str(folder), "--json"],
                       check=True, cwd=ROOT, stdout=subprocess.DEVNULL)  # fmt: skip
    return index_dir


def start_server(index_dir: Path, workers: int, threads: int | None = None) -> tuple[subprocess.Popen, int]:
    """``police-search serve`` on a free port (``--threads`` when given, else its default); returns once
    it is listening."""
    command = [PYTHON, "-m", "search.cli", "--index", str(index_dir), "serve", "--port", "0", "--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]
    server = subprocess.Popen(command, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = server.stderr.readline()
        if not line:
            break
        found = _LISTENING.search(line)
        if found:
            # keep reading stderr in the background so that a chatty server never blocks on it
            threading.Thread(target=server.stderr.read, daemon=True).start()
            return server, int(found.group(1))
    server.kill()
    raise SystemExit(f"the server did not start: {' '.join(command)}")


def fetch(port: int, path: str) -> tuple[int, bool, bytes]:
    """GET ``path`` on a connection of its own: status, whether the body is as long as announced,
    and the body. A bare socket, so that the clients' own CPU use (http.client parses headers in
    Python) leaves the server as much of the machine as it can."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode("ascii")
    chunks = []
    with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(request)
        while chunk := sock.recv(1 << 16):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    return int(status.group(1)) if status else 0, bool(length) and int(length.group(1)) == len(body), body


def drive(port: int, clients: int, seconds: float, keep_alive: bool, server_pid: int = 0) -> Run:
    paths = api_paths()
    run = Run(clients)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client(number: int) -> None:
        latencies, errors = [], []
        connection = None
        turn = number * len(paths) // clients
        while time.monotonic() < deadline:
            path = paths[turn % len(paths)]
            turn += 1
            started = time.perf_counter()
            try:
                if keep_alive:
                    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
                    connection.request("GET", path)
                    response = connection.getresponse()
                    status, complete, body = response.status, True, response.read()
                else:
                    status, complete, body = fetch(port, path)
                if status != 200 or not complete or b'"total"' not in body:
                    errors.append(f"{status} {'' if complete else 'incomplete '}{path}")
                else:
                    latencies.append(time.perf_counter() - started)
            except (OSError, http.client.HTTPException) as error:
                errors.append(f"{type(error).__name__}: {error} {path}")
                connection = None
        with lock:
            run.latencies.extend(latencies)
            run.errors.extend(errors)

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    cpu_before = tree_cpu_seconds(server_pid) if server_pid else 0.0
    client_before = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * REQUEST_TIMEOUT)
    run.seconds = time.perf_counter() - started
    run.server_cpu = tree_cpu_seconds(server_pid) - cpu_before if server_pid else 0.0
    run.client_cpu = time.process_time() - client_before
    run.loads = [os.getloadavg()[0]]
    return run


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=30.0, help="per run (1 client, then N clients)")
    parser.add_argument("--slices", type=int, default=3, help="each run split in slices, the two runs alternating")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="default: cores")
    parser.add_argument("--threads", type=int, default=None, help="per worker (default: serve's)")
    parser.add_argument("--keep-alive", action="store_true", help="one connection per client")
    parser.add_argument("--work", type=Path, default=ROOT / "bench" / ".work", help="scratch folder")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    index_dir = build_index(args.work.resolve(), args.docs)
    server, port = start_server(index_dir, args.workers, args.threads)
    try:
        drive(port, max(args.clients, args.workers), 5.0, args.keep_alive)  # warm every worker up
        single, several = Run(1), Run(args.clients)
        for _ in range(args.slices):
            single.absorb(drive(port, 1, args.seconds / args.slices, args.keep_alive, server.pid))
            several.absorb(drive(port, args.clients, args.seconds / args.slices, args.keep_alive, server.pid))
    finally:
        stop_server(server)
    runs = [single.figures(), several.figures()]
    ratio = round(runs[1]["req_per_s"] / runs[0]["req_per_s"], 2) if runs[0]["req_per_s"] else None
    report = {"docs": args.docs, "workers": args.workers, "seconds": args.seconds, "cores": os.cpu_count(),
              "keep_alive": args.keep_alive, "runs": runs, "ratio": ratio}  # fmt: skip
    if args.json:
        print(json.dumps(report))
        return
    print(f"{args.docs} releases, serve --workers {args.workers}, {args.seconds:g} s per run "
          f"({args.slices} alternating slices), {os.cpu_count()} cores")  # fmt: skip
    print(f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6} "
          f"{'server cores':>12} {'client cores':>12} {'load avg':>8}")  # fmt: skip
    for figures in runs:
        print(f"{figures['clients']:>7} {figures['requests']:>8} {figures['req_per_s']:>7} "
              f"{figures['p50_ms']:>7} {figures['p95_ms']:>7} {figures['errors']:>6} "
              f"{figures['server_cores']:>12} {figures['client_cores']:>12} {figures['load_average']:>8}")  # fmt: skip
    print(f"throughput ratio {args.clients} clients / 1 client: {ratio}")
    for error in (single.errors + several.errors)[:10]:
        print("error:", error)


if __name__ == "__main__":
    main()
