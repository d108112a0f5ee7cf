"""Place stage: the district, city or province a release is about, on short synthetic releases of
the shapes found on the web (everyday words, look-alike names, city-wide releases, Taiwan, Hong Kong)."""

from __future__ import annotations

import pytest

from search.clean import clean
from search.extract import extract
from search.load import load_bytes
from search.query import SearchEngine
from search.sync import sync


def place(tmp_path, text: str) -> tuple[str | None, str | None, str | None]:
    found = extract(clean(load_bytes(tmp_path / "release.txt", text.encode("utf-8"))))
    return found.province, found.city, found.district


# (what the release is, its text, province / city / district it is about)
SHAPES = [
    (
        "公安 everywhere in a 唐山 release is not 荆州's 公安县",
        "公安提醒:警惕冒充公检法诈骗\n"
        "近日,唐山市公安局发布提醒,全市公安机关持续打击电信诈骗。公安民警提示,"
        "公安机关不会通过电话办案,请群众牢记公安提醒。",
        ("河北省", "唐山市", None),
    ),
    (
        "the province 河北 is not 天津's 河北区",
        "河北打掉一批黑恶势力团伙\n河北省公安厅日前通报,全省公安机关扫黑除恶取得成效,河北警方共打掉团伙120个。",
        ("河北省", None, None),
    ),
    (
        "海南 in a 三亚 release is the province, not 乌海's 海南区",
        "三亚一男子持刀伤人后跳海 海南海警迅速处置\n昨日,三亚市公安局接警称一男子持刀伤人后跳海,海南海警迅速出警。",
        ("海南省", "三亚市", None),
    ),
    (
        "a city-wide 长沙市公安局 release is 长沙市, not 长沙县",
        "长沙警方通报今年以来打击盗窃成果\n长沙市公安局日前通报,今年以来全市共破获盗窃案件800余起。",
        ("湖南省", "长沙市", None),
    ),
    (
        "a city-level bureau presenting one county's case keeps no district",
        "汉中警方重拳打击黑恶势力\n汉中市公安局充分发挥主力军作用,全市共打掉恶势力团伙21个。\n"
        "城固县公安局成功打掉一个涉恶犯罪团伙,6人被刑事拘留。",
        ("陕西省", "汉中市", None),
    ),
    (
        "a county bureau in the lead places the release in its county",
        "外地逃犯落网\n本报讯 近日,商水县公安局郝岗派出所民警发现一辆外地牌照轿车,"
        "车主因涉嫌故意伤害被河北省文安县警方网上追逃。",
        ("河南省", "周口市", "商水县"),
    ),
    (
        "我市 from a county-level city's bureau keeps the county-level city",
        "我市警方破获一起电信诈骗案\n辛集市公安局近日破获一起电信诈骗案,我市民警远赴外省抓获嫌疑人3名。",
        ("河北省", "石家庄市", "辛集市"),
    ),
    (
        "a district bureau under its city's bureau names the district",
        "民警成功劝阻一起电信诈骗\n3月31日,广州市公安局从化区分局太平派出所接群众报警,称其家属离家不知去向。",
        ("广东省", "广州市", "从化区"),
    ),
    (
        "a Taiwan release resolves in Taiwan, at city level",
        "大溪分局破獲賭場 逮捕12人\n桃園市政府警察局大溪分局昨日破獲一處職業賭場,查扣賭資新台幣30萬元。",
        ("台湾省", "桃园市", None),
    ),
    (
        "台中 is not 延边's 龙井 in a Taiwan release",
        "車手落網\n記者/台中即時報導 台中市烏日警分局昨天在梧棲攔獲3名詐欺車手,查扣現金14萬元。",
        ("台湾省", "台中市", None),
    ),
    (
        "a Hong Kong release resolves in Hong Kong, its district only where stated",
        "警方拘捕一名男子\n警方昨日在葵青區拘捕一名35歲本地男子,他涉嫌在大廈走廊吐口水。警務處呼籲市民合作。",
        ("香港特别行政区", None, "葵青区"),
    ),
    (
        "该县警方 speaks for the county the release names",
        "男子持斧伤人后潜逃 警方52小时擒凶\n犯罪嫌疑人王某驾车撞倒3人后逃离现场,该县警方赶到后将伤者送医。\n"
        "在省公安厅、市公安局的支持下,该县警方连续作战,在广宗县一民宅中将王某抓获。",
        ("河北省", "邢台市", "广宗县"),
    ),
    (
        "a region's 警方 in the headline gives way to the city bureau that did the work",
        "出租车司机凌晨遭抢劫 内蒙古警方40小时擒凶\n"
        "内蒙古警方日前通报,赤峰市公安局经40小时连续侦查,抓获抢劫出租车司机的嫌疑人2名。",
        ("内蒙古自治区", "赤峰市", None),
    ),
    (
        "one city's case presented at the ministry's press conference is that city's",
        "宁波破获民族资产解冻类诈骗案\n10月25日,公安部在北京召开新闻发布会,通报打击民族资产解冻类诈骗成效。"
        "浙江省宁波市公安局刑侦支队介绍了破获的诈骗案件情况。",
        ("浙江省", "宁波市", None),
    ),
    (
        "a Taiwan county's sub-bureau, named after its town, outweighs the neighbour it worked with",
        "外籍車手落網\n屏東東港警分局接獲多起車手提領案,與高雄警方跨域合作,查獲田姓車手。\n"
        "高雄警方協助調閱監視器。屏東縣政府警察局長慰勉偵辦人員。",
        ("台湾省", "屏东县", None),
    ),
    (
        "a Hong Kong release naming several districts is about none of them",
        "警方加強巡邏 拘捕2人\n警方昨晚在東區加強巡邏,拘捕2人,另在灣仔區及東區帶走10人調查。警務處表示會繼續巡邏。",
        ("香港特别行政区", None, None),
    ),
    (
        "the ministry's national release has no place",
        "公安机关打掉涉黑组织160余个\n公安部日前通报,全国公安机关去年打掉涉黑组织160余个,河北、山东等地成效明显。",
        (None, None, None),
    ),
]


TAIWAN = next(i for i, shape in enumerate(SHAPES) if "桃園市政府" in shape[1])
CHANGSHA = next(i for i, shape in enumerate(SHAPES) if "长沙市公安局" in shape[1])


@pytest.mark.parametrize(("text", "expected"), [shape[1:] for shape in SHAPES], ids=[s[0] for s in SHAPES])
def test_release_is_placed_where_it_is_about(tmp_path, text, expected):
    assert place(tmp_path, text) == expected


def test_taiwan_city_is_found_by_district_filter_and_field(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "tw.txt").write_text(SHAPES[TAIWAN][1], encoding="utf-8")
    (docs / "cs.txt").write_text(SHAPES[CHANGSHA][1], encoding="utf-8")
    sync(tmp_path / "index", [docs])
    engine = SearchEngine(tmp_path / "index")
    try:
        assert [hit.city for hit in engine.search("", district="桃园").hits] == ["桃园市"]
        assert engine.search("district:桃園 赌场").total == 1
        assert engine.search("", district="长沙").total == 1
    finally:
        engine.close()
