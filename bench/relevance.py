#!/usr/bin/env python3
"""Relevance of our engine against the naive jieba + Whoosh setup, on judged queries, in one run.

    python bench/relevance.py           # table per query class
    python bench/relevance.py --json    # the same numbers as JSON
    python bench/relevance.py --queries # and each query's figures

The corpus is ``samples/`` plus the releases written for the tests (``tests/fixtures/releases``);
``bench/judgements.json`` grades documents per query (3 about exactly this … 1 mentions it usefully).
Reports nDCG@10 (gain 2^grade − 1), recall@10 and MRR (first relevant hit, any grade) for each
query class: unknown words and names, Traditional ↔ Simplified, cross-strait synonyms, phrases.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import baseline  # noqa: E402
from search.query import SearchEngine  # noqa: E402
from search.sync import sync  # noqa: E402

JUDGEMENTS = ROOT / "bench" / "judgements.json"
CORPUS_FOLDERS = (ROOT / "samples", ROOT / "tests" / "fixtures" / "releases")
CUTOFF = 10
CLASSES = ("oov", "script", "synonym", "phrase", "general")
CLASS_NAMES = {
    "oov": "unknown words, names",
    "script": "Traditional ↔ Simplified",
    "synonym": "cross-strait synonyms",
    "phrase": "phrases",
    "general": "general",
}


@dataclass
class Judged:
    query: str
    kind: str
    grades: dict[str, int]


def load_judgements(path: Path = JUDGEMENTS) -> list[Judged]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Judged(item["query"], item["class"], item["relevant"]) for item in data["queries"]]


def document_name(path: str) -> str:
    """``samples/001_d810….txt`` → ``001``; a fixture keeps its file name without ``.txt``."""
    stem = Path(path).stem
    return stem[:3] if stem[:3].isdigit() and stem[3:4] == "_" else stem


def ndcg(ranked: list[str], grades: dict[str, int], cutoff: int = CUTOFF) -> float:
    gains = [2 ** grades.get(name, 0) - 1 for name in ranked[:cutoff]]
    ideal = sorted((2**grade - 1 for grade in grades.values()), reverse=True)[:cutoff]
    dcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(gains))
    best = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
    return dcg / best if best else 0.0


def recall(ranked: list[str], grades: dict[str, int], cutoff: int = CUTOFF) -> float:
    relevant = {name for name, grade in grades.items() if grade > 0}
    return len(relevant & set(ranked[:cutoff])) / len(relevant) if relevant else 0.0


def reciprocal_rank(ranked: list[str], grades: dict[str, int]) -> float:
    for rank, name in enumerate(ranked, start=1):
        if grades.get(name, 0) > 0:
            return 1 / rank
    return 0.0


def build_corpus(folder: Path) -> Path:
    """One flat folder of UTF-8 .txt releases (what the baseline reads)."""
    folder.mkdir(parents=True, exist_ok=True)
    for source in CORPUS_FOLDERS:
        for path in sorted(source.glob("*.txt")):
            shutil.copy(path, folder / path.name)
    return folder


def ours(corpus: Path, work: Path) -> Callable[[str], list[str]]:
    index_dir = work / "ours"
    report = sync(index_dir, [corpus])
    if report.skipped:
        raise SystemExit(f"our engine skipped {report.skipped}")
    engine = SearchEngine(index_dir)
    return lambda query: [document_name(hit.path) for hit in engine.search(query, per_page=CUTOFF).hits]


def naive(corpus: Path, work: Path) -> Callable[[str], list[str]]:
    index_dir = work / "baseline"
    baseline.build(corpus, index_dir)
    searcher = baseline.Searcher(index_dir)
    return lambda query: [document_name(path) for path in searcher.ranked(query, CUTOFF)]


def evaluate(search: Callable[[str], list[str]], judged: list[Judged]) -> list[dict]:
    rows = []
    for item in judged:
        ranked = search(item.query)
        rows.append(
            {
                "query": item.query,
                "class": item.kind,
                "ndcg": ndcg(ranked, item.grades),
                "recall": recall(ranked, item.grades),
                "mrr": reciprocal_rank(ranked, item.grades),
                "top": ranked[:3],
            }
        )
    return rows


def summary(rows: list[dict]) -> dict[str, dict[str, float]]:
    by_class: dict[str, dict[str, float]] = {}
    for kind in (*CLASSES, "all"):
        chosen = [row for row in rows if kind == "all" or row["class"] == kind]
        if chosen:
            by_class[kind] = {
                metric: sum(row[metric] for row in chosen) / len(chosen) for metric in ("ndcg", "recall", "mrr")
            }
            by_class[kind]["queries"] = len(chosen)
    return by_class


def run(judged: list[Judged] | None = None) -> dict:
    judged = judged if judged is not None else load_judgements()
    with tempfile.TemporaryDirectory(prefix="relevance-") as temp:
        work = Path(temp)
        corpus = build_corpus(work / "corpus")
        ours_rows = evaluate(ours(corpus, work), judged)
        naive_rows = evaluate(naive(corpus, work), judged)
    return {
        "documents": len(list(corpus.glob("*.txt"))) if corpus.exists() else None,
        "ours": summary(ours_rows),
        "baseline": summary(naive_rows),
        "queries": [
            {"query": mine["query"], "class": mine["class"], "ours": mine, "baseline": theirs}
            for mine, theirs in zip(ours_rows, naive_rows, strict=True)
        ],
    }


def table(result: dict) -> str:
    lines = [
        "| query class | queries | nDCG@10 ours | baseline | recall@10 ours | baseline | MRR ours | baseline |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, mine in result["ours"].items():
        theirs = result["baseline"][kind]
        name = CLASS_NAMES.get(kind, "**all**")
        lines.append(
            f"| {name} | {mine['queries']} | {mine['ndcg']:.3f} | {theirs['ndcg']:.3f} | {mine['recall']:.3f} | "
            f"{theirs['recall']:.3f} | {mine['mrr']:.3f} | {theirs['mrr']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--queries", action="store_true", help="also list every query's figures")
    args = parser.parse_args()
    result = run()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(table(result))
    if args.queries:
        print()
        for item in result["queries"]:
            mine, theirs = item["ours"], item["baseline"]
            print(
                f"{item['class']:8} {item['query']:<16} nDCG {mine['ndcg']:.2f} vs {theirs['ndcg']:.2f}  "
                f"ours {mine['top']}  baseline {theirs['top']}"
            )


if __name__ == "__main__":
    main()
