#!/usr/bin/env python3
"""Relevance of our engine against the naive jieba + Whoosh setup, on judged queries, in one run.

    python bench/relevance.py           # table per query class
    python bench/relevance.py --json    # the same numbers as JSON
    python bench/relevance.py --queries # and each query's figures

The corpus is ``samples/`` plus the releases written for the tests (``tests/fixtures/releases``);
``bench/judgements.json`` grades documents per query (3 about exactly this … 1 mentions it usefully).
Reports nDCG@10 (gain 2^grade − 1), recall@10 and MRR (first relevant hit, any grade) for each
query class: unknown words and names, Traditional ↔ Simplified, cross-strait synonyms, phrases.

When the real-world set is present (``../shared/realworld``, or ``--realworld DIR``: ``docs/``,
``queries.jsonl``; relevant = grade 2, partially relevant = 1), its queries are measured the same
way over its own releases, per class by the query's shape (one word, several words, place + word,
quoted phrase, Traditional script), beside ours. Then, over every query of both sets and 200 random
words and pairs of words of the corpora, it checks that ``total`` equals the number of distinct
releases paging to the end lists.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import baseline  # noqa: E402
from search.coordination import places_named, plain_units  # noqa: E402
from search.normalise import fold_text  # noqa: E402
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
REALWORLD = ROOT.parent / "shared" / "realworld"
REAL_CLASSES = ("real-word", "real-words", "real-place", "real-phrase", "real-script")
CLASS_NAMES.update(
    {
        "real-word": "real world: one word",
        "real-words": "real world: several words",
        "real-place": "real world: place + word",
        "real-phrase": "real world: quoted phrase",
        "real-script": "real world: Traditional script",
        "real-all": "**real world: all**",
    }
)
RANDOM_QUERIES = 200


@dataclass
class Judged:
    query: str
    kind: str
    grades: dict[str, int]


def load_judgements(path: Path = JUDGEMENTS) -> list[Judged]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [Judged(item["query"], item["class"], item["relevant"]) for item in data["queries"]]


def real_class(query: str) -> str:
    """A real-world query's class, by its shape."""
    units = plain_units(query) or []
    if any(unit.startswith('"') for unit in units):
        return "real-phrase"
    if fold_text(query) != query:
        return "real-script"
    if len(units) > 1 and any(places_named(unit) for unit in units):
        return "real-place"
    return "real-words" if len(units) > 1 else "real-word"


def load_realworld(folder: Path) -> list[Judged]:
    """The real-world set's judged queries (relevant: grade 2, partially relevant: 1)."""
    judged = []
    for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            grades = {name: 1 for name in item.get("partially_relevant", [])}
            grades.update({name: 2 for name in item["relevant"]})
            judged.append(Judged(item["q"], real_class(item["q"]), grades))
    return judged


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


def our_engine(corpus: Path, work: Path) -> SearchEngine:
    index_dir = work / "ours"
    report = sync(index_dir, [corpus])
    if report.skipped:
        raise SystemExit(f"our engine skipped {report.skipped}")
    return SearchEngine(index_dir)


def ranked_by(engine: SearchEngine) -> Callable[[str], list[str]]:
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
    groups = {"all": CLASSES, "real-all": REAL_CLASSES}
    for kind in (*CLASSES, "all", *REAL_CLASSES, "real-all"):
        chosen = [row for row in rows if row["class"] in groups.get(kind, (kind,))]
        if chosen:
            by_class[kind] = {
                metric: sum(row[metric] for row in chosen) / len(chosen) for metric in ("ndcg", "recall", "mrr")
            }
            by_class[kind]["queries"] = len(chosen)
    return by_class


def random_queries(corpus: Path, count: int = RANDOM_QUERIES, seed: int = 16) -> list[str]:
    """``count`` random words (runs of 2–4 ideographs) and pairs of words of the corpus."""
    rng = random.Random(seed)
    words = sorted(
        {word for path in corpus.glob("*.txt") for word in re.findall(r"[\u4e00-\u9fff]{2,4}", path.read_text("utf-8"))}
    )
    if not words:
        return []
    singles = [rng.choice(words) for _ in range(count // 2)]
    pairs = [f"{rng.choice(words)} {rng.choice(words)}" for _ in range(count - count // 2)]
    return singles + pairs


def paging_mismatches(engine: SearchEngine, queries: list[str], per_page: int = 10) -> list[str]:
    """Queries whose ``total`` is not the number of distinct releases paging to the end lists."""
    wrong = []
    for query in dict.fromkeys(queries):
        first = engine.search(query, per_page=per_page)
        ids = [hit.id for hit in first.hits]
        for page in range(2, first.pages + 1):
            ids += [hit.id for hit in engine.search(query, page=page, per_page=per_page).hits]
        if len(set(ids)) != len(ids) or len(ids) != first.total:
            wrong.append(f"{query}: total {first.total}, paging lists {len(set(ids))} ({len(ids)} with repeats)")
    return wrong


def compare(corpus: Path, work: Path, judged: list[Judged]) -> tuple[list[dict], list[dict], list[str]]:
    """Each engine's figures per query over ``corpus``, and the queries whose totals disagree with paging."""
    engine = our_engine(corpus, work)
    try:
        ours_rows = evaluate(ranked_by(engine), judged)
        queries = [item.query for item in judged] + random_queries(corpus)
        mismatches = paging_mismatches(engine, queries)
    finally:
        engine.close()
    return ours_rows, evaluate(naive(corpus, work), judged), mismatches


def realworld_corpus(folder: Path, work: Path) -> Path:
    """The real-world releases, named ``NNN.txt`` as its judgements name them."""
    corpus = work / "realworld-corpus"
    shutil.copytree(folder / "docs", corpus)
    return corpus


def run(judged: list[Judged] | None = None, realworld: Path | None = None) -> dict:
    """Both engines on the judged queries; with ``realworld``, on that set's queries too."""
    judged = judged if judged is not None else load_judgements()
    with tempfile.TemporaryDirectory(prefix="relevance-") as temp:
        work = Path(temp)
        corpus = build_corpus(work / "corpus")
        ours_rows, naive_rows, mismatches = compare(corpus, work / "own", judged)
        checked = len(set([item.query for item in judged] + random_queries(corpus)))
        if realworld is not None:
            real = load_realworld(realworld)
            real_ours, real_naive, real_mismatches = compare(realworld_corpus(realworld, work), work / "real", real)
            ours_rows, naive_rows = ours_rows + real_ours, naive_rows + real_naive
            mismatches += real_mismatches
            checked += len(set([item.query for item in real] + random_queries(work / "realworld-corpus")))
    return {
        "documents": len(list(corpus.glob("*.txt"))) if corpus.exists() else None,
        "paging": {"queries": checked, "mismatches": mismatches},
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
    parser.add_argument("--realworld", type=Path, default=REALWORLD, help="the real-world set (when present)")
    args = parser.parse_args()
    realworld = args.realworld if (args.realworld / "queries.jsonl").is_file() else None
    result = run(realworld=realworld)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return
    print(table(result))
    paging = result["paging"]
    print(f"\ntotal = releases listed by paging to the end: {paging['queries'] - len(paging['mismatches'])}"
          f" of {paging['queries']} queries")  # fmt: skip
    for mismatch in paging["mismatches"]:
        print(f"  MISMATCH {mismatch}")
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
