"""Extract stage: the metadata each seed must get, and the gazetteer behind districts."""

import datetime as dt

import pytest

from search import gazetteer
from search.clean import clean
from search.dates import parse_date
from search.extract import extract
from search.load import load, load_bytes
from tests.conftest import SEED_000, SEED_001, SEED_002, SEED_003, SEED_004


def release(path):
    return extract(clean(load(path)))


@pytest.mark.parametrize(
    ("seed", "date", "district", "city", "province", "source"),
    [
        (SEED_000, dt.date(2025, 2, 21), "九龙坡区", "重庆市", "重庆市", "中国网"),
        (SEED_001, dt.date(2026, 1, 21), "九龙坡区", "重庆市", "重庆市", None),
        (SEED_002, dt.date(2018, 12, 26), None, "重庆市", "重庆市", "重庆法制报"),
        (SEED_003, None, "郾城区", "漯河市", "河南省", None),
        (SEED_004, None, "万州区", "重庆市", "重庆市", None),
    ],
    ids=["000", "001", "002", "003", "004"],
)
def test_seed_metadata(seed, date, district, city, province, source):
    found = release(seed)
    assert found.date == date
    assert found.district == district
    assert found.city == city
    assert found.province == province
    assert found.source == source


def test_titles_are_headlines_never_breadcrumbs():
    assert release(SEED_000).title == "载誉奋楫再出发 九龙坡公安交出2024年平安护航高分答卷"
    assert release(SEED_001).title == "护一方稳定 促一方发展 区公安分局2025年平安建设巡礼"
    assert release(SEED_002).title == "全国第一:最新全国城市治安安全感指数凸显我市平安建设成效"
    assert release(SEED_003).title == "亮剑攻坚护平安"
    assert release(SEED_003).subtitle == "市公安局郾城分局工作纪实"


def test_release_without_headline_gets_an_inferred_title():
    found = release(SEED_004)
    assert found.title_inferred
    assert found.title.startswith("2021年,萬州區公安局")


def test_reported_year_of_undated_release():
    assert release(SEED_004).report_year == 2021
    assert release(SEED_004).date is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("发布时间:2025-02-21 16:32:16", dt.date(2025, 2, 21)),
        ("2018/12/26", dt.date(2018, 12, 26)),
        ("2025年2月21日 10:00", dt.date(2025, 2, 21)),
        ("２０２４年３月５日", dt.date(2024, 3, 5)),
        ("2024-05-06T10:20:00+08:00", dt.date(2024, 5, 6)),
        ("20240506", dt.date(2024, 5, 6)),
        ("2024-02-30", None),
        ("2月21日", None),
        ("", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_date_from_html_meta_and_year_month_day_line(tmp_path):
    page = load_bytes(
        tmp_path / "a.html",
        b"<html><head><meta name='pubdate' content='2022-09-01'></head>"
        b"<body><h1>\xe6\xa0\x87\xe9\xa2\x98</h1><p>" + "正文内容".encode() + b"</p></body></html>",
    )
    assert extract(clean(page)).date == dt.date(2022, 9, 1)
    text = "标题在此\n2023年4月5日\n郾城分局开展夜间巡逻,维护社会治安。"
    assert extract(clean(load_bytes(tmp_path / "b.txt", text.encode()))).date == dt.date(2023, 4, 5)


def test_gazetteer_covers_mainland_taiwan_hong_kong_macau():
    places = gazetteer.load()
    assert len([r for r in places.regions if r.district]) > 2800
    assert places.resolve("九龙坡")[0].district == "九龙坡区"
    assert places.resolve("嘉义县")[0].province == "台湾省"
    assert places.resolve("嘉义县")[0].city == "嘉义县"  # Taiwan's counties stand at city level
    assert places.resolve("湾仔区")[0].province == "香港特别行政区"
    assert places.resolve("石柱")[0].district == "石柱土家族自治县"
    assert {r.city for r in places.resolve("江北区")} == {"重庆市", "宁波市"}


def test_traditional_and_ambiguous_names_resolve_by_context(tmp_path):
    text = "嘉義縣警察局破獲詐騙集團\n嘉義縣警察局今日宣布,破獲一起詐騙案件,逮捕嫌犯五人。"
    found = extract(clean(load_bytes(tmp_path / "tw.txt", text.encode("utf-8"))))
    assert (found.district, found.city, found.province) == (None, "嘉义县", "台湾省")
    text = "宁波江北警方破获盗窃案\n近日,宁波市江北区公安分局破获一起盗窃案,抓获嫌疑人2名。"
    found = extract(clean(load_bytes(tmp_path / "nb.txt", text.encode("utf-8"))))
    assert (found.district, found.city) == ("江北区", "宁波市")


def test_common_word_is_not_taken_for_a_place(tmp_path):
    text = "守护和平安宁\n民警守护城区和平与安宁,城区治安持续向好。"
    found = extract(clean(load_bytes(tmp_path / "x.txt", text.encode("utf-8"))))
    assert found.region is None


@pytest.mark.parametrize(
    ("title", "first", "year"),
    [
        ("臺中市113年度治安成果", "", 2024),
        ("民國112年交通安全報告", "", 2023),
        ("警方通报", "2023年,全区治安平稳。", 2023),
        ("警方通报", "全区治安平稳。", None),
    ],
)
def test_reported_year_in_either_calendar(title, first, year, tmp_path):
    text = f"{title}\n\n发布时间:2025-01-01\n\n{first or '全区治安平稳,警方提醒注意安全。'}\n"
    assert extract(clean(load_bytes(tmp_path / "r.txt", text.encode("utf-8")))).report_year == year
