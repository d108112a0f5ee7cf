"""The police-search command line, through click's runner and as a real console script."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from search.cli import main
from tests.conftest import SAMPLES


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, index_dir, *args):
    return runner.invoke(main, ["--index", str(index_dir), *args], catch_exceptions=False)


def test_query_builds_missing_index_from_samples_and_says_so(runner, tmp_path):
    result = invoke(runner, tmp_path / "ix", "query", "诈骗")
    assert result.exit_code == 0
    assert "building it from" in result.stderr
    assert "results" in result.stdout


def test_query_json_shape(runner, sample_index):
    result = invoke(runner, sample_index, "query", "诈骗", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert set(data) == {"query", "total", "page", "per_page", "took_ms", "mode", "also_matched", "hits", "facets"}
    assert data["query"] == "诈骗" and data["total"] >= 3
    hit = data["hits"][0]
    assert set(hit) == {
        "id", "title", "date", "district", "city", "province", "source", "path", "score", "snippet", "crime_types",
        "story", "copies",
    }  # fmt: skip
    assert hit["date"] is None or len(hit["date"]) == 10
    assert {"district", "year", "crime_type", "source"} <= set(data["facets"])
    for facet in ("district", "year"):
        assert all(set(v) == {"value", "count"} for v in data["facets"][facet])


def test_plain_output_when_piped_has_no_markup(runner, sample_index):
    result = invoke(runner, sample_index, "query", "万州")
    assert "<mark>" not in result.stdout and "\x1b[" not in result.stdout
    assert "萬州" in result.stdout


def test_colour_output_marks_matches(runner, sample_index):
    result = invoke(runner, sample_index, "query", "万州", "--color")
    assert "\x1b[1;31m萬州\x1b[0m" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["query", '"unbalanced'],
        ["query", "x", "--per-page", "0"],
        ["query", "x", "--per-page", "101"],
        ["query", "x", "--from", "nonsense"],
        ["query", "x", "--sort", "random"],
    ],
)
def test_bad_usage_exits_2(runner, sample_index, args):
    result = invoke(runner, sample_index, *args)
    assert result.exit_code == 2
    assert "Error" in result.stderr


def test_filters_and_zero_hits_exit_0(runner, sample_index):
    result = invoke(runner, sample_index, "query", "诈骗", "--district", "万州", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["total"] == 0


def test_show_and_stats(runner, sample_index):
    hits = json.loads(invoke(runner, sample_index, "query", "郾城", "--json").stdout)["hits"]
    shown = invoke(runner, sample_index, "show", hits[0]["id"], "--json")
    document = json.loads(shown.stdout)
    assert document["title"] == "亮剑攻坚护平安" and document["district"] == "郾城区"
    assert invoke(runner, sample_index, "show", "nope").exit_code == 1
    stats = json.loads(invoke(runner, sample_index, "stats", "--json").stdout)
    assert stats["documents"] == 5
    assert {"value": "中国网", "count": 1} in stats["sources"]
    assert "district" in stats["facets"]


def test_index_sync_adds_updates_removes_and_reports_skips(runner, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for sample in sorted(SAMPLES.iterdir())[:2]:
        (source / sample.name).write_bytes(sample.read_bytes())
    (source / "broken.txt").write_bytes(bytes(range(0x80, 0x100)) * 4)
    index_dir = tmp_path / "ix"
    first = json.loads(invoke(runner, index_dir, "index", str(source), "--json").stdout)
    assert (first["added"], first["updated"], first["removed"]) == (2, 0, 0)
    assert [s["path"].endswith("broken.txt") for s in first["skipped"]] == [True]
    assert "not decodable" in first["skipped"][0]["reason"]

    again = json.loads(invoke(runner, index_dir, "index", str(source), "--json").stdout)
    assert (again["added"], again["updated"], again["removed"], again["unchanged"]) == (0, 0, 0, 2)

    first_file = sorted(source.glob("0*.txt"))[0]
    first_file.write_text(first_file.read_text(encoding="utf-8") + "\n补充:警方再次提醒。", encoding="utf-8")
    sorted(source.glob("0*.txt"))[1].unlink()
    changed = json.loads(invoke(runner, index_dir, "index", str(source), "--json").stdout)
    assert (changed["added"], changed["updated"], changed["removed"]) == (0, 1, 1)
    assert changed["documents"] == 1
    text = invoke(runner, index_dir, "index", str(source))
    assert "nothing changed" in text.stdout


@pytest.mark.slow
def test_console_script_end_to_end(tmp_path):
    env = {**os.environ, "POLICE_SEARCH_INDEX": str(tmp_path / "ix")}
    command = [sys.executable, "-m", "search.cli", "query", "套路贷", "--json"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["total"] == 1
    bad = subprocess.run([*command[:-2], "foo:bar"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "unknown field" in bad.stderr


def test_query_reports_partial_mode_and_synonyms(runner, sample_index):
    partial = invoke(runner, sample_index, "query", "公安局 火星")
    assert partial.exit_code == 0
    assert "No release has every word of the query" in partial.stdout
    widened = invoke(runner, sample_index, "query", "诈欺")
    assert "Also matched: 诈骗" in widened.stdout
    data = json.loads(invoke(runner, sample_index, "query", "公安局 火星", "--json").stdout)
    assert data["mode"] == "any" and data["also_matched"] == []
