"""The OpenSearch/Elasticsearch export (search.opensearch, ``police-search export``): bulk lines of
the shapes the bulk API documents, text fields whose whitespace tokens are exactly our analyser's,
and a mapping that declares every field the documents carry."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search import opensearch
from search.analysis import ChineseAnalyzer, index_terms
from search.cli import main
from search.query import SearchEngine
from search.sync import sync
from tests.conftest import REPO, SEEDS, TELECOM_ONLY

TRADITIONAL = """臺北市政府警察局萬華分局破獲電信詐騙集團 逮捕車手3人

發布日期：2024-03-05
來源：臺北市政府警察局

萬華分局於3月1日在萬華區龍山寺附近逮捕3名車手，查扣提款卡12張、現金新臺幣45萬元。
警方呼籲民眾接獲「解除分期付款」電話，請撥打165反詐騙諮詢專線查證。
"""
MIXED = """警方提醒:警惕ＡＰＰ与APP刷单诈骗 5G时代iPhone15用户需注意

发布时间:2018-12-26 10:00 | 来源:平安某县

12月20日,某县公安局接到报警,一名用户通过某ＡＰＰ下载“Wi-Fi助手V2.3”后,被骗18.08%的存款共计12,500元。
民警提示:不明链接https://example.cn/a?b=1不要点击,QQ号123456789与微信号abc_DEF-99均系诈骗账号。
"""
UNDATED = """某区派出所开展反诈宣传进社区活动

民警向社区居民讲解电信网络诈骗的常见手法,发放宣传资料200余份,提醒群众守好钱袋子。
"""

# Java's Character.isWhitespace, which Lucene's whitespace tokenizer splits on: the space
# separators but the no-break ones, and these controls.
_JAVA_WHITESPACE = set("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f")


def server_tokens(text: str) -> list[str]:
    """What the mapping's analyzer (``whitespace`` tokenizer + ``lowercase``) makes of ``text``."""
    tokens, current = [], []
    for char in text:
        java_space = char in _JAVA_WHITESPACE or (
            unicodedata.category(char) in ("Zs", "Zl", "Zp") and char not in "\u00a0\u2007\u202f"
        )
        if java_space:
            if current:
                tokens.append("".join(current))
            current = []
        else:
            current.append(char)
    if current:
        tokens.append("".join(current))
    assert all(len(token) <= opensearch.MAX_TOKEN_LENGTH for token in tokens)
    return [token.lower() for token in tokens]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("opensearch-corpus")
    for seed in SEEDS:
        shutil.copy(seed, folder / seed.name)
    for name, text in (("traditional.txt", TRADITIONAL), ("mixed.txt", MIXED), ("undated.txt", UNDATED)):
        (folder / name).write_text(text, encoding="utf-8")
    # the same release in two files: one id, so one bulk document
    (folder / "telecom.txt").write_text(TELECOM_ONLY, encoding="utf-8")
    (folder / "telecom_copy.txt").write_text(TELECOM_ONLY, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def index_dir(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("opensearch-index")
    report = sync(folder, [corpus])
    assert report.added == len(SEEDS) + 5 and not report.skipped
    return folder


@pytest.fixture(scope="module")
def export_engine(index_dir: Path) -> SearchEngine:
    engine = SearchEngine(index_dir)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def bulk_text(export_engine: SearchEngine) -> str:
    out = io.BytesIO()
    count = opensearch.write_bulk(export_engine, out, "releases-test")
    assert count == len(SEEDS) + 4
    return out.getvalue().decode("utf-8")


@pytest.fixture(scope="module")
def documents(bulk_text: str) -> list[dict]:
    return [json.loads(line) for line in bulk_text.splitlines()[1::2]]


def by_raw_title(documents: list[dict], start: str) -> dict:
    return next(document for document in documents if document["title_raw"].startswith(start))


def content_ids(engine: SearchEngine) -> set[str]:
    result = engine.search("", per_page=100, collapse=False, include_undated=True)
    return {hit.id for hit in result.hits}


def test_every_line_is_json_and_actions_alternate_with_documents(bulk_text):
    assert bulk_text.endswith("\n")  # the bulk API wants the last line ended too
    lines = bulk_text.split("\n")[:-1]
    assert len(lines) % 2 == 0
    for action_line, document_line in zip(lines[::2], lines[1::2], strict=True):
        action, document = json.loads(action_line), json.loads(document_line)
        assert isinstance(action, dict) and len(action) == 1
        (verb,) = action
        assert verb in ("index", "create")
        assert set(action[verb]) == {"_index", "_id"}
        assert action[verb]["_index"] == "releases-test"
        assert action[verb]["_id"] == document["id"]
        assert isinstance(document, dict) and "index" not in document and "create" not in document


def test_ids_are_the_content_ids_each_once(bulk_text, export_engine):
    ids = [json.loads(line)["index"]["_id"] for line in bulk_text.splitlines()[::2]]
    assert len(ids) == len(set(ids))
    assert set(ids) == content_ids(export_engine)
    assert all(re.fullmatch(r"[0-9a-f]{16}", doc_id) for doc_id in ids)


def test_text_fields_split_on_whitespace_into_our_analysers_tokens(documents):
    analyser = ChineseAnalyzer()
    checked = 0
    for document in documents:
        for name in opensearch.TEXT_FIELDS:
            if name not in document:
                assert f"{name}_raw" not in document
                continue
            raw, segmented = document[f"{name}_raw"], document[name]
            ours = [token.text for token in analyser(raw)]
            assert ours, raw
            assert segmented.split(" ") == ours  # single spaces, nothing empty
            assert server_tokens(segmented) == ours
            # and the very terms the index holds for that text (its fast path, not the analyser)
            assert Counter(ours) == Counter({term: len(positions) for term, positions in index_terms(raw).items()})
            checked += 1
    assert checked >= 2 * len(documents)


# Simplified and Traditional ideographs, Latin in both widths, digits, every kind of space and
# the punctuation that splits mixed runs.
_ALPHABET = "公安局萬華區警察詐騙电信诈骗车手龍山寺九龙坡" + "abcXYZＡＢＣｘｙｚ0123４５６_-.%/:@"
_ALPHABET += " \t\n\u3000\u00a0\u2007\u202f\u1680\u2028\x1c"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=_ALPHABET, max_size=80))
def test_any_text_reaches_the_server_as_our_tokens(text):
    ours = [token.text for token in ChineseAnalyzer()(text)]
    assert server_tokens(opensearch.segmented(text)) == ours


def test_traditional_script_arrives_folded(documents):
    document = by_raw_title(documents, "臺北市政府警察局萬華分局")
    title, body = document["title"].split(), document["body"].split()
    assert {"台北市", "万华", "电信诈骗", "诈骗"} <= set(title) and {"万华区", "龙山寺", "新台币"} <= set(body)
    assert not {"臺北市", "萬華", "詐騙", "萬華區", "新臺幣"} & set(title + body)
    assert "萬華分局" in document["body_raw"]  # the original is kept as written


def test_latin_and_digits_are_folded_and_lowercased(documents):
    document = by_raw_title(documents, "警方提醒:警惕ＡＰＰ")
    title, body = document["title"].split(), document["body"].split()
    assert "app" in title and "ＡＰＰ" not in title and "APP" not in title
    assert {"18", "08", "12", "500", "https", "example", "qq号", "123456789", "abc_def", "99"} <= set(body)
    assert {"5g", "iphone15"} <= set(title)
    assert "ＡＰＰ" in document["title_raw"]


def test_facets_are_keywords_and_an_undated_release_has_no_date(documents):
    undated = by_raw_title(documents, "某区派出所开展反诈宣传")
    assert "date" not in undated
    dated = [document for document in documents if "date" in document]
    assert dated and all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", document["date"]) for document in dated)
    seeded = by_raw_title(documents, "载誉奋楫再出发")
    assert seeded["district"] == "九龙坡区" and seeded["province"] == "重庆市" and seeded["report_year"] == "2024"
    assert all(isinstance(document.get("crime_types", []), list) for document in documents)
    assert any("诈骗" in document.get("crime_types", []) for document in documents)
    assert all(document["story"] for document in documents)


def test_mapping_declares_every_field_of_the_documents(documents):
    body = json.loads(json.dumps(opensearch.index_body()))
    analyzers = body["settings"]["analysis"]["analyzer"]
    analyzer = analyzers[opensearch.ANALYZER_NAME]
    tokenizer = analyzer["tokenizer"]
    tokenizer = body["settings"]["analysis"].get("tokenizer", {}).get(tokenizer, {"type": tokenizer})
    assert tokenizer["type"] == "whitespace"
    assert tokenizer.get("max_token_length", 255) >= 255
    assert analyzer["filter"] == ["lowercase"]  # ours lowercases (LowercaseFilter), so the server does too
    properties = body["mappings"]["properties"]
    assert {field["type"] for field in properties.values()} <= {"text", "keyword", "date"}
    assert properties["date"] == {"type": "date", "format": "strict_date"}
    for name in ("title", "body"):
        assert properties[name]["analyzer"] in analyzers
        assert properties[f"{name}_raw"].get("index") is False
    for name in ("province", "city", "district", "source", "crime_types", "story", "report_year"):
        assert properties[name]["type"] == "keyword"
    used = {field for document in documents for field in document}
    assert used <= set(properties)
    assert {"title", "body", "date", "district", "crime_types", "story"} <= used


def test_export_streams_one_release_at_a_time(export_engine, monkeypatch):
    built = []
    original = opensearch.bulk_document
    monkeypatch.setattr(opensearch, "bulk_document", lambda *args: built.append(1) or original(*args))
    lines = opensearch.bulk_lines(export_engine)
    next(lines), next(lines)
    assert len(built) == 1  # the first release is out before the second is read
    lines.close()


def test_an_updated_release_is_exported_once_in_its_new_version(tmp_path):
    folder = tmp_path / "releases"
    folder.mkdir()
    (folder / "a.txt").write_text(TELECOM_ONLY, encoding="utf-8")
    shutil.copy(SEEDS[0], folder / SEEDS[0].name)
    sync(tmp_path / "ix", [folder])
    (folder / "a.txt").write_text(TELECOM_ONLY + "\n补充:警方再次提醒。\n", encoding="utf-8")
    sync(tmp_path / "ix", [folder])  # the old version stays in the segment, marked deleted
    engine = SearchEngine(tmp_path / "ix")
    try:
        exported = [action["index"]["_id"] for action, _ in opensearch.bulk_actions(engine)]
        assert sorted(exported) == sorted(content_ids(engine)) and len(exported) == 2
        assert any("再次提醒" in document["body_raw"] for _, document in opensearch.bulk_actions(engine))
    finally:
        engine.close()


@pytest.mark.parametrize("name", ["police-releases", "releases_2026", "警讯", "a.b", "x+y"])
def test_index_names_opensearch_accepts(name):
    assert opensearch.check_index_name(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Releases", "lowercase"),
        ("a/b", "cannot contain /"),
        ("a\\b", "cannot contain \\"),
        ("a*b", "cannot contain *"),
        ("what?", "cannot contain ?"),
        ('a"b', 'cannot contain "'),
        ("a<b>", "cannot contain < >"),
        ("a|b", "cannot contain |"),
        ("a,b", "cannot contain ,"),
        ("a#b", "cannot contain #"),
        ("a b", "cannot contain space"),
        ("-x", "cannot start with -"),
        ("_x", "cannot start with _"),
        ("+x", "cannot start with +"),
        ("..", "cannot be"),
        ("", "empty"),
        ("a" * 256, "255 bytes"),
    ],
)
def test_bad_index_names_are_refused_with_the_reason(index_dir, tmp_path, name, reason):
    output = tmp_path / "out.ndjson"
    result = CliRunner().invoke(
        main, ["--index", str(index_dir), "export", "--index-name", name, "--output", str(output)]
    )
    assert result.exit_code == 2
    assert "--index-name" in result.stderr and reason in result.stderr
    assert "Traceback" not in result.output and not output.exists()
    with pytest.raises(opensearch.IndexNameError):
        list(opensearch.bulk_lines(SearchEngine(index_dir), name))


def test_export_command_runs_as_a_process_and_writes_a_file(index_dir, tmp_path, bulk_text):
    output = tmp_path / "export.ndjson"
    command = [sys.executable, "-m", "search.cli", "export", "--format", "opensearch"]
    command += ["--index-name", "releases-test", "--output", str(output), "--index", str(index_dir)]
    completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""
    assert f"exported {len(SEEDS) + 4} releases" in completed.stderr
    assert output.read_text(encoding="utf-8") == bulk_text
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]  # no temporary left

    mapping = subprocess.run(
        [sys.executable, "-m", "search.cli", "export", "--mapping", "--index-name", "releases-test"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "POLICE_SEARCH_INDEX": str(tmp_path / "no-index-needed")},
    )  # fmt: skip
    assert mapping.returncode == 0, mapping.stderr
    assert json.loads(mapping.stdout) == opensearch.index_body()


def test_export_to_stdout_is_the_same_bulk_body(index_dir, bulk_text):
    result = CliRunner().invoke(main, ["export", "--index", str(index_dir), "--index-name", "releases-test"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == bulk_text


def test_no_index_and_unwritable_output_are_clear_errors(index_dir, tmp_path):
    runner = CliRunner()
    output = tmp_path / "export.ndjson"
    missing = runner.invoke(main, ["--index", str(tmp_path / "none"), "export", "--output", str(output)])
    assert missing.exit_code == 1 and "no index in" in missing.stderr
    assert missing.exception is None or isinstance(missing.exception, SystemExit)
    assert not output.exists() and not list(tmp_path.glob(".export*"))
    for target in (tmp_path / "no-such-folder" / "x.ndjson", tmp_path):
        unwritable = runner.invoke(main, ["--index", str(index_dir), "export", "--output", str(target)])
        assert unwritable.exit_code in (1, 2) and "Traceback" not in unwritable.output
        assert str(target) in unwritable.stderr or "--output" in unwritable.stderr
