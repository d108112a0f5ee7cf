"""One declaration is one facet: a facet registered here, in the test only, is counted and
filtered by the engine (lists and arrays), listed with filtering links on the results page, taken
by /api/search, the CLI and the feed, and described in the OpenAPI spec — with no other edit; and
it is gone again once unregistered."""

from __future__ import annotations

import html as html_module
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from search.cli import main
from search.facet_registry import FACETS, FilterValueError, ValueFacet
from search.query import QueryError, SearchEngine
from search.sync import sync
from tests.journalist_releases import write_journalist_releases
from web import create_app
from web.openapi import SPEC_FILE, described

SHORT, LONG = "短标题", "长标题"


def _headline_lengths(leaf: Any, field_name: str) -> list[tuple[str, ...]]:
    """Per document of a segment: its headline's length bucket, from the stored title."""
    buckets: list[tuple[str, ...]] = []
    for doc in range(leaf.doc_count_all()):
        title = "" if leaf.is_deleted(doc) else leaf.stored_fields(doc).get(field_name) or ""
        buckets.append(((SHORT if len(title) <= 16 else LONG),) if title else ())
    return buckets


def _bucket(value: str) -> str:
    if value.strip() not in (SHORT, LONG):
        raise FilterValueError(f"headline must be {SHORT} or {LONG}, not {value!r}")
    return value.strip()


HEADLINE = ValueFacet(
    "headline_length",
    "headline",
    "标题长度",
    f"Headline length ({SHORT}: at most 16 characters, or {LONG}).",
    f"Headline length: {SHORT} (at most 16 characters) or {LONG}.",
    read=_headline_lengths,
    normalise=_bucket,
    shown=lambda bucket: f"标题{bucket}",
    column="title",
)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("facet-registry")
    write_journalist_releases(folder / "releases")
    sync(folder / "index", [folder / "releases"])
    return folder / "index"


@pytest.fixture(scope="module")
def engine(index_dir: Path) -> Iterator[SearchEngine]:
    engine = SearchEngine(index_dir)
    yield engine
    engine.close()


@pytest.fixture
def headline(engine: SearchEngine) -> Iterator[ValueFacet]:
    """The headline facet registered for one test; the module's engine searched once before, so its
    caches of facet values predate the facet."""
    assert "headline_length" not in engine.search("", collapse=True).facets
    FACETS.register(HEADLINE)
    try:
        yield HEADLINE
    finally:
        FACETS.unregister(HEADLINE.name)


def _counts(result: Any, name: str = "headline_length") -> dict[str, int]:
    return {value.value: value.count for value in result.facets[name]}


def test_the_engine_counts_and_filters_a_new_facet(engine, headline):
    # six releases: four long headlines (two are copies of one story), two short
    assert _counts(engine.search("", collapse=True)) == {LONG: 3, SHORT: 2}
    assert _counts(engine.search("", collapse=False)) == {LONG: 4, SHORT: 2}  # the arrays' bincount
    short = engine.search("", headline=SHORT, collapse=True)
    assert short.total == 2 and all(len(hit.title) <= 16 for hit in short.hits)
    # its counts ignore its own filter, the other facets apply it
    assert _counts(short) == {LONG: 3, SHORT: 2}
    assert sum(_counts(short, "crime_type").values()) == 2
    assert _counts(engine.search("", crime="诈骗", collapse=True)) == {LONG: 2, SHORT: 1}
    with pytest.raises(QueryError, match="headline must be"):
        engine.search("", headline="中标题")


def test_api_search_takes_and_returns_a_new_facet(index_dir, headline):
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    data = client.get("/api/search").get_json()
    assert {item["value"]: item["count"] for item in data["facets"]["headline_length"]} == {LONG: 3, SHORT: 2}
    assert client.get("/api/search", query_string={"headline": SHORT}).get_json()["total"] == 2
    refused = client.get("/api/search", query_string={"headline": "中标题"})
    assert refused.status_code == 400 and "headline must be" in refused.get_json()["error"]


def test_the_results_page_lists_a_new_facet_with_links_that_filter(index_dir, headline):
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    page = client.get("/").get_data(as_text=True)
    section = page[page.index('id="facet-headline_length"') :]
    assert "<h2>标题长度</h2>" in section
    link = re.search(r'href="([^"]+)" class="facet" data-facet="headline_length" data-value="短标题">', section)
    assert link and "headline=" in link.group(1)
    filtered = client.get(html_module.unescape(link.group(1))).get_data(as_text=True)
    assert re.search(r'id="total">2</strong>', filtered)
    assert 'data-chip="headline"' in filtered and "标题长度：短标题" in filtered
    assert 'class="facet active" data-facet="headline_length" data-value="短标题"' in filtered
    assert '<input type="hidden" name="headline" value="短标题">' in filtered  # the search box keeps it
    # other facets' links keep the filter; the feed of the filtered search carries it
    crime_link = re.search(r'href="([^"]+)" class="facet" data-facet="crime_type"', filtered)
    assert crime_link and "headline=" in crime_link.group(1)
    feed = client.get("/feed.atom", query_string={"headline": SHORT}).get_data(as_text=True)
    assert "标题短标题" in feed and "headline=" in feed


def test_the_cli_takes_a_new_facet_as_an_option(index_dir, headline):
    runner = CliRunner()
    found = runner.invoke(main, ["--index", str(index_dir), "query", "", "--headline", SHORT, "--json"])
    assert found.exit_code == 0, found.stderr
    data = json.loads(found.stdout)
    assert data["total"] == 2 and "headline_length" in data["facets"]
    assert "--headline" in runner.invoke(main, ["query", "--help"]).stdout
    refused = runner.invoke(main, ["--index", str(index_dir), "query", "", "--headline", "中标题"])
    assert refused.exit_code == 2 and "headline must be" in refused.stderr


def test_the_openapi_spec_describes_a_new_facet(index_dir, headline):
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    spec = client.get("/api/openapi.json").get_json()
    for path in ("/api/search", "/feed.atom"):
        names = [parameter["name"] for parameter in spec["paths"][path]["get"]["parameters"]]
        assert names.index("reported") + 1 == names.index("headline") == names.index("collapse") - 1
    (parameter,) = [p for p in spec["paths"]["/api/search"]["get"]["parameters"] if p["name"] == "headline"]
    assert parameter["description"] == HEADLINE.api
    assert "headline_length" in spec["components"]["schemas"]["SearchResult"]["properties"]["facets"]["description"]


def test_an_unregistered_facet_is_gone_everywhere(index_dir, engine):
    FACETS.register(HEADLINE)
    FACETS.unregister(HEADLINE.name)
    assert "headline_length" not in engine.search("", collapse=True).facets
    with pytest.raises(TypeError):
        engine.search("", headline=SHORT)
    refused = CliRunner().invoke(main, ["--index", str(index_dir), "query", "", "--headline", SHORT])
    assert refused.exit_code == 2
    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    spec = client.get("/api/openapi.json").get_json()
    assert "headline" not in {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert "headline_length" not in client.get("/api/search").get_json()["facets"]


def test_the_registry_refuses_a_taken_name_or_parameter():
    with pytest.raises(ValueError, match="registered already"):
        FACETS.register(ValueFacet("source", "outlet", "来源", "", ""))
    with pytest.raises(ValueError, match="taken"):
        FACETS.register(ValueFacet("pages", "page", "页", "", ""))
    with pytest.raises(ValueError, match="taken"):
        FACETS.register(ValueFacet("crime_again", "crime", "案件", "", ""))
    assert FACETS.params == ("crime", "source", "reported")


def test_the_spec_file_is_what_the_registry_makes_of_it():
    spec = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
    assert described(spec) == spec
