"""Why a search was refused, in the page's language, with the fix as a link.

The engine (``search.query``) and ``web.params`` explain a refusal in English, for the CLI and
the API's ``error``; here each message is given in Chinese (the page, the API's ``error_zh``) with,
where one exists, the request that fixes it (去掉引号再搜, 交换起止日期 …).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from web.params import known

Args = dict[str, str]


@dataclass(frozen=True)
class Fix:
    label: str
    args: Args  # the query string of the search that works


@dataclass(frozen=True)
class Explained:
    message_zh: str
    fix: Fix | None = None


_PARAMETER_NAMES = {
    "from": "开始日期",
    "to": "结束日期",
    "page": "页码",
    "per_page": "每页条数",
    "undated": "“包括日期不详”参数",
}
_OPERATORS = re.compile(r'[()"*?^~\[\]{}]|\b(?:AND|OR|NOT)\b')


def _without(args: Args, *names: str) -> Args:
    return {name: value for name, value in args.items() if name not in names}


def _with_query(args: Args, q: str) -> Args:
    return {**args, "q": " ".join(q.split())}


def _plain_words(args: Args) -> Fix:
    return Fix("按普通词语搜索", _with_query(args, _OPERATORS.sub(" ", args.get("q", ""))))


def _unknown_field(match: re.Match[str], args: Args) -> Explained:
    name = match.group(1)
    fields = "、".join(f"{field}:" for field in match.group(2).split(", "))
    q = args.get("q", "").replace(f"{name}:", f"{name} ")
    return Explained(
        f"没有“{name}:”这个字段；可以按这些字段搜索：{fields}。",
        Fix(f"把“{name}”当作普通词语搜索", _with_query(args, q)),
    )


def _date_fix(args: Args) -> Fix:
    return Fix("去掉日期范围", _without(args, "from", "to", "undated"))


# (English message pattern, its Chinese explanation with the fix); first match wins
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str], Args], Explained]]] = [
    (
        re.compile(r"unbalanced quote"),
        lambda m, a: Explained(
            "引号不成对：要按原样搜索一个短语，请用两个引号把它括起来。",
            Fix("去掉引号再搜", _with_query(a, a.get("q", "").replace('"', " ").replace("“", " ").replace("”", " "))),
        ),
    ),
    (
        re.compile(r"unbalanced parenthesis: '\)' without '\('"),
        lambda m, a: Explained(
            "括号不成对：有“)”却没有对应的“(”。",
            Fix("去掉括号再搜", _with_query(a, re.sub(r"[()（）]", " ", a.get("q", "")))),
        ),
    ),
    (
        re.compile(r"unbalanced parenthesis"),
        lambda m, a: Explained(
            "括号不成对：有“(”没有闭合。", Fix("去掉括号再搜", _with_query(a, re.sub(r"[()（）]", " ", a.get("q", ""))))
        ),
    ),
    (re.compile(r"unknown field '([^']*):'; searchable fields are (.*)$"), _unknown_field),
    (
        re.compile(r"query too long \((\d+) characters; at most (\d+)\)"),
        lambda m, a: Explained(f"搜索词太长：{m.group(1)} 个字符，最多 {m.group(2)} 个。请缩短后再搜。"),
    ),
    (
        re.compile(r"query has (\d+) words; at most (\d+)"),
        lambda m, a: Explained(f"搜索词太多：{m.group(1)} 个词，最多 {m.group(2)} 个。请去掉一些词再搜。"),
    ),
    (
        re.compile(r"a wildcard needs at least one character before"),
        lambda m, a: Explained(
            "通配符 * 或 ? 前面至少要有一个字。",
            Fix("去掉通配符再搜", _with_query(a, re.sub(r"[*?]", " ", a.get("q", "")))),
        ),
    ),
    (
        re.compile(r"at most (\d+) wildcard, prefix or range terms"),
        lambda m, a: Explained(f"一次搜索最多使用 {m.group(1)} 个通配符、前缀或范围条件。", _plain_words(a)),
    ),
    (
        re.compile(r"stands for more than (\d+) indexed words"),
        lambda m, a: Explained(
            f"通配符或范围条件包含的词太多（超过 {m.group(1)} 个）。"
            "请缩小范围，例如用更长的前缀或 year:[2020 TO 2023]。",
            _plain_words(a),
        ),
    ),
    (
        re.compile(r"a quoted phrase has (\d+) words; at most (\d+)"),
        lambda m, a: Explained(
            f"引号里的短语太长：{m.group(1)} 个词，最多 {m.group(2)} 个。请只给其中一段加引号。",
            Fix("去掉引号再搜", _with_query(a, a.get("q", "").replace('"', " "))),
        ),
    ),
    (
        re.compile(r"parentheses nested more than (\d+) deep"),
        lambda m, a: Explained(f"括号嵌套太深（最多 {m.group(1)} 层）。请把搜索式写得简单一些。", _plain_words(a)),
    ),
    (
        re.compile(r"the query is too complex \((\d+) search terms after expansion; at most (\d+)\)"),
        lambda m, a: Explained(
            f"搜索式太复杂：展开后有 {m.group(1)} 个检索条件，最多 {m.group(2)} 个。请减少或缩短词语和短语。",
            _plain_words(a),
        ),
    ),
    (
        re.compile(r"could not parse the query"),
        lambda m, a: Explained("无法理解这个搜索式。", _plain_words(a)),
    ),
    (
        re.compile(r"(from|to) must be a date written YYYY-MM-DD, not (.*)$"),
        lambda m, a: Explained(
            f"{_PARAMETER_NAMES[m.group(1)]}要写成“年-月-日”（如 2024-01-31），而不是 {m.group(2)}。", _date_fix(a)
        ),
    ),
    (
        re.compile(r"(from|to) is not a real calendar date: (.*)$"),
        lambda m, a: Explained(f"{_PARAMETER_NAMES[m.group(1)]} {m.group(2)} 不是日历上真实存在的日期。", _date_fix(a)),
    ),
    (
        re.compile(r"'to' \((.*)\) is before 'from' \((.*)\)"),
        lambda m, a: Explained(
            f"结束日期（{m.group(1)}）早于开始日期（{m.group(2)}）。",
            Fix("交换起止日期", {**a, "from": a.get("to", ""), "to": a.get("from", "")}),
        ),
    ),
    (
        re.compile(r"sort must be one of"),
        lambda m, a: Explained(
            "排序方式只能是“相关度”（relevance）或“最新”（date）。", Fix("按相关度排序", _without(a, "sort"))
        ),
    ),
    (
        re.compile(r"(page|per_page|undated) must be a whole number from (\d+) to (\d+), not (.*)$"),
        lambda m, a: Explained(
            f"{_PARAMETER_NAMES[m.group(1)]}须为 {m.group(2)} 到 {m.group(3)} 之间的整数，而不是 {m.group(4)}。",
            Fix("用默认值", _without(a, m.group(1))),
        ),
    ),
    (
        re.compile(r"format must be one of ([a-z, ]+), not"),
        lambda m, a: Explained(f"格式（format）只能是 {'、'.join(m.group(1).split(', '))} 之一。"),
    ),
    (
        re.compile(r"parameter '([^']*)' was given more than once"),
        lambda m, a: Explained(f"参数“{m.group(1)}”出现了多次，且取值不同。", Fix("只保留第一个", a)),
    ),
    (
        re.compile(r"the synonym file cannot be used"),
        lambda m, a: Explained("同义词文件有误，暂时无法搜索。请联系网站管理员。"),
    ),
]


def request_args(args: MultiDict) -> Args:
    """The known search parameters of a request, first value of each, empty ones left out."""
    return {name: args.get(name, "") for name in known() if args.get(name, "")}


def explain(message: str, args: MultiDict) -> Explained:
    """The refusal ``message`` in Chinese, with a fix built from the request's ``args``."""
    current = request_args(args)
    for pattern, explained in _RULES:
        match = pattern.search(message)
        if match:
            return explained(match, current)
    return Explained(f"无法完成这次搜索：{message}")
