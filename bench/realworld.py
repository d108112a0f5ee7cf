#!/usr/bin/env python3
"""How the engine does on real pages as they are found on the web, against their annotations.

    python bench/realworld.py                    # ../shared/realworld, table of figures
    python bench/realworld.py DIR -v             # another set of the same layout; list every miss
    python bench/realworld.py --json             # the figures as JSON

``DIR`` holds ``docs/NNN.txt``, ``manifest.jsonl`` (headline, date, place per release) and
``queries.jsonl`` (judged queries); its README describes the fields. The whole set is indexed
twice (a clean index, then a second run that must change nothing), every release goes through
load → clean → extract on its own, and the figures compare what came out with the manifest:

* headline: over releases whose headline is in the text (``title_basis: text``);
* date right / empty / wrong: over releases whose full date is in the text; "wrong anywhere"
  counts every release given a date that is not its date (a wrong date is worse than none);
* district and city: over every release (no district where the manifest has none counts right);
  "district given to a city-wide release": a district where the manifest has none;
* nDCG@10 over the judged queries (relevant: grade 2, partially relevant: grade 1), ours and the
  naive setup's (``bench/baseline.py``) on the same files.

A development set for benchmarks, never read by the tests.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
import time
import traceback
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import baseline  # noqa: E402
from bench.relevance import ndcg  # noqa: E402
from search.clean import clean  # noqa: E402
from search.crime_types import classify, weights  # noqa: E402
from search.extract import Release, extract  # noqa: E402
from search.index import current_generation, open_index  # noqa: E402
from search.load import load  # noqa: E402
from search.query import SearchEngine  # noqa: E402
from search.stories import StoryBook  # noqa: E402
from search.sync import sync  # noqa: E402

DEFAULT_SET = ROOT.parent / "shared" / "realworld"
CUTOFF = 10
SIMILAR = 5


@dataclass
class Counts:
    """One figure: how many of ``total`` were right, and the misses for ``-v``."""

    right: int = 0
    total: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, ok: bool, miss: str) -> None:
        self.total += 1
        if ok:
            self.right += 1
        else:
            self.misses.append(miss)

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0


def comparable(text: str | None) -> str:
    """A headline as compared: width folded, spaces and trailing punctuation ignored."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(folded.split()).rstrip("。.!！?？…")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def extract_all(folder: Path, manifest: list[dict[str, Any]]) -> tuple[dict[str, Release], dict[str, str]]:
    """Each release through load → clean → extract on its own: results, and crashes with their cause."""
    releases: dict[str, Release] = {}
    crashes: dict[str, str] = {}
    for entry in manifest:
        name = Path(entry["file"]).stem
        try:
            releases[name] = extract(clean(load(folder / entry["file"])))
        except Exception:  # the benchmark reports every crash instead of stopping at the first
            crashes[name] = traceback.format_exc(limit=3).strip().splitlines()[-1]
    return releases, crashes


def extraction_figures(manifest: list[dict[str, Any]], releases: dict[str, Release]) -> dict[str, Any]:
    headline, district, city, province = Counts(), Counts(), Counts(), Counts()
    date_right, date_empty, date_wrong = Counts(), [], []
    wrong_anywhere: list[str] = []
    citywide_given_district: list[str] = []
    rules: dict[str, int] = {}
    for entry in manifest:
        name = Path(entry["file"]).stem
        release = releases.get(name)
        if release is None:
            continue
        if entry["title_basis"] == "text":
            headline.add(
                comparable(release.title) == comparable(entry["title"]),
                f"{name}: got {release.title!r}, want {entry['title']!r}",
            )
        got_date = release.date.isoformat() if release.date else None
        rule = getattr(release, "date_rule", None)
        if got_date:
            rules[rule or "?"] = rules.get(rule or "?", 0) + 1
        if got_date and got_date != entry["date"]:
            wrong_anywhere.append(f"{name}: got {got_date} ({rule}), want {entry['date']} ({entry['date_basis']})")
        if entry["date_basis"] == "text":
            date_right.add(got_date == entry["date"], f"{name}: got {got_date}, want {entry['date']}")
            if got_date is None:
                date_empty.append(name)
            elif got_date != entry["date"]:
                date_wrong.append(name)
        place = f"{release.province}/{release.city}/{release.district}"
        want = f"{entry['province']}/{entry['city']}/{entry['district']}"
        district.add(release.district == entry["district"], f"{name}: got {place}, want {want}")
        city.add(release.city == entry["city"], f"{name}: got {place}, want {want}")
        province.add(release.province == entry["province"], f"{name}: got {place}, want {want}")
        if entry["district"] is None and release.district is not None:
            citywide_given_district.append(f"{name}: got {place}, want {want}")
    return {
        "crime_types": crime_type_figures(manifest, releases),
        "headline": headline,
        "date": date_right,
        "date_empty": date_empty,
        "date_wrong": date_wrong,
        "wrong_dates_anywhere": wrong_anywhere,
        "date_rules": rules,
        "district": district,
        "city": city,
        "province": province,
        "districts_given_to_citywide": citywide_given_district,
    }


def crime_type_figures(manifest: list[dict[str, Any]], releases: dict[str, Release]) -> dict[str, Any]:
    """Micro-averaged precision, recall and F1 of the crime types, and how often a type that a
    release only mentions (its words occur, the annotators did not give it) was given anyway."""
    right = given = wanted = mentioned = given_in_passing = 0
    misses = []
    for entry in manifest:
        name = Path(entry["file"]).stem
        release = releases.get(name)
        if release is None:
            continue
        got = set(classify(release.title, release.paragraphs))
        want = set(entry["crime_types"])
        right, given, wanted = right + len(got & want), given + len(got), wanted + len(want)
        passing = set(weights(release.title, release.paragraphs)) - want
        mentioned += len(passing)
        given_in_passing += len(passing & got)
        if got != want:
            misses.append(f"{name}: got {sorted(got)}, want {sorted(want)}")
    precision = right / given if given else 0.0
    recall = right / wanted if wanted else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "passing_mentions": mentioned,
        "given_in_passing": given_in_passing / mentioned if mentioned else 0.0,
        "misses": misses,
    }


def index_twice(docs: Path, work: Path) -> dict[str, Any]:
    """Index the set into a clean index, then again: the second run must find nothing changed."""
    index_dir = work / "index"
    outcome: dict[str, Any] = {"index_dir": index_dir}
    try:
        first = sync(index_dir, [docs])
        second = sync(index_dir, [docs])
    except Exception:  # a crash is a figure here, not the end of the run
        outcome["crash"] = traceback.format_exc(limit=4)
        return outcome
    outcome.update(
        indexed=first.added,
        skipped=[f"{item.path}: {item.reason}" for item in first.skipped],
        second_run_changed=second.changed,
        second_run_unchanged=second.unchanged,
        seconds=first.seconds,
    )
    return outcome


def document_name(path: str) -> str:
    return Path(path).stem


def grouping_figures(manifest: list[dict[str, Any]], index_dir: Path) -> dict[str, Any]:
    """Pairwise recall and precision of the stories the index grouped copies into."""
    story_of_id = StoryBook.load(current_generation(index_dir)).stories()
    with open_index(index_dir).searcher() as searcher:
        name_of_id = {stored["id"]: document_name(stored["path"]) for stored in searcher.documents()}
    grouped = {name_of_id[doc_id]: story for doc_id, story in story_of_id.items() if doc_id in name_of_id}
    annotated = {Path(entry["file"]).stem: entry["story"] for entry in manifest}
    both = same = together = 0
    misses = []
    names = sorted(grouped)
    for index, first in enumerate(names):
        for second in names[index + 1 :]:
            is_copy = annotated.get(first) is not None and annotated.get(first) == annotated.get(second)
            is_grouped = grouped[first] == grouped[second]
            same += is_copy
            together += is_grouped
            both += is_copy and is_grouped
            if is_copy != is_grouped:
                misses.append(f"{first} {second}: {'copies not grouped' if is_copy else 'grouped, not copies'}")
    return {
        "pairs": same,
        "recall": both / same if same else 0.0,
        "precision": both / together if together else 1.0,
        "misses": misses,
    }


def similar_figures(manifest: list[dict[str, Any]], index_dir: Path) -> dict[str, Any]:
    """For each release in a story: does one of its ``SIMILAR`` similar releases (copies of its own
    story are left out) share an annotated crime type with it?"""
    types_of = {Path(entry["file"]).stem: set(entry["crime_types"]) for entry in manifest}
    engine = SearchEngine(index_dir)
    shared = Counts()
    try:
        with open_index(index_dir).searcher() as searcher:
            id_of = {document_name(stored["path"]): stored["id"] for stored in searcher.documents()}
        for entry in manifest:
            name = Path(entry["file"]).stem
            if not entry.get("story") or name not in id_of:
                continue
            similar = [document_name(hit.path) for hit in engine.similar(id_of[name], SIMILAR) or []]
            ok = any(types_of[name] & types_of.get(other, set()) for other in similar)
            shared.add(
                ok, f"{name} {sorted(types_of[name])}: similar {[(o, sorted(types_of.get(o, ()))) for o in similar]}"
            )
    finally:
        engine.close()
    return {"shared_crime_type": shared}


def ranking_figures(queries: list[dict[str, Any]], index_dir: Path, docs: Path, work: Path) -> dict[str, Any]:
    engine = SearchEngine(index_dir)
    naive_dir = work / "naive"
    baseline.build(docs, naive_dir)
    naive = baseline.Searcher(naive_dir)
    rows = []
    try:
        for item in queries:
            grades = {name: 1 for name in item.get("partially_relevant", [])}
            grades.update({name: 2 for name in item["relevant"]})
            ranked = [document_name(hit.path) for hit in engine.search(item["q"], per_page=CUTOFF).hits]
            theirs = [document_name(path) for path in naive.ranked(item["q"], CUTOFF)]
            rows.append(
                {
                    "q": item["q"],
                    "ours": ndcg(ranked, grades),
                    "baseline": ndcg(theirs, grades),
                    "top": ranked[:5],
                    "missed": sorted(name for name, grade in grades.items() if grade == 2 and name not in ranked),
                }
            )
    finally:
        engine.close()
    mean = (lambda key: sum(row[key] for row in rows) / len(rows)) if rows else (lambda key: math.nan)
    return {"ndcg": mean("ours"), "baseline_ndcg": mean("baseline"), "queries": rows}


def run(folder: Path) -> dict[str, Any]:
    manifest = read_jsonl(folder / "manifest.jsonl")
    queries = read_jsonl(folder / "queries.jsonl") if (folder / "queries.jsonl").exists() else []
    started = time.perf_counter()
    releases, crashes = extract_all(folder, manifest)
    figures = extraction_figures(manifest, releases)
    with tempfile.TemporaryDirectory(prefix="realworld-") as temp:
        work = Path(temp)
        docs = work / "docs"
        shutil.copytree(folder / "docs", docs)
        indexing = index_twice(docs, work)
        grouping = grouping_figures(manifest, indexing["index_dir"]) if "crash" not in indexing else None
        similar = similar_figures(manifest, indexing["index_dir"]) if "crash" not in indexing else None
        ranking = (
            ranking_figures(queries, indexing["index_dir"], docs, work) if "crash" not in indexing and queries else None
        )
    indexing.pop("index_dir")
    return {
        "documents": len(manifest),
        "extract_crashes": crashes,
        "indexing": indexing,
        "extraction": figures,
        "ranking": ranking,
        "grouping": grouping,
        "similar": similar,
        "seconds": time.perf_counter() - started,
    }


def _share(counts: Counts) -> str:
    return f"{counts.share:.2f} ({counts.right}/{counts.total})"


def table(result: dict[str, Any]) -> str:
    figures = result["extraction"]
    indexing = result["indexing"]
    if "crash" in indexing:
        indexed = "CRASHED: " + indexing["crash"].strip().splitlines()[-1]
    else:
        indexed = f"{indexing['indexed']} of {result['documents']}, {len(indexing['skipped'])} skipped"
        indexed += ", second run changed nothing" if not indexing["second_run_changed"] else ", SECOND RUN CHANGED"
    rows = [
        ("indexed", indexed),
        ("crashed in load/clean/extract", str(len(result["extract_crashes"]))),
        ("headline right", _share(figures["headline"])),
        ("date right", _share(figures["date"])),
        ("date empty", str(len(figures["date_empty"]))),
        ("date wrong (text dates)", str(len(figures["date_wrong"]))),
        ("wrong dates given anywhere", str(len(figures["wrong_dates_anywhere"]))),
        ("district right", _share(figures["district"])),
        ("city right", _share(figures["city"])),
        ("province right", _share(figures["province"])),
        ("districts given to city-wide releases", str(len(figures["districts_given_to_citywide"]))),
    ]
    crimes = figures["crime_types"]
    scores = f"{crimes['precision']:.2f} / {crimes['recall']:.2f} / {crimes['f1']:.3f}"
    rows.append(("crime types P / R / micro-F1", scores))
    rows.append(
        (
            "type given for a passing mention",
            f"{crimes['given_in_passing']:.2f} (of {crimes['passing_mentions']} types only mentioned)",
        )
    )
    if result["grouping"]:
        grouping = result["grouping"]
        rows.append(
            (
                "copies grouped: pairwise recall / precision",
                f"{grouping['recall']:.2f} / {grouping['precision']:.2f} (of {grouping['pairs']} copy pairs)",
            )
        )
    if result["similar"]:
        rows.append(
            ("story releases with a similar one of the same crime type", _share(result["similar"]["shared_crime_type"]))
        )
    if result["ranking"]:
        rows.append(("nDCG@10 ours", f"{result['ranking']['ndcg']:.3f}"))
        rows.append(("nDCG@10 naive setup", f"{result['ranking']['baseline_ndcg']:.3f}"))
        low = [row for row in result["ranking"]["queries"] if row["ours"] < 0.6]
        rows.append(("judged queries below 0.6", str(len(low))))
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    lines.append(f"({result['documents']} releases, {result['seconds']:.1f} s)")
    return "\n".join(lines)


def misses(result: dict[str, Any]) -> str:
    figures = result["extraction"]
    lines = []
    for name, reason in result["extract_crashes"].items():
        lines.append(f"crash {name}: {reason}")
    for key in ("headline", "date", "district", "city"):
        lines.extend(f"{key} miss  {miss}" for miss in figures[key].misses)
    lines.extend(f"wrong date  {miss}" for miss in figures["wrong_dates_anywhere"])
    lines.extend(f"district to city-wide  {miss}" for miss in figures["districts_given_to_citywide"])
    lines.extend(f"crime types  {miss}" for miss in figures["crime_types"]["misses"])
    lines.extend(f"skipped  {item}" for item in result["indexing"].get("skipped", []))
    if result["grouping"]:
        lines.extend(f"grouping  {miss}" for miss in result["grouping"]["misses"])
    if result["similar"]:
        lines.extend(f"similar  {miss}" for miss in result["similar"]["shared_crime_type"].misses)
    if result["ranking"]:
        for row in result["ranking"]["queries"]:
            lines.append(
                f"query {row['q']:<12} nDCG {row['ours']:.2f} (naive {row['baseline']:.2f})  "
                f"top {row['top']}  relevant missing from top 10: {row['missed']}"
            )
    return "\n".join(lines)


def as_json(result: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Counts):
            return {"right": value.right, "total": value.total, "share": value.share, "misses": value.misses}
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, list):
            return [plain(item) for item in value]
        return value

    return plain(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_SET, help="the annotated set")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if not (args.folder / "manifest.jsonl").is_file():
        parser.error(f"no manifest.jsonl in {args.folder}")
    result = run(args.folder)
    if args.json:
        print(json.dumps(as_json(result), ensure_ascii=False, indent=2))
        return
    print(table(result))
    if args.verbose:
        print()
        print(misses(result))


if __name__ == "__main__":
    main()
