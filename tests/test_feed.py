"""Atom feeds of a saved search (``/feed.atom``): parsed with ``xml.etree`` in the Atom namespace
and compared with the JSON result of the same search, newest first."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.cli import main
from search.formats.atom import FEED_SIZE, entry_id, xml_text
from tests.export_corpus import build_export_index
from web import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})")


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    return build_export_index(tmp_path_factory.mktemp("feeds"))


@pytest.fixture(scope="module")
def client(index_dir):
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()


def feed_of(client, headers: dict | None = None, **args) -> ET.Element:
    response = client.get("/feed.atom", query_string=args, headers=headers)
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    return ET.fromstring(response.get_data())


def newest(client, **args) -> list[dict]:
    """What the feed should hold: the JSON result of the same search by date, the dated releases."""
    data = client.get("/api/search", query_string={**args, "sort": "date", "per_page": FEED_SIZE}).get_json()
    return [hit for hit in data["hits"] if hit["date"]]


def test_feed_is_atom_with_the_newest_releases_of_the_search(client):
    feed = feed_of(client, q="公安", collapse="0")
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id").startswith("tag:police-search,2026:search?")
    assert feed.findtext(f"{ATOM}title") == "警讯搜索：公安"
    assert RFC3339.fullmatch(feed.findtext(f"{ATOM}updated"))
    assert feed.find(f"{ATOM}author/{ATOM}name").text
    links = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    # without PUBLIC_URL, paths: never an address built from the Host header a client sends
    assert links["self"].startswith("/feed.atom?") and "q=%E5%85%AC%E5%AE%89" in links["self"]
    assert links["alternate"].startswith("/?")
    entries = feed.findall(f"{ATOM}entry")
    expected = newest(client, q="公安", collapse="0")
    assert len(entries) == len(expected) == FEED_SIZE  # more releases match: the newest 50
    for entry, hit in zip(entries, expected, strict=True):
        assert entry.findtext(f"{ATOM}id") == f"tag:police-search,2026:release/{hit['id']}"
        assert entry.findtext(f"{ATOM}title") == xml_text(hit["title"])
        assert entry.findtext(f"{ATOM}updated") == f"{hit['date']}T00:00:00+08:00"
        (link,) = entry.findall(f"{ATOM}link")
        assert link.get("href") == f"/doc/{hit['id']}" and link.get("rel") == "alternate"
        assert entry.findtext(f"{ATOM}summary") == xml_text(hit["snippet_text"])
        assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == hit["crime_types"]
    assert feed.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}updated")


def test_feed_follows_the_filters_and_leaves_out_undated_releases(client):
    feed = feed_of(client, q="公安", district="九龙坡", collapse="0")
    entries = feed.findall(f"{ATOM}entry")
    expected = newest(client, q="公安", district="九龙坡", collapse="0")
    assert 0 < len(entries) < FEED_SIZE
    assert [e.findtext(f"{ATOM}id") for e in entries] == [entry_id(hit["id"]) for hit in expected]
    assert feed.findtext(f"{ATOM}title") == "警讯搜索：公安 · 九龙坡"
    undated = {"q": "title:亮剑", "sort": "date", "collapse": "0"}
    everything = client.get("/api/search", query_string=undated).get_json()["hits"]
    assert everything and all(hit["date"] is None for hit in everything)  # a seed without a date
    assert feed_of(client, q="title:亮剑", collapse="0").findall(f"{ATOM}entry") == []


def test_feed_escapes_markup_and_drops_characters_xml_forbids(client):
    body = client.get("/feed.atom", query_string={"q": "防范 OR 盗窃"}).get_data(as_text=True)
    assert "<script>" not in body and "&lt;script&gt;" in body
    feed = ET.fromstring(body)  # would raise on \x0b or \x0c, which XML 1.0 does not allow
    titles = [entry.findtext(f"{ATOM}title") for entry in feed.findall(f"{ATOM}entry")]
    assert any("<script>alert(1)</script>" in title for title in titles)  # the text, as text
    assert "某区公安分局通报一起盗窃案件" in titles
    assert xml_text("a\x0bb\x00c\ud800d\ufffe") == "abcd"


def test_feed_ids_stay_the_same_for_the_same_search(client):
    first = feed_of(client, q="公安", district="九龙坡")
    again = feed_of(client, district="九龙坡", q="公安", sort="date", page="3")  # order, sort and page aside
    assert first.findtext(f"{ATOM}id") == again.findtext(f"{ATOM}id")
    assert [e.findtext(f"{ATOM}id") for e in first.iter(f"{ATOM}entry")] == [
        e.findtext(f"{ATOM}id") for e in again.iter(f"{ATOM}entry")
    ]
    other = feed_of(client, q="公安", district="万州")
    assert other.findtext(f"{ATOM}id") != first.findtext(f"{ATOM}id")


def test_feed_from_the_api_and_the_cli_is_the_same_feed(client, index_dir):
    from_api = client.get("/api/search", query_string={"q": "民警", "format": "atom"})
    assert from_api.mimetype == "application/atom+xml"
    assert from_api.get_data() == client.get("/feed.atom", query_string={"q": "民警"}).get_data()
    result = CliRunner().invoke(main, ["--index", str(index_dir), "query", "民警", "--format", "atom"])
    from_cli = ET.fromstring(result.stdout_bytes)
    from_web = ET.fromstring(from_api.get_data())
    entries = [
        [(e.findtext(f"{ATOM}id"), e.find(f"{ATOM}link").get("href")) for e in feed.iter(f"{ATOM}entry")]
        for feed in (from_cli, from_web)
    ]
    assert entries[0] == entries[1] and entries[0]


def test_public_url_makes_the_links_and_bad_searches_are_400(index_dir):
    client = create_app({"INDEX_DIR": str(index_dir), "PUBLIC_URL": "https://police.example/"}).test_client()
    feed = feed_of(client, q="公安", headers={"Host": "evil.example"})
    assert all(link.get("href").startswith("https://police.example/") for link in feed.iter(f"{ATOM}link"))
    rows = client.get("/api/search", query_string={"format": "jsonl"}, headers={"Host": "evil.example"})
    assert all(json.loads(line)["link"].startswith("https://police.example/doc/") for line in rows.text.splitlines())
    assert client.get("/feed.atom", query_string={"q": '"unbalanced'}).status_code == 400
    assert client.get("/feed.atom", query_string={"from": "2024-02-30"}).status_code == 400


def test_results_page_links_its_feed_and_downloads(client):
    html = client.get("/", query_string={"q": "公安", "district": "九龙坡", "page": "2"}).get_data(as_text=True)
    (head_link,) = re.findall(r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html)
    assert head_link.startswith("/feed.atom?") and "district=" in head_link and "page" not in head_link
    assert 'id="feed-link" type="application/atom+xml"' in html.replace(f'href="{head_link}" ', "")
    csv_link = re.search(r'href="([^"]+)" id="download-csv"', html).group(1)
    assert csv_link.startswith("/api/search?format=csv") and "district=" in csv_link and "page=" not in csv_link
    assert re.search(r'href="/api/search\?format=jsonl[^"]*" id="download-jsonl"', html)
    empty = client.get("/", query_string={"q": "公安", "from": "2090-01-01"}).get_data(as_text=True)
    assert 'id="feed-link"' in empty and 'id="download-csv"' not in empty  # a feed waits for new releases
