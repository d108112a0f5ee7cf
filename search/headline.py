"""Find a release's headline the way a reader does.

A reader skips the site's chrome above the article (menus, app banners, the newspaper's page line,
the outlet's name, a breadcrumb), takes the line the story then talks about, reads a headline broken
over two lines as one, and stops at the date or byline under it.  When no line qualifies, the last
crumb of a breadcrumb or a ``标题:`` line stands in; when nothing does, ``derive_headline`` writes a
short one from the first sentence (the caller flags it as inferred).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from search import furniture
from search.furniture import cjk_count, simplified
from search.normalise import IDEOGRAPH

HEADLINE_MIN_CJK = 4  # 引子, 关注 are too short to be a release's headline (or half of one)
_FULL_HEADLINE_CJK = 8  # shorter lines are more often a name than a headline
_SUBJECT_MAX_CJK = 6  # a first half this short is the subject of the second: joined without a space
HEADLINE_MAX_UNITS = 50  # characters, counting a run of Latin letters or digits as one
_JOIN_PART_MAX = 14  # a line longer than this is a whole headline, not half of one
_HEAD_LINES = 25  # a headline stands among the first lines of a page
_TALKED_ABOUT = 0.1  # share of a line's character pairs that the story's opening repeats
_TOOL_DATE_CHROME_CJK = 10  # `` date 2026-01-27 聽新聞``: a word or two of chrome after the date
_DERIVED_MAX = 36
_LEAD_CLAUSE = re.compile(
    r"^(?:(?:日前|近日|近期|昨天|昨日|今天|今日|前日|前晚|昨晚|当天|当晚|当日|今年|去年)[^,，]{0,8}|"
    r"\d{1,2}月\d{1,2}[日号][^,，]{0,10}|[^,，]{0,8}[时点]许|据[^,，]{0,16}(?:消息|报道|通报))[,，]$"
)
_BYLINE_LEAD = re.compile(r"^[(（〔][^()（）〔〕]{0,40}(记者|通讯员|报导|报道)[^()（）〔〕]{0,20}[)）〕]\s*")
_DERIVED_MIN_CJK = 8  # a sentence long enough to say what happened
# what precedes a lead sentence: the excerpt's date, 【导语】, 导语:, 【解说】
_LEAD_IN = re.compile(
    r"^\s*(?:date\s+\d{4}-\d{2}-\d{2}\s*|[【\[](?:导语|解说|導語|解說)[】\]]\s*|(?:导语|導語)\s*[:：]\s*)+"
)
_TERMINAL_END = "。；;：:，,、"
_LABEL = re.compile(r"^\s*(?:原标题|标题|題目|题目|原標題|標題)\s*[:：]\s*(.+)$")
_CRUMB_SEPARATOR = re.compile(r"\s*(?:>>|[>»›]|\s/\s)\s*")
_GENERIC_CRUMB = re.compile(r"^(正文|首页|详情|内容|文章|新闻|资讯|本地|国内|国际)$")
_SITE_SUFFIX = re.compile(r"^(.*?\S)\s+[-–—_|｜]\s+[^\s]{1,15}$")
_TRAILING_PIPES = re.compile(r"[\s|｜]*\|[\s|｜]*$")
_QUOTED = re.compile(r"^[“\"「『](?P<inner>[^“”\"「」『』]+)[”\"」』]$")
_DATELINE_LEAD = re.compile(
    r"^(?:[【\[][^】\]]{1,20}[】\]]\s*)?(?:据)?[\u4e00-\u9fff·、 ()a-z]{0,24}?"
    r"(?:[\d一二三四五六七八九十]{1,3}月[\d一二三四五六七八九十]{1,3}日)?(?:讯|电|消息)"
    r"\s*(?:[(（][^()（）]{0,40}[)）])?\s*[:：]?\s*"
)
_BIGRAM_TEXT = re.compile(IDEOGRAPH + "+")


@dataclass(frozen=True)
class HeadlineChoice:
    """The headline, the indexes of the lines it was read from, and where it came from:
    ``line``, ``joined`` (two lines read as one), ``label`` (a ``标题:`` line) or ``crumb``."""

    text: str
    lines: tuple[int, ...]
    basis: str


@dataclass
class _Candidate:
    index: int
    text: str
    outlet: bool
    overlap: float = 0.0


def looks_like_breadcrumb(text: str) -> bool:
    """``幼儿教育 > 资讯 >民警送孩子…``, ``觀察家網 > 國內 >``: two or more ``>`` after short crumbs."""
    parts = [part for part in _CRUMB_SEPARATOR.split(text.strip()) if part]
    separators = len(re.findall(r"[>»›]+", text))
    return separators >= 2 and len(parts) >= 2 and all(len(part) <= 10 for part in parts[:-1])


def last_crumb(text: str) -> str:
    parts = [part for part in _CRUMB_SEPARATOR.split(text.strip()) if part]
    return parts[-1] if parts else ""


def _units(text: str) -> int:
    """Length as a reader weighs it: each Chinese character, and each run of Latin letters or digits."""
    return cjk_count(text) + len(re.findall(r"[A-Za-z0-9]+", text))


def tidy(text: str) -> str:
    """A headline without what pages add around it: ``… - RTHK``, ``…_青山网``, trailing table pipes,
    enclosing quotes."""
    text = _TRAILING_PIPES.sub("", text).strip()
    suffix = _SITE_SUFFIX.match(text)
    if suffix and cjk_count(suffix.group(1)) >= HEADLINE_MIN_CJK:
        text = suffix.group(1)
    first, *sites = text.split("_")
    # 青山警方破获盗窃案_新闻中心_青山网: a page title's channel and site after underscores
    if sites and furniture.is_outlet_name(sites[-1]) and cjk_count(first) >= HEADLINE_MIN_CJK:
        text = first.strip()
    quoted = _QUOTED.match(text)
    return quoted.group("inner").strip() if quoted else text


def headline_shaped(text: str) -> bool:
    """Short, mostly Chinese, not a sentence, and none of the shapes that sit beside a headline."""
    if cjk_count(text) < HEADLINE_MIN_CJK or _units(text) > HEADLINE_MAX_UNITS:
        return False
    body = text.rstrip("”’」』）)》】\"' ")
    if not body or body[-1] in _TERMINAL_END or "。" in body[:-1]:
        return False
    if text.lstrip().startswith(("—", "－", "--")) or furniture.is_tool_date_line(text):
        return False
    checks = (
        furniture.is_page_chrome,
        furniture.is_byline,
        furniture.is_caption,
        furniture.is_dateline_only,
        furniture.is_date_stamp,
    )
    return not any(check(text) for check in checks)


def _bigrams(text: str) -> set[str]:
    return {run[i : i + 2] for run in _BIGRAM_TEXT.findall(simplified(text)) for i in range(len(run) - 1)}


def talked_about(line: str, opening: str) -> float:
    """The share of ``line``'s character pairs that ``opening`` (the story's first sentences) repeats."""
    pairs = _bigrams(line)
    return len(pairs & _bigrams(opening)) / len(pairs) if pairs else 0.0


def choose_headline(
    lines: Sequence[str], blank_before: Sequence[int], kind_of: Callable[[str], str | None]
) -> HeadlineChoice | None:
    """The headline among ``lines`` (a page's non-empty lines, in order).

    ``kind_of`` names the lines the clean stage already recognises (``crumb``, ``chrome``,
    ``header``, ``date``) and returns ``None`` for the rest.
    """
    candidates, crumbs, body_start = _head_region(lines, blank_before, kind_of)
    opening = _story_opening(lines, body_start, kind_of)
    usable = [candidate for candidate in candidates if not candidate.outlet]
    for candidate in usable:
        candidate.overlap = talked_about(candidate.text, opening)
    talked = [_joined(c, usable, lines, blank_before) for c in usable if c.overlap >= _TALKED_ABOUT]
    untalked = [_joined(c, usable, lines, blank_before) for c in usable if c.overlap < _TALKED_ABOUT]
    crumb = _from_crumbs(crumbs, lines, body_start)
    # a name-sized line (平安青山, a column or account name) gives way to anything fuller
    ranked = (
        [choice for choice in talked if _full(choice)],
        [_labelled(lines)],
        [crumb] if crumb and _full(crumb) else [],
        talked,
        [choice for choice in untalked if _full(choice)],
        untalked,
        [crumb],
    )
    return next((choice for group in ranked for choice in group if choice is not None), None)


def _full(choice: HeadlineChoice) -> bool:
    return cjk_count(choice.text) >= _FULL_HEADLINE_CJK


def _head_region(
    lines: Sequence[str], blank_before: Sequence[int], kind_of: Callable[[str], str | None]
) -> tuple[list[_Candidate], list[str], int]:
    """Headline candidates and breadcrumbs above the story, and the index where the story starts.

    The region ends at the first line of running text, or at the date, source or byline line
    under a candidate (what follows is the story, its subheadings included).
    """
    candidates: list[_Candidate] = []
    crumbs: list[str] = []
    for index, text in enumerate(lines[:_HEAD_LINES]):
        kind = kind_of(text)
        if kind == "crumb" or looks_like_breadcrumb(text):
            crumbs.append(text)
            continue
        if furniture.is_tool_date_line(text) and cjk_count(text) > _TOOL_DATE_CHROME_CJK:
            return candidates, crumbs, index  # the excerpt's date line runs on into the story
        closes = kind in ("header", "date") or any(
            check(text) for check in (furniture.is_tool_date_line, furniture.is_byline, furniture.is_date_stamp)
        )
        if closes:
            if _headline_above(candidates, index, blank_before):
                return candidates, crumbs, index + 1
            continue
        if kind == "chrome" or _LABEL.match(text):
            continue
        tidied = tidy(text)
        if headline_shaped(tidied):
            candidates.append(_Candidate(index, tidied, furniture.is_outlet_name(tidied)))
            continue
        if _is_furniture(text):
            continue
        return candidates, crumbs, index
    return candidates, crumbs, min(len(lines), _HEAD_LINES)


def _headline_above(candidates: list[_Candidate], index: int, blank_before: Sequence[int]) -> bool:
    """Whether the date, source or byline line at ``index`` stands under a headline: a full-length
    candidate above it, or a shorter one right on top of it (a name above a date line is no headline)."""
    candidates = [candidate for candidate in candidates if not candidate.outlet]
    if any(cjk_count(candidate.text) >= _FULL_HEADLINE_CJK for candidate in candidates):
        return True
    return bool(candidates) and candidates[-1].index == index - 1 and blank_before[index] == 0


def _is_furniture(text: str) -> bool:
    """What a reader's eye passes over on the way to the story."""
    if cjk_count(text) < HEADLINE_MIN_CJK and not re.search(r"[。！？!?]", text):
        return True  # a section or button label (社會, 打印, 关闭), or no Chinese at all
    checks = (
        furniture.is_page_chrome,
        furniture.is_caption,
        furniture.is_dateline_only,
        furniture.is_outlet_name,
    )
    return any(check(text) for check in checks)


def _story_opening(lines: Sequence[str], start: int, kind_of: Callable[[str], str | None]) -> str:
    """The first few lines of running text from ``start``: what a reader checks a headline against."""
    opening: list[str] = []
    for text in lines[start:]:
        if kind_of(text) is not None or _is_furniture(text) or furniture.is_byline(text):
            continue
        opening.append(text)
        if sum(map(len, opening)) >= 300 or len(opening) >= 3:
            break
    return "".join(opening)[:400]


def _joined(
    candidate: _Candidate, usable: list[_Candidate], lines: Sequence[str], blank_before: Sequence[int]
) -> HeadlineChoice:
    """``candidate`` as the headline, with the line after it when the two are one headline broken
    over two lines (``打保安 砸轿车 冲进浴馆扔砖头`` / ``13名打工仔寻衅滋事被拘``)."""
    following = next((c for c in usable if c.index == candidate.index + 1), None)
    breaks = (
        following is not None
        and blank_before[following.index] == 0
        # both halves belong to the story (an account name above a headline is no first half)
        and min(candidate.overlap, following.overlap) >= _TALKED_ABOUT
        and _units(candidate.text) <= _JOIN_PART_MAX
        and _units(following.text) <= _JOIN_PART_MAX
        # a repeated line is a whole headline; the line after it is its deck
        and sum(1 for line in lines if line.strip() == candidate.text) == 1
    )
    if following is not None and breaks:
        glue = "" if cjk_count(candidate.text) <= _SUBJECT_MAX_CJK else " "
        return HeadlineChoice(candidate.text + glue + following.text, (candidate.index, following.index), "joined")
    return HeadlineChoice(candidate.text, (candidate.index,), "line")


def _labelled(lines: Sequence[str]) -> HeadlineChoice | None:
    """``标题:…`` / ``原标题:…`` anywhere on the page."""
    for index, text in enumerate(lines):
        match = _LABEL.match(text)
        if match and headline_shaped(tidy(match.group(1))):
            return HeadlineChoice(tidy(match.group(1)), (index,), "label")
    return None


def _from_crumbs(crumbs: list[str], lines: Sequence[str], body_start: int) -> HeadlineChoice | None:
    """The last crumb of a breadcrumb, when it is a headline (``幼儿教育 > 资讯 >民警送孩子…``),
    without the outlet's name some sites glue to it (``…这个电话得听广州日报``)."""
    outlets = {furniture.dateline_outlet(text) for text in lines[body_start : body_start + 5]}
    outlets |= {text.strip() for text in lines[:_HEAD_LINES] if furniture.is_outlet_name(text)}
    if not crumbs:
        return None
    for text in reversed(crumbs):
        crumb = tidy(last_crumb(text))
        for outlet in filter(None, outlets):
            if crumb.endswith(outlet) and cjk_count(crumb) - cjk_count(outlet) >= HEADLINE_MIN_CJK:
                crumb = crumb[: -len(outlet)].rstrip()
        if not _GENERIC_CRUMB.match(crumb) and headline_shaped(crumb):
            return HeadlineChoice(crumb, (), "crumb")
    return None


def derive_headline(paragraphs: Sequence[str], fallback: str, limit: int = _DERIVED_MAX) -> str:
    """A short headline written from the story's first sentence: the first paragraph of running
    text, without its dateline, byline or lead-in label, cut at a clause boundary."""
    for paragraph in paragraphs:
        text = _without_lead(paragraph)
        if cjk_count(text) >= _DERIVED_MIN_CJK and not _is_furniture(text) and not furniture.is_byline(text):
            return _shortened(re.split(r"(?<=[。！？!?])", text, maxsplit=1)[0].strip(), limit)
    return fallback


def _without_lead(paragraph: str) -> str:
    """``【导语】``, the excerpt's date, ``本报讯(记者 …)``, ``中新网北海2月5日电`` off a lead paragraph."""
    text = _LEAD_IN.sub("", paragraph, count=1)
    folded = simplified(text)  # as long as ``text``: a match on it cuts ``text`` in the same place
    for pattern in (_DATELINE_LEAD, _BYLINE_LEAD):
        lead = pattern.match(folded)
        if lead and cjk_count(text[lead.end() :]) >= HEADLINE_MIN_CJK:
            text, folded = text[lead.end() :], folded[lead.end() :]
    return text.lstrip(" ,，:：、").strip()


def _shortened(sentence: str, limit: int) -> str:
    clauses = re.split(r"(?<=[,，;；])", sentence)
    while len(clauses) > 1 and _LEAD_CLAUSE.match(simplified(clauses[0])):
        # 日前, / 3月10日, / 据公安部网站消息, : a headline says what happened, not on which day or
        # who told (a year stays: 2021年, opens a year's report)
        clauses = clauses[1:]
    rest = "".join(clauses)
    short = ""
    for clause in clauses:
        if short and len(short) + len(clause) > limit:
            break
        short += clause
    if len(short) < limit // 3 or len(short) > limit:
        short = rest[:limit]
    short = short.rstrip("，,、；;：: ")
    if short == rest.rstrip("，,、；;：: "):
        return short.rstrip("。")
    return short + "…"
