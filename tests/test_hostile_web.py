"""Hostile requests against the real Flask app: queries beyond the work budget, operators that used
to crash, abusive Host headers and bodies, a missing or damaged index. Never a 500, never a
redirect to another host, never a server path in an error, always the security headers."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from search.index import current_generation
from search.query import QueryError
from search.sync import sync
from tests.conftest import SAMPLES
from web import SECURITY_HEADERS, create_app

DOC = "0123456789abcdef"
# a pasted paragraph cut at odd places: each chunk becomes several terms, phrases and bigram runs
PASTED_CHUNKS = [
    *("隆林各族自治", "县警方破获一", "百色市隆林各", "族自治县公安", "分局召开工作", "江北区华新村"),
    *("居民李女士的", "感受是我市市", "民如今的普遍", "为深入推进扫", "黑除恶专项斗", "进一步提升人"),
]


@pytest.fixture(scope="module")
def client(sample_index):
    return create_app({"INDEX_DIR": str(sample_index)}).test_client()


def assert_secure(response) -> None:
    for name in SECURITY_HEADERS:
        assert name in response.headers, name


@pytest.mark.parametrize(
    ("query", "advice", "advice_zh"),
    [
        ("[一 TO 龥]", "narrow it", "请缩小范围"),  # the whole vocabulary: 17 s on 2,000 releases
        ("body:[a TO 龥]", "narrow it", "请缩小范围"),
        ('"' + "民警" * 200 + '"', "at most", "最多"),  # RecursionError
        ('"' + "民警" * 30 + '"', "quote a shorter part", "只给其中一段加引号"),
        (" ".join(f'"民警{n}"' for n in range(120)), "at most", "最多"),  # many quoted phrases
        ("(" * 40 + "民警" + ")" * 40, "nested", "括号嵌套太深"),
        (" ".join(PASTED_CHUNKS), "too complex", "搜索式太复杂"),
    ],
)
def test_queries_beyond_the_work_budget_are_a_400_that_says_what_to_change(engine, client, query, advice, advice_zh):
    with pytest.raises(QueryError, match=advice):
        engine.search(query)
    response = client.get("/api/search", query_string={"q": query})
    assert response.status_code == 400 and advice in response.get_json()["error"]
    assert advice_zh in response.get_json()["error_zh"]
    page = client.get("/", query_string={"q": query})  # the page speaks the interface's language
    assert page.status_code == 400 and advice_zh in page.get_data(as_text=True)


def test_budget_leaves_ordinary_queries_alone(engine):
    assert engine.search("year:[2015 TO 2026]").total == 3  # two seeds are undated
    assert engine.search("诈* OR 公* OR 民*").total == 5  # three prefixes, each in two fields
    assert engine.search("重庆 九龙坡区 警方 破获 电信诈骗 案件 民警 提醒 群众").total >= 0
    assert engine.search('"电信诈骗" "九龙坡" 民警').total >= 0


@pytest.mark.parametrize("operator", ["ANDNOT", "ANDMAYBE", "REQUIRE"])
def test_binary_operators_work_everywhere(engine, client, operator):
    result = engine.search(f"民警 {operator} 诈骗")
    assert result.total >= 0
    assert engine.search(f"a {operator} b").total >= 0
    assert client.get("/api/search", query_string={"q": f"a {operator} b"}).status_code == 200
    assert client.get("/", query_string={"q": f"民警 {operator} 诈骗"}).status_code == 200
    doc = engine.search("民警").hits[0].id
    assert client.get(f"/doc/{doc}", query_string={"q": f"民警 {operator} 诈骗"}).status_code == 200
    if operator == "ANDNOT":
        assert result.total == engine.search("民警 NOT 诈骗").total


@pytest.mark.parametrize("path", ["/", "/?q=民警", "/api/search?q=民警", f"/doc/{DOC}", "/nowhere"])
def test_a_host_label_urls_cannot_be_built_for_is_a_400_with_headers(client, path):
    response = client.get(path, headers={"Host": "a" * 64 + ".example"})
    assert response.status_code == 400
    assert_secure(response)


def test_no_redirect_is_built_from_the_host_header(client):
    for path in ("/api//search?q=a", "//api/search", "/api/search/", "//"):
        response = client.get(path, headers={"Host": "evil.example"})
        assert response.status_code in (200, 404), path
        assert "evil.example" not in response.headers.get("Location", "")


def test_big_bodies_get_413(client):
    response = client.get("/api/search?q=民警", data=b"x" * (100 * 1024))
    assert response.status_code == 413 and response.is_json
    assert client.get("/", data=b"x" * (100 * 1024)).status_code == 413


def test_405_says_which_methods_are_allowed(client):
    for path in ("/api/search", "/", f"/api/documents/{DOC}"):
        response = client.post(path)
        assert response.status_code == 405
        assert "GET" in response.headers["Allow"]
        assert_secure(response)


def _damage(index_dir: Path, how: str) -> None:
    generation = current_generation(index_dir)
    if how == "no index":
        shutil.rmtree(index_dir)
        index_dir.mkdir()
    elif how == "dangling current":
        shutil.rmtree(generation)
    elif how == "deleted toc":
        next(generation.glob("_releases_*.toc")).unlink()
    elif how == "empty toc":
        next(generation.glob("_releases_*.toc")).write_bytes(b"")
    elif how == "truncated segment":
        segment = next(generation.glob("*.seg"))
        segment.write_bytes(segment.read_bytes()[:1000])
    elif how == "garbage segment":
        next(generation.glob("*.seg")).write_bytes(b"\0junk" * 500)


DAMAGE = ["no index", "dangling current", "deleted toc", "empty toc", "truncated segment", "garbage segment"]


@pytest.mark.parametrize("how", DAMAGE)
def test_missing_or_damaged_index_is_a_503_without_server_paths(tmp_path, how):
    index_dir = tmp_path / "secret-location" / "ix"
    sync(index_dir, [SAMPLES])
    _damage(index_dir, how)
    client = create_app({"INDEX_DIR": str(index_dir)}).test_client()
    for path in ("/", "/?q=民警", "/api/search?q=民警", "/api/search", f"/doc/{DOC}", f"/api/documents/{DOC}"):
        response = client.get(path)
        assert response.status_code == 503, (path, response.get_data(as_text=True))
        assert "secret-location" not in response.get_data(as_text=True)
        assert_secure(response)


def test_openapi_documents_empty_dates_and_their_order(client):
    spec = client.get("/api/openapi.json").get_json()
    parameters = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    for name in ("from", "to"):
        assert parameters[name]["allowEmptyValue"] is True
        assert "empty" in parameters[name]["description"]
    assert "before" in parameters["to"]["description"]
    assert client.get("/api/search?to=").status_code == 200
    assert client.get("/api/search?from=2025-01-01&to=2024-01-01").status_code == 400


def test_files_the_index_writes_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        sync(tmp_path / "ix", [SAMPLES])
    finally:
        os.umask(old)
    for path in (tmp_path / "ix").rglob("*"):
        if path.is_file() and not path.name.startswith("."):
            assert path.stat().st_mode & 0o044 == 0o044, path
