"""Page furniture: lines of a saved web page that belong to the site, not to the release.

Menus and app banners (``手机版 | 网站导航``, ``APP下载``, ``关注我们``), a newspaper's page line
(``第A08版:社会与法 PDF版``, ``当前版: 11版 上一版 下一版``), reading statistics, contact lines
(``法律热线:0760-…``), labelled metadata (``标签:``, ``本文作者:``), markup residue (``|``, ``![]() |``,
``---|---|``) and the random ASCII strings some sites scatter through their text against copying
(``9 M2 z! E5 X"``).  Also the shapes that sit next to a headline without being one: outlet names,
bylines, datelines and photo captions.  Tests are written against Simplified text; callers pass lines
as written and each function folds them.
"""

from __future__ import annotations

import functools
import re

from search.normalise import IDEOGRAPH, to_simplified

_CJK = re.compile(IDEOGRAPH)
_MENU_WORDS = re.compile(
    r"手机版|网站导航|网站地图|app\s*下载|下载\s*app|客户端下载|下载客户端|关注我们|我要投稿|在线投稿|"
    r"不支持\s*flash|商务合作|分享工具|我要纠错|我来说两句|发表评论|全部评论|请输入验证码|举报/反馈|"
    r"查看完整版本|标题导航|版面导航|请继续往下阅读|我是广告|确定不再关注|点击进入频道|查看精彩图片|订短信|"
    r"^(登录|注册|订阅|广告|收藏|打印|关闭|返回|快讯|听新闻|关注|文章图片|分享|表情|网站首页|返回首页|首页|我要评论|"
    r"\d+\s*条评论)$|^[•·]\s*\S{1,4}$|^登录\s*[|｜/]\s*注册$",
    re.IGNORECASE,
)
# a newspaper's page line: 第A08版, 第CB-A07版, 当前版, 上一版 / 下一版, PDF版
_PAGE_LINE = re.compile(
    r"第\s*[A-Z0-9][A-Z0-9-]*\s*版|当前版\s*[:：]|上一版|下一版|PDF\s*版|^\d{1,2}版$", re.IGNORECASE
)
_READING_STATS = re.compile(r"本篇文章\s*\d+\s*字|读完约\s*\d+\s*分钟|阅读\s*\d+\s*分钟|^(阅读|点赞|收藏|分享|管理)$")
# labelled lines that are never part of a release: contact details, tags, who posted it
_LABELS = re.compile(
    r"^[\s•·]*(本文作者|作者|文章作者|发布人|热线|法律热线|新闻热线|服务热线|电话|联系电话|电邮|邮箱|e-?mail|地址|传真|"
    r"qq|微信号?|标签|关键词|关键字|tags?|网址|链接|原文链接|本文链接|标题|原标题|题目)\s*[:：]",
    re.IGNORECASE,
)
_URL = re.compile(r"https?://|www\.[a-z0-9-]+\.|\.(com|cn|net|org|hk|tw)(/|\b)", re.IGNORECASE)
_ASCII_TOKEN = re.compile(r"^[!-~]{1,3}$")
_ODD_PUNCTUATION = re.compile(r"[!\"#$%&'()*;<=>?@\[\\\]^_`{|}~]")
# an outlet, channel or column name on a line of its own: 新浪网, 广州日报, 中国新闻网, 四海资讯
_OUTLET = re.compile(
    r"^[\u4e00-\u9fff·]{1,10}(日报|晚报|晨报|早报|商报|时报|都市报|法制报|导报|周刊|新闻网|资讯网|信息网|在线|"
    r"客户端|电视台|广播电台|资讯|(?<!假)新闻|频道|(?<![落收撒法织上触联天])网)(\s*[\u4e00-\u9fff]{0,8}(网|报))?$"
)
_DATELINE_ONLY = re.compile(r"^据?[\u4e00-\u9fff·]{0,12}(\d{1,2}月\d{1,2}日)?(讯|电)$")
# the outlet a dateline names: 广州日报讯, 中新网北海2月5日电, 本报北京4月25日电
_DATELINE_OUTLET = re.compile(r"^[【\[]?据?([\u4e00-\u9fff·]{1,10}?(网|社|报|台))[^,，。]{0,12}?(讯|电)")
_BYLINE = re.compile(
    r"^[■●◆▲□N]?\s*(文\s*[/／|:：]?\s*)?([\u4e00-\u9fff·]{0,8}(网|报|社|台)\s*)?(见习|本报|特约|首席|全媒体)?"
    r"(记者|通讯员|实习生)\s*[\u4e00-\u9fff]{2,3}(\s|$)|"
    r"(记者|通讯员).{0,30}([/／]\s*[文图]|供图|摄)|记者.{0,20}通讯员|"
    r"^(文|图|文\s*[/／]\s*图|图\s*[/／]\s*文|摄影|撰稿|编辑|责编|审核|[一二三]审)\s*[/／:：|]|"
    r"^[(（][^()（）]{0,40}(供稿|供图|记者|通讯员)[^()（）]{0,40}[)）]$|[/／]\s*[\u4e00-\u9fff]{2,6}报导$|"
    r"^[【\[(（]?\s*(责任编辑|编辑|责编|修改|作者|文字|撰文)\s*[:：][^】\])）:：]{0,12}[】\])）]?$"
)
_CAPTION = re.compile(
    r"^[▲△▼■]|^图为|^图\s*[:：/／]|[(（]\s*(资料图|资料照片|资料图片|图片来源|图\s*[/／]|[^()（）]{0,12}提供)[^()（）]*[)）]|"
    r"(供图|摄|翻摄)\s*[)）]?$|[(（][^()（）]{0,10}(摄|供图|翻摄画面)[)）]"
)


@functools.lru_cache(maxsize=4096)
def simplified(text: str) -> str:
    """``to_simplified``, remembered: every test here reads the same few lines of a page again."""
    return to_simplified(text)


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))


def is_markup_residue(text: str) -> bool:
    """``|``, ``![]() |``, ``---|---|``, ``5.jpg``, a lone ``01``: what is left of a table, an image
    or a list once the markup is gone."""
    stripped = text.replace(" ", "")
    if re.fullmatch(r"\d{1,8}|[\w-]{1,40}\.(jpe?g|png|gif|webp)", stripped, re.IGNORECASE):
        return True
    return bool(stripped) and not re.search(r"[0-9A-Za-z]", stripped) and not _CJK.search(stripped)


def is_scraper_garbage(text: str) -> bool:
    """A line of short random ASCII tokens (``9 M2 z! E5 X" d3 Y6``): anti-copying noise."""
    if _CJK.search(text):
        return False
    tokens = text.split()
    if len(tokens) < 3:
        return False
    short = sum(1 for token in tokens if _ASCII_TOKEN.match(token))
    odd = sum(1 for token in tokens if _ODD_PUNCTUATION.search(token))
    return short >= 0.7 * len(tokens) and (odd >= 2 or len(set(tokens)) == 1)


def is_page_chrome(text: str) -> bool:
    """Site chrome that has no place among a release's paragraphs."""
    if len(text) > 120:
        return False
    if is_markup_residue(text) or is_scraper_garbage(text):
        return True
    simplified_text = simplified(text)
    if _MENU_WORDS.search(simplified_text) and cjk_count(simplified_text) <= 20:
        return True
    if _PAGE_LINE.search(simplified_text) or _READING_STATS.search(simplified_text):
        return True
    if _LABELS.match(simplified_text):
        return True
    if re.fullmatch(r"\s*(《[^》]{1,20}》\s*){2,}", simplified_text):
        return True  # a row of newspaper names
    if re.fullmatch(r"(\S\s){5,}\S", simplified_text):
        return True  # letter-spaced menu text: 全 部 商 品 分 类 (not 警 情 通 报, a notice's title)
    if _URL.search(simplified_text) and cjk_count(simplified_text) <= 15:
        return True  # an address, or spam around one
    return _is_menu_bar(simplified_text)


def _is_menu_bar(text: str) -> bool:
    """``首页 | 警务动态 | 通知公告`` or ``首页 新闻 警务 公告 服务``: a row of short link texts."""
    items = [item for item in re.split(r"\s*[|｜]\s*|\s{2,}", text) if item]
    if len(items) >= 3 and all(len(item) <= 6 for item in items):
        return True
    words = text.split()
    return len(words) >= 5 and all(len(word) <= 4 for word in words) and cjk_count(text) > 0


def is_outlet_name(text: str) -> bool:
    """An outlet, channel or column name standing alone (``新浪网``, ``时政要闻 建德新闻网``)."""
    name = simplified(text).strip()
    if len(name) > 20 or is_byline(text):
        return False
    return any(_OUTLET.match(part) for part in name.split()) and cjk_count(name) <= 14


def is_dateline_only(text: str) -> bool:
    """``本报讯`` or ``据新华社北京11月28日电`` on a line of its own."""
    return len(text) <= 20 and bool(_DATELINE_ONLY.match(simplified(text).replace(" ", "")))


def dateline_outlet(paragraph: str) -> str | None:
    """The outlet a lead paragraph's dateline names (``广州日报讯…`` → ``广州日报``)."""
    match = _DATELINE_OUTLET.match(simplified(paragraph))
    return paragraph[match.start(1) : match.end(1)] if match else None


def is_byline(text: str) -> bool:
    return len(text) <= 60 and bool(_BYLINE.search(simplified(text)))


def is_caption(text: str) -> bool:
    """A photo caption's markers (``图为…``, ``▲…（圖／警方提供）``, ``… 俱凝搏 摄``)."""
    return len(text) <= 150 and bool(_CAPTION.search(simplified(text)))


_DATE_STAMP = re.compile(
    r"\d{4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{1,2}|\d{1,2}\.\d{1,2}\.\d{4}|(?<!\d)\d{1,2}:\d{2}(?!\d)"
)
_WRITTEN_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日")
_STAMP_WORDS_MAX = 6  # 2022年01月27日 星期四, 2006年3月16日 新消息报: a date and a word or two


def is_date_stamp(text: str) -> bool:
    """A line carrying a publication stamp (``2019-01-15 15:46 来源: 新华社``, ``02-26 18:35:30``,
    ``2022年01月27日 星期四``), not a headline that names a day (``2024年1月1日青山县交通事故情况通报``)."""
    folded = simplified(text)
    if _DATE_STAMP.search(folded):
        return True
    written = _WRITTEN_DATE.search(folded)
    return bool(written) and cjk_count(_WRITTEN_DATE.sub("", folded)) <= _STAMP_WORDS_MAX


def is_tool_date_line(text: str) -> bool:
    """`` date 2026-01-27 …``: the date line some excerpts start with."""
    return bool(re.match(r"^\s*date\s+\d{4}-\d{2}-\d{2}", text))
