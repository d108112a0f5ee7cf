"""Whoosh's stock W3 codec against ours (``search/codec.py``) on the same synthetic corpus.

For each codec: the full build's wall and CPU time (``sync`` of a fresh index, as ``police-search
index`` runs it), the index size, and the cost per posting of walking the 20 most frequent body
terms through Whoosh's matcher interface (id + weight; id + weight + positions), and for ours of
decoding the same postings as whole arrays (``postings_arrays``: ids and weights; with positions).

    python bench/codec.py --docs 2000 [--rounds 7]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whoosh import index as whoosh_index

from bench import corpus
from search import codec
from search.index import current_generation, open_index
from search.sync import sync

TERMS = 20


@contextmanager
def stock_codec() -> Iterator[None]:
    """Build and open indexes with Whoosh's own codec: swap what ``search.index`` calls in ``codec``."""
    saved = codec.create_index, codec.open_index, codec.foreign_segments
    codec.create_index = lambda directory, schema, name: whoosh_index.create_in(directory, schema, indexname=name)
    codec.open_index = lambda storage, name: storage.open_index(name)
    codec.foreign_segments = lambda ix: []
    try:
        yield
    finally:
        codec.create_index, codec.open_index, codec.foreign_segments = saved


def cpu_seconds() -> float:
    """This process's CPU time and its finished children's (the build's writer processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build(corpus_dir: Path, index_dir: Path) -> tuple[float, float]:
    """Wall and CPU seconds of a full build (CPU time is steadier on a shared machine)."""
    shutil.rmtree(index_dir, ignore_errors=True)
    started, cpu = time.perf_counter(), cpu_seconds()
    sync(index_dir, [corpus_dir])
    return time.perf_counter() - started, cpu_seconds() - cpu


def walk(reader: Any, text: str, positions: bool = False) -> int:
    """Whoosh's matcher interface, posting by posting, as its collectors and span queries use it."""
    count = 0
    for leaf, _ in reader.leaf_readers():
        if ("body", text) not in leaf:
            continue
        matcher = leaf.postings("body", text)
        while matcher.is_active():
            matcher.id()
            matcher.weight()
            if positions:
                matcher.value_as("positions")
            matcher.next()
            count += 1
    return count


def walk_with_positions(reader: Any, text: str) -> int:
    return walk(reader, text, positions=True)


def decode_arrays(reader: Any, text: str) -> int:
    return len(codec.postings_arrays(reader, "body", text).ids)


def decode_arrays_with_positions(reader: Any, text: str) -> int:
    return len(codec.postings_arrays(reader, "body", text, positions=True).ids)


def ns_per_posting(index_dir: Path, walk: Callable[[Any, str], int], rounds: int) -> tuple[float, int]:
    """Best of ``rounds`` over the 20 most frequent body terms, each round on a fresh reader."""
    best = float("inf")
    postings = 0
    for _ in range(rounds):
        with open_index(index_dir).reader() as reader:
            terms = [text for _, text in reader.most_frequent_terms("body", TERMS)]
            started = time.perf_counter_ns()
            postings = sum(walk(reader, text) for text in terms)
            best = min(best, (time.perf_counter_ns() - started) / postings)
    return best, postings


def size_mb(index_dir: Path) -> float:
    generation = current_generation(index_dir)
    return sum(path.stat().st_size for path in generation.iterdir()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="codec-bench-") as scratch:
        corpus_dir = Path(scratch) / "corpus"
        corpus.build(corpus_dir, args.docs)
        rows = []
        for name, context in (("W3 (stock)", stock_codec), ("packed (ours)", _nothing)):
            index_dir = Path(scratch) / name.split()[0]
            with context():
                seconds = build(corpus_dir, index_dir)
                walked, postings = ns_per_posting(index_dir, walk, args.rounds)
                positions, _ = ns_per_posting(index_dir, walk_with_positions, args.rounds)
                arrays = None
                if context is _nothing:
                    arrays = (
                        ns_per_posting(index_dir, decode_arrays, args.rounds)[0],
                        ns_per_posting(index_dir, decode_arrays_with_positions, args.rounds)[0],
                    )
                rows.append((name, seconds, size_mb(index_dir), postings, walked, positions, arrays))
    print(f"{args.docs} releases; {TERMS} most frequent body terms; best of {args.rounds} rounds")
    print("| codec | full build | build CPU | index | postings | id+weight walk | + positions | arrays | + positions |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, seconds, megabytes, postings, walked, positions, arrays in rows:
        decoded = f"{arrays[0]:.0f} ns | {arrays[1]:.0f} ns" if arrays is not None else "— | —"
        print(
            f"| {name} | {seconds[0]:.1f} s ({args.docs / seconds[0]:.0f} docs/s) | {seconds[1]:.1f} s "
            f"| {megabytes:.1f} MB | {postings} "
            f"| {walked:.0f} ns | {positions:.0f} ns | {decoded} |"
        )


@contextmanager
def _nothing() -> Iterator[None]:
    yield


if __name__ == "__main__":
    main()
