"""Hostile and messy input: junk files beside good ones, markup in documents, adversarial queries
and parameters. Nothing crashes, every bad input gets a specific reason, no good document is lost."""

from __future__ import annotations

import codecs
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from search.formats.html import marked
from search.query import QueryError, SearchEngine
from tests.conftest import REPO, SEED_000, SEED_001, SEED_003, SEED_004
from web import create_app

CLI = [sys.executable, "-m", "search.cli"]
GOOD = [SEED_000, SEED_001, SEED_003]


def write_nasty_files(folder: Path) -> dict[str, str | None]:
    """Each junk file beside the good ones; value = expected skip reason (None: must be indexed)."""
    text_000 = SEED_000.read_text(encoding="utf-8")
    lines_003 = SEED_003.read_text(encoding="utf-8")
    expected: dict[str, str | None] = {}

    def put(name: str | bytes, data: bytes, reason: str | None) -> None:
        path = os.path.join(os.fsencode(folder), name) if isinstance(name, bytes) else folder / name
        with open(path, "wb") as handle:
            handle.write(data)
        key = os.fsdecode(name) if isinstance(name, bytes) else name
        expected[key] = reason

    put("empty.txt", b"", "empty file")
    put("blank.txt", b" \n\t\r\n  ", "only whitespace")
    put("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "binary")
    put("random.txt", random.Random(3).randbytes(4096), "binary")
    put("nul-inside.txt", text_000.encode()[:600] + b"\x00\x00\x00" + text_000.encode()[600:], "binary")
    put("utf16.txt", text_000.replace("载誉奋楫", "UTF十六").encode("utf-16"), None)
    header = "混合编码的通报\n发布时间:2024-06-01 | 来源:测试\n".encode()
    put("mixed.txt", header + lines_003.split("\n", 5)[-1].encode("gbk"), None)
    put("truncated.txt", SEED_004.read_text(encoding="utf-8").encode()[:-2], None)
    put("huge-line.txt", ("郾城分局开展夜间巡逻" * 700_000).encode(), "too large")
    put(
        "unclosed.html",
        "<html><body><div class=content><h1>未闭合的网页<p>万州区公安局破获一起案件,抓获嫌疑人两名。".encode(),
        None,
    )
    deep = "<div>" * 10_000 + "<p>渝北区公安分局开展反诈宣传,提醒群众谨防电信诈骗。</p>" + "</div>" * 10_000
    put("deep.html", f"<html><head><title>深层嵌套页面</title></head><body>{deep}</body></html>".encode(), None)
    put(
        "script-only.html",
        b"<html><body><script>var a='\xe9\x83\xbe\xe5\x9f\x8e';</script>"
        b"<iframe srcdoc='x'>\xe9\x83\xbe\xe5\x9f\x8e\xe5\x88\x86\xe5\xb1\x80</iframe></body></html>",
        "no readable text",
    )
    put("名字 带 空格.txt", "带空格的文件名\n发布时间:2023-03-03\n江北区公安分局破获盗窃案。".encode(), None)
    put("警情".encode("gbk") + b".txt", "GBK文件名\n发布时间:2023-04-04\n大渡口区公安分局开展巡逻。".encode(), None)
    os.mkfifo(folder / "pipe.txt")
    expected["pipe.txt"] = "not a regular file"
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "self.txt").symlink_to(folder / "self.txt")
    expected["self.txt"] = "cannot read"
    return expected


def run_index(index_dir: Path, source: Path, without_root_override: bool = False) -> subprocess.CompletedProcess:
    prefix: list[str] = []
    if without_root_override and os.geteuid() == 0:
        # root reads any file; drop the capabilities that let it, so permissions bite for real
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    return subprocess.run(
        [*prefix, *CLI, "--index", str(index_dir), "index", str(source), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=REPO,
        check=False,
    )


@pytest.mark.slow
def test_junk_files_are_reported_and_good_ones_all_indexed(tmp_path):
    source = tmp_path / "drop"
    source.mkdir()
    for seed in GOOD:
        shutil.copy(seed, source / seed.name)
    expected = write_nasty_files(source)
    completed = run_index(tmp_path / "ix", source)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    skipped = {Path(item["path"]).name: item["reason"] for item in report["skipped"]}
    should_skip = {name: reason for name, reason in expected.items() if reason}
    assert set(skipped) == set(should_skip), skipped
    for name, reason in should_skip.items():
        assert reason in skipped[name], (name, skipped[name])
    assert report["added"] == len(GOOD) + sum(1 for reason in expected.values() if reason is None)
    warned = {Path(item["path"]).name for item in report["warnings"]}
    assert {"mixed.txt", "truncated.txt"} <= warned

    engine = SearchEngine(tmp_path / "ix")
    assert engine.search("UTF十六").total_all_words == 1
    assert engine.search('"混合编码的通报"').total_all_words == 1
    assert engine.search("郾城分局 夜间巡逻").total_all_words >= 1
    assert engine.search("萬州區公安局 再立新功").total_all_words == 1  # the truncated copy lost one character only
    assert engine.search("未闭合的网页").total_all_words == 1
    assert engine.search("反诈宣传", district="渝北区").total_all_words == 1
    assert engine.search("带空格的文件名").total_all_words == 1
    gbk_named = engine.search("GBK文件名").hits[0]
    assert gbk_named.path.endswith("\\xbe\\xaf\\xc7\\xe9.txt")

    again = run_index(tmp_path / "ix", source)
    assert json.loads(again.stdout)["updated"] == 0  # odd names keep their ids across runs


@pytest.mark.slow
def test_unreadable_file_is_reported(tmp_path):
    source = tmp_path / "drop"
    source.mkdir()
    shutil.copy(SEED_000, source / SEED_000.name)
    secret = source / "secret.txt"
    secret.write_text("保密通报\n不应被读取。", encoding="utf-8")
    secret.chmod(0o000)
    completed = run_index(tmp_path / "ix", source, without_root_override=True)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["added"] == 1
    assert [(Path(s["path"]).name, s["reason"]) for s in report["skipped"]] == [("secret.txt", "permission denied")]


def test_nothing_indexable_exits_non_zero(tmp_path):
    source = tmp_path / "junk"
    source.mkdir()
    (source / "a.txt").write_bytes(b"")
    (source / "b.txt").write_bytes(b"\x00\x01\x02")
    completed = run_index(tmp_path / "ix", source)
    assert completed.returncode == 1
    assert "none of the 2 files could be indexed" in completed.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run_index(tmp_path / "ix2", empty).returncode == 1


MARKUP_TITLE = '通报</mark><script>alert("t")</script><img src=x onerror=alert(1)>'
MARKUP_BODY = (
    '民警提醒:<a href="javascript:alert(3)">点击</a>领取</mark>补贴是诈骗,<script>steal()</script>切勿相信。'
    "\x1b[2J\x1b[31m假的终端输出\x1b[0m"
)


@pytest.fixture(scope="module")
def markup_index(tmp_path_factory):
    from search.sync import sync

    source = tmp_path_factory.mktemp("markup")
    (source / "markup.txt").write_text(f"{MARKUP_TITLE}\n发布时间:2024-02-02\n{MARKUP_BODY}\n", encoding="utf-8")
    html = (
        f"<html><head><title>x</title></head><body><h1>{MARKUP_TITLE.replace('<', '&lt;')}</h1>"
        f'<p>网页里也有<a href="javascript:alert(4)">链接</a>,警方提醒防范诈骗。</p></body></html>'
    )
    (source / "page.html").write_text(html, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("markup-index")
    sync(index_dir, [source])
    return index_dir


def test_markup_is_text_in_results_document_page_and_json(markup_index):
    client = create_app({"INDEX_DIR": str(markup_index)}).test_client()
    page = client.get("/", query_string={"q": "诈骗"}).get_data(as_text=True)
    for dangerous in ("<script>", "<img src=x", 'href="javascript:', "</mark><script"):
        assert dangerous not in page
    assert "&lt;/mark&gt;&lt;script&gt;" in page
    data = client.get("/api/search", query_string={"q": "诈骗"}).get_json()
    titles = {hit["title"] for hit in data["hits"]}
    assert MARKUP_TITLE in titles  # JSON carries the text as data, unmodified
    for hit in data["hits"]:
        assert "<script>" not in hit["snippet"] and "</mark><" not in hit["snippet"].replace("</mark><mark>", "")
        document = client.get(f"/doc/{hit['id']}", query_string={"q": "诈骗"}).get_data(as_text=True)
        assert "<script>" not in document and 'href="javascript:' not in document


def test_cli_strips_terminal_escapes_from_documents(markup_index):
    completed = subprocess.run(
        [*CLI, "--index", str(markup_index), "query", "诈骗", "--color"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert completed.returncode == 0
    assert "\x1b[2J" not in completed.stdout and "\x1b[31m" not in completed.stdout
    assert "\x1b[1;31m诈骗\x1b[0m" in completed.stdout


ADVERSARIAL_QUERIES = [
    '"unbalanced',
    "(诈骗",
    "诈骗)",
    "AND",
    "NOT",
    "OR",
    "AND OR NOT",
    "诈骗 AND",
    "NOT 诈骗",
    "foo:bar",
    "title:",
    "district:",
    "*",
    "?",
    "??",
    "*骗",
    "诈*",
    "title:*",
    "x" * 10_000,
    "诈骗\x00\x07\x1b[2J",
    "😀",
    "😀 诈骗",
    "萬州 万州区",
    "诈骗　嫌疑人",
    "“电信诈骗”",
    "（诈骗）",
    "，。！",
    '""',
    "{}",
    "\\",
    "[a TO z]",
    "year:[2018 TO 2025]",
    "诈骗^1000000",
    '"诈骗"~99999',
    "诈* 公* 万* 九*",
    " ".join(["诈骗"] * 100),
    "<script>alert(1)</script>",
    "%00",
    "' OR 1=1 --",
]


@pytest.mark.parametrize("query", ADVERSARIAL_QUERIES)
def test_adversarial_queries_give_results_or_a_clear_400(engine, query):
    try:
        result = engine.search(query)
        assert result.total >= 0
        for hit in result.hits:
            assert "<script>" not in marked(hit.snippet)
    except QueryError as error:
        assert str(error)
    client = create_app({"INDEX_DIR": str(engine.index_dir)}).test_client()
    response = client.get("/api/search", query_string={"q": query})
    assert response.status_code in (200, 400, 414)
    assert response.is_json
    if response.status_code != 200:
        assert response.get_json()["error"]


def test_full_width_space_and_chinese_quotes_work_like_ascii(engine):
    assert engine.search("诈骗　嫌疑人").total == engine.search("诈骗 嫌疑人").total > 0
    assert engine.search("“电信诈骗”").total == engine.search('"电信诈骗"').total == 1


def test_wildcards_that_would_scan_the_vocabulary_are_refused(engine):
    for query in ("?", "*骗", "??"):
        with pytest.raises(QueryError, match="wildcard needs"):
            engine.search(query)
    with pytest.raises(QueryError, match="at most 3"):
        engine.search("诈* 公* 万* 九*")
    assert engine.search("*").total == 5
    assert engine.search("诈*").total >= 3


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2024-02-30"},
        {"to": "2024-13-01"},
        {"from": "2025-01-01", "to": "2024-01-01"},
        {"page": "-5"},
        {"page": "1e9"},
        {"per_page": "-1"},
        {"per_page": "99999999999"},
        {"page": "１"},
        {"sort": "date; DROP TABLE"},
        {"from": "2024-1-1"},
    ],
)
def test_bad_parameters_are_400_never_500(engine, params):
    client = create_app({"INDEX_DIR": str(engine.index_dir)}).test_client()
    response = client.get("/api/search", query_string=params)
    assert response.status_code in (200, 400), response.get_data(as_text=True)
    assert response.is_json


def test_unknown_district_and_page_beyond_end_are_empty_results(engine):
    client = create_app({"INDEX_DIR": str(engine.index_dir)}).test_client()
    assert client.get("/api/search?district=火星").get_json()["total"] == 0
    assert client.get("/api/search?page=9999").get_json()["hits"] == []


def test_server_limits_and_traversal(engine):
    client = create_app({"INDEX_DIR": str(engine.index_dir)}).test_client()
    assert client.get("/api/search?q=" + "%E8%AF%88" * 3000).status_code == 414
    assert client.post("/api/search", data=b"x" * (1024 * 1024)).status_code in (405, 413)
    for url in (
        "/doc/../../etc/passwd",
        "/doc/%2e%2e%2fsecret",
        "/static/../search/index.py",
        "/static/%2e%2e/__init__.py",
        "/static/..%2f..%2fsetup.cfg",
        "/api/documents/..%2F..%2Fetc",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"import" not in response.data and b"[metadata]" not in response.data
    assert client.get("/static/style.css").status_code == 200


def test_utf16_bom_and_mixed_encodings_decode(tmp_path):
    from search.load import decode

    text = SEED_004.read_text(encoding="utf-8")
    assert decode(codecs.BOM_UTF16_BE + text.encode("utf-16-be"))[0] == text
    warnings: list[str] = []
    mixed = "标题\n".encode() + "正文是GBK编码的内容。".encode("gbk")
    assert decode(mixed, warnings=warnings)[0] == "标题\n正文是GBK编码的内容。"
    assert warnings


@pytest.mark.parametrize(
    ("encoded", "encoding"),
    [
        (lambda text: text.encode("utf-16-le"), "utf-16-le"),
        (lambda text: text.encode("utf-16-be"), "utf-16-be"),
        (lambda text: codecs.BOM_UTF32_LE + text.encode("utf-32-le"), "utf-32"),
        (lambda text: codecs.BOM_UTF32_BE + text.encode("utf-32-be"), "utf-32"),
    ],
)
def test_utf16_without_bom_and_utf32_with_bom_decode(encoded, encoding):
    from search.load import decode

    text = SEED_004.read_text(encoding="utf-8")
    assert decode(encoded(text)) == (text, encoding)


def test_binary_with_nul_bytes_is_still_refused():
    from search.load import LoadError, decode

    noise = random.Random(4).randbytes(4096)
    for data in (noise, b"\x00\x01" * 2000, "ASCII only, no Chinese".encode("utf-16-le")):
        with pytest.raises(LoadError, match="binary"):
            decode(data)


def test_symlinks_out_of_a_source_folder_are_refused_unless_asked(tmp_path):
    source, outside = tmp_path / "drop", tmp_path / "outside"
    source.mkdir()
    outside.mkdir()
    shutil.copy(SEED_000, source / "real.txt")
    shutil.copy(SEED_001, outside / "private.txt")
    shutil.copy(SEED_003, source / "inner.txt")
    (source / "to-file.txt").symlink_to(outside / "private.txt")
    (source / "to-folder").symlink_to(outside)
    (source / "to-passwd.txt").symlink_to("/etc/passwd")
    index_dir = tmp_path / "ix"
    completed = run_index(index_dir, source)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    refused = {Path(item["path"]).name for item in report["skipped"] if "--follow-symlinks" in item["reason"]}
    assert refused == {"to-file.txt", "to-folder", "to-passwd.txt"}
    assert report["added"] == 2  # real.txt and inner.txt
    followed = subprocess.run(
        [*CLI, "--index", str(tmp_path / "ix2"), "index", str(source), "--json", "--follow-symlinks"],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=300,
    )
    assert followed.returncode == 0, followed.stderr
    assert json.loads(followed.stdout.strip().splitlines()[-1])["added"] == 5  # every link followed
