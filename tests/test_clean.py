"""Clean stage on the real seeds: chrome, headers, captions and bylines out; paragraphs kept in order."""

from search.clean import clean, parse_header
from search.load import load
from tests.conftest import SEED_000, SEED_001, SEED_002, SEED_003, SEED_004, SEEDS


def cleaned(path):
    return clean(load(path))


def body_of(path):
    return cleaned(path).body


def test_header_line_with_pipes_is_parsed_and_glued_paragraph_recovered():
    document = cleaned(SEED_000)
    assert document.header == {"date": "2025-02-21 16:32:16", "source": "中国网", "editor": "孙玥"}
    assert document.paragraphs[0].startswith("2月21日,重庆市公安局九龙坡区分局召开2025年公安工作会议")
    assert "发布时间" not in document.body and "责任编辑" not in document.body


def test_space_separated_header_line():
    fields, glued = parse_header("时间: 2018-12-26 来源: 重庆法制报 编辑: 万 先觉 阅读量:8894")
    assert fields == {"date": "2018-12-26", "source": "重庆法制报", "editor": "万 先觉", "views": "8894"}
    assert glued is None


def test_body_sentence_mentioning_time_is_not_a_header():
    assert parse_header("2025年12月6日,比赛时间:下午三点在奥体中心打响,观众最多。") is None


def test_breadcrumbs_and_site_name_removed():
    document = cleaned(SEED_001)
    assert document.breadcrumbs == ["九龙坡区文明实践所 /", "当前位置:首页 > 九龙新闻 > 图文新闻 > 正文"]
    assert document.headline == "护一方稳定 促一方发展 区公安分局2025年平安建设巡礼"
    assert "当前位置" not in document.body and "文明实践所" not in document.body


def test_photo_captions_removed_but_headings_kept():
    document = cleaned(SEED_001)
    assert "法治副校长走进校园开展青少年安全教育。" in document.captions
    assert "民警深入农户家中收集社情民意。" in document.captions
    assert "法治副校长走进校园开展青少年安全教育。" not in document.body
    assert "亮剑攻坚:利刃出鞘护稳定" in document.paragraphs


def test_captions_with_markers_removed():
    document = cleaned(SEED_002)
    assert "社会面大巡防启动仪式(资料图)" in document.captions
    assert "12月24日,杨家坪步行街,特警开展街面巡逻" in document.captions
    assert "资料图" not in document.body


def test_bylines_removed():
    assert "记者 冉冉/文 区公安分局供图" in cleaned(SEED_001).bylines
    assert "■ 文见习记者 李江蔓 通讯员 冀永杰" in cleaned(SEED_003).bylines
    assert "九龙坡区公安分局供稿" in cleaned(SEED_000).bylines
    assert "龔軒" in cleaned(SEED_004).bylines
    assert "供稿" not in body_of(SEED_000)
    assert "(龔軒)" not in body_of(SEED_004)
    assert "记者 李亚" not in body_of(SEED_002)


def test_sentence_cut_by_photo_captions_is_rejoined():
    body = body_of(SEED_003)
    assert "先后破获远某和蒋某系列盗窃电动车案" in body
    assert "郾城分局以“能力作风建设年”活动为抓手" in body


def test_footer_related_news_and_repeated_copy_dropped():
    document = cleaned(SEED_002)
    assert "Copyright" not in document.body and "ICP备" not in document.body
    assert "相关新闻" not in document.body
    assert document.body.count("剑啸长空保平安 倾情服务护发展") == 1
    assert document.paragraphs[-1].startswith("一系列措施的落地生根")


def test_paragraphs_keep_their_order():
    paragraphs = cleaned(SEED_004).paragraphs
    assert paragraphs[0].startswith("2021年,萬州區公安局")
    assert paragraphs[1] == "嚴防死守安全底線 防控能力穩固提升"
    assert paragraphs[-1].endswith("再創佳績、再立新功。")


def test_every_seed_keeps_substantial_text():
    for seed in SEEDS:
        document = cleaned(seed)
        assert len(document.paragraphs) >= 10
        assert all(paragraph.strip() == paragraph and paragraph for paragraph in document.paragraphs)


def test_subtitle_is_metadata_not_a_paragraph():
    document = cleaned(SEED_003)
    assert document.subtitle == "市公安局郾城分局工作纪实"
    assert not any("工作纪实" in paragraph for paragraph in document.paragraphs)
    assert document.paragraphs[0].startswith("市公安局郾城分局2020年6月正式挂牌成立以来")
