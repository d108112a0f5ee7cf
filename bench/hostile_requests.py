"""The hostile requests ``bench/hostile.py`` sends: a hand-made set and requests generated from
``web/openapi.json`` (each parameter a valid value of its schema or garbage), deterministic for a
seed. Each request is raw bytes, so Host headers, methods, bodies and encodings can be anything.
"""

from __future__ import annotations

import itertools
import json
import random
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

SPEC = Path(__file__).resolve().parent.parent / "web" / "openapi.json"
WORDS = ["民警", "诈骗", "公安", "分局", "电信诈骗", "九龙坡", "萬州", "扫黑除恶", "平安", "警方", "群众", "案件"]
OPERATORS = ["AND", "OR", "NOT", "ANDNOT", "ANDMAYBE", "REQUIRE", "(", ")", '"', "*", "?", "~2", "^3", ":"]
FIELDS = ["title", "body", "district", "city", "province", "source", "year", "grams", "id", "path", "foo"]
# values no schema allows (tests/test_properties.py has another such list for the in-process fuzz)
GARBAGE = ["", "true", "[]", "{}", "+1", "0x10", "１２", " 1", "1 ", "2024-00-00", "2024-2-29", "10000-01-01", "'", ";",
           "\\", "\r\n", "%25", "\u202e", "\ufeff", "𠀀", "\x00", "a" * 3000]  # fmt: skip


@dataclass
class Request:
    label: str  # what kind of abuse, for the report
    raw: bytes
    shown: str  # a readable form for the report


def build(method: str, target: str, host: str = "127.0.0.1", headers: dict | None = None, body: bytes = b"") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return "\r\n".join(lines).encode("utf-8", "surrogateescape") + b"\r\n\r\n" + body


def search(q: str, **params: str) -> str:
    pairs = [("q", q), *params.items()]
    return "/api/search?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in pairs)


def _named_queries() -> list[tuple[str, str]]:
    """The queries from issue 13 and their relatives."""
    return [
        ("range over the vocabulary", "[一 TO 龥]"),
        ("range over the vocabulary", "body:[a TO 龥]"),
        ("range over the vocabulary", "title:[一 TO 龥] OR body:[一 TO 龥]"),
        ("400-word phrase", '"' + "民警" * 200 + '"'),
        ("24-word phrase", '"' + "民警" * 24 + '"'),
        ("166 quoted phrases", " ".join(f'"民警{n}"' for n in range(166))),
        ("quoted phrases", " ".join(f'"{a}{b}"' for a, b in itertools.pairwise(WORDS))),
        ("binary operator", "a ANDNOT b"),
        ("binary operator", "民警 ANDMAYBE 诈骗"),
        ("binary operator", "民警 REQUIRE 诈骗"),
        ("binary operator", "(民警 ANDNOT 诈骗) REQUIRE 公安"),
        ("nesting", "(" * 16 + "民警" + ")" * 16),
        ("nesting", "(" * 300 + "民警" + ")" * 300),
        ("prefixes", "民* 公* 警*"),
        ("prefixes", "民* 公* 警* 诈*"),
        ("wildcard", "*骗"),
        ("fuzzy", "民警~5 公安~5 诈骗~5"),
        ("year range", "year:[1900 TO 2100]"),
        ("NOT chain", "NOT " * 150 + "民警"),
        ("OR soup", " OR ".join(WORDS * 5)),
    ]


def _soup(rng: random.Random) -> str:
    tokens = []
    for _ in range(rng.randint(1, 40)):
        kind = rng.random()
        if kind < 0.45:
            tokens.append(rng.choice(WORDS))
        elif kind < 0.8:
            tokens.append(rng.choice(OPERATORS))
        elif kind < 0.9:
            tokens.append(f"{rng.choice(FIELDS)}:{rng.choice(WORDS)}")
        else:
            low, high = sorted(rng.sample(WORDS, 2))
            tokens.append(f"{rng.choice(FIELDS)}:[{low} TO {high}]")
    return (" " if rng.random() < 0.8 else "").join(tokens)


def _phrase(rng: random.Random) -> str:
    return '"' + "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 30))) + '"'


def hand_made(rng: random.Random, doc_ids: list[str]) -> Request:
    """One request of the hand-made set: the named queries, operator soup, ranges and phrases, and
    abuse of paths, Host headers, methods, bodies and percent-encoding."""
    roll = rng.randrange(14)
    if roll == 0:
        label, q = rng.choice(_named_queries())
        return Request(label, build("GET", search(q)), q)
    if roll in (1, 2):
        q = _soup(rng)
        return Request("operator soup", build("GET", rng.choice([search(q), "/?q=" + quote(q, safe="")])), q)
    if roll == 3:
        q = " ".join(_phrase(rng) for _ in range(rng.randint(1, 12)))
        return Request("phrases", build("GET", search(q)), q)
    if roll == 4:
        doc = rng.choice([*doc_ids, "0123456789abcdef"])
        q = _soup(rng)
        target = rng.choice([f"/doc/{doc}?q={quote(q, safe='')}", f"/api/documents/{doc}"])
        return Request("document", build("GET", target), target)
    if roll == 5:
        host = rng.choice(
            ["a" * 64 + ".example", "evil.example", "", "xn--" + "a" * 70, "a:99999", "[::1", "..", "例.中国"]
        )
        target = rng.choice(["/", "/api/search?q=民警", "/api//search", "//", "/doc/0123456789abcdef", "/nowhere"])
        return Request("Host header", build("GET", quote(target, safe="/?=&"), host=host), f"Host: {host} {target}")
    if roll == 6:
        method = rng.choice(["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "BREW"])
        size = rng.choice([0, 10, 70 * 1024, 1024 * 1024])
        target = rng.choice(["/", "/api/search?q=民警", "/api/documents/0123456789abcdef"])
        return Request(
            "method and body", build(method, quote(target, safe="/?=&"), body=b"x" * size), f"{method} {size}B"
        )
    if roll == 7:
        encoded = rng.choice(
            ["%E8%AF", "%ff%fe", "%C0%AF", "%00", "%zz", "%", "%E8%AF%88%E9%AA%97" * 3000, "%F0%9F%98"]
        )
        target = rng.choice(["/api/search?q=", "/?q=", "/api/search?district=", "/api/search?from="]) + encoded
        return Request("percent-encoding", build("GET", target), target[:80])
    if roll == 8:
        target = rng.choice(
            [
                "/static/../search/index.py",
                "/static/%2e%2e/__init__.py",
                "/doc/../../etc/passwd",
                "/api/documents/x" * 50,
                "/api/openapi.json",
                "/" + "a/" * 500,
                "/api/search/",
                "/index.html",
                "/.git/config",
                "/api",
            ]
        )
        return Request("path", build("GET", quote(target, safe="/%")), target[:80])
    if roll == 9:
        params = {"from": rng.choice(GARBAGE), "to": rng.choice(GARBAGE), "page": rng.choice(["0", "10001", "-1", "1"])}
        params["per_page"] = rng.choice(["0", "101", "100", "1e2"])
        return Request("parameters", build("GET", search(rng.choice(WORDS), **params)), json.dumps(params))
    if roll == 10:
        return Request(
            "headers",
            build(
                "GET",
                search("民警"),
                headers={
                    "X-Forwarded-Host": "evil.example",
                    "Accept-Encoding": "gzip;q=" + "9" * 500,
                    "Cookie": "a=" + "b" * 8000,
                },
            ),
            "header abuse",
        )
    q = rng.choice([_soup(rng), _phrase(rng), rng.choice(WORDS)])
    params = {"sort": rng.choice(["date", "relevance"]), "district": rng.choice(["九龙坡", "重庆", "火星", ""])}
    return Request("filtered search", build("GET", search(q, **params)), q)


def from_spec(rng: random.Random, spec: dict) -> Request:
    """A request generated from the OpenAPI description: each parameter absent, a valid value of
    its schema, or garbage."""
    path, item = rng.choice(list(spec["paths"].items()))
    operation = item["get"]
    target = path
    query = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            value = rng.choice(
                ["0123456789abcdef", "".join(rng.choices("0123456789abcdef", k=16)), rng.choice(GARBAGE)]
            )
            target = target.replace("{" + parameter["name"] + "}", quote(value, safe=""))
        elif rng.random() < 0.6:
            query.append((parameter["name"], _value(rng, parameter["schema"])))
    if query:
        target += "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in query)
    return Request("openapi", build("GET", target), target[:120])


def _value(rng: random.Random, schema: dict) -> str:
    if rng.random() < 0.3:
        return rng.choice(GARBAGE)
    if "enum" in schema:
        return str(rng.choice(schema["enum"]))  # the spec may list integers (undated: 0, 1)
    if schema.get("type") == "integer":
        return str(rng.randint(schema.get("minimum", -5) - 2, schema.get("maximum", 100) + 2))
    if schema.get("format") == "date":
        return f"{rng.randint(1990, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 31):02d}"
    alphabet = WORDS + OPERATORS + ["", " ", "𠀀", "\u3000"]
    return " ".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))[: schema.get("maxLength", 1000)]


def requests(count: int, seed: int, doc_ids: list[str]) -> list[Request]:
    rng = random.Random(seed)
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    return [hand_made(rng, doc_ids) if number % 2 else from_spec(rng, spec) for number in range(count)]
