"""Flask front end: faceted search with highlighted snippets, document pages and a JSON API.

A thin layer over ``search.query.SearchEngine``; it never touches Whoosh.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from search.query import SearchEngine
from web.config import DefaultConfig

ENGINE_KEY = "police_search_engine"

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

    from web.views import api, pages

    app.register_blueprint(pages)
    app.register_blueprint(api)

    @app.before_request
    def refuse_huge_query_strings():
        if len(request.query_string) > app.config["MAX_QUERY_STRING_BYTES"]:
            return _error_response(414, "查询参数过长。")
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
        return _error_response(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        app.logger.exception("unhandled error")
        return _error_response(500, "服务器内部错误，请稍后再试。")

    return app


def engine_of(app: Flask) -> SearchEngine:
    return app.extensions[ENGINE_KEY]


def _error_response(status: int, message: str):
    if request.path.startswith("/api/"):
        return jsonify(error=message), status
    return render_template("error.html", status=status, message=message), status
