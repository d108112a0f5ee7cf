"""Flask front end: faceted search with highlighted snippets, document pages and a JSON API.

A thin layer over ``search.query.SearchEngine``; it never touches Whoosh.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from search.formats.html import marked
from search.index import IndexUnavailableError
from search.query import SearchEngine
from web.config import DefaultConfig

ENGINE_KEY = "police_search_engine"
INDEX_UNAVAILABLE = "搜索索引暂时不可用，请稍后再试。(the search index is unavailable; please try again later)"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_app(config: dict[str, Any] | object | None = None) -> Flask:
    """App factory. ``config`` is a mapping or an object with upper-case attributes."""
    app = Flask(__name__)
    app.config.from_object(DefaultConfig)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    # Never let configuration switch the interactive debugger on: it executes code for visitors.
    app.config["DEBUG"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False

    # The API returns exactly what `police-search query --json` prints: same key order, real CJK.
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions[ENGINE_KEY] = SearchEngine(Path(app.config["INDEX_DIR"]))
    # No redirects at all: Werkzeug would build their absolute URL from the Host header
    # (``//api//search`` → ``http://evil.example/api/search``); a doubled slash is simply a 404.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False

    from web.exports import feeds
    from web.views import api, pages

    app.register_blueprint(pages)
    app.register_blueprint(api)
    app.register_blueprint(feeds)
    # highlighted text (search.snippets.Snippet) as escaped HTML with <mark>: {{ hit.snippet|marked }}
    app.add_template_filter(marked)

    @app.before_request
    def refuse_huge_requests():
        if len(request.query_string) > app.config["MAX_QUERY_STRING_BYTES"]:
            return _error_response(414, "查询参数过长。")
        # no view reads a body, so nothing else would notice one of any size
        if (request.content_length or 0) > app.config["MAX_CONTENT_LENGTH"]:
            return _error_response(413, "请求内容过大。")
        return None

    @app.context_processor
    def defaults():
        return {"default_per_page": app.config["PER_PAGE"]}

    @app.after_request
    def add_security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        response = _error_response(error.code or 500, error.description or error.name)
        for name, value in error.get_headers():  # Allow on a 405, for instance
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(IndexUnavailableError)
    def index_unavailable(error: IndexUnavailableError):
        # the reason names server paths: it goes to the log, visitors get the status alone
        app.logger.error("index unavailable: %s", error)
        return _error_response(503, INDEX_UNAVAILABLE)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unhandled error")
        return _error_response(500, "服务器内部错误，请稍后再试。")

    return app


def engine_of(app: Flask) -> SearchEngine:
    return app.extensions[ENGINE_KEY]


def _error_response(status: int, message: str) -> Response:
    if request.path.startswith("/api/"):
        response = jsonify(error=message)
    else:
        try:
            response = Response(render_template("error.html", status=status, message=message))
        except Exception:  # no URL can be built for this request (a malformed Host): a bare page
            response = Response(f"<!DOCTYPE html>\n<title>{status}</title>\n<p>{escape(message)}</p>\n")
    response.status_code = status
    return response
