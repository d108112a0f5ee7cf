"""Relevance behaviours on a real index of the samples plus authored releases, each checked
against the naive setup (jieba's ChineseAnalyzer on Whoosh) with a query it gets wrong."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import baseline
from bench.relevance import build_corpus, document_name, run
from search.coordination import places_named
from search.dates import parse_date
from search.query import QueryError, SearchEngine
from search.sync import sync
from search.synonyms import SYNONYMS_ENV, SynonymFileError, parse_synonyms

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "releases"


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_corpus(tmp_path_factory.mktemp("relevance") / "corpus")


@pytest.fixture(scope="session")
def ours(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    index_dir = tmp_path_factory.mktemp("relevance-ours")
    report = sync(index_dir, [corpus])
    assert not report.skipped
    engine = SearchEngine(index_dir)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def naive(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> baseline.Searcher:
    index_dir = tmp_path_factory.mktemp("relevance-naive")
    baseline.build(corpus, index_dir)
    return baseline.Searcher(index_dir)


def names(engine: SearchEngine, query: str, **filters) -> list[str]:
    return [document_name(hit.path) for hit in engine.search(query, per_page=20, **filters).hits]


def naive_names(searcher: baseline.Searcher, query: str) -> list[str]:
    return [document_name(path) for path in searcher.ranked(query, 20)]


def pair(tmp_path: Path, texts: dict[str, str]) -> tuple[SearchEngine, baseline.Searcher]:
    """Our engine and the naive one over the same few releases, indexed in the given order."""
    folder = tmp_path / "releases"
    folder.mkdir()
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
        # the naive setup indexes in name order; ours in path order: keep both in dict order
    report = sync(tmp_path / "ours", [folder])
    assert not report.skipped
    baseline.build(folder, tmp_path / "naive")
    return SearchEngine(tmp_path / "ours"), baseline.Searcher(tmp_path / "naive")


def release(title: str, date: str, body: str) -> str:
    return f"{title}\n\n发布时间:{date} | 来源:测试\n\n{body}\n"


# --- unknown words -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [("荣良", "mainland_hit_and_run_name"), ("防骗易", "hk_wanchai_scam_arrest"), ("立集体", "000")],
)
def test_any_two_character_string_in_a_release_is_found(ours, naive, query, expected):
    assert expected in names(ours, query)
    assert expected not in naive_names(naive, query)


def test_whole_word_ranks_above_the_same_characters_inside_other_words(ours, naive):
    # 南京市长江大桥 holds the characters 市长 but is about a bridge, not a mayor
    found = names(ours, "市长")
    assert found[:2] == ["mainland_mayor_visit", "mainland_bridge_patrol"]
    assert "mainland_bridge_patrol" not in naive_names(naive, "市长")


# --- script ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [("毒品仓库", "hk_mongkok_drug_raid"), ("三峡分局", "tw_police_substation"), ("区公安局 維穩", "004")],
)
def test_simplified_and_traditional_find_each_other(ours, naive, query, expected):
    assert names(ours, query)[0] == expected
    assert expected not in naive_names(naive, query)


# --- synonyms -------------------------------------------------------------------------------


def test_cross_strait_synonyms_widen_the_query_and_say_so(ours, naive):
    result = ours.search("车手")
    found = [document_name(hit.path) for hit in result.hits]
    assert set(found) == {"tw_daan_fraud_ring", "mainland_money_mule"}
    assert result.also_matched == ["取款人"]
    assert "取款人" in result.highlight_terms
    assert naive_names(naive, "车手") == []


def test_one_way_synonyms_do_not_widen_backwards(ours):
    assert set(names(ours, "酒驾")) == {
        "tw_taichung_drunk_driving",
        "mainland_drunk_driving_crime",
        "mainland_drink_driving_admin",
    }
    # 醉驾 is a crime; a mere 酒后驾驶 release is not an answer to it
    assert names(ours, "醉驾") == ["mainland_drunk_driving_crime"]
    # 机房 is also a server room on the mainland: it does not widen to 诈骗窝点
    assert ours.search("机房").also_matched == []


def test_typed_word_ranks_above_its_synonym(ours):
    found = names(ours, "取款人")
    assert found.index("mainland_money_mule") < found.index("tw_daan_fraud_ring")


def test_quoted_phrase_is_exact_and_never_widened(ours, naive):
    result = ours.search('"车手"')
    assert [document_name(hit.path) for hit in result.hits] == ["tw_daan_fraud_ring"]
    assert result.also_matched == []
    assert naive_names(naive, '"车手"') == []


def test_synonym_file_format_and_errors(tmp_path, monkeypatch, ours):
    table = parse_synonyms("# comment\n詐欺, 诈骗\n逮捕 => 抓获, 拘捕\n")
    assert table["诈欺"] == ("诈骗",) and table["逮捕"] == ("抓获", "拘捕") and "抓获" not in table
    for bad in ("诈骗\n", "a => \n", "a => b => c\n"):
        with pytest.raises(SynonymFileError, match=":1:"):
            parse_synonyms(bad)
    custom = tmp_path / "synonyms.txt"
    custom.write_text("可卡因, 毒品仓库\n", encoding="utf-8")
    monkeypatch.setenv(SYNONYMS_ENV, str(custom))
    assert set(names(ours, "可卡因")) == {"hk_mongkok_drug_raid"}
    assert ours.search("可卡因").also_matched == ["毒品仓库"]
    custom.write_text("杜荣良, 可卡因\n", encoding="utf-8")
    os.utime(custom, (1, 1))  # a different mtime: the edit is read on the next query
    assert set(names(ours, "可卡因")) == {"hk_mongkok_drug_raid", "mainland_hit_and_run_name"}
    custom.write_text("可卡因\n", encoding="utf-8")
    os.utime(custom, (2, 2))
    with pytest.raises(QueryError, match=r"synonym file cannot be used: .*synonyms.txt:1: a group needs"):
        ours.search("可卡因")
    monkeypatch.setenv(SYNONYMS_ENV, str(tmp_path / "missing.txt"))
    with pytest.raises(QueryError, match=r"missing\.txt"):
        ours.search("可卡因")


# --- query semantics ------------------------------------------------------------------------


def test_releases_with_every_word_come_first_then_those_with_some(ours):
    result = ours.search("伪基站 短信", per_page=20)
    assert document_name(result.hits[0].path) == "mainland_fake_base_station" and not result.hits[0].missing
    assert result.total_all_words == 1 and result.total == len(result.hits)
    # the others lack a word and say which
    assert result.mode == "any" and all(hit.missing for hit in result.hits[1:])
    assert ours.search("伪基站").mode == "all"


def test_no_release_with_every_word_falls_back_to_the_best_partial_matches(ours, naive):
    result = ours.search("伪基站 火星")
    assert result.mode == "any"
    assert document_name(result.hits[0].path) == "mainland_fake_base_station"
    assert naive_names(naive, "伪基站 火星") == []
    # filters still apply in the fallback
    assert ours.search("伪基站 火星", district="万州区").total == 0


def test_partial_matches_rank_releases_with_more_of_the_words_first(tmp_path):
    engine, _ = pair(
        tmp_path,
        {
            "a_one": release("民警巡逻", "2025-01-01", "民警在街头巡逻。"),
            "b_two": release("民警巡逻遇醉汉", "2025-01-01", "民警在街头巡逻,遇到一名醉汉。"),
        },
    )
    result = engine.search("民警 醉汉 火星")
    assert result.mode == "any"
    assert [document_name(hit.path) for hit in result.hits] == ["b_two", "a_one"]


# --- ranking --------------------------------------------------------------------------------


def test_title_match_ranks_above_body_match(tmp_path):
    engine, naive_engine = pair(
        tmp_path,
        {
            "a_body": release("警方通报一起案件", "2025-01-01", "辖区发生一起盗窃案,民警调查后发现系电动车被盗。"),
            "b_title": release("电动车被盗案告破", "2025-01-01", "辖区发生一起盗窃案,民警调查后抓获嫌疑人。"),
        },
    )
    assert [document_name(hit.path) for hit in engine.search("电动车").hits] == ["b_title", "a_body"]
    assert naive_names(naive_engine, "电动车") == ["a_body", "b_title"]


def test_words_close_together_rank_above_words_far_apart(tmp_path):
    filler = "。".join(["当天天气晴朗,道路通行正常"] * 6)
    engine, naive_engine = pair(
        tmp_path,
        {
            "a_far": release("通报", "2025-01-01", f"一辆货车经过。{filler}。警方提醒注意超载危害。"),
            "b_near": release("通报", "2025-01-01", f"警方提醒货车超载危害大。{filler}。一辆车经过。"),
        },
    )
    assert [document_name(hit.path) for hit in engine.search("货车 超载").hits] == ["b_near", "a_far"]
    assert naive_names(naive_engine, "货车 超载") == ["a_far", "b_near"]


def test_equal_scores_put_the_newest_first(tmp_path):
    text = "民警开展防溺水宣传,提醒家长看护好孩子。"
    engine, naive_engine = pair(
        tmp_path,
        {
            "a_2019": release("防溺水宣传", "2019-06-01", text),
            "b_2025": release("防溺水宣传", "2025-06-01", text),
            "c_2022": release("防溺水宣传", "2022-06-01", text),
        },
    )
    hits = engine.search("防溺水").hits
    assert [document_name(hit.path) for hit in hits] == ["b_2025", "c_2022", "a_2019"]
    assert naive_names(naive_engine, "防溺水")[0] == "a_2019"


def test_tie_break_is_exact_beyond_the_first_page(tmp_path):
    text = "民警开展防溺水宣传。"
    releases = {f"r{number:02d}": release("防溺水", f"20{10 + number}-01-01", text) for number in range(15)}
    engine, _ = pair(tmp_path, releases)
    first = engine.search("防溺水", per_page=3)
    assert [hit.date for hit in first.hits] == ["2024-01-01", "2023-01-01", "2022-01-01"]
    second = engine.search("防溺水", per_page=3, page=2)
    assert [hit.date for hit in second.hits] == ["2021-01-01", "2020-01-01", "2019-01-01"]


# --- dates ----------------------------------------------------------------------------------


def test_roc_dates_are_read_and_filterable(ours):
    taipei = ours.search("大安分局")
    assert taipei.hits[0].date == "2025-09-03"  # 中華民國114年9月3日
    october = names(ours, "酒驾", date_from="2025-10-01", date_to="2025-10-31")
    assert october == ["tw_taichung_drunk_driving"]  # 114/10/12
    assert names(ours, "分驻所", date_from="2025-08-30", date_to="2025-08-30") == ["tw_police_substation"]


@pytest.mark.parametrize(
    ("text", "anchor", "expected"),
    [
        ("民國114年9月3日", None, dt.date(2025, 9, 3)),
        ("中华民国99年1月2日", None, dt.date(2010, 1, 2)),
        ("114年9月3日", None, dt.date(2025, 9, 3)),
        ("114/09/03 10:00", None, dt.date(2025, 9, 3)),
        ("9月3日", None, None),  # no year and nothing to take one from: never guessed
        ("昨天", None, None),
        ("9月3日", dt.date(2025, 9, 10), dt.date(2025, 9, 3)),
        ("12月30日", dt.date(2025, 1, 5), dt.date(2024, 12, 30)),
        ("昨天", dt.date(2025, 3, 1), dt.date(2025, 2, 28)),
        ("25年3月1日", None, None),  # a two-digit year is not an ROC year without 民國
    ],
)
def test_date_forms(text, anchor, expected):
    assert parse_date(text, anchor=anchor) == expected


def test_partial_header_date_takes_its_year_from_the_release_only(tmp_path):
    folder = tmp_path / "releases"
    folder.mkdir()
    (folder / "anchored.txt").write_text(
        "某县公安局通报\n\n发布时间:9月3日\n\n2025年9月1日,某县公安局破获一起盗窃案。\n", encoding="utf-8"
    )
    (folder / "unanchored.txt").write_text(
        "某县公安局通报\n\n发布时间:9月3日\n\n近日,某县公安局破获一起盗窃案。\n", encoding="utf-8"
    )
    sync(tmp_path / "ix", [folder])
    engine = SearchEngine(tmp_path / "ix")
    dates = {document_name(hit.path): hit.date for hit in engine.search("盗窃案").hits}
    assert dates == {"anchored": "2025-09-03", "unanchored": None}


# --- the benchmark --------------------------------------------------------------------------


def test_relevance_benchmark_beats_the_baseline_on_every_query_class():
    result = run()
    for kind in ("oov", "script", "synonym", "phrase"):
        ours_figures, naive_figures = result["ours"][kind], result["baseline"][kind]
        assert ours_figures["ndcg"] > naive_figures["ndcg"] + 0.1, kind
        assert ours_figures["recall"] >= naive_figures["recall"], kind
    assert result["ours"]["all"]["queries"] >= 30


def test_bigram_matches_are_exact_across_index_segments(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir(), second.mkdir()
    for number in range(4):
        (first / f"a{number}.txt").write_text(release("民警巡逻", "2025-01-01", "民警在南京市长江大桥巡逻。"), "utf-8")
        (second / f"b{number}.txt").write_text(release("市长调研", "2025-02-01", "市长到公安局调研。"), "utf-8")
    sync(tmp_path / "ix", [first])
    sync(tmp_path / "ix", [first, second])
    engine = SearchEngine(tmp_path / "ix")
    with engine.snapshot():
        assert len(engine._current_searcher().reader().leaf_readers()) == 2
    found = [document_name(hit.path) for hit in engine.search("市长", per_page=20).hits]
    assert sorted(found[:4]) == ["b0", "b1", "b2", "b3"] and sorted(found[4:]) == ["a0", "a1", "a2", "a3"]
    assert sorted(document_name(hit.path) for hit in engine.search("京市长江", per_page=20).hits) == [
        "a0", "a1", "a2", "a3",
    ]  # fmt: skip


def test_characters_typed_together_are_marked_together(ours):
    result = ours.search("立集体")
    assert document_name(result.hits[0].path) == "000"
    assert "立" not in result.highlight_terms and "立集体" in result.highlight_terms
    assert "立集体" in result.hits[0].snippet.marked()


# --- property: any string in a release finds it ---------------------------------------------


@pytest.fixture(scope="module")
def two_segment_engine(corpus: Path, tmp_path_factory: pytest.TempPathFactory):
    """The relevance corpus indexed in two commits (two segments), with each release's indexed text."""
    from search.analysis import is_ideograph_run
    from search.clean import clean
    from search.extract import extract
    from search.load import load_bytes
    from search.normalise import fold_text
    from search.sync_writing import release_fields

    folder = tmp_path_factory.mktemp("two-segments")
    first, second = folder / "first", folder / "second"
    first.mkdir(), second.mkdir()
    texts: dict[str, str] = {}
    for number, path in enumerate(sorted(corpus.glob("*.txt"))):
        target = (first if number % 2 else second) / path.name
        target.write_bytes(path.read_bytes())
        fields = release_fields(extract(clean(load_bytes(target, target.read_bytes()))))
        texts[document_name(path.name)] = fold_text(fields["body"])
    sync(folder / "ix", [first])
    sync(folder / "ix", [first, second])
    engine = SearchEngine(folder / "ix")
    runs = sorted({run for text in texts.values() for run in re.findall(r"[\u4e00-\u9fff]{2,}", text)})
    assert runs and all(is_ideograph_run(run) for run in runs[:10])
    yield engine, texts, runs
    engine.close()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_every_string_of_characters_in_a_release_finds_that_release(two_segment_engine, data):
    from search.analysis import query_words, stop_words
    from search.synonyms import expansions_of

    engine, texts, runs = two_segment_engine
    run = data.draw(st.sampled_from(runs))
    start = data.draw(st.integers(0, len(run) - 2))
    needle = run[start : start + data.draw(st.integers(2, min(6, len(run) - start)))]
    expected = {name for name, text in texts.items() if needle in text}
    # a quoted phrase of stop words only (一个) is analysed to nothing by Whoosh's phrase syntax
    quoted = [f'"{needle}"'] if any(word.text not in stop_words() for word in query_words(needle)) else []
    for query in (needle, *quoted):
        found = {document_name(hit.path) for hit in engine.search(query, per_page=100).hits}
        assert expected <= found, (query, expected - found)
    words = query_words(needle)
    if len(words) == 1 and words[0].text == needle and not expansions_of(needle) and not places_named(needle):
        # one word, nothing dropped, no synonyms, no place: exactly those releases have it whole (the
        # others found hold its parts, and say it is missing)
        hits = engine.search(needle, per_page=100).hits
        found = {document_name(hit.path) for hit in hits if not hit.missing}
        assert found == expected, (needle, found ^ expected)
