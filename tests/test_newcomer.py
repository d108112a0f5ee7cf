"""What a first-time user hit (issue 15): short place names, paging past the end, the document
page's way back, undated releases, messages in the page's language, the about page.

A real index of the samples plus one release in each of 广东, 广西, 内蒙古, 台湾, 香港 and 长沙
(``tests/fixtures/places``); the Flask test client and click's runner."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from click.testing import CliRunner

from search.cli import main
from search.sync import sync
from tests.conftest import REPO, SEEDS
from web import create_app

PLACES = REPO / "tests" / "fixtures" / "places"
SHORT_NAMES = {
    "河南": "河南省",
    "广东": "广东省",
    "广西": "广西壮族自治区",
    "内蒙古": "内蒙古自治区",
    "台湾": "台湾省",
    "臺灣": "台湾省",
    "香港": "香港特别行政区",
}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("newcomer-corpus")
    for path in [*SEEDS, *PLACES.iterdir()]:
        shutil.copy(path, corpus / path.name)
    index_dir = tmp_path_factory.mktemp("newcomer-index")
    report = sync(index_dir, [corpus])
    assert report.added == len(SEEDS) + 6 and not report.skipped
    return index_dir


@pytest.fixture(scope="module")
def client(index_dir):
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()


def cli(index_dir, *args):
    return CliRunner().invoke(main, ["--index", str(index_dir), *args], catch_exceptions=False)


def api(client, **query):
    response = client.get("/api/search", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("short", SHORT_NAMES)
def test_short_province_names_filter_everywhere(client, index_dir, short):
    province = SHORT_NAMES[short]
    for data in (
        api(client, district=short),
        api(client, q=f"province:{short}"),
        json.loads(cli(index_dir, "query", "", "--district", short, "--json").stdout),
    ):
        assert data["total"] == 1
        assert [hit["province"] for hit in data["hits"]] == [province]
    page = client.get("/", query_string={"district": short}).get_data(as_text=True)
    assert f'class="facet active" data-facet="district" data-value="{province}"' in page


def test_short_city_names_filter_everywhere(client, index_dir):
    assert api(client, district="广州")["total"] == 1
    # 长沙 is 长沙市, not 长沙县 (whose short form it also is)
    assert [hit["city"] for hit in api(client, district="长沙")["hits"]] == ["长沙市"]
    assert api(client, q="city:长沙")["total"] == 1
    assert api(client, q="city:广州")["total"] == 1
    assert api(client, q="city:南宁 OR city:呼和浩特")["total"] == 2
    assert api(client, district="漯河")["hits"][0]["city"] == "漯河市"
    # a district keeps its own short form, and district: looks among districts first
    assert api(client, district="九龙坡")["total"] == 2
    assert api(client, q="district:郾城")["total"] == 1


def test_page_past_the_end_says_so_and_links_the_last_page(client, index_dir):
    html = client.get("/", query_string={"q": "诈骗", "page": 5}).get_data(as_text=True)
    assert 'id="past-the-end"' in html and "第 5 页超出范围" in html
    last = re.search(r'<a href="([^"]+)" id="last-page">', html).group(1)
    assert "page=" not in last  # the only page is the first
    two_pages = client.get("/", query_string={"q": "公安", "per_page": 2, "page": 50}).get_data(as_text=True)
    pages = -(-api(client, q="公安", per_page=2)["total"] // 2)
    assert f"page={pages}" in re.search(r'<a href="([^"]+)" id="last-page">', two_pages).group(1)
    text = cli(index_dir, "query", "诈骗", "--page", "5").stdout
    assert "showing 0–0" not in text and "Page 5 is past the end" in text and "--page 1" in text


def test_document_link_and_back_link_keep_the_search(client):
    search = {"q": "公安", "district": "九龙坡区", "sort": "date", "per_page": 1, "page": 2}
    html = client.get("/", query_string=search).get_data(as_text=True)
    link = re.search(r'<h3><a href="(/doc/[^"]+)">', html).group(1).replace("&amp;", "&")
    document = client.get(link).get_data(as_text=True)
    back = re.search(r'<p class="back"><a href="([^"]+)">', document).group(1).replace("&amp;", "&")
    for part in (
        "q=%E5%85%AC%E5%AE%89",
        "district=%E4%B9%9D%E9%BE%99%E5%9D%A1%E5%8C%BA",
        "sort=date",
        "per_page=1",
        "page=2",
    ):
        assert part in back
    assert 'name="district" value="九龙坡区"' in document  # the search box searches within it too


def test_browsing_marks_newest_as_the_active_sort(client):
    browse = client.get("/").get_data(as_text=True)
    assert "<strong>最新</strong>" in browse and "<strong>相关度</strong>" not in browse
    searching = client.get("/", query_string={"q": "诈骗"}).get_data(as_text=True)
    assert "<strong>相关度</strong>" in searching


def test_date_filter_says_how_many_undated_releases_it_hides(client, index_dir):
    everything = api(client)
    assert everything["undated"] == 2  # samples 003 and 004 have no date
    hidden = api(client, **{"from": "2020-01-01"})
    shown = api(client, **{"from": "2020-01-01", "undated": 1})
    assert shown["total"] == hidden["total"] + 2
    assert {hit["date"] for hit in shown["hits"]} >= {None}
    html = client.get("/", query_string={"from": "2020-01-01"}).get_data(as_text=True)
    assert 'id="undated-hidden"' in html and "隐藏了 2 篇日期不详的通报" in html
    assert re.search(r'id="undated-count">日期不详 <span class="count">2</span>', html)
    included = client.get("/", query_string={"from": "2020-01-01", "undated": 1}).get_data(as_text=True)
    assert 'id="undated-hidden"' not in included and "日期不详" in included
    text = cli(index_dir, "query", "", "--from", "2020-01-01").stdout
    assert "hides 2 releases whose date is unknown" in text
    assert (
        json.loads(cli(index_dir, "query", "", "--from", "2020-01-01", "--include-undated", "--json").stdout)["total"]
        == hidden["total"] + 2
    )


@pytest.mark.parametrize(
    ("query", "chinese", "fix_label", "fixed"),
    [
        ({"q": '"电信诈骗'}, "引号不成对", "去掉引号再搜", {"q": "电信诈骗"}),
        ({"q": "(诈骗"}, "括号不成对", "去掉括号再搜", {"q": "诈骗"}),
        ({"q": "foo:诈骗"}, "没有“foo:”这个字段", "当作普通词语搜索", {"q": "foo 诈骗"}),
        ({"q": "诈骗", "page": "abc"}, "页码须为 1 到 10000 之间的整数", "用默认值", {"q": "诈骗"}),
        (
            {"from": "2025-01-01", "to": "2024-01-01"},
            "结束日期",
            "交换起止日期",
            {"from": "2024-01-01", "to": "2025-01-01"},
        ),
    ],
)
def test_refusals_are_in_chinese_on_the_page_with_the_fix_as_a_link(client, query, chinese, fix_label, fixed):
    response = client.get("/", query_string=query)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and chinese in html
    assert not re.search(r"unbalanced|unknown field|must be|is before", html)
    fix = re.search(r'<a href="([^"]+)" id="error-fix">([^<]+)</a>', html)
    assert fix_label in fix.group(2)
    repaired = client.get(fix.group(1).replace("&amp;", "&"))
    assert repaired.status_code == 200
    assert api(client, **fixed)["total"] == int(
        re.search(r'id="total">(\d+)<', repaired.get_data(as_text=True)).group(1)
    )
    body = client.get("/api/search", query_string=query).get_json()
    assert re.search(r"[a-z]", body["error"]) and chinese in body["error_zh"]


def test_stats_says_what_an_operator_checks_first(index_dir):
    data = json.loads(cli(index_dir, "stats", "--json").stdout)
    assert data["documents"] == len(SEEDS) + 6
    assert data["earliest"] == "2018-12-26" and data["latest"] == "2026-01-21"
    assert data["version"] and data["version"] != "unknown"
    assert data["index_bytes"] > 10_000
    assert data["last_reindex"]["added"] == len(SEEDS) + 6 and data["last_reindex"]["finished"]
    assert [folder.rsplit("/", 1)[-1] for folder in data["source_folders"]] == ["newcomer-corpus0"]
    text = cli(index_dir, "stats").stdout
    for label in ("version", "documents", "dates", "folders", "reindexed", "sources"):
        assert re.search(rf"^{label}\s", text, re.MULTILINE), label
    assert f"{len(SEEDS) + 6} added" in text and re.search(r"\(\d+(\.\d)? [KM]B\)", text)


def test_about_page_and_api_stats(client):
    html = client.get("/about").get_data(as_text=True)
    assert re.search(r'id="documents">11<', html)
    assert "2018-12-26 至 2026-01-21" in html
    assert re.search(r'id="last-reindex">[^<]*新增 11', html)
    assert re.search(r'id="index-size">[\d.]+ [KM]B<', html) and 'id="version">police-search ' in html
    assert "newcomer-corpus0" in html and "/tmp" not in html  # folder names, not the server's paths
    assert 'href="/about"' in client.get("/").get_data(as_text=True)
    stats = client.get("/api/stats").get_json()
    assert stats["documents"] == 11 and "index" not in stats


@pytest.mark.parametrize("typed", ["2025-1-1", "2025/01/01", "2025.1.1", "2025年1月1日"])
def test_dates_typed_the_usual_ways_are_read(client, typed):
    assert api(client, **{"from": typed})["total"] == api(client, **{"from": "2025-01-01"})["total"]


def test_stats_says_when_the_last_run_was_a_rebuild(tmp_path):
    index_dir = tmp_path / "ix"
    assert cli(index_dir, "index", "--rebuild", str(REPO / "samples")).exit_code == 0
    assert json.loads(cli(index_dir, "stats", "--json").stdout)["last_reindex"]["rebuilt"] is True
    assert "rebuilt, 5 added" in cli(index_dir, "stats").stdout
