"""Ranked partial matches (coordination), places as places, and counts that match the hits."""

from __future__ import annotations

import itertools
import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from search.cli import main
from search.coordination import Plan, Unit, places_named, plain_units, without_dangling_operators, word_parts
from search.query import QueryError, SearchEngine
from search.sync import sync
from tests.conftest import SEEDS
from tests.synthetic import write_releases
from web import create_app

PARTIAL_NOTICE = "partial matches"


def release(title: str, date: str, body: str) -> str:
    return f"{title}\n\n发布时间:{date} | 来源:测试\n\n{body}\n"


RELEASES = {
    "gang_whole": release(
        "破获一个电动车盗窃团伙", "2025-03-01", "近日,某县公安局破获一个电动车盗窃团伙,抓获嫌疑人5名。"
    ),
    "gang_apart": release("民警抓获盗窃嫌疑人", "2025-03-02", "民警在小区巡逻时发现有人盗窃电动车,当场抓获。"),
    "gang_one_part": release("电动车停放提示", "2025-03-03", "请市民将电动车停放在指定地点,注意防火。"),
    "weixian": release(
        "威县公安局破获一起抢劫案", "2024-05-01", "近日,威县公安局刑警大队破获一起抢劫案,抓获犯罪嫌疑人2名。"
    ),
    "campaign_old_name": release(
        "打黑除恶专项行动取得成效", "2012-06-01", "今年以来,某市公安局深入开展打黑除恶专项行动。"
    ),
    "tianjin_hebei_district": release(
        "天津市公安局河北分局开展巡逻", "2024-06-01", "天津市公安局河北分局在河北区开展夜间巡逻,抓获抢劫嫌疑人1名。"
    ),
}


@pytest.fixture(scope="module")
def coordinated(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    folder = tmp_path_factory.mktemp("coordination-corpus")
    for name, text in RELEASES.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    index_dir = tmp_path_factory.mktemp("coordination-index")
    assert not sync(index_dir, [folder]).skipped
    engine = SearchEngine(index_dir)
    yield engine
    engine.close()


def names(result) -> list[str]:
    return [Path(hit.path).stem for hit in result.hits]


# --- the three count defects of issue 16 ----------------------------------------------------


def test_a_query_whose_words_no_release_has_together_lists_what_it_counts(engine):
    # 渝ICP备 said "total": 3 with "hits": [] (and the page "共 3 条结果" … "这一页没有结果")
    result = engine.search("渝ICP备")
    assert result.total == len(paged_ids(engine, "渝ICP备"))
    assert bool(result.hits) == bool(result.total)


def test_no_partial_match_notice_when_nothing_is_found(engine, sample_index):
    # 'ICP 备案' found nothing yet announced "the best partial matches"
    result = engine.search("ICP 备案")
    assert result.total == 0 and result.mode == "all"
    output = CliRunner().invoke(main, ["--index", str(sample_index), "query", "ICP 备案"]).stdout
    assert PARTIAL_NOTICE not in output


def test_a_trailing_operator_is_not_a_word_the_hits_lack(engine, sample_index):
    # '诈骗 AND' showed the partial-match notice although every hit contains 诈骗
    result = engine.search("诈骗 AND")
    assert result.mode == "all" and result.total == engine.search("诈骗").total > 0
    assert not any(hit.missing for hit in result.hits)
    output = CliRunner().invoke(main, ["--index", str(sample_index), "query", "诈骗 AND"]).stdout
    assert PARTIAL_NOTICE not in output and "some of them" not in output


# --- coordination ---------------------------------------------------------------------------


def test_releases_with_every_word_first_then_most_of_them_each_saying_what_it_lacks(coordinated):
    result = coordinated.search("抢劫 威县")
    assert names(result)[0] == "weixian" and result.hits[0].missing == []
    assert result.total_all_words == 1 and result.mode == "any"
    assert "tianjin_hebei_district" in names(result)
    assert all(hit.missing == ["威县"] for hit in result.hits[1:])
    assert result.as_dict()["hits"][1]["missing"] == ["威县"]


def test_a_long_word_is_tried_by_its_parts_below_its_whole_matches(coordinated):
    result = coordinated.search("电动车盗窃团伙")
    assert names(result)[0] == "gang_whole" and result.total_all_words == 1
    # all the parts rank above one part
    assert names(result)[1:] == ["gang_apart", "gang_one_part"]
    assert result.hits[1].missing == ["电动车盗窃团伙"]


def test_a_quoted_phrase_stays_exact(coordinated):
    result = coordinated.search('"电动车盗窃团伙"')
    assert names(result) == ["gang_whole"] and result.mode == "all"


def test_boolean_queries_keep_their_logic(coordinated):
    assert plain_units("盗窃 OR 抢劫") is None and plain_units("(盗窃 抢劫)") is None
    # a field or a word marked - is a restriction the user asked for
    assert plain_units("district:威县 抢劫") is None and plain_units("抢劫 -威县") is None
    assert names(coordinated.search("district:威县 抢劫")) == ["weixian"]
    result = coordinated.search("抢劫 NOT 威县")
    assert names(result) == ["tianjin_hebei_district"] and result.mode == "all"


def test_units_and_parts():
    assert plain_units('电动车 "盗窃 团伙" 诈*') == ["电动车", '"盗窃 团伙"', "诈*"]
    assert without_dangling_operators("诈骗 AND") == "诈骗"
    assert without_dangling_operators("OR 诈骗 NOT") == "诈骗"
    assert without_dangling_operators("AND") == "AND"  # alone, it is the word
    assert word_parts("电动车盗窃团伙") == ["电动车", "盗窃", "团伙"]
    assert word_parts("命案积案") == ["命案", "积案"]
    assert word_parts("公安局") == [] and word_parts('"命案积案"') == []


# --- the words people use ------------------------------------------------------------------


def test_a_synonym_holding_a_shorter_one_is_still_found(coordinated):
    # 打黑除恶 is not searched beside 打黑 (its characters hold them), yet the release is found
    for query in ("扫黑", "扫黑除恶", "掃黑除惡"):
        result = coordinated.search(query)
        assert names(result) == ["campaign_old_name"], query
        assert "打黑除恶" in result.also_matched and result.mode == "all"


# --- did you mean ---------------------------------------------------------------------------


def test_a_query_its_quotes_make_fail_is_offered_without_them(coordinated):
    result = coordinated.search('"电动车团伙"')  # no release says it word for word
    assert result.total == 0 and result.did_you_mean == "电动车团伙"
    assert coordinated.search("电动车团伙").total > 0
    assert coordinated.search('"电动车盗窃团伙"').did_you_mean is None  # it finds something
    app = create_app({"INDEX_DIR": str(coordinated.index_dir), "TESTING": True})
    page = app.test_client().get("/", query_string={"q": '"电动车团伙"'}).get_data(as_text=True)
    assert 'id="did-you-mean"' in page and "电动车团伙</a>" in page
    with pytest.raises(QueryError, match="without quotes and brackets: 盗窃 电动车"):
        coordinated.search("(盗窃 电动车")


# --- places are places ----------------------------------------------------------------------


def test_place_names_resolve_to_the_region_they_name():
    assert places_named("河北") == ["河北省"]  # the province, not Tianjin's 河北区
    assert places_named("邢台") == ["邢台市"]
    assert places_named("萬州") == ["万州区"]
    assert places_named("嘉義") == ["嘉义县", "嘉义市"]
    assert places_named("公安") == []  # 公安县, but an everyday word
    assert places_named('"河北"') == [] and places_named("电动车") == []


def test_a_place_word_also_finds_releases_located_there(coordinated):
    # the release of 威县 never writes 邢台 or 河北
    for word, region in (("邢台", "邢台市"), ("河北", "河北省")):
        result = coordinated.search(word)
        assert "weixian" in names(result), word
        assert {"word": word, "region": region} in result.places
    assert "tianjin_hebei_district" in names(coordinated.search("河北"))  # it says 河北 in its text
    # the same word typed and the district facet agree
    assert names(coordinated.search("抢劫 邢台"))[0] == names(coordinated.search("抢劫", district="邢台"))[0]


def test_the_place_notice_is_shown(coordinated):
    app = create_app({"INDEX_DIR": str(coordinated.index_dir), "TESTING": True})
    page = app.test_client().get("/", query_string={"q": "邢台"}).get_data(as_text=True)
    assert "也包括位于邢台市的通报" in page
    output = CliRunner().invoke(main, ["--index", str(coordinated.index_dir), "query", "邢台"]).stdout
    assert "邢台: also releases located in 邢台市" in output


# --- counts match the hits ------------------------------------------------------------------


def paged_ids(engine: SearchEngine, query: str, per_page: int = 3, **filters) -> list[str]:
    ids: list[str] = []
    page = 1
    while True:
        result = engine.search(query, page=page, per_page=per_page, **filters)
        ids += [hit.id for hit in result.hits]
        if page >= result.pages:
            return ids
        page += 1


@pytest.fixture(scope="module")
def paging_engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    folder = tmp_path_factory.mktemp("paging-corpus")
    write_releases(folder, 60)
    for seed in SEEDS:
        (folder / seed.name).write_bytes(seed.read_bytes())
    index_dir = tmp_path_factory.mktemp("paging-index")
    assert not sync(index_dir, [folder]).skipped
    engine = SearchEngine(index_dir)
    yield engine
    engine.close()


def corpus_queries(count: int = 40) -> list[str]:
    """Random words and pairs of words of the seeds, and queries of every shape."""
    rng = random.Random(16)
    words = sorted({w for seed in SEEDS for w in re.findall(r"[\u4e00-\u9fff]{2,4}", seed.read_text("utf-8"))})
    singles = rng.sample(words, count // 2)
    pairs = [" ".join(pair) for pair in rng.sample(list(itertools.combinations(words[:200], 2)), count // 2)]
    shapes = ["诈骗", "诈骗 九龙坡", "电信诈骗", '"电信诈骗"', "诈骗 AND", "渝ICP备", "ICP 备案", "重庆 盗窃"]
    shapes += ["命案积案", "伪基站 火星", "诈骗 NOT 套路贷", "title:平安", "(诈骗 OR 盗窃) AND 重庆"]
    return shapes + singles + pairs


@pytest.mark.parametrize("sort", ["relevance", "date"])
def test_total_is_what_paging_to_the_end_lists(paging_engine, sort):
    for query in corpus_queries():
        ids = paged_ids(paging_engine, query, per_page=7, sort=sort)
        assert len(ids) == len(set(ids)) == paging_engine.search(query, sort=sort).total, query


def test_total_is_what_paging_lists_over_the_api_the_cli_and_the_page(paging_engine):
    client = create_app({"INDEX_DIR": str(paging_engine.index_dir), "TESTING": True}).test_client()
    runner = CliRunner()
    for query in ["诈骗 九龙坡", "电信诈骗", "重庆 盗窃", "公安 火星"]:
        # the API, the CLI and the page collapse copies of one release by default, as asked here
        total = paging_engine.search(query, collapse=True).total
        api_ids, cli_ids = [], []
        for page in range(1, -(-total // 10) + 1):
            data = client.get("/api/search", query_string={"q": query, "page": page}).get_json()
            assert data["total"] == total
            api_ids += [hit["id"] for hit in data["hits"]]
            args = ["--index", str(paging_engine.index_dir), "query", query, "--page", str(page), "--json"]
            cli_ids += [hit["id"] for hit in json.loads(runner.invoke(main, args).stdout)["hits"]]
        assert len(set(api_ids)) == len(api_ids) == total == len(set(cli_ids)), query
        page_ids: list[str] = []
        for page in range(1, -(-total // 10) + 1):
            html = client.get("/", query_string={"q": query, "page": page}).get_data(as_text=True)
            assert f'<strong id="total">{total}</strong>' in html
            page_ids += re.findall(r'<h3><a href="/doc/([0-9a-f]{16})', html)
        assert set(page_ids) == set(api_ids) and len(page_ids) == total, query


@settings(max_examples=150, deadline=None)
@given(
    units=st.lists(
        st.tuples(st.sets(st.integers(0, 30)), st.lists(st.sets(st.integers(0, 30)), max_size=3)),
        min_size=1,
        max_size=4,
    ),
    docs=st.lists(st.integers(0, 30), max_size=40),
)
def test_tiers_and_complete_counts_follow_each_releases_key(units, docs) -> None:
    plan = Plan([Unit(f"u{i}", wq.NullQuery, whole, [(wq.NullQuery, part) for part in parts])
                 for i, (whole, parts) in enumerate(units)])  # fmt: skip
    grouped: dict[tuple[int, int], list[int]] = {}
    for doc in docs:
        grouped.setdefault(plan.key(doc), []).append(doc)
    expected = [(key[0] == len(units), sorted(grouped[key])) for key in sorted(grouped, reverse=True)]
    assert plan.tiers(docs) == expected
    assert plan.count_all(docs) == sum(map(plan.has_all, docs))
    everything = set().union(*(whole for whole, _ in units), *(part for _, parts in units for part in parts))
    assert plan.docs == sorted(everything)
