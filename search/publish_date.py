"""The date a release was published, read the way a person reads a page, and the rule that gave it.

A person looks for the date where pages put it: in the header zone near the headline (a labelled
``发布时间:`` field, a line that holds only a date, a time of day, an outlet or a byline) or in a
sign-off after the last paragraph (``《新消息报》 2006年3月16日``). A date inside the story
(``2024年2月24日,…发生一起交通事故``, ``3月12日,民警接到报警``) is an event, never the publish date:
a wrong date is worse than none. In order:

1. ``label``: a date right after a publish label (发布时间, 日期, ``date``…) in the header or sign-off;
2. ``header line``: a date-and-furniture line in the header zone;
3. ``html meta``: the page's date meta tag;
4. ``sign-off``: a date-and-furniture line (or a bracketed date) after the last paragraph, when all
   such dates agree;
5. ``partial + anchor``: a header or dateline date without its year (``1月30日讯``) takes the year of
   a full date the release itself gives, only when that puts it at most a month after that date.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from search.clean import CleanedDocument
from search.dates import DateMention, full_dates, month_days, parse_date
from search.normalise import IDEOGRAPH, fold_text

RULE_LABEL = "label"
RULE_HEADER_LINE = "header line"
RULE_HTML_META = "html meta"
RULE_SIGN_OFF = "sign-off"
RULE_ANCHORED = "partial + anchor"

# pinyin glosses machine conversion leaves after characters: 網(wǎng), 發(fā)布, 日?qǐng)?bào) where a broken
# character ate the bracket (folded: ASCII brackets)
_PINYIN_GLOSS = re.compile(r"[(?]?[a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zü]*\)")
_CJK = re.compile(IDEOGRAPH)
# not ?: machine conversion leaves it for characters it could not write
_CLAUSE_PUNCTUATION = re.compile(r"[,。!;、]")
# labels that only ever introduce a publish date, whatever stands before them (本站发表时间)
_PUBLISH_LABEL = re.compile(
    r"(?:(?:发布|发表|发文|发稿|更新|刊发|刊登|出版|上传|录入|添加|稿件|公布|印发)(?:时间|日期|于)|"
    r"(?<![a-z])(?:published|posted|updated)(?:\s+on)?)\s*:?\s*[\[(【]?\s*$",
    re.IGNORECASE,
)
# generic labels (时间, date) count only standing alone: 案发时间:… is an event
_GENERIC_LABEL = re.compile(r"(?:^|[\s|•·\[(【,/-])(?:时\s*间|日\s*期|date|time)\s*:?\s*[\[(【]?\s*$", re.IGNORECASE)
# a clock time right after the date: 10:43:40, 上午10:43, 10时43分 (but not 9时许, an event's time)
_TIME_OF_DAY = re.compile(
    r"^\s*(?:(?:上午|下午|凌晨|早上|中午|晚上)\s*)?(?:\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?|\d{1,2}\s*[时点]\s*\d{1,2}\s*分(?:\s*\d{1,2}\s*秒)?)"
)
_FURNITURE_NOISE = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2})?|(?:星期|礼拜|周)[一二三四五六日天]|"
    r"\b(?:mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?\b|\b(?:hkt|cst|gmt|utc|am|pm)\b",
    re.IGNORECASE,
)
# what a date starts a story with: a time in words (9时30分, 下午), a comma, 起/以来/的
_NARRATIVE_AFTER = re.compile(
    r"^\s*(?:\d{1,2}\s*[时点]|[,、的起至到前后许]|上午|下午|凌晨|晚|早|中午|傍晚|夜|以来|期间|左右)"
)
# 时间:2023年3月1日至3月31日 is when something happens, not when the page was published
_RANGE_AFTER = re.compile(r"^\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*(?:至|到|~|-|—|－)\s*\d")
# an outlet's name may run into the date (中国新闻网2020-12-10), a header field may follow it closely
# (2023-05-12来源:…); any other character glued to a date makes it part of a sentence (于2023年…)
_OUTLET_END = "网报社台端刊站"
_GLUED_FIELD = re.compile(r"^(?:来源|稿源|出处|作者|编辑|责任编辑|责编|记者|通讯员|发布|浏览|阅读|点击|字号)")
_MASTHEAD = re.compile(r"今天|今日|农历|天气|气温|欢迎")
_TOKEN_SPLIT = re.compile(r"[\s|│丨•·\-—_/\\<>»›()\[\]【】《》「」『』:=~*#]+")
_TOKEN_MAX_CJK = 12
_LINE_MAX_CJK = 30
# a paragraph of the story: a sentence (。), or long enough that a headline it is not
_BODY_MIN_CJK = 20
_HEADLINE_MAX_CJK = 40
_CAPTION = re.compile(r"^[▲△■●]|^图为|^图\s*:|[(][^()]{0,30}(提供|摄|供图|翻摄|截图|图)[)]\s*$|(摄|供图)\s*$")
# after the story: other stories and readers' comments, whose dates are not the release's
_TRAILER = re.compile(
    r"^(相关(新闻|阅读|链接|文章|推荐|报道)|延伸阅读|推荐阅读|热点推荐|热门推荐|猜你喜欢|新闻推荐|更多新闻|"
    r"(最新|热门|全部|网友|精彩|发表)?(评论|回应|留言|跟帖)|我来说两句)"
)
_OTHER_STORY = re.compile(r"^\W*(上一篇|下一篇|上一条|下一条|上一页|下一页)")
_DATELINE = re.compile(r"^(?!据).{0,24}?(\d{1,2})月(\d{1,2})日\s*(?:讯|电|消息)")
_PARTIAL_HEADER = re.compile(r"(?<![\d-])(\d{1,2})-(\d{1,2})\s+\d{1,2}:\d{2}")
_ANCHOR_WINDOW = dt.timedelta(days=31)
# what else a line holding only a year-less date may carry: 9月3日 10:43, [9月3日]
_BARE_REST = re.compile(r"[\s\[\]()【】]*(?:\d{1,2}:\d{2}(?::\d{2})?)?[\s\[\]()【】]*")


@dataclass(frozen=True)
class PublishDate:
    date: dt.date | None
    rule: str | None


@dataclass
class _Line:
    text: str  # folded, pinyin glosses removed
    body: bool
    caption: bool
    dates: list[DateMention]


def _prepared(raw_line: str) -> str:
    folded = fold_text(raw_line.replace("\u3000", " ").replace("\xa0", " ").replace("\ufeff", ""))
    return _PINYIN_GLOSS.sub("", folded).strip()


def _lines(text: str, headline: str | None, captions: set[str]) -> list[_Line]:
    """The page's non-blank lines up to a related-news list or the comments after the story, without
    links to the previous and next story."""
    lines: list[_Line] = []
    for raw_line in text.splitlines():
        if not raw_line.strip():
            continue
        line = _prepared(raw_line)
        if len(line) <= 12 and _TRAILER.match(line) and any(seen.body for seen in lines):
            break
        if _OTHER_STORY.match(line):
            continue
        cjk = len(_CJK.findall(line))
        caption = bool(_CAPTION.search(line)) or raw_line.strip() in captions
        body = (
            cjk >= _BODY_MIN_CJK
            and bool(_CLAUSE_PUNCTUATION.search(line))
            and ("。" in line or cjk > _HEADLINE_MAX_CJK)
            and not caption
            and raw_line.strip() != headline
        )
        lines.append(_Line(line, body, caption, full_dates(line)))
    return lines


def _labelled(line: str, position: int) -> bool:
    """Whether a publish label stands right before ``position`` of the line."""
    before = line[:position]
    return bool(_PUBLISH_LABEL.search(before) or _GENERIC_LABEL.search(before))


def _labelled_date(line: str, mention: DateMention) -> bool:
    """A full date after a publish label that does not open a period (时间:3月1日至…)."""
    return _labelled(line, mention.start) and not _RANGE_AFTER.match(line[mention.end :])


def _furniture_only(line: str, mention: DateMention) -> bool:
    """Whether everything on the line but the date is header furniture (a time of day, a weekday,
    an outlet, a byline, a label, brackets) rather than a sentence of the story."""
    before, after = line[: mention.start], line[mention.end :]
    if before and _CJK.match(before[-1]) and before[-1] not in _OUTLET_END:
        return False  # 于2023年…, 是2023年…: the date is part of a sentence
    if clock := _TIME_OF_DAY.match(after):
        after = after[clock.end() :]
    elif _NARRATIVE_AFTER.match(after) or (_CJK.match(after[:1]) and not _GLUED_FIELD.match(after)):
        return False  # 2023年3月6日下午,…; 2021年03月10日兰州…: a date glued to a headline
    rest = _FURNITURE_NOISE.sub(" ", before + " " + after)
    if _CLAUSE_PUNCTUATION.search(rest) or _MASTHEAD.search(rest) or len(_CJK.findall(rest)) > _LINE_MAX_CJK:
        return False
    if any(mention.date != other.date for other in full_dates(line)):
        return False  # two different dates: a range or a list, not a header
    return all(len(_CJK.findall(token)) <= _TOKEN_MAX_CJK for token in _TOKEN_SPLIT.split(rest))


def _timed(line: str, mention: DateMention) -> bool:
    return bool(_TIME_OF_DAY.match(line[mention.end :]))


def _signed_off(line: str) -> DateMention | None:
    """A date closing the last paragraph: ``…处理中。(2022年09月28日)`` or ``…。《某报》 2006年3月16日``."""
    tail_start = max(line.rfind(mark) for mark in "。!?") + 1
    tail = line[tail_start:]
    mentions = full_dates(tail)
    if tail_start and len(mentions) == 1 and _furniture_only(tail, mentions[0]):
        return mentions[0]
    return None


def publish_date(cleaned: CleanedDocument) -> PublishDate:
    """The publish date of a cleaned release and the rule that found it; (None, None) when the page
    does not say (an event date in the story is never taken for it)."""
    lines = _lines(cleaned.raw.text, cleaned.headline, set(cleaned.captions))
    body_before = 0
    body_total = sum(line.body for line in lines)
    head: list[tuple[dt.date, str]] = []
    sign_off: list[dt.date] = []
    for line in lines:
        body_after = body_total - body_before - line.body
        in_head = body_before <= 1
        in_sign_off = body_before >= 1 and body_after == 0
        for mention in line.dates:
            labelled = _labelled_date(line.text, mention)
            # a photo caption's date is when the photo was taken
            if labelled or (not line.caption and _furniture_only(line.text, mention)):
                # a bare date after the first paragraph may be a timeline's heading: it needs a label
                # or a time of day to count as the header's
                if in_head and (body_before == 0 or labelled or _timed(line.text, mention)):
                    head.append((mention.date, RULE_LABEL if labelled else RULE_HEADER_LINE))
                elif in_sign_off:
                    sign_off.append(mention.date)
        if line.body and in_sign_off and (closing := _signed_off(line.text)) is not None:
            sign_off.append(closing.date)
        body_before += line.body
    if head:
        labelled_dates = [date for date, rule in head if rule == RULE_LABEL]
        return PublishDate(labelled_dates[0], RULE_LABEL) if labelled_dates else PublishDate(*head[0])
    meta = parse_date(cleaned.raw.html_date)
    if meta is not None:
        return PublishDate(meta, RULE_HTML_META)
    if sign_off and len(set(sign_off)) == 1:
        return PublishDate(sign_off[0], RULE_SIGN_OFF)
    anchored = _anchored_partial(lines)
    return PublishDate(anchored, RULE_ANCHORED) if anchored else PublishDate(None, None)


def _partial_candidates(lines: list[_Line]) -> list[tuple[int, int]]:
    """Month and day of a header date without its year (发布时间:9月3日, a 9月3日 line, 02-26 18:35)
    or of the dateline opening the story (新华社北京2月27日电, 1月30日讯)."""
    found: list[tuple[int, int]] = []
    body_seen = 0
    for line in lines:
        if body_seen >= 2:
            break
        dateline = _DATELINE.match(line.text) if line.body else None
        if dateline:
            found.append((int(dateline.group(1)), int(dateline.group(2))))
        elif not line.dates and body_seen == 0:
            for month, day, start, end in month_days(line.text):
                if _labelled(line.text, start) or _BARE_REST.fullmatch(line.text[:start] + line.text[end:]):
                    found.append((month, day))
            numeric = _PARTIAL_HEADER.search(line.text)
            if numeric and (not _CJK.search(line.text[: numeric.start()]) or _labelled(line.text, numeric.start())):
                found.append((int(numeric.group(1)), int(numeric.group(2))))
        body_seen += line.body
    return found


def _anchored_partial(lines: list[_Line]) -> dt.date | None:
    """A year-less header or dateline date placed by a full date the release gives: the story's
    events come shortly before it is published, so only a date at most a month after one of them."""
    anchors = {mention.date for line in lines for mention in line.dates}
    results: set[dt.date] = set()
    for month, day in _partial_candidates(lines):
        for anchor in anchors:
            for year in (anchor.year, anchor.year + 1):
                try:
                    candidate = dt.date(year, month, day)
                except ValueError:
                    continue
                if anchor <= candidate <= anchor + _ANCHOR_WINDOW:
                    results.add(candidate)
    return results.pop() if len(results) == 1 else None
