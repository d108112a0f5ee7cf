"""Load stage: encodings, HTML pages and files that cannot be read."""

import codecs

import pytest

from search.load import LoadError, decode, load, load_bytes
from tests.conftest import SEED_000, SEED_004, SEEDS


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
def test_gb18030_copy_loads_identically(seed, tmp_path):
    text = seed.read_text(encoding="utf-8")
    copy = tmp_path / seed.name
    copy.write_bytes(text.encode("gb18030"))
    loaded = load(copy)
    assert loaded.encoding == "gb18030"
    assert loaded.text == text


@pytest.mark.parametrize(
    "seed", [s for s in SEEDS if s.name[:3] in ("000", "001", "003", "004")], ids=lambda p: p.name[:3]
)
def test_gbk_copy_loads_identically(seed, tmp_path):
    text = seed.read_text(encoding="utf-8")
    copy = tmp_path / seed.name
    copy.write_bytes(text.encode("gbk"))
    assert load(copy).text == text


def test_big5_copy_of_traditional_seed_loads_identically(tmp_path):
    # 産 is a Japanese form Big5 lacks; real Big5 releases write 產.
    text = SEED_004.read_text(encoding="utf-8").replace("産", "產")
    copy = tmp_path / "004_big5.txt"
    copy.write_bytes(text.encode("big5"))
    loaded = load(copy)
    assert loaded.encoding.startswith("big5")
    assert loaded.text == text


def test_utf8_with_bom(tmp_path):
    text = SEED_000.read_text(encoding="utf-8")
    copy = tmp_path / "bom.txt"
    copy.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    loaded = load(copy)
    assert loaded.text == text


def test_utf16_with_bom(tmp_path):
    text = SEED_000.read_text(encoding="utf-8")
    copy = tmp_path / "utf16.txt"
    copy.write_bytes(text.encode("utf-16"))
    assert load(copy).text == text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"  \n\t \n", "whitespace"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (bytes(range(0x80, 0x100)) * 4, "not decodable"),
    ],
    ids=["empty", "whitespace", "png", "undecodable"],
)
def test_unreadable_input_raises_load_error_with_reason(tmp_path, data, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(data)
    with pytest.raises(LoadError, match=reason):
        load(path)


def test_decode_prefers_declared_encoding_of_html():
    text = "警方破获一起案件"
    decoded, encoding = decode(text.encode("gbk"), declared="gbk")
    assert decoded == text and encoding == "gb18030"


def test_html_page_gives_title_date_source_and_article(tmp_path):
    page = """<!DOCTYPE html><html><head>
    <meta http-equiv="Content-Type" content="text/html; charset=gbk">
    <title>万州警方破获电信诈骗案_重庆长安网</title>
    <meta name="PubDate" content="2024-05-06 10:20">
    <meta name="ContentSource" content="万州区公安局">
    <script>var tracking = "不要索引我";</script>
    </head><body>
    <nav>首页 | 新闻中心 | 警务公开</nav>
    <div class="TRS_Editor">
      <h1>万州警方破获电信诈骗案</h1>
      <p>5月3日,万州区公安局<strong>破获</strong>一起电信诈骗案,抓获犯罪嫌疑人3名。</p>
      <p>警方提醒广大群众提高警惕。</p>
    </div>
    <footer>Copyright 2024 版权所有</footer>
    </body></html>"""
    path = tmp_path / "page.html"
    path.write_bytes(page.encode("gbk"))
    loaded = load(path)
    assert loaded.html_title == "万州警方破获电信诈骗案"
    assert loaded.html_date == "2024-05-06 10:20"
    assert loaded.html_source == "万州区公安局"
    assert "5月3日,万州区公安局破获一起电信诈骗案,抓获犯罪嫌疑人3名。" in loaded.text.splitlines()
    assert "不要索引我" not in loaded.text
    assert "新闻中心" not in loaded.text


def test_html_without_content_hint_falls_back_to_body(tmp_path):
    loaded = load_bytes(tmp_path / "x.htm", "<html><body><p>郾城分局开展夜间巡逻。</p></body></html>".encode())
    assert "郾城分局开展夜间巡逻。" in loaded.text


def test_a_file_full_of_control_characters_is_binary_and_a_few_escapes_and_form_feeds_are_not(tmp_path):
    text = "警方破获一起电信诈骗案件，抓获犯罪嫌疑人三名。\n" * 20
    noisy = tmp_path / "noisy.txt"
    noisy.write_bytes((text + "\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0e" * 3).encode("utf-8"))
    with pytest.raises(LoadError, match="binary"):
        load(noisy)
    tidy = tmp_path / "tidy.txt"
    tidy.write_bytes((text + "\t\x0c\x1b\r\n" * 10 + "\x01" * 8).encode("utf-8"))
    assert "电信诈骗" in load(tidy).text
