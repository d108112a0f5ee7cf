"""Publish dates where real pages put them, never an event date from the story, and the rule named.

Every release here is a short synthetic page with the *shape* of one found on the web.
"""

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from search.clean import clean
from search.cli import main
from search.dates import parse_date
from search.extract import extract
from search.index import open_index
from search.load import load_bytes
from search.publish_date import RULE_ANCHORED, RULE_HEADER_LINE, RULE_LABEL, RULE_SIGN_OFF
from search.query import SearchEngine
from search.sync import sync
from web import create_app

BODY = "某县公安局民警接到群众报警后迅速赶赴现场,经过连续工作,成功抓获犯罪嫌疑人二名。"
MORE = "目前,犯罪嫌疑人已被依法刑事拘留,案件正在进一步侦办中,警方提醒群众注意防范。"


def published(tmp_path, text):
    release = extract(clean(load_bytes(tmp_path / "release.txt", text.encode("utf-8"))))
    return release.date, release.date_rule


# the header lines of a page (the story's first paragraph follows each): date and rule expected
HEADER_SHAPES = {
    "date line at the top": (
        " date 2026-02-12 我是廣告 請繼續往下閱讀\n\n▲ 現場查扣賭具。（圖／警方提供）\n\n",
        "2026-02-12",
        RULE_LABEL,
    ),
    "outlet | date time": (
        "網站導航 > 國內 >\n\n某地警方破獲案件\n\n新華社 | 2023-02-28 10:43:40\n\n",
        "2023-02-28",
        RULE_HEADER_LINE,
    ),
    "day.month.year": ("嫌疑人驾车逃窜 民警追捕落网\n\n17.02.2023  21:02\n\n", "2023-02-17", RULE_HEADER_LINE),
    "bullet after the section": ("rthk.hk - 即時新聞: 本地 ( ) • 2022-01-25 00:53\n", "2022-01-25", RULE_HEADER_LINE),
    "bulleted label": (
        "某县警方查获毒品案\n\n  • 来源:央视新闻客户端\n  • 时间:2020-03-12 10:47:03\n\n",
        "2020-03-12",
        RULE_LABEL,
    ),
    "date then source": (
        "某市打掉两个涉黑团伙\n\n2009-10-30 10:05:00 来源:某新闻网\n\n",
        "2009-10-30",
        RULE_HEADER_LINE,
    ),
    "byline then date": (
        "犯罪嫌疑人等车返家 没想到等来特警\n\n©原创 陶某 2020-08-05 10:47\n\n",
        "2020-08-05",
        RULE_HEADER_LINE,
    ),
    "bare date and time": ("情人节小偷也没闲\n2009-02-17 07:32\n\n", "2009-02-17", RULE_HEADER_LINE),
    "bare date": (
        "APP下载\n\n各地警方开展整治行动\n\n2021-05-18\n\n某某杂志 2021年1期\n",
        "2021-05-18",
        RULE_HEADER_LINE,
    ),
    "portal url, glued time, outlet": (
        "群众围追劫匪\n---|---|\nhttp://www.sina.com.cn 2004年07月21日13:32 某某网 | |||\n",
        "2004-07-21",
        RULE_HEADER_LINE,
    ),
    "amid mojibake": (
        "去年打掉涉黑組織160余個(gè)\n中國(guó)日?qǐng)?bào)網(wǎng) 2023-02-28 18:39\n",
        "2023-02-28",
        RULE_HEADER_LINE,
    ),
    "weekday after the date": ("某县警方破获盗窃案\n2023年2月28日 星期二\n", "2023-02-28", RULE_HEADER_LINE),
    "bracketed after a label": (
        "首页 > 要闻\n\n本站发表时间:[2023-02-28] 来源:某公众号 作者:\n\n",
        "2023-02-28",
        RULE_LABEL,
    ),
    "newspaper name and page": (
        "某某晚报 2023年02月28日 第A08版:社会与法\n\n外地逃犯落网\n\n",
        "2023-02-28",
        RULE_HEADER_LINE,
    ),
    "label broken by conversion": (
        "某地警方破案\n發(fā)布時(shí)間:2023-02-28 10:00 來源:某網(wǎng)\n",
        "2023-02-28",
        RULE_LABEL,
    ),
    "traditional label": ("某地警方破案\n發佈日期：2023年2月28日\n", "2023-02-28", RULE_LABEL),
    "malformed 2023月02月28日": ("这位民警一声吼\n2023月02月28日\n\n", "2023-02-28", RULE_HEADER_LINE),
    "caption first, then the date": (
        "警方查獲車手。（警方提供）\n\n2023/02/28 09:46\n\n",
        "2023-02-28",
        RULE_HEADER_LINE,
    ),
    "long headline with a list in it": (
        "公安机关纵深推进扫黑除恶斗争 打掉涉黑组织160余个、恶势力犯罪集团1520余个\n2023-02-28\n",
        "2023-02-28",
        RULE_HEADER_LINE,
    ),
    "time with 上午": ("某县警方破获盗窃案\n2023年02月28日 上午10:43 来源:某网\n", "2023-02-28", RULE_HEADER_LINE),
    "time in characters": ("某县警方破获盗窃案\n2023年02月28日10时43分 来源:某网\n", "2023-02-28", RULE_HEADER_LINE),
    "spaced-out label": ("某县警方破获盗窃案\n时 间:2023-02-28 来源:某网\n", "2023-02-28", RULE_LABEL),
    "site menu naming comments first": ("评论\n某县警方破获盗窃案\n2023-02-28 10:00\n", "2023-02-28", RULE_HEADER_LINE),
    "outlet run into the date": ("某县警方破获盗窃案\n中国新闻网2023-02-28 15:13\n", "2023-02-28", RULE_HEADER_LINE),
    "source field run into the date": ("某县警方破获盗窃案\n2023-02-28来源:某某网\n", "2023-02-28", RULE_HEADER_LINE),
    "ROC year": ("某分局查獲車手\n民國112年2月28日\n", "2023-02-28", RULE_HEADER_LINE),
    "ROC slashes": ("某分局查獲車手\n112/02/28 16:51\n", "2023-02-28", RULE_HEADER_LINE),
    "parenthesised": ("某县警方破获盗窃案\n(2023年02月28日)\n", "2023-02-28", RULE_HEADER_LINE),
}


@pytest.mark.parametrize("shape", HEADER_SHAPES)
def test_header_dates(tmp_path, shape):
    head, date, rule = HEADER_SHAPES[shape]
    assert published(tmp_path, head + BODY) == (dt.date.fromisoformat(date), rule)


SIGN_OFFS = {
    "newspaper and editor": "记者 某某\n" + BODY + "\n" + MORE + "\n《新消息报》 2006年3月16日 (责任编辑:某某)\n|",
    "issuer then a bare date": "|\n" + BODY + "\n" + MORE + "\n某区人民政府新闻办公室\n2006年3月16日\n图为涉事车辆\n|",
    "bracketed at the end of the last paragraph": BODY + "\n" + MORE + "(2006年03月16日)",
    "Chinese numerals": BODY + "\n" + MORE + "\n某县公安局\n二〇〇六年三月十六日",
}


@pytest.mark.parametrize("shape", SIGN_OFFS)
def test_sign_off_dates(tmp_path, shape):
    assert published(tmp_path, SIGN_OFFS[shape]) == (dt.date(2006, 3, 16), RULE_SIGN_OFF)


def test_header_date_wins_over_the_sign_off(tmp_path):
    text = "某地发生交通事故\n2024-02-26 10:00\n" + BODY + "\n" + MORE + "\n某区新闻办公室\n2024年2月27日"
    assert published(tmp_path, text) == (dt.date(2024, 2, 26), RULE_HEADER_LINE)


EVENT_DATES = {
    "event date opening the story": "|\n2024年2月24日,某市某路发生一起交通事故。\n" + MORE,
    "event date with a time in words": "2023年3月6日9时30分,接到某市公安局交警大队指挥中心指令,民警迅速赶往现场。\n"
    + MORE,
    "event in a caption": "2012年5月23日下午,警方将抓获的犯罪嫌疑人押解回兰州。某某 摄\n" + BODY,
    "month and day only": "某地民警救助走失老人\n3月12日,某派出所民警接到报警称一名老人走失。\n" + MORE,
    "year and month only": "某地警方破获积案\n2019年5月,某县发生一起命案,犯罪嫌疑人潜逃外地。\n" + MORE,
    "date inside a sentence": "某地警方破获积案\n"
    + BODY
    + "\n在2022年1月12日的一次缉毒行动中,警犬协助查获毒品。\n"
    + MORE,
    "timeline heading after the first paragraph": "某地积案告破\n" + BODY + "\n1992年5月2日\n" + MORE,
    "related-news list": BODY + "\n" + MORE + "\n相关新闻\n· 兰州警方破获一起案件 2021-03-10",
    "a reader's comment": BODY + "\n" + MORE + "\n全部评论(1)\n网友甲 2023-03-01 12:00\n说得好",
    "link to the next story": BODY + "\n" + MORE + "\n下一篇:某地警方破获盗窃案 2023-03-01",
    "date in a photo caption": "某地警方破获盗窃案\n2023年3月6日 民警在现场勘查(某某 摄)\n" + BODY,
    "the period of a campaign": "关于开展专项行动的通告\n时间:2023年3月1日至2023年12月31日\n" + BODY,
    "date run into a sentence": "某地警方破获盗窃案\n该案于2023年2月28日 告破\n" + BODY,
    "masthead of today": "2023年2月28日 星期二 农历二月初九 欢迎访问某某网\n某地警方破获盗窃案\n" + BODY,
    "caption with a time in words": "某地警方破获盗窃案\n2023年3月6日 下午 民警在现场勘查\n" + BODY,
    "two different sign-off dates": BODY + "\n" + MORE + "\n某某报 2021-03-10\n某某网 2021-03-12",
    "dateline without a year and nothing to anchor it": "某网1月30日讯 " + BODY + "\n" + MORE,
    "dateline far from the only full date": "某网8月2日电 " + BODY + "\n在2022年1月12日的一次行动中查获毒品。\n" + MORE,
    "dateline of a relayed story": "据新华社北京1月30日电 " + BODY + "\n2023年1月28日,某县警方开展专项行动。\n" + MORE,
    "ambiguous slashes": "某地警方破获盗窃案\n03/04/2023 10:00\n" + BODY,
}


@pytest.mark.parametrize("shape", EVENT_DATES)
def test_event_dates_are_never_the_publish_date(tmp_path, shape):
    assert published(tmp_path, EVENT_DATES[shape]) == (None, None)


def test_year_less_dateline_takes_the_year_of_a_full_date_shortly_before(tmp_path):
    text = "某网1月30日讯 " + BODY + "\n2022年12月31日至2023年1月28日,某县警方开展专项行动。\n" + MORE
    assert published(tmp_path, text) == (dt.date(2023, 1, 30), RULE_ANCHORED)


def test_year_less_header_label_takes_the_year_of_the_release(tmp_path):
    text = "某县公安局通报\n\n发布时间:9月3日\n\n2025年9月1日,某县公安局破获一起盗窃案。\n" + MORE
    assert published(tmp_path, text) == (dt.date(2025, 9, 3), RULE_ANCHORED)


def test_year_less_date_line_under_the_headline_takes_the_year_of_the_release(tmp_path):
    text = "某县警方破获盗窃案\n9月3日 10:20\n2025年9月1日,某县公安局破获一起盗窃案。\n" + MORE
    assert published(tmp_path, text) == (dt.date(2025, 9, 3), RULE_ANCHORED)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("22.06.2016  10:15", dt.date(2016, 6, 22)),
        ("25/12/2015", dt.date(2015, 12, 25)),
        ("12/25/2015", dt.date(2015, 12, 25)),
        ("03/04/2023", None),
        ("2021月06月15日", dt.date(2021, 6, 15)),
        ("二〇二三年十二月三十一日", dt.date(2023, 12, 31)),
        ("二〇二三年二月十日", dt.date(2023, 2, 10)),
        ("二〇二三年十十月一日", None),
        ("192.168.1.1", None),
        ("110-12-25", None),  # a three-digit year with dashes is a phone number, not an ROC date
    ],
)
def test_date_forms(text, expected):
    assert parse_date(text) == expected


def test_date_rule_is_in_the_document_json(tmp_path):
    folder = tmp_path / "releases"
    folder.mkdir()
    (folder / "labelled.txt").write_text("某县警方破获盗窃案\n发布时间:2023-02-28 10:00\n" + BODY, encoding="utf-8")
    (folder / "undated.txt").write_text("某县警方破获盗窃案\n" + BODY, encoding="utf-8")
    index_dir = tmp_path / "ix"
    sync(index_dir, [folder])
    with open_index(index_dir).searcher() as searcher:
        ids = {Path(stored["path"]).name: stored["id"] for stored in searcher.documents()}
    labelled, undated = ids["labelled.txt"], ids["undated.txt"]

    shown = CliRunner().invoke(main, ["--index", str(index_dir), "show", labelled, "--json"], catch_exceptions=False)
    document = json.loads(shown.stdout)
    assert (document["date"], document["date_rule"]) == ("2023-02-28", RULE_LABEL)

    client = create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()
    assert client.get(f"/api/documents/{labelled}").get_json()["date_rule"] == RULE_LABEL
    assert client.get(f"/api/documents/{undated}").get_json()["date_rule"] is None
    engine = SearchEngine(index_dir)
    try:
        assert engine.document(undated).date is None
    finally:
        engine.close()
