"""The police-search command line, through click's runner and as a real console script."""

import json
import os
import re
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
    assert set(data) == {
        *("query", "total", "page", "per_page", "took_ms", "mode", "also_matched", "undated", "hits", "facets"),
        *("total_all_words", "places", "did_you_mean"),
    }
    assert data["query"] == "诈骗" and data["total"] >= 3
    hit = data["hits"][0]
    assert set(hit) == {
        "id", "title", "date", "district", "city", "province", "source", "path", "score", "snippet", "crime_types",
        "missing", "story", "copies", "snippet_text", "highlights",
    }  # fmt: skip
    # the snippet as HTML, and as text with the offsets of its highlighted stretches
    assert [hit["snippet_text"][start:end] for start, end in hit["highlights"]] == re.findall(
        r"<mark>(.*?)</mark>", hit["snippet"]
    )
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


def _ids_by_name(runner, index_dir) -> dict[str, list[str]]:
    # every copy: the CLI collapses copies of one release into one hit by default
    listing = invoke(runner, index_dir, "query", "", "--per-page", "100", "--no-collapse", "--json")
    hits = json.loads(listing.stdout)["hits"]
    found: dict[str, list[str]] = {}
    for hit in hits:
        found.setdefault(os.path.basename(hit["path"]), []).append(hit["id"])
    return found


def test_ids_come_from_content_not_where_the_file_lies(runner, tmp_path):
    sample = SAMPLES / "003_ee03adda955840a3.txt"
    for folder in ("one", "two/deeper"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / sample.name).write_bytes(sample.read_bytes())
    # the same release re-encoded (GB18030) under another name
    (tmp_path / "one" / "gbk.txt").write_bytes(sample.read_text(encoding="utf-8").encode("gb18030"))
    in_two_folders = tmp_path / "ix"
    invoke(runner, in_two_folders, "index", str(tmp_path / "one"), str(tmp_path / "two"))
    elsewhere = tmp_path / "ix-samples"
    invoke(runner, elsewhere, "index", str(SAMPLES))
    ids = _ids_by_name(runner, in_two_folders)
    assert len(ids[sample.name]) == 2 and len(set(ids[sample.name])) == 1
    assert ids["gbk.txt"] == ids[sample.name][:1]
    assert _ids_by_name(runner, elsewhere)[sample.name] == ids[sample.name][:1]


def test_two_files_sharing_an_id_are_updated_and_removed_one_by_one(runner, tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    sample = SAMPLES / "003_ee03adda955840a3.txt"
    for name in ("a.txt", "b.txt", "c.txt"):
        (source / name).write_bytes(sample.read_bytes())
    index_dir = tmp_path / "ix"
    invoke(runner, index_dir, "index", str(source))
    (source / "a.txt").unlink()
    (source / "b.txt").write_text(sample.read_text(encoding="utf-8") + "\n补充:警方再次提醒。", encoding="utf-8")
    report = json.loads(invoke(runner, index_dir, "index", str(source), "--json").stdout)
    assert (report["updated"], report["removed"], report["documents"]) == (1, 1, 2)
    ids = _ids_by_name(runner, index_dir)
    assert sorted(ids) == ["b.txt", "c.txt"] and ids["b.txt"] != ids["c.txt"]


def test_index_option_is_taken_after_the_command_too(runner, sample_index, tmp_path):
    for args in (["query", "诈骗", "--json"], ["show", "nope"], ["stats", "--json"]):
        result = runner.invoke(main, [*args, "--index", str(sample_index)], catch_exceptions=False)
        assert "No such option" not in result.stderr
        assert "building it from" not in result.stderr  # it used the index it was given
    result = runner.invoke(main, ["query", "诈骗", "--index", str(sample_index), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["total"] >= 3
    fresh = tmp_path / "fresh"
    result = runner.invoke(main, ["index", str(SAMPLES), "--index", str(fresh), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["documents"] == 5


def test_show_unknown_id_exits_1_with_a_message(runner, sample_index):
    result = invoke(runner, sample_index, "show", "0123456789abcdef")
    assert result.exit_code == 1 and "no document" in result.stderr


def test_files_not_taken_are_reported_with_the_reason(runner, tmp_path):
    source = tmp_path / "releases"
    source.mkdir()
    (source / "000.txt").write_bytes((SAMPLES / "000_077349ee10b9c296.txt").read_bytes())
    for name in ("report.pdf", "notes.md", "statement.docx", "old.doc"):
        (source / name).write_bytes(b"%PDF-1.4 not a release we read")
    (source / ".DS_Store").write_bytes(b"\0")
    index_dir = tmp_path / "ix"
    report = json.loads(invoke(runner, index_dir, "index", str(source), "--json").stdout)
    assert report["added"] == 1
    not_taken = {os.path.basename(item["path"]): item["reason"] for item in report["unsupported"]}
    assert sorted(not_taken) == ["notes.md", "old.doc", "report.pdf", "statement.docx"]
    assert "unsupported type (.pdf)" in not_taken["report.pdf"]
    text = invoke(runner, index_dir, "index", str(source)).stdout
    assert "4 not taken (unsupported type)" in text and "not taken " + str(source / "report.pdf") in text


def test_a_lone_unsupported_file_is_reported_and_not_remembered(runner, tmp_path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    index_dir = tmp_path / "ix"
    result = invoke(runner, index_dir, "index", str(pdf))
    assert result.exit_code == 1
    assert "not taken" in result.stdout and "unsupported type (.pdf)" in result.stdout
    assert "no file of a type that is read" in result.stderr
    remembered = invoke(runner, index_dir, "reindex")
    assert remembered.exit_code == 2 and "remembers no source folders" in remembered.stderr
