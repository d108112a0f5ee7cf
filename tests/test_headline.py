"""Headline finding on pages as they are saved from the web: each shape in a short synthetic release."""

from pathlib import Path

import pytest

from search import furniture
from search.clean import clean
from search.extract import extract
from search.headline import derive_headline, looks_like_breadcrumb, tidy
from search.load import load

LEAD = "3月2日,青山县公安局接到群众报警,称其停放在小区门口的电动车被盗,民警立即调取监控追查。"
MORE = "经过两天侦查,民警在邻县一出租屋内将盗窃嫌疑人王某抓获,追回被盗电动车3辆。"


def cleaned(tmp_path: Path, text: str, name: str = "release.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return clean(load(path))


def released(tmp_path: Path, text: str):
    return extract(cleaned(tmp_path, text))


@pytest.mark.parametrize(
    "chrome",
    ["法律热线:0512-66886688", "APP下载", "关注我们", "手机版 | 网站导航", "本篇文章286字,读完约1分钟", "不支持Flash"],
)
def test_chrome_line_above_the_headline_is_skipped_and_kept_out_of_the_text(tmp_path, chrome):
    document = cleaned(tmp_path, f"{chrome}\n青山警方两天破获电动车盗窃案\n{LEAD}\n{MORE}\n")
    assert document.headline == "青山警方两天破获电动车盗窃案"
    assert chrome in document.chrome
    assert all(chrome not in paragraph for paragraph in document.paragraphs)
    assert document.paragraphs[0] == LEAD


def test_newspaper_page_line_and_byline_around_the_headline(tmp_path):
    text = f"2024年03月05日\n第B03版:法治·警事 PDF版\n\n青山警方破获电动车盗窃案\n\n□记者 刘明 通讯员 陈亮\n\n{LEAD}\n"
    document = cleaned(tmp_path, text)
    assert document.headline == "青山警方破获电动车盗窃案"
    assert document.date_line == "2024年03月05日"
    assert "第B03版:法治·警事 PDF版" in document.chrome
    assert "□记者 刘明 通讯员 陈亮" in document.bylines


@pytest.mark.parametrize("outlet", ["东方网", "青山日报", "时政要闻 青山新闻网"])
def test_outlet_name_above_the_headline_is_not_the_headline(tmp_path, outlet):
    document = cleaned(tmp_path, f"{outlet}\n\n青山警方两天破获电动车盗窃案\n\n{LEAD}\n")
    assert document.headline == "青山警方两天破获电动车盗窃案"
    assert outlet in document.chrome


def test_column_name_above_the_headline_loses_to_the_line_the_story_talks_about(tmp_path):
    text = f"警务在线\n\n当前位置:首页 > 警务资讯 > 警务在线\n\n青山警方两天破获电动车盗窃案\n\n{LEAD}\n"
    document = cleaned(tmp_path, text)
    assert document.headline == "青山警方两天破获电动车盗窃案"
    assert "警务在线" not in document.paragraphs


def test_last_crumb_is_the_headline_only_when_nothing_better_exists(tmp_path):
    only_crumb = f"社会新闻 > 资讯 >青山民警两天追回被盗电动车\n2024-03-05\n{LEAD}\n{MORE}\n"
    assert cleaned(tmp_path, only_crumb).headline == "青山民警两天追回被盗电动车"
    with_headline = f"社会新闻 > 资讯 >正文\n青山民警两天追回被盗电动车\n2024-03-05\n{LEAD}\n"
    document = cleaned(tmp_path, with_headline, "other.txt")
    assert document.headline == "青山民警两天追回被盗电动车"
    assert document.breadcrumbs == ["社会新闻 > 资讯 >正文"]


def test_crumb_loses_the_outlet_name_glued_to_it(tmp_path):
    text = f"青山晚报\n\n首页 » 警事 » 电动车被盗两天就追回青山晚报\n\n青山晚报讯 {LEAD}\n"
    assert cleaned(tmp_path, text).headline == "电动车被盗两天就追回"


def test_headline_broken_over_two_lines_is_joined(tmp_path):
    text = f"偷电动车 撬门锁 深夜连作三案\n青山两名盗贼落网\n本报讯\n{LEAD}\n"
    document = cleaned(tmp_path, text)
    assert document.headline == "偷电动车 撬门锁 深夜连作三案 青山两名盗贼落网"
    assert "青山两名盗贼落网" not in document.paragraphs
    short_subject = cleaned(tmp_path, f"青山县公安局\n两天追回被盗电动车\n\n{LEAD}\n", "subject.txt")
    assert short_subject.headline == "青山县公安局两天追回被盗电动车"


def test_repeated_headline_keeps_its_deck_apart(tmp_path):
    headline = "青山警方破获系列电动车盗窃案 追回被盗车辆3辆"
    text = f"{headline}\n{headline}\n抓获嫌疑人1名,涉案金额逾2万元\n{LEAD}\n"
    document = cleaned(tmp_path, text)
    assert document.headline == headline
    assert document.paragraphs[0].startswith("抓获嫌疑人1名,涉案金额逾2万元")


def test_junk_lines_are_neither_headline_nor_paragraphs(tmp_path):
    garbage = '7 K2 q! B5 X" d3 W6 |" a6 _ R; P, J1'
    text = f"|\n![]() |\n青山警方两天破获电动车盗窃案\n{garbage}\n{LEAD}\n---|---|---|\n{MORE}\n"
    document = cleaned(tmp_path, text)
    assert document.headline == "青山警方两天破获电动车盗窃案"
    assert document.paragraphs == [LEAD, MORE]
    assert {"|", "![]() |", garbage, "---|---|---|"} <= set(document.chrome)


def test_excerpt_date_line_is_not_the_headline(tmp_path):
    document = cleaned(tmp_path, f" date 2026-01-27 聽新聞\n青山警方深夜攻堅逮捕賭客20人\n{LEAD}\n")
    assert document.headline == "青山警方深夜攻堅逮捕賭客20人"
    assert "date 2026-01-27 聽新聞" in document.chrome


def test_excerpt_date_line_running_into_the_story_stays_text(tmp_path):
    lead = " date 2026-01-27 本報訊 青山警方昨日接獲民眾報案，指稱有人在公園聚賭，員警到場查獲賭客20人。"
    document = cleaned(tmp_path, f"{lead}\n\n兩人當場被捕\n\n警方表示將持續查緝。\n")
    assert document.headline is None
    assert document.paragraphs[0] == lead.strip()


def test_labelled_title_line_is_the_headline_when_the_page_shows_none(tmp_path):
    text = f"{LEAD}\n{MORE}\n原标题:青山警方两天追回被盗电动车\n"
    document = cleaned(tmp_path, text)
    assert document.headline == "青山警方两天追回被盗电动车"
    assert all("原标题" not in paragraph for paragraph in document.paragraphs)


def test_release_without_a_headline_gets_a_short_flagged_one(tmp_path):
    text = f"记者 刘明\n青山日报讯(记者 刘明 通讯员 陈亮){LEAD}\n{MORE}\n"
    found = released(tmp_path, text)
    assert found.title_inferred
    assert found.title == "青山县公安局接到群众报警,称其停放在小区门口的电动车被盗,民警立即调取监控追查"


def test_caption_and_byline_at_the_top_are_not_headlines(tmp_path):
    text = f"▲民警在现场勘查。(青山警方提供)\n\n记者刘明/青山报导\n\n{LEAD}\n"
    found = released(tmp_path, text)
    assert found.title_inferred


def test_page_title_suffix_and_table_pipes_are_trimmed(tmp_path):
    assert cleaned(tmp_path, f"青山警方拘捕两名男子 - 青山电台\n{LEAD}\n").headline == "青山警方拘捕两名男子"
    piped = cleaned(tmp_path, f"青山警方拘捕两名男子 | |||||\n---|---|\n{LEAD}\n", "piped.txt")
    assert piped.headline == "青山警方拘捕两名男子"


def test_headline_marked_as_illustrated_is_still_a_headline(tmp_path):
    document = cleaned(tmp_path, f"青山一男子偷车后跳河逃跑 民警下水擒获(图)\n时间:2024-03-05\n{LEAD}\n")
    assert document.headline == "青山一男子偷车后跳河逃跑 民警下水擒获(图)"


def test_subheading_after_the_date_line_is_not_the_headline(tmp_path):
    text = f"APP下载\n青山警方打击盗窃专项行动成效明显\n2024-03-05\n电动车盗窃\n青山警方:打防并举\n{LEAD}\n"
    assert cleaned(tmp_path, text).headline == "青山警方打击盗窃专项行动成效明显"


def test_headline_the_story_never_repeats_is_still_taken_when_alone(tmp_path):
    assert cleaned(tmp_path, f"十年磨一剑 终破悬案\n{LEAD}\n").headline == "十年磨一剑 终破悬案"


@pytest.mark.parametrize(
    ("line", "chrome"),
    [
        ("首页 | 警务动态 | 通知公告 | 办事指南", True),
        ("当前版: 07版 上一版 下一版", True),
        ("《青山日报》 《青山晚报》 《青山法制报》", True),
        ("全 部 商 品 分 类", True),
        ("打保安 砸轿车 冲进浴馆扔砖头", False),
        ("Police arrested two men in the park on Sunday night", False),
        ("外地逃犯商水落网", False),
    ],
)
def test_page_chrome(line, chrome):
    assert furniture.is_page_chrome(line) is chrome


def test_outlet_names_but_not_headlines_ending_in_a_net():
    assert furniture.is_outlet_name("青山新闻网")
    assert not furniture.is_outlet_name("逃犯青山落网")


def test_breadcrumb_shapes():
    assert looks_like_breadcrumb("幼儿教育 > 资讯 >民警送孩子上学")
    assert looks_like_breadcrumb("观察家网 > 国内 >")
    assert not looks_like_breadcrumb("男子持刀抢劫>被抓获")


def test_tidy_strips_enclosing_quotes_only():
    assert tidy("“十年磨一剑 终破悬案”") == "十年磨一剑 终破悬案"
    assert tidy("“猜猜我是谁”骗局又来了") == "“猜猜我是谁”骗局又来了"


def test_derived_headline_skips_dateline_and_when():
    lead = "中新网青山3月5日电 (记者 刘明)日前,青山县公安局破获一起电动车盗窃案,抓获嫌疑人2名。"
    assert derive_headline([lead], "x") == "青山县公安局破获一起电动车盗窃案,抓获嫌疑人2名"
    assert derive_headline(["本报讯", "短"], "fallback") == "fallback"


def test_account_name_the_story_mentions_gives_way_to_the_headline(tmp_path):
    document = cleaned(tmp_path, f"平安青山\n\n青山警方两天破获电动车盗窃案\n\n{LEAD}\n")
    assert document.headline == "青山警方两天破获电动车盗窃案"


def test_byline_with_outlet_name_stays_a_byline(tmp_path):
    document = cleaned(tmp_path, f"青山网 记者刘明 实习生陈亮\n{LEAD}\n{MORE}\n")
    assert document.bylines == ["青山网 记者刘明 实习生陈亮"]


def test_section_label_and_menu_bar_above_the_headline(tmp_path):
    text = f"社會\n首页 新闻 警务 公告 服务\n青山警方两天破获电动车盗窃案\n2025/08/12 09:46\n{LEAD}\n"
    document = cleaned(tmp_path, text)
    assert document.headline == "青山警方两天破获电动车盗窃案"
    assert "首页 新闻 警务 公告 服务" in document.chrome


def test_letter_spaced_notice_title_is_a_headline(tmp_path):
    assert cleaned(tmp_path, f"警 情 通 报\n{LEAD}\n").headline == "警 情 通 报"


def test_page_furniture_between_headline_and_story_stays_out_of_the_text(tmp_path):
    text = (
        f"青山警方两天破获电动车盗窃案\n新华社 | 2024-03-05 10:43:40\n5.jpg\n文章图片\n{LEAD}\n01\n{MORE}\n"
        "【责任编辑: 刘明】\n相關推薦\n青山警方再破一案\n"
    )
    document = cleaned(tmp_path, text)
    assert document.paragraphs == [LEAD, MORE]
    assert "【责任编辑: 刘明】" in document.bylines
    assert {"新华社 | 2024-03-05 10:43:40", "5.jpg", "文章图片", "01", "青山警方再破一案"} <= set(document.chrome)


def test_traditional_caption_marker_is_a_caption(tmp_path):
    document = cleaned(tmp_path, f"青山警方两天破获电动车盗窃案\n{LEAD}\n(資料圖)\n{MORE}\n")
    assert "(資料圖)" in document.captions


def test_outlet_right_above_a_date_line_does_not_end_the_search(tmp_path):
    text = f"青山日报\n2024-05-06 10:20:11\n青山警方两天破获电动车盗窃案\n来源:青山日报\n{LEAD}\n"
    assert cleaned(tmp_path, text).headline == "青山警方两天破获电动车盗窃案"


def test_name_above_a_whole_headline_is_not_its_first_half(tmp_path):
    text = f"青山公安\n青山县公安局两天破获电动车盗窃案追回3辆\n{LEAD}\n"
    assert cleaned(tmp_path, text).headline == "青山县公安局两天破获电动车盗窃案追回3辆"


def test_headline_in_the_last_crumb_beats_a_column_name(tmp_path):
    text = f"警务动态\n警务 > 资讯 >青山民警两天追回被盗电动车\n2024-03-05\n{LEAD}\n"
    assert cleaned(tmp_path, text).headline == "青山民警两天追回被盗电动车"


def test_headline_naming_a_day_is_still_a_headline(tmp_path):
    headline = "2024年1月1日青山县交通事故情况通报"
    assert cleaned(tmp_path, f"{headline}\n{LEAD}\n").headline == headline
    assert furniture.is_date_stamp("2022年01月27日 星期四")


def test_photo_caption_at_the_top_leaves_the_date_line_under_it_a_date_line(tmp_path):
    text = f"民警在现场勘查。(青山警方提供)\n\n2025/09/03 16:51\n\n{LEAD}\n"
    document = cleaned(tmp_path, text)
    assert document.captions == ["民警在现场勘查。(青山警方提供)"]
    assert document.date_line == "2025/09/03 16:51"


def test_author_header_line_is_still_a_header(tmp_path):
    document = cleaned(tmp_path, f"青山警方两天破获电动车盗窃案\n作者: 刘明\n{LEAD}\n")
    assert document.header == {"author": "刘明"}


def test_headline_ending_in_news_is_not_an_outlet_name():
    assert not furniture.is_outlet_name("警方辟谣一则假新闻")


def test_page_title_with_channel_and_site_after_underscores():
    assert tidy("青山警方破获盗窃案_新闻中心_青山网") == "青山警方破获盗窃案"
    assert tidy("青山警方破获盗窃案_嫌疑人落网") == "青山警方破获盗窃案_嫌疑人落网"
