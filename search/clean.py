"""Clean stage: separate a release's article paragraphs from everything around them.

Site chrome, breadcrumbs, header lines, photo captions and bylines are removed from the text but
kept, labelled, on the result: the extract stage reads dates, sources and issuing bureaus from them.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

from search import furniture
from search.headline import choose_headline, looks_like_breadcrumb
from search.load import RawDocument
from search.normalise import to_simplified

# Lines after these markers belong to other articles or the site footer.
_RELATED_MARKER = re.compile(
    r"^(相关新闻|相关阅读|延伸阅读|相关链接|推荐阅读|相关文章|热点推荐|相关推荐|为您推荐|新闻推荐|精彩推荐|精彩推送|"
    r"猜你喜欢|热门推荐|文章评论|网友评论|最新评论|最热评论|标签云|版权声明|版权和免责申明|最新回应)\s*[>》:：]*\s*$"
)
_BREADCRUMB = re.compile(
    r"^(当前位置|您的位置|您现在的位置|你的位置|你现在的位置|所在位置|现在位置)\s*[:：]|"
    r"^首页\s*[>»›/]|(\s[>»›]\s.*){2,}|>>\s*正文\s*$|\s[>»›]\s*正文\s*$"
)
_SITE_NAME_LINE = re.compile(r"^\S{2,25}\s*/$")
_CHROME = re.compile(
    r"(copyright|©|ICP备|ICP证|公网安备|版权所有|版权归|未经授权|技术支持|主办单位|承办单位|网站标识码|"
    r"举报电话|联系电话|联系我们|在线投稿|打印本页|关闭窗口|【\s*字[号体]|字号\s*[:：]?\s*[大中小]|分享到|"
    r"扫一扫|上一篇|下一篇|返回顶部|加入收藏|设为首页|^\s*(主办|承办)\s*[:：])",
    re.IGNORECASE,
)
_HEADER_KEYS = {
    "发布时间": "date", "发布日期": "date", "发表时间": "date", "发文时间": "date", "更新时间": "date",
    "发稿时间": "date", "时间": "date", "日期": "date",
    "发布单位": "source", "发布机关": "source", "稿件来源": "source", "信息来源": "source",
    "文章来源": "source", "来源": "source",
    "作者": "author", "撰稿": "author",
    "责任编辑": "editor", "编辑": "editor", "责编": "editor", "审核": "editor", "编审": "editor",
    "阅读量": "views", "阅读次数": "views", "浏览量": "views", "浏览次数": "views", "点击数": "views",
    "点击量": "views", "访问量": "views", "字号": "chrome",
}  # fmt: skip
_HEADER_KEY = re.compile("(" + "|".join(sorted(_HEADER_KEYS, key=len, reverse=True)) + r")\s*[:：]\s*")
_SEPARATORS = " \t|丨｜│"
# a line holding only a date: Gregorian, ROC (中華民國114年9月3日, 114/09/03) or month and day
_DATE_ONLY = re.compile(
    r"^\s*(?:(?:(?:中[華华])?民[國国]\s*)?(\d{3,4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?"
    r"(\s+\d{1,2}[:：]\d{2}([:：]\d{2})?)?\s*$"
)
_CAPTION_MARKER = re.compile(
    r"[(（]\s*(资料图|资料照片|资料图片|图|摄|供图|图片来源[^)）]*|[左右中前后][一二三四五六七八九1-9]?)\s*[)）]|"
    r"^图为|^(图|摄影|图片)\s*[:：]|(供图|摄)\s*$"
)
_DATE_LEAD = re.compile(r"^\d{1,2}月\d{1,2}日[,，、]")
_BYLINE_LINE = re.compile(
    r"^[■●◆▲□]?\s*(文\s*[/／|:：]?\s*)?(见习|本报|特约|首席)?(记者|通讯员)|"
    r"(记者|通讯员).{0,30}([/／]\s*[文图]|供图|摄)|"
    r"^(文|图|文\s*[/／]\s*图|图\s*[/／]\s*文|摄影|撰稿)\s*[/／:：|]|"
    r"^[(（][^()（）]{0,40}(供稿|供图|记者|通讯员)[^()（）]{0,40}[)）]$"
)
_LEADING_BYLINE = re.compile(r"^[\u4e00-\u9fff]{0,14}讯\s*[(（][^()（）]{0,40}(记者|通讯员)[^()（）]{0,40}[)）]\s*")
_TRAILING_CREDIT = re.compile(r"\s*[(（]([^()（）]{0,40}(供稿|供图|记者|通讯员|编辑)[^()（）]{0,40})[)）]\s*$")
_TRAILING_NAME = re.compile(r"\s*[(（]([\u4e00-\u9fff]{2,4}(\s+[\u4e00-\u9fff]{2,4}){0,3})[)）]\s*$")
_GLUED_NAME = re.compile(r"^([\u4e00-\u9fff·]{1,4}?)(?=\d|[,，。、(（\s]|$)")
_TERMINAL = set("。！？!?…；;：:")
_CLOSERS = "”’」』）)》】\"' "
_CAPTION_MAX = 60
_HEADING_MAX = 30
_FURNITURE_MAX = 40


@dataclass
class CleanedDocument:
    raw: RawDocument
    headline: str | None = None
    subtitle: str | None = None
    header: dict[str, str] = field(default_factory=dict)
    date_line: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    breadcrumbs: list[str] = field(default_factory=list)
    bylines: list[str] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    chrome: list[str] = field(default_factory=list)

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


def ends_a_sentence(line: str) -> bool:
    stripped = line.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _TERMINAL


def _normalise_line(line: str) -> str:
    return line.replace("\u3000", " ").replace("\xa0", " ").replace("\ufeff", "").strip()


@dataclass
class _Line:
    text: str
    blank_before: int
    blank_after: int


def _lines_with_gaps(text: str) -> list[_Line]:
    lines: list[_Line] = []
    blanks = 0
    for raw_line in text.splitlines():
        line = _normalise_line(raw_line)
        if not line:
            blanks += 1
            continue
        if lines:
            lines[-1].blank_after = blanks
        lines.append(_Line(line, blanks, 0))
        blanks = 0
    if lines:
        lines[-1].blank_after = blanks
    return lines


def parse_header(line: str) -> tuple[dict[str, str], str | None] | None:
    """``发布时间:… | 来源:…`` → ({"date": …, "source": …}, text glued after the last field).

    Returns ``None`` when the line is not a header line.
    """
    if ":" not in line and "：" not in line:
        return None  # every key is followed by a colon; most lines end here, before OpenCC
    # keys written in Traditional (發布日期) are matched in Simplified; values are kept as written
    matches = list(_HEADER_KEY.finditer(to_simplified(line)))
    if not matches:
        return None
    starts_with_key = matches[0].start() == len(line) - len(line.lstrip(_SEPARATORS))
    if not starts_with_key and len(matches) < 2:
        return None
    if not starts_with_key and len(line) > 120:
        return None
    fields: dict[str, str] = {}
    glued: str | None = None
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(line)
        value = line[match.end() : end].strip(_SEPARATORS)
        kind = _HEADER_KEYS[match.group(1)]
        is_last = index + 1 == len(matches)
        if is_last and kind in ("editor", "author") and len(value) > 12:
            # Some sites run the first paragraph straight on after the editor's name.
            name_match = _GLUED_NAME.match(value)
            name = name_match.group(1) if name_match else value[:3]
            glued = value[len(name) :].strip()
            value = name
        if is_last and kind == "date" and len(value) > 40:
            return None  # a sentence that happens to start with 时间:
        if value and kind not in fields:
            fields[kind] = value
    return fields, glued


def _is_caption(line: _Line, typical_gap: float) -> bool:
    text = line.text
    if len(text) > _CAPTION_MAX * 2:
        return False
    if _CAPTION_MARKER.search(furniture.simplified(text)) and len(text) <= _CAPTION_MAX * 2:
        return True
    if len(text) <= _CAPTION_MAX and _DATE_LEAD.match(text) and not ends_a_sentence(text):
        return True
    # Captions on pages that separate paragraphs by one blank line sit in wider gaps.
    sentences = len(re.findall(r"[。！？!?]", text))
    isolated = max(line.blank_before, line.blank_after) >= 2 and typical_gap <= 1
    return isolated and len(text) <= _CAPTION_MAX and sentences == 1 and text.rstrip(_CLOSERS).endswith("。")


def _is_byline(text: str) -> bool:
    return len(text) <= 60 and bool(_BYLINE_LINE.search(text))


def _join_broken_paragraphs(paragraphs: list[str]) -> list[str]:
    """Re-join a sentence that a photo caption had cut in two."""
    joined: list[list[str]] = []
    for paragraph in paragraphs:
        previous = joined[-1][-1] if joined else ""
        looks_cut = len(previous) > _HEADING_MAX or re.search(r"[,，、;；]", previous)
        if previous and looks_cut and not ends_a_sentence(previous):
            joined[-1].append(paragraph)
        else:
            joined.append([paragraph])
    return ["".join(pieces) for pieces in joined]


def _kind_of(text: str) -> str | None:
    """What the clean stage makes of a line before reading the story: the headline finder's view."""
    if len(text) <= 200 and (_BREADCRUMB.search(text) or _SITE_NAME_LINE.match(text)):
        return "crumb"
    if len(text) <= 200 and _CHROME.search(text):
        return "chrome"
    if parse_header(text) is not None:
        return "header"
    return "date" if _DATE_ONLY.match(text) else None


def clean(raw: RawDocument) -> CleanedDocument:
    result = CleanedDocument(raw)
    lines = _lines_with_gaps(raw.text)
    gaps = [line.blank_before for line in lines[1:]]
    typical_gap = statistics.median(gaps) if gaps else 0
    choice = choose_headline([line.text for line in lines], [line.blank_before for line in lines], _kind_of)
    headline_lines = set(choice.lines) if choice else set()
    # what stands above a headline read from the page's own lines is the site's, not the story's
    above_headline = min(choice.lines) if choice and choice.basis in ("line", "joined") else 0
    result.headline = choice.text if choice else None
    paragraphs: list[str] = []
    seen_content = False
    for position, line in enumerate(lines):
        text = line.text
        if _RELATED_MARKER.match(furniture.simplified(text)):
            result.chrome.extend(rest.text for rest in lines[position:])
            break
        short = len(text) <= 200
        top_crumb = not seen_content and (_SITE_NAME_LINE.match(text) or looks_like_breadcrumb(text))
        if short and (_BREADCRUMB.search(text) or top_crumb):
            result.breadcrumbs.append(text)
            continue
        if position in headline_lines:
            continue
        if short and _CHROME.search(text):
            result.chrome.append(text)
            continue
        header = parse_header(text)
        if header is not None:
            fields, glued = header
            for kind, value in fields.items():
                result.header.setdefault(kind, value)
            if glued:
                paragraphs.append(glued)
                seen_content = True
            continue
        if furniture.is_page_chrome(text):
            result.chrome.append(text)
            continue
        if not seen_content and _DATE_ONLY.match(text):
            result.date_line = text
            continue
        if (position < above_headline and _is_furniture_sized(text)) or (not seen_content and _is_top_junk(text)):
            result.chrome.append(text)
            continue
        if result.headline and result.subtitle is None and not paragraphs and re.match(r"^[—－-]{1,2}", text):
            result.subtitle = text.lstrip("—－- ").strip()
            continue
        if _is_byline(text) or (furniture.is_byline(text) and not ends_a_sentence(text)):
            result.bylines.append(text)
            continue
        if _is_caption(line, typical_gap) or (not seen_content and furniture.is_caption(text)):
            result.captions.append(text)
            continue
        paragraphs.append(text)
        seen_content = True
    paragraphs = _strip_inline_bylines(paragraphs, result.bylines)
    paragraphs = _join_broken_paragraphs(paragraphs)
    result.paragraphs = _drop_repeats(paragraphs, result.headline)
    return result


def _is_furniture_sized(text: str) -> bool:
    """Short and not a sentence: a line above the headline that can only be the site's."""
    return len(text) <= _FURNITURE_MAX and not re.search(r"[。！？!?]", text)


def _is_top_junk(text: str) -> bool:
    """Above the story: the outlet's name, a stamp (``新華社 | 2023-02-28 10:43:40``), or an excerpt's
    `` date …`` line with a word of chrome after it."""
    if furniture.is_outlet_name(text) or (furniture.is_date_stamp(text) and _is_furniture_sized(text)):
        return True
    return furniture.is_tool_date_line(text) and furniture.cjk_count(text) <= 6


def _strip_inline_bylines(paragraphs: list[str], bylines: list[str]) -> list[str]:
    cleaned = []
    for index, paragraph in enumerate(paragraphs):
        leading = _LEADING_BYLINE.match(paragraph)
        if leading:
            bylines.append(leading.group(0).strip())
            paragraph = paragraph[leading.end() :]
        trailing = _TRAILING_CREDIT.search(paragraph)
        if trailing is None and index == len(paragraphs) - 1:
            trailing = _TRAILING_NAME.search(paragraph)
        if trailing and ends_a_sentence(paragraph[: trailing.start()]):
            bylines.append(trailing.group(1).strip())
            paragraph = paragraph[: trailing.start()]
        if paragraph.strip():
            cleaned.append(paragraph.strip())
    return cleaned


def _drop_repeats(paragraphs: list[str], headline: str | None) -> list[str]:
    """Pages often print the article twice (print view, mobile view); keep the first copy."""
    seen = {headline} if headline else set()
    kept = []
    for paragraph in paragraphs:
        if paragraph in seen and len(paragraph) >= 6:
            continue
        seen.add(paragraph)
        kept.append(paragraph)
    return kept
