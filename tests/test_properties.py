"""Hypothesis properties of the loader, analyser and snippets, and a fuzz run over the web API
generated from its OpenAPI description."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search.analysis import ChineseAnalyzer
from search.clean import clean
from search.extract import extract
from search.formats import FORMATS
from search.formats.html import marked
from search.load import LoadError, load_bytes
from search.normalise import fold
from search.snippets import highlight, snippet
from web import create_app
from web.exports import API_FORMATS

_FIXTURE_AND_SLOW = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
CHINESE = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF)
MESSY_TEXT = st.text(
    alphabet=st.one_of(CHINESE, st.characters(), st.sampled_from(list("，。！？“”<>&'\"\n　ＡＢ①㎡萬區"))),
    max_size=300,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".html"]))
def test_loader_never_raises_anything_but_load_error(data, suffix):
    try:
        raw = load_bytes(Path("fuzz" + suffix), data)
    except LoadError as error:
        assert str(error)
        return
    release = extract(clean(raw))
    assert isinstance(release.title, str) and release.title


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MESSY_TEXT)
def test_pipeline_never_raises_on_arbitrary_text(text):
    try:
        raw = load_bytes(Path("fuzz.txt"), text.encode("utf-8", "surrogatepass"))
    except LoadError:
        return
    extract(clean(raw))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MESSY_TEXT)
def test_token_offsets_always_slice_the_original_text(text):
    for token in ChineseAnalyzer()(text, positions=True, chars=True):
        assert 0 <= token.startchar < token.endchar <= len(text)
        # the slice is the token's source: folding it gives the token (or, for a character NFKC
        # expands such as ¼ → 1⁄4, text containing it)
        assert token.text in fold(text[token.startchar : token.endchar]).text


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        assert not attrs

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=MESSY_TEXT, terms=st.lists(st.text(min_size=1, max_size=4), max_size=4))
def test_snippets_are_html_whose_only_tags_are_mark(text, terms):
    folded_terms = [fold(term).text for term in terms]
    for html in (str(marked(snippet(text, folded_terms))), str(marked(highlight(text, folded_terms)))):
        parser = _TagCollector()
        parser.feed(html)
        parser.close()
        assert set(parser.tags) <= {"mark"}
    whole = _TagCollector()
    whole.feed(str(marked(highlight(text, folded_terms))))
    assert "".join(whole.text) == text.replace("\r", "\r")


def _spec() -> dict:
    return json.loads((Path(__file__).resolve().parent.parent / "web" / "openapi.json").read_text(encoding="utf-8"))


def _parameter_strategy(parameter: dict) -> st.SearchStrategy:
    schema = parameter["schema"]
    garbage = st.one_of(
        st.text(max_size=40),
        st.integers(min_value=-(10**20), max_value=10**20).map(str),
        st.sampled_from(
            [
                "",
                " ",
                "null",
                "NaN",
                "-0",
                "1e3",
                "０",
                "2024-02-30",
                "2024-13-01",
                "9999-99-99",
                "<script>",
                "../../etc/passwd",
                "%00",
                '"',
                "*",
                "?",
                "AND",
                "field:x",
                "诈骗",
                "萬州",
            ]
        ),
    )
    if schema.get("type") == "integer":
        valid = st.integers(min_value=schema.get("minimum", 1), max_value=schema.get("maximum", 100)).map(str)
    elif "enum" in schema:
        valid = st.sampled_from(schema["enum"])
    elif schema.get("format") == "date":
        valid = st.dates().map(lambda value: value.isoformat())
    else:
        valid = st.text(alphabet=st.one_of(CHINESE, st.sampled_from(list(' "()*?:AND')), st.characters()), max_size=60)
    return st.one_of(valid, garbage)


def _query_strategy() -> st.SearchStrategy:
    parameters = _spec()["paths"]["/api/search"]["get"]["parameters"]
    fields = {p["name"]: st.lists(_parameter_strategy(p), max_size=2) for p in parameters}
    fields["unknown"] = st.lists(st.text(max_size=10), max_size=1)
    return st.fixed_dictionaries({}, optional=fields)


@pytest.fixture(scope="module")
def fuzz_client(extended_engine):
    return create_app({"INDEX_DIR": str(extended_engine.index_dir)}).test_client()


@pytest.mark.slow
@settings(max_examples=2500, deadline=None, suppress_health_check=_FIXTURE_AND_SLOW)
@given(query=_query_strategy())
def test_fuzz_search_api_never_500(fuzz_client, query):
    pairs = [(name, value) for name, values in query.items() for value in values]
    # lone surrogates go out as the invalid UTF-8 bytes a hostile client could send
    encoded = urlencode(pairs, encoding="utf-8", errors="surrogatepass")
    response = fuzz_client.get("/api/search?" + encoded)
    assert response.status_code in (200, 400, 414), (pairs, response.get_data(as_text=True))
    if response.status_code == 200 and response.mimetype != "application/json":
        # format=csv, jsonl or atom (search.formats): streamed in full, answering the request
        assert response.mimetype in {FORMATS[name].media_type for name in API_FORMATS}
        body = response.get_data(as_text=True)
        if response.mimetype == FORMATS["jsonl"].media_type:
            # one JSON object per release found (none found: an empty body)
            rows = [json.loads(line) for line in body.splitlines()]
            assert len(rows) == min(int(response.headers["X-Total-Count"]), int(response.headers["X-Result-Cap"]))
        else:
            assert body  # a CSV header row or a feed element even when nothing matched
        return
    body = response.get_json()
    if response.status_code == 200:
        required = _spec()["components"]["schemas"]["SearchResult"]["required"]
        assert list(body) == required
    else:
        assert isinstance(body["error"], str) and body["error"]


@settings(max_examples=300, deadline=None, suppress_health_check=_FIXTURE_AND_SLOW)
@given(doc_id=st.text(max_size=40))
def test_fuzz_document_api_never_500(fuzz_client, doc_id):
    from urllib.parse import quote

    response = fuzz_client.get("/api/documents/" + quote(doc_id, safe="", errors="surrogatepass"))
    assert response.status_code in (200, 404, 308), response.status_code
