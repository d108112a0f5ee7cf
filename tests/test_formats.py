"""Downloads of every matching release (CSV, JSON lines) from the API and the CLI, parsed back and
compared with the JSON result; the cap; lazy streaming; no server path in any response; the OpenAPI
description of the formats."""

from __future__ import annotations

import codecs
import csv
import io
import json
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from search import streaming
from search.cli import main
from search.formats import FORMATS, names
from search.formats.rows import COLUMNS
from search.query import SearchEngine
from search.streaming import open_export
from search.sync import sync
from tests.conftest import SEEDS
from tests.export_corpus import SYNTHETIC, build_export_index
from tests.synthetic import write_releases
from web import create_app, engine_of
from web.exports import API_FORMATS

# every way the engine ranks (browse, term by term, coordinated words, positions, boolean, date,
# filters, partial matches, stories), so that the download's order is checked against each
SEARCHES = [
    {},
    {"q": "公安"},
    {"q": "公安 民警"},
    {"q": '"公安分局"'},
    {"q": "诈骗 OR 盗窃"},
    {"q": "公安", "sort": "date"},
    {"q": "公安", "district": "九龙坡"},
    {"q": "诈骗 火星"},
    {"q": "公安", "collapse": "1"},
    {"q": "民警", "from": "2018-01-01", "to": "2024-12-31"},
]
PER_PAGE = 7  # several pages for most searches


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("formats")


@pytest.fixture(scope="module")
def index_dir(root) -> Path:
    return build_export_index(root)


@pytest.fixture(scope="module")
def client(index_dir):
    return create_app({"INDEX_DIR": str(index_dir), "TESTING": True}).test_client()


@pytest.fixture(scope="module")
def engine(index_dir):
    engine = SearchEngine(index_dir)
    yield engine
    engine.close()


def with_defaults(search: dict) -> dict:
    return {"collapse": "0", **search}


def paged(client, search: dict) -> tuple[list[dict], int]:
    """Every hit of the JSON API, page after page, and its total."""
    hits, page = [], 1
    while True:
        data = client.get("/api/search", query_string={**search, "per_page": PER_PAGE, "page": page}).get_json()
        hits += data["hits"]
        if page >= -(-data["total"] // PER_PAGE):
            return hits, data["total"]
        page += 1


def csv_rows(body: bytes) -> list[dict]:
    assert body.startswith(codecs.BOM_UTF8)  # spreadsheet programs then read UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def assert_rows_match_hits(rows: list[dict], hits: list[dict], link_prefix: str, joined: bool) -> None:
    assert [row["id"] for row in rows] == [hit["id"] for hit in hits]
    empty = "" if joined else None
    for row, hit in zip(rows, hits, strict=True):
        for column in ("title", "date", "province", "city", "district", "source", "story"):
            assert row[column] == (hit[column] if hit[column] is not None else empty), column
        kinds = row["crime_types"]
        if joined:  # one CSV cell
            kinds = kinds.split(";") if kinds else []
        assert kinds == hit["crime_types"]
        assert row["snippet"] == hit["snippet_text"] and "<mark>" not in row["snippet"]
        assert row["link"] == f"{link_prefix}/doc/{hit['id']}"


@pytest.mark.parametrize("search", SEARCHES, ids=lambda search: json.dumps(search, ensure_ascii=False))
def test_csv_holds_every_match_in_result_order(client, search):
    search = with_defaults(search)
    hits, total = paged(client, search)
    response = client.get("/api/search", query_string={**search, "format": "csv", "per_page": 3, "page": 2})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.is_streamed
    rows = csv_rows(response.get_data())
    assert len(rows) == total == int(response.headers["X-Total-Count"])  # not one page: every match
    assert len({row["id"] for row in rows}) == total
    assert response.headers["X-Truncated"] == "false" and response.headers["X-Result-Cap"] == "100000"
    assert_rows_match_hits(rows, hits, "", joined=True)


@pytest.mark.parametrize("search", SEARCHES[:4], ids=lambda search: json.dumps(search, ensure_ascii=False))
def test_json_lines_hold_every_match_in_result_order(client, search):
    search = with_defaults(search)
    hits, total = paged(client, search)
    response = client.get("/api/search", query_string={**search, "format": "jsonl"})
    assert response.mimetype == "application/x-ndjson"
    lines = response.get_data(as_text=True).splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == total > PER_PAGE
    assert all(tuple(row) == COLUMNS for row in rows)
    assert_rows_match_hits(rows, hits, "", joined=False)


def test_downloads_from_the_cli_are_the_api_s_rows(client, index_dir):
    search = {"q": "公安", "district": "重庆"}
    hits, total = paged(client, {**search, "collapse": "0"})
    runner = CliRunner()
    args = ["--index", str(index_dir), "query", "公安", "--district", "重庆", "--no-collapse"]
    as_csv = runner.invoke(main, [*args, "--format", "csv"], catch_exceptions=False)
    assert as_csv.exit_code == 0
    assert_rows_match_hits(csv_rows(as_csv.stdout_bytes), hits, "", joined=True)
    as_jsonl = runner.invoke(main, [*args, "--format", "jsonl", "--base-url", "https://example.org/"])
    rows = [json.loads(line) for line in as_jsonl.stdout.splitlines()]
    assert len(rows) == total
    assert_rows_match_hits(rows, hits, "https://example.org", joined=False)


def test_json_alias_and_format_json_print_the_same_and_conflicts_are_refused(index_dir):
    runner = CliRunner()
    args = ["--index", str(index_dir), "query", "民警"]
    alias = json.loads(runner.invoke(main, [*args, "--json"]).stdout)
    named = json.loads(runner.invoke(main, [*args, "--format", "json"]).stdout)
    alias.pop("took_ms"), named.pop("took_ms")
    assert alias == named and all(hit["path"] for hit in named["hits"])  # the CLI keeps the path
    refused = runner.invoke(main, [*args, "--json", "--format", "csv"])
    assert refused.exit_code == 2 and "--json" in refused.stderr


def test_the_cap_cuts_a_download_and_says_so(index_dir, client):
    hits, total = paged(client, {"collapse": "0"})
    capped = create_app({"INDEX_DIR": str(index_dir), "EXPORT_CAP": 5}).test_client()
    response = capped.get("/api/search", query_string={"collapse": "0", "format": "csv"})
    rows = csv_rows(response.get_data())
    assert [row["id"] for row in rows] == [hit["id"] for hit in hits[:5]]  # the first in result order
    assert response.headers["X-Result-Cap"] == "5" and response.headers["X-Truncated"] == "true"
    assert int(response.headers["X-Total-Count"]) == total > 5


def test_the_library_cap_is_configurable_and_the_cli_states_it(engine, index_dir, monkeypatch):
    export = open_export(engine, cap=3, collapse=False)
    assert (export.rows, export.truncated, export.result.total) == (3, True, len(SEEDS) + SYNTHETIC + 2)
    assert len(list(export.hits())) == 3
    monkeypatch.setattr(streaming, "MAX_ROWS", 4)
    result = CliRunner().invoke(main, ["--index", str(index_dir), "query", "--no-collapse", "--format", "jsonl"])
    assert len(result.stdout.splitlines()) == 4
    assert "only the first 4 are written" in result.stderr


def test_rows_are_read_as_they_are_written_and_the_snapshot_is_given_back(engine, monkeypatch):
    read = []
    original = SearchEngine._hit

    def counting(self, *args, **kwargs):
        read.append(args[-1])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SearchEngine, "_hit", counting)
    export = open_export(engine, collapse=False)
    assert export.rows > PER_PAGE and read == []  # ranked, nothing read yet
    rows = export.hits()
    first = next(rows)
    assert len(read) == 1 and first.id
    rows.close()  # a client that goes away
    assert len(read) == 1
    assert getattr(engine._snapshots._local, "depth", 0) == 0


def test_a_download_the_client_leaves_gives_its_snapshot_back(index_dir):
    """The WSGI server closes a response it stops sending (a HEAD, a client gone): so is the export."""
    app = create_app({"INDEX_DIR": str(index_dir)})
    client, engine = app.test_client(), engine_of(app)
    head = client.head("/api/search", query_string={"format": "csv", "collapse": "0"})
    assert int(head.headers["X-Total-Count"]) == len(SEEDS) + SYNTHETIC + 2 and not head.get_data()
    head.close()
    partial = client.get("/api/search", query_string={"format": "jsonl", "collapse": "0"}, buffered=False)
    assert json.loads(next(iter(partial.response)))["id"]
    partial.close()
    assert getattr(engine._snapshots._local, "depth", 0) == 0
    assert client.get("/api/search", query_string={"format": "csv", "q": "公安"}).status_code == 200


def test_a_download_reads_the_index_as_it_was_when_it_began(tmp_path):
    """A reindex committing during a download changes nothing in it (one snapshot throughout)."""
    source = tmp_path / "releases"
    write_releases(source, 20, seed=5)
    sync(tmp_path / "index", [source])
    engine = SearchEngine(tmp_path / "index")
    try:
        export = open_export(engine, collapse=False)
        rows = export.hits()
        first = [next(rows).id for _ in range(5)]
        later = tmp_path / "later"
        for number, path in enumerate(write_releases(later, 10, seed=6)):
            path.rename(later / f"later_{number}.txt")
        worker = threading.Thread(target=sync, args=(tmp_path / "index", [source, later]))
        worker.start()  # another thread, as a reindex process would be
        worker.join()
        rest = [row.id for row in rows]
        assert len(first) + len(rest) == export.rows == 20
        assert engine.search(collapse=False).total == 30
    finally:
        engine.close()


def test_bad_format_and_bad_query_are_400_before_any_row(client):
    unknown = client.get("/api/search", query_string={"format": "xml"})
    assert unknown.status_code == 400 and "format" in unknown.get_json()["error"]
    assert "json、jsonl、csv、atom" in unknown.get_json()["error_zh"]
    malformed = client.get("/api/search", query_string={"format": "csv", "q": '"unbalanced'})
    assert malformed.status_code == 400 and malformed.get_json()["error"]


def test_no_response_names_a_server_path(client, root, engine):
    doc = engine.search("公安").hits[0].id
    urls = [
        "/", "/?q=公安", f"/doc/{doc}", f"/doc/{doc}?q=公安", "/about", "/feed.atom?q=公安",
        "/api/stats", "/api/openapi.json", f"/api/documents/{doc}", f"/api/documents/{doc}/similar",
        "/api/search?q=公安", "/doc/ffffffffffffffff", "/api/search?q=%22unbalanced",
        *(f"/api/search?q=公安&format={name}" for name in API_FORMATS),
    ]  # fmt: skip
    folders = {str(root), str(root.resolve())}
    for url in urls:
        body = client.get(url).get_data(as_text=True)
        assert not any(folder in body for folder in folders), url
    assert "path" not in client.get("/api/search?q=公安").get_json()["hits"][0]
    assert "path" not in client.get(f"/api/documents/{doc}").get_json()
    assert all("path" not in hit for hit in client.get(f"/api/documents/{doc}/similar").get_json()["hits"])


def test_openapi_lists_every_format_of_the_api():
    spec = json.loads((Path(__file__).resolve().parent.parent / "web" / "openapi.json").read_text(encoding="utf-8"))
    search = spec["paths"]["/api/search"]["get"]
    (format_parameter,) = [p for p in search["parameters"] if p["name"] == "format"]
    assert format_parameter["schema"]["enum"] == list(API_FORMATS)
    assert "100,000" in format_parameter["description"]
    responses = search["responses"]["200"]
    assert set(responses["content"]) == {FORMATS[name].media_type for name in API_FORMATS}
    assert {"X-Result-Cap", "X-Truncated", "X-Total-Count"} <= set(responses["headers"])
    assert "/feed.atom" in spec["paths"]
    assert "path" not in spec["components"]["schemas"]["Hit"]["properties"]
    assert tuple(spec["components"]["schemas"]["Row"]["required"]) == COLUMNS


def test_the_registry_names_its_formats_by_scope():
    assert names() == ["text", "json", "jsonl", "csv", "atom"]
    assert names("every") == ["jsonl", "csv"]
    assert set(API_FORMATS) == set(names()) - {"text"}


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_text():
    from search.formats.csv_rows import cell

    assert [cell(v) for v in ("=HYPERLINK(\"x\")", "+1", "-1", "@SUM(A1)", "\tx", None, "2024-01-02", "平安")] == [
        "'=HYPERLINK(\"x\")", "'+1", "'-1", "'@SUM(A1)", "'\tx", "", "2024-01-02", "平安",
    ]  # fmt: skip
