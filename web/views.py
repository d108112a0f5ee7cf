"""Routes: the search page, document pages and the JSON API, all over one ``SearchEngine``."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for

from search.formats.json_document import document_document, hit_document, result_document
from search.query import QueryError, SearchResult, region_name
from search.snippets import highlight
from web import engine_of
from web import openapi as openapi_spec
from web.exports import format_of, formatted_response, page_links
from web.facets import bar_chart, region_tree
from web.journalist import active_filters, facet_lists, metadata_links
from web.messages import explain
from web.params import ParamError, SearchParams, month_range, parse, year_range

pages = Blueprint("pages", __name__)
api = Blueprint("api", __name__, url_prefix="/api")

_DOCUMENT_ID = re.compile(r"[0-9a-f]{16}")


def _params() -> SearchParams:
    return parse(request.args, current_app.config["PER_PAGE"])


def _link(params: SearchParams, **changes) -> str:
    return url_for("pages.search", **params.url_args(current_app.config["PER_PAGE"], **changes))


def _run_search() -> tuple[SearchParams, SearchResult]:
    """The request's parameters and their results; raises ParamError or QueryError, which each
    view reports in its own format (IndexUnavailableError is a 503 for every view: see web)."""
    params = _params()
    return params, engine_of(current_app).search(**params.engine_kwargs())


@pages.route("/")
def search():
    try:
        params, result = _run_search()
    except (ParamError, QueryError) as error:
        fallback = SearchParams(q=request.args.get("q", "")[:200])
        explained = explain(str(error), request.args)
        fix_link = url_for("pages.search", **explained.fix.args) if explained.fix else None
        return render_template(
            "search.html",
            params=fallback,
            result=None,
            error=explained.message_zh,
            fix=explained.fix,
            fix_link=fix_link,
            link=_link,
        ), 400
    return render_template("search.html", **_search_context(params, result))


def _search_context(params: SearchParams, result: SearchResult) -> dict:
    chosen_year = params.chosen_year
    year_active = (
        str(chosen_year) if chosen_year and (params.date_from, params.date_to) == year_range(chosen_year) else None
    )
    month_active = None
    if chosen_year and not year_active:
        month_active = (
            params.date_from[:7] if (params.date_from, params.date_to) == month_range(params.date_from[:7]) else None
        )
    years, years_height = bar_chart(
        result.facets.get("year", []), year_active or (str(chosen_year) if chosen_year else None)
    )
    months, months_height = bar_chart(result.facets.get("month", []), month_active)

    def year_link(value: str) -> str:
        if value == year_active:
            return _link(params, date_from="", date_to="")
        start, end = year_range(int(value))
        return _link(params, date_from=start, date_to=end)

    def month_link(value: str) -> str:
        if value == month_active:
            start, end = year_range(int(value[:4]))
        else:
            start, end = month_range(value)
        return _link(params, date_from=start, date_to=end)

    selected = region_name(params.district)

    def district_link(name: str) -> str:
        return _link(params, district="" if name == selected else name)

    return {
        "params": params,
        "result": result,
        "error": None,
        "tree": region_tree(result.facets),
        "years": years,
        "years_height": years_height,
        "months": months,
        "months_height": months_height,
        "chosen_year": chosen_year,
        "year_link": year_link,
        "month_link": month_link,
        "district_link": district_link,
        "is_active_place": lambda name: name == selected,
        "link": lambda **changes: _link(params, **changes),
        # a document link carries the search, so the document page can lead back to it
        "doc_link": lambda doc_id: url_for(
            "pages.document", doc_id=doc_id, **params.url_args(current_app.config["PER_PAGE"], page=params.page)
        ),
        # how many undated releases the date filter hides (shown, with a way to include them)
        "hidden_undated": result.undated if params.has_date_filter and not params.include_undated else 0,
        "per_page_choices": sorted({10, 20, 50, params.per_page}),
        # an empty query lists the newest first whatever sort says
        "sort_shown": params.sort if params.q else "date",
        "facet_lists": facet_lists(params, result.facets, lambda **changes: _link(params, **changes)),
        "active_filters": active_filters(params),
        "page_numbers": _page_numbers(result.page, result.pages),
        "exports": page_links(params),  # CSV and JSON lines downloads, the Atom feed
    }


def _page_numbers(page: int, pages: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 20 (None marks a gap)."""
    wanted = {1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)}
    numbers: list[int | None] = []
    for number in sorted(wanted):
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


@pages.route("/doc/<doc_id>")
def document(doc_id: str):
    if not _DOCUMENT_ID.fullmatch(doc_id):
        abort(404, description="没有这篇通报。")
    engine = engine_of(current_app)
    found = engine.document(doc_id)
    if found is None:
        abort(404, description="没有这篇通报。")
    try:
        params = _params()
    except ParamError:
        params = SearchParams(q=request.args.get("q", "")[:1000])
    query = params.q[:1000]
    terms = engine.highlight_terms(query) if query else []
    return render_template(
        "document.html",
        document=found,
        query=query,
        params=params,
        title=highlight(found.title, terms),
        paragraphs=[highlight(paragraph, terms) for paragraph in found.paragraphs],
        back=_link(params, page=params.page),
        links=metadata_links(found, lambda **args: url_for("pages.search", **args)),
        similar=engine.similar(doc_id) or [],
    )


def _public_status() -> dict:
    """The index's status without the server's paths: folders by their last name only."""
    from search.status import index_status

    status = index_status(engine_of(current_app))
    status.pop("index", None)
    status["source_folders"] = [Path(folder).name for folder in status["source_folders"]]
    return status


@pages.route("/about")
def about():
    from search.status import human_size

    status = _public_status()  # no index: the app's handler answers 503
    return render_template("about.html", params=None, status=status, size=human_size(status["index_bytes"]))


@api.route("/stats")
def api_stats():
    return jsonify(_public_status())


@api.route("/search")
def api_search():
    try:
        name = format_of(request.args)
        if name != "json":  # every matching release (CSV, JSON lines) or a feed, streamed
            return formatted_response(_params(), name)
        _, result = _run_search()
    except (ParamError, QueryError) as error:
        return jsonify(error=str(error), error_zh=explain(str(error), request.args).message_zh), 400
    return jsonify(result_document(result))


@api.route("/openapi.json")
def openapi():
    """The API's OpenAPI description (also what the fuzz tests generate requests from)."""
    return jsonify(openapi_spec.served())


@api.route("/documents/<doc_id>")
def api_document(doc_id: str):
    found = engine_of(current_app).document(doc_id) if _DOCUMENT_ID.fullmatch(doc_id) else None
    if found is None:
        return jsonify(error=f"no document with id {doc_id!r}", error_zh="没有这篇通报。"), 404
    return jsonify(document_document(found))


@api.route("/documents/<doc_id>/similar")
def api_similar(doc_id: str):
    hits = engine_of(current_app).similar(doc_id) if _DOCUMENT_ID.fullmatch(doc_id) else None
    if hits is None:
        return jsonify(error=f"no document with id {doc_id!r}"), 404
    return jsonify({"id": doc_id, "hits": [hit_document(hit) for hit in hits]})
