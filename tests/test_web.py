"""Flask test-client tests: every route, every bad parameter, headers and escaping."""

import json
import re

import pytest
from click.testing import CliRunner

from search.cli import main
from web import create_app


@pytest.fixture(scope="module")
def app(extended_engine):
    return create_app({"INDEX_DIR": str(extended_engine.index_dir), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def test_search_page_shows_highlighted_results_and_keeps_query(client):
    response = client.get("/", query_string={"q": "诈骗"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<mark>诈骗</mark>" in html
    assert 'value="诈骗"' in html
    assert re.search(r'id="total">\d+</strong>', html)
    assert "毫秒" in html


def test_empty_query_lists_newest_and_facets(client):
    html = client.get("/").get_data(as_text=True)
    assert "显示最新发布的通报" in html
    assert 'data-facet="district" data-value="九龙坡区"' in html
    assert 'data-value="重庆市"' in html and 'data-value="河南省"' in html
    assert "<svg" in html and 'data-value="2025"' in html


def test_district_facet_link_filters_and_shows_removable_chip(client):
    html = client.get("/", query_string={"q": "公安", "district": "九龙坡区"}).get_data(as_text=True)
    assert 'data-chip="district"' in html
    assert 'class="facet active" data-facet="district" data-value="九龙坡区"' in html
    total = int(re.search(r'id="total">(\d+)</strong>', html).group(1))
    assert total == 2
    # clicking the active facet again clears it
    link = re.search(r'href="([^"]+)" class="facet active"', html).group(1)
    assert "district" not in link


def test_year_click_offers_months_and_chip(client):
    html = client.get("/", query_string={"from": "2025-01-01", "to": "2025-12-31"}).get_data(as_text=True)
    assert "2025 年各月" in html
    assert 'data-value="2025-02"' in html
    assert 'data-chip="date"' in html


def test_sort_toggle_and_pagination_keep_filters(client):
    html = client.get("/", query_string={"q": "公安", "district": "重庆", "per_page": 1, "sort": "date"}).get_data(
        as_text=True
    )
    next_link = re.search(r'<a rel="next" href="([^"]+)"', html).group(1)
    assert "district=" in next_link and "sort=date" in next_link and "per_page=1" in next_link
    assert "page=2" in next_link


def test_zero_hits_suggests_removing_filters(client):
    html = client.get("/", query_string={"q": "套路贷", "district": "万州区"}).get_data(as_text=True)
    assert "没有找到匹配的通报" in html
    assert "去掉地区" in html


def test_document_page_highlights_and_shows_metadata(client):
    hit = client.get("/api/search", query_string={"q": "万州"}).get_json()["hits"][0]
    html = client.get(f"/doc/{hit['id']}", query_string={"q": "万州"}).get_data(as_text=True)
    assert "<mark>萬州</mark>" in html
    assert "004_2d3a257640d335f2.txt" in html
    assert "所述年份" in html and "2021" in html
    assert html.count("<p>") >= 10


def test_markup_in_documents_is_shown_as_text(client):
    html = client.get("/", query_string={"q": "防范"}).get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html
    hit = client.get("/api/search", query_string={"q": "防范"}).get_json()["hits"][0]
    page = client.get(f"/doc/{hit['id']}").get_data(as_text=True)
    assert "<script>alert" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page


def test_api_search_returns_exactly_the_cli_shape_but_the_server_path(client, extended_engine):
    api = client.get("/api/search", query_string={"q": "诈骗", "per_page": 3}).get_json()
    runner = CliRunner()
    cli = runner.invoke(main, ["--index", str(extended_engine.index_dir), "query", "诈骗", "--per-page", "3", "--json"])
    cli_data = json.loads(cli.stdout)
    api.pop("took_ms"), cli_data.pop("took_ms")
    # the CLI's user owns the index and is told where each file lies; the HTTP API never says
    assert all(hit.pop("path").endswith(".txt") for hit in cli_data["hits"])
    assert api == cli_data
    assert list(client.get("/api/search").get_json()) == [
        "query",
        "total",
        "page",
        "per_page",
        "took_ms",
        "mode",
        "total_all_words",
        "places",
        "did_you_mean",
        "also_matched",
        "undated",
        "hits",
        "facets",
    ]


def test_api_document_and_404(client):
    hit = client.get("/api/search", query_string={"q": "郾城"}).get_json()["hits"][0]
    document = client.get(f"/api/documents/{hit['id']}").get_json()
    assert document["district"] == "郾城区" and document["paragraphs"]
    missing = client.get("/api/documents/0000000000000000")
    assert missing.status_code == 404 and "error" in missing.get_json()
    assert client.get("/doc/0000000000000000").status_code == 404
    assert client.get("/doc/..%2F..%2Fetc%2Fpasswd").status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"per_page": "10000"},
        {"per_page": "0"},
        {"from": "garbage"},
        {"from": "2024-02-30"},
        {"from": "2025-01-01", "to": "2024-01-01"},
        {"q": '"unbalanced'},
        {"q": "(诈骗"},
        {"q": "nosuchfield:x"},
        {"sort": "random"},
        {"q": "x" * 5000},
        {"page": "99999999999999999999"},
    ],
)
def test_bad_parameters_get_400_with_message(client, query):
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 400
    assert response.get_json()["error"]
    page = client.get("/", query_string=query)
    assert page.status_code == 400
    assert "无法完成这次搜索" in page.get_data(as_text=True)


def test_repeated_parameters(client):
    assert client.get("/api/search?q=a&q=b").status_code == 400
    assert client.get("/api/search?q=a&q=a").status_code == 200


def test_page_beyond_end_is_empty_not_an_error(client):
    response = client.get("/api/search", query_string={"q": "公安", "page": 500})
    assert response.status_code == 200 and response.get_json()["hits"] == []


def test_security_headers_everywhere(client):
    for url in ("/", "/api/search", "/doc/0000000000000000", "/static/style.css", "/nope"):
        response = client.get(url)
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"


def test_unknown_route_and_method(client):
    assert client.get("/nope").status_code == 404
    assert client.post("/api/search").status_code == 405
    assert client.get("/api/nope").get_json()["error"]


def test_debugger_cannot_be_switched_on(extended_engine):
    app = create_app({"INDEX_DIR": str(extended_engine.index_dir), "DEBUG": True})
    assert app.debug is False


def test_unexpected_error_gives_500_page_without_traceback(app, monkeypatch):
    from web import engine_of

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(engine_of(app), "search", explode)
    response = app.test_client().get("/api/search")
    assert response.status_code == 500
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in app.test_client().get("/").get_data(as_text=True)


def test_missing_index_is_503(tmp_path):
    client = create_app({"INDEX_DIR": str(tmp_path / "none")}).test_client()
    assert client.get("/api/search").status_code == 503
    assert client.get("/").status_code == 503


def test_document_page_keeps_the_query_in_the_search_box(client):
    hit = client.get("/api/search", query_string={"q": "郾城"}).get_json()["hits"][0]
    html = client.get(f"/doc/{hit['id']}", query_string={"q": "郾城"}).get_data(as_text=True)
    assert 'name="q" value="郾城"' in html


def test_page_says_when_it_shows_partial_matches_and_which_synonyms_matched(client):
    partial = client.get("/", query_string={"q": "公安局 火星"}).get_data(as_text=True)
    assert 'id="partial-notice"' in partial and "以下是包含部分词语的最佳结果" in partial
    widened = client.get("/", query_string={"q": "诈欺"}).get_data(as_text=True)
    assert 'id="also-matched"' in widened and "<mark>诈骗</mark>" in widened
    plain = client.get("/", query_string={"q": "诈骗"}).get_data(as_text=True)
    assert 'id="partial-notice"' not in plain and 'id="also-matched"' not in plain
    api = client.get("/api/search", query_string={"q": "公安局 火星"}).get_json()
    assert api["mode"] == "any" and api["total"] > 0
