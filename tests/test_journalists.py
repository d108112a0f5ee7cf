"""What journalists asked for, end to end on a real index of hand-written releases: copies of one
release as one hit (library, CLI, JSON API, page), crime-type and source facets and filters, a
document's metadata as links, and similar releases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import opencc
import pytest
from click.testing import CliRunner

from search.cli import main
from search.index import open_index
from search.query import QueryError, SearchEngine
from search.sync import sync
from tests.journalist_releases import FRAUD, write_journalist_releases
from web import create_app


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_journalist_releases(tmp_path_factory.mktemp("journalists") / "releases")


@pytest.fixture(scope="module")
def index_dir(corpus: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("journalists-index")
    report = sync(folder, [next(iter(corpus.values())).parent])
    assert report.added == len(corpus) and not report.skipped
    return folder


@pytest.fixture(scope="module")
def engine(index_dir: Path) -> SearchEngine:
    engine = SearchEngine(index_dir)
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def ids(index_dir: Path) -> dict[str, str]:
    """Release name → id, as the index gave them (ids come from the text)."""
    with open_index(index_dir).searcher() as searcher:
        return {Path(stored["path"]).stem: stored["id"] for stored in searcher.documents()}


def _values(result, facet: str) -> dict[str, int]:
    return {value.value: value.count for value in result.facets[facet]}


# -- copies of one release ---------------------------------------------------------------------


def test_copies_are_one_hit_that_lists_the_other_copies(engine, ids):
    assert engine.search("客服").total == 2  # the library collapses when asked; the CLI and pages by default
    collapsed = engine.search("客服", collapse=True)
    assert collapsed.total == 1
    hit = collapsed.hits[0]
    # the story is named after whichever copy was indexed first
    assert hit.id == ids["fraud"] and hit.story in (ids["fraud"], ids["fraud_mirror"])
    assert hit.copies == [{"id": ids["fraud_mirror"], "title": hit.copies[0]["title"], "source": "重慶晨報",
                           "date": "2024-03-06"}]  # fmt: skip
    every = engine.search("客服", collapse=False)
    assert every.total == 2
    assert {copy.id for copy in every.hits} == {ids["fraud"], ids["fraud_mirror"]}
    assert {copy.story for copy in every.hits} == {hit.story}


def test_the_hit_shown_is_the_most_complete_copy_the_filters_allow(engine, ids):
    # the mirror is dated later and ranks first by date, but the original is the full text
    assert engine.search("客服", sort="date", collapse=True).hits[0].id == ids["fraud"]
    only_mirror = engine.search("客服", source="重慶晨報", collapse=True)
    assert [hit.id for hit in only_mirror.hits] == [ids["fraud_mirror"]]
    assert only_mirror.hits[0].copies[0]["id"] == ids["fraud"]


def test_total_and_facet_counts_count_a_story_once_when_collapsed(engine):
    collapsed, every = engine.search("", collapse=True), engine.search("", collapse=False)
    assert (collapsed.total, every.total) == (5, 6)
    assert _values(collapsed, "year")["2024"] == 4 and _values(every, "year")["2024"] == 5
    assert _values(collapsed, "district")["九龙坡区"] == 2 and _values(every, "district")["九龙坡区"] == 3
    assert _values(collapsed, "crime_type")["诈骗"] == 3 and _values(every, "crime_type")["诈骗"] == 4
    # each outlet that carried the story counts it: clicking it gives that one hit
    assert _values(collapsed, "source") == {"平安九龙坡": 2, "重慶晨報": 1, "平安北京": 1, "渝中公安": 1, "江北公安": 1}


def test_a_new_copy_joins_its_story_in_a_running_engine(tmp_path):
    folder = tmp_path / "releases"
    write_journalist_releases(folder)
    sync(tmp_path / "index", [folder])
    engine = SearchEngine(tmp_path / "index")
    try:
        assert len(engine.search("客服", collapse=True).hits[0].copies) == 1
        (folder / "repost.txt").write_text("来源：某某新闻网\n" + opencc.OpenCC("s2t").convert(FRAUD), encoding="utf-8")
        sync(tmp_path / "index", [folder])
        result = engine.search("客服", collapse=True)
        assert result.total == 1 and len(result.hits[0].copies) == 2
    finally:
        engine.close()


# -- crime-type and source facets ---------------------------------------------------------------


def test_crime_filter_and_each_facet_counts_every_other_filter(engine):
    fraud = engine.search("", crime="诈骗", collapse=True)
    assert fraud.total == 3 and all("诈骗" in hit.crime_types for hit in fraud.hits)
    # its own facet ignores the crime filter (what clicking another type gives) …
    assert _values(fraud, "crime_type") == {"诈骗": 3, "盗窃": 1, "毒品": 1}
    # … the source facet applies it
    assert _values(fraud, "source") == {"平安九龙坡": 2, "重慶晨報": 1, "平安北京": 1}
    both = engine.search("", crime="诈骗", source="平安北京", collapse=True)
    assert both.total == 1 and _values(both, "crime_type") == {"诈骗": 1}
    assert engine.search("", district="九龙坡", crime="诈骗", collapse=True).total == 2
    assert _values(engine.search("", district="九龙坡", collapse=True), "crime_type") == {"诈骗": 2}


def test_filters_hold_for_phrase_queries_scored_in_one_pass(engine, ids):
    # a quoted phrase is matched and scored in one pass over every match: the filters must still apply
    assert engine.search('"存款8万元"', crime="盗窃").hits == []
    assert [hit.id for hit in engine.search('"存款8万元"', source="重慶晨報").hits] == [ids["fraud_mirror"]]
    assert [hit.id for hit in engine.search('"存款8万元"', collapse=True).hits] == [ids["fraud"]]


def test_crime_filter_reads_either_script_and_refuses_a_type_outside_the_vocabulary(engine):
    assert engine.search("", crime="詐騙", collapse=True).total == 3
    with pytest.raises(QueryError, match="crime must be one of"):
        engine.search("", crime="抢钱", collapse=True)
    assert engine.search("", source="没有这家", collapse=True).total == 0


# -- documents and similar releases --------------------------------------------------------------


def test_document_carries_its_story_and_copies(engine, ids):
    document = engine.document(ids["fraud_mirror"])
    assert document.story == engine.document(ids["fraud"]).story != engine.document(ids["theft"]).story
    assert [copy["id"] for copy in document.copies] == [ids["fraud"]]
    assert engine.document(ids["theft"]).copies == []


def test_similar_leaves_out_the_story_and_puts_same_crime_and_place_first(engine, ids):
    similar = engine.similar(ids["fraud"])
    found = [hit.id for hit in similar]
    assert ids["fraud"] not in found and ids["fraud_mirror"] not in found
    assert found[:2] == [ids["fraud_other"], ids["fraud_elsewhere"]]  # fraud in 九龙坡, then fraud elsewhere
    assert len(found) == len(set(found)) <= 5
    # the mirror's similar releases show the story once, by neither of its copies
    assert ids["fraud"] not in [hit.id for hit in engine.similar(ids["fraud_mirror"])]
    assert engine.similar("0000000000000000") is None


def test_similar_ranks_a_shared_crime_type_above_shared_words(engine, ids, monkeypatch):
    from search import similar

    plain = [hit.id for hit in engine.similar(ids["drugs"])]
    monkeypatch.setattr(similar, "SAME_CRIME_BOOST", 5.0)
    monkeypatch.setattr(similar, "SAME_PLACE_BOOST", 0.0)
    # no other drugs case: the boost changes nothing …
    assert [hit.id for hit in engine.similar(ids["drugs"])] == plain
    # … but for a fraud case every fraud case comes before the rest
    boosted = engine.similar(ids["fraud_elsewhere"])
    kinds = ["诈骗" in hit.crime_types for hit in boosted]
    assert kinds == sorted(kinds, reverse=True) and kinds[0]


# -- command line --------------------------------------------------------------------------------


def _cli(index_dir: Path, *args: str):
    return CliRunner().invoke(main, ["--index", str(index_dir), *args], catch_exceptions=False)


def test_cli_filters_collapse_and_lists_copies(index_dir, ids):
    data = json.loads(_cli(index_dir, "query", "", "--crime", "诈骗", "--source", "平安九龙坡", "--json").stdout)
    assert data["total"] == 2 and {"crime_type", "source"} <= set(data["facets"])
    every = json.loads(_cli(index_dir, "query", "客服", "--no-collapse", "--json").stdout)
    assert every["total"] == 2
    text = _cli(index_dir, "query", "客服").stdout
    assert "另有 1 个来源: 重慶晨報" in text and "类型 诈骗" in text
    shown = _cli(index_dir, "show", ids["fraud"]).stdout
    assert ids["fraud_mirror"] in shown
    refused = _cli(index_dir, "query", "", "--crime", "抢钱")
    assert refused.exit_code == 2 and "crime must be one of" in refused.stderr


def test_cli_similar(index_dir, ids):
    data = json.loads(_cli(index_dir, "similar", ids["fraud"], "--json").stdout)
    assert data["id"] == ids["fraud"] and data["hits"][0]["id"] == ids["fraud_other"]
    assert set(data["hits"][0]) >= {"id", "title", "crime_types", "story", "copies"}
    assert ids["fraud_other"] in _cli(index_dir, "similar", ids["fraud"]).stdout
    assert _cli(index_dir, "similar", "0000000000000000").exit_code == 1


# -- web -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(index_dir):
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()


def test_results_page_lists_crime_types_and_sources_and_the_copies_line(client):
    html = client.get("/").get_data(as_text=True)
    fraud = re.search(r'href="([^"]+)" class="facet" data-facet="crime_type" data-value="诈骗">\s*'
                      r'<span class="name">诈骗</span> <span class="count">3</span>', html)  # fmt: skip
    assert fraud and "crime=" in fraud.group(1)
    assert 'data-facet="source" data-value="重慶晨報"' in html
    assert "另有 1 个来源" in html
    filtered = client.get("/", query_string={"crime": "诈骗"}).get_data(as_text=True)
    assert re.search(r'id="total">3</strong>', filtered) and 'data-chip="crime"' in filtered
    assert 'class="facet active" data-facet="crime_type" data-value="诈骗"' in filtered
    every = client.get("/", query_string={"collapse": "0"}).get_data(as_text=True)
    assert re.search(r'id="total">6</strong>', every) and 'name="collapse" value="0"' in every


def test_document_page_links_metadata_lists_copies_and_similar_releases(client, ids):
    html = client.get(f"/doc/{ids['fraud']}").get_data(as_text=True)
    assert 'href="/?district=%E4%B9%9D%E9%BE%99%E5%9D%A1%E5%8C%BA"' in html  # 九龙坡区
    assert 'href="/?from=2024-03-05&amp;to=2024-03-05"' in html
    assert 'href="/?source=%E5%B9%B3%E5%AE%89%E4%B9%9D%E9%BE%99%E5%9D%A1"' in html  # 平安九龙坡
    assert 'id="copies"' in html and f"/doc/{ids['fraud_mirror']}" in html
    similar = html[html.index('id="similar"') :]
    assert f"/doc/{ids['fraud_other']}" in similar and f"/doc/{ids['fraud_mirror']}" not in similar


def test_api_similar_and_new_parameters(client, ids):
    data = client.get(f"/api/documents/{ids['fraud']}/similar").get_json()
    assert data["id"] == ids["fraud"] and data["hits"][0]["id"] == ids["fraud_other"]
    assert client.get("/api/documents/0000000000000000/similar").status_code == 404
    assert client.get("/api/documents/nonsense/similar").status_code == 404
    hit = client.get("/api/search", query_string={"q": "客服"}).get_json()["hits"][0]
    assert hit["story"] in (ids["fraud"], ids["fraud_mirror"]) and hit["copies"][0]["source"] == "重慶晨報"
    assert client.get("/api/search", query_string={"q": "客服", "collapse": "0"}).get_json()["total"] == 2
    assert client.get("/api/search", query_string={"source": "平安北京"}).get_json()["total"] == 1
    for bad in ({"crime": "抢钱"}, {"collapse": "yes"}):
        response = client.get("/api/search", query_string=bad)
        assert response.status_code == 400 and response.get_json()["error"]


def test_openapi_lists_the_new_parameters_fields_and_route(client):
    spec = client.get("/api/openapi.json").get_json()
    names = {parameter["name"] for parameter in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert {"crime", "source", "collapse"} <= names
    assert "/api/documents/{id}/similar" in spec["paths"]
    hit = spec["components"]["schemas"]["Hit"]["properties"]
    assert {"story", "copies"} <= set(hit) and {"story", "copies"} <= set(
        spec["components"]["schemas"]["Document"]["properties"]
    )


def test_searches_read_the_story_map_and_fall_back_to_the_book_without_one(tmp_path):
    from search.index import current_generation
    from search.stories import MAP_FILE

    folder = tmp_path / "releases"
    write_journalist_releases(folder)
    sync(tmp_path / "index", [folder])
    story_map = current_generation(tmp_path / "index") / MAP_FILE
    assert story_map.exists()
    story_map.unlink()  # an index whose book was saved before maps were
    engine = SearchEngine(tmp_path / "index")
    try:
        assert engine.search("客服", collapse=True).total == 1
    finally:
        engine.close()
    sync(tmp_path / "index", [folder])  # nothing changed, but the map is written
    assert story_map.exists()


# -- reported year ----------------------------------------------------------------------------


def test_reported_year_is_a_facet_and_a_filter_everywhere(tmp_path: Path) -> None:
    """A year-end summary published in January reports on the year before: that year is offered
    as a facet and a filter (engine, CLI, API), beside the publish date's own year."""
    folder = tmp_path / "releases"
    folder.mkdir()
    (folder / "summary.txt").write_text(
        "2024年全县公安工作综述\n\n发布时间：2025-01-10\n\n2024年，全县公安机关共破获刑事案件300余起，"
        "抓获犯罪嫌疑人200余名，群众安全感持续提升。\n",
        encoding="utf-8",
    )
    (folder / "case.txt").write_text(
        "某县警方破获一起盗窃案\n\n发布时间：2025-03-02\n\n3月1日，某县公安局民警接到报警后迅速出警，抓获盗窃嫌疑人一名。\n",
        encoding="utf-8",
    )
    index_dir = tmp_path / "ix"
    sync(index_dir, [folder])
    engine = SearchEngine(index_dir)
    try:
        result = engine.search("")
        assert _values(result, "report_year") == {"2024": 1}
        assert _values(result, "year") == {"2025": 2}
        reported = engine.search("", reported="2024")
        assert [hit.title for hit in reported.hits] == ["2024年全县公安工作综述"]
        with pytest.raises(QueryError, match="reported"):
            engine.search("", reported="last year")
    finally:
        engine.close()
    cli = CliRunner().invoke(main, ["--index", str(index_dir), "query", "", "--reported", "2024", "--json"])
    assert json.loads(cli.stdout)["total"] == 1
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    api = client.get("/api/search", query_string={"reported": "2024"}).get_json()
    assert api["total"] == 1 and {"value": "2024", "count": 1} in api["facets"]["report_year"]
    assert client.get("/api/search", query_string={"reported": "20x4"}).status_code == 400
    page = client.get("/", query_string={"reported": "2024"}).get_data(as_text=True)
    assert "报告年份" in page
