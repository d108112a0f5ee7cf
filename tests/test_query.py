"""Query API against a real index of the seeds (plus two hand-written releases)."""

import datetime as dt
import re

import pytest

from search.formats.html import marked
from search.query import QueryError
from tests.conftest import SEED_002, SEED_004


def ids_by_file(result):
    return {hit.path.rsplit("/", 1)[-1] for hit in result.hits}


@pytest.mark.parametrize("q", ["萬州", "万州", "万州区", "萬州區"])
def test_traditional_and_simplified_find_the_same_release(engine, q):
    result = engine.search(q)
    assert SEED_004.name in ids_by_file(result)


def test_highlight_keeps_traditional_characters(engine):
    hit = engine.search("万州").hits[0]
    assert "萬州" in hit.snippet.marked()


def test_word_finds_longer_compound(extended_engine):
    result = extended_engine.search("诈骗", per_page=100)
    assert "telecom_only.txt" in ids_by_file(result)


def test_quoted_phrase_matches_exact_sequence_only(engine):
    result = engine.search('"电信诈骗"', per_page=100)
    assert ids_by_file(result) == {SEED_002.name}
    unquoted = engine.search("电信 诈骗", per_page=100)
    assert len(unquoted.hits) > 1


def test_phrase_in_extended_corpus(extended_engine):
    result = extended_engine.search('"电信诈骗"', per_page=100)
    assert ids_by_file(result) == {SEED_002.name, "telecom_only.txt"}


def test_snippet_marks_whole_words_and_escapes_everything_else(extended_engine):
    hit = extended_engine.search("防范").hits[0]
    assert "markup" in hit.path
    assert "<script>" in hit.snippet.text and "防范" in hit.snippet.marked()  # text, not markup
    html = str(marked(hit.snippet))
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert re.sub(r"</?mark>", "", html).count("<") == 0
    assert "<mark>防范</mark>" in html
    assert "<script>" not in str(marked(hit.title, hit.title_spans))


def test_empty_query_browses_everything_newest_first(engine):
    result = engine.search("")
    assert result.total == 5
    dates = [hit.date for hit in result.hits]
    assert dates[:3] == ["2026-01-21", "2025-02-21", "2018-12-26"]
    assert dates[3:] == [None, None]


def test_date_sort(engine):
    result = engine.search("公安", sort="date")
    dated = [hit.date for hit in result.hits if hit.date]
    assert dated == sorted(dated, reverse=True)


def test_district_filter_accepts_aliases_and_cities(engine):
    assert {h.district for h in engine.search("", district="九龙坡").hits} == {"九龙坡区"}
    assert engine.search("", district="九龙坡区").total == 2
    assert engine.search("", district="重庆").total == 4
    assert engine.search("", district="萬州區").total == 1
    assert engine.search("", district="河南省").total == 1
    assert engine.search("", district="不存在的地方").total == 0


def test_date_filters(engine):
    assert engine.search("", date_from="2025-01-01").total == 2
    assert engine.search("", date_to="2024-12-31").total == 1
    assert engine.search("", date_from=dt.date(2025, 1, 1), date_to="2025-12-31").total == 1


def test_facets_each_ignore_their_own_filter(engine):
    everything = engine.search("")
    assert {f.value: f.count for f in everything.facets["district"]} == {"九龙坡区": 2, "郾城区": 1, "万州区": 1}
    assert {f.value: f.count for f in everything.facets["year"]} == {"2026": 1, "2025": 1, "2018": 1}
    filtered = engine.search("", district="九龙坡区", date_from="2026-01-01", date_to="2026-12-31")
    assert filtered.total == 1
    # district counts apply the date filter, not the district filter
    assert {f.value: f.count for f in filtered.facets["district"]} == {"九龙坡区": 1}
    # year counts apply the district filter, not the date filter
    assert {f.value: f.count for f in filtered.facets["year"]} == {"2026": 1, "2025": 1}
    assert {f.value: f.count for f in filtered.facets["month"]} == {"2026-01": 1}


def test_query_syntax(engine):
    assert engine.search("九龙坡 AND 命案").total == 2
    assert engine.search("诈骗 NOT 套路贷").total == engine.search("诈骗").total - 1
    assert engine.search("district:郾城").total == 1
    assert engine.search("title:平安 AND 九龙坡").total >= 1
    assert engine.search("套路贷 OR 万州").total == 2


def test_paging(engine):
    first = engine.search("公安", per_page=2, page=1)
    second = engine.search("公安", per_page=2, page=2)
    assert first.total == second.total >= 4
    assert not {h.id for h in first.hits} & {h.id for h in second.hits}
    assert engine.search("公安", per_page=2, page=99).hits == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"q": '"电信诈骗'}, "unbalanced quote"),
        ({"q": "(诈骗"}, "parenthesis"),
        ({"q": "foo:bar"}, "unknown field"),
        ({"q": "x" * 2000}, "too long"),
        ({"page": 0}, "page"),
        ({"per_page": 101}, "per_page"),
        ({"date_from": "garbage"}, "YYYY-MM-DD"),
        ({"date_from": "2024-02-30"}, "real calendar date"),
        ({"date_from": "2025-01-01", "date_to": "2024-01-01"}, "before"),
        ({"sort": "random"}, "sort"),
    ],
)
def test_bad_input_gets_clear_error(engine, kwargs, message):
    with pytest.raises(QueryError, match=message):
        engine.search(**kwargs)


def test_document(engine):
    hit = engine.search("万州").hits[0]
    document = engine.document(hit.id)
    assert document.filename == SEED_004.name
    assert document.report_year == 2021
    assert document.paragraphs[1] == "嚴防死守安全底線 防控能力穩固提升"
    assert engine.document("no-such-id") is None


def test_long_release_still_gets_a_snippet(tmp_path):
    from search.query import SearchEngine
    from search.sync import sync

    filler = "民警开展日常巡逻工作,维护辖区治安秩序。" * 2500
    text = f"长篇通报\n\n{filler}\n\n最后,警方破获一起套路贷案件。"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "long.txt").write_text(text, encoding="utf-8")
    sync(tmp_path / "ix", [tmp_path / "src"])
    hit = SearchEngine(tmp_path / "ix").search("套路贷").hits[0]
    assert "套路贷" in hit.snippet.marked()


def test_filter_that_excludes_every_match_gives_no_hits(engine):
    result = engine.search("套路贷", district="万州区")
    assert result.total == 0 and result.hits == []
    assert engine.search("套路贷", date_from="2026-01-01").hits == []


def test_subtitle_is_searchable_and_shown_once(engine):
    result = engine.search('"工作纪实"')
    assert [hit.title for hit in result.hits] == ["亮剑攻坚护平安"]
    document = engine.document(result.hits[0].id)
    assert document.subtitle == "市公安局郾城分局工作纪实"
    assert not any("工作纪实" in paragraph for paragraph in document.paragraphs)


def test_stats_dates_and_counts(engine):
    stats = engine.stats()
    assert (stats["documents"], stats["undated"]) == (5, 2)
    assert (stats["earliest"], stats["latest"]) == ("2018-12-26", "2026-01-21")
