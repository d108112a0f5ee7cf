"""What a first-time user hit (issue 15): short place names, paging past the end, the document
page's way back, undated releases, messages in the page's language, the about page.

A real index of the samples plus one release in each of 广东, 广西, 内蒙古, 台湾, 香港 and 长沙
(``tests/fixtures/places``); the Flask test client and click's runner."""

from __future__ import annotations

import json
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
