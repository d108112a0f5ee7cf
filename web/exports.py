"""Results that leave the site: downloads (CSV, JSON lines) of every matching release and Atom feeds.

Everything is rendered by the registry of ``search.formats`` (the same renderers as the CLI's).
Downloads stream: the search is ranked once, then each row is read and written as the client takes
it (``search.streaming``), in the request's own thread and snapshot of the index. No response
names a path on the server. Links to document pages are absolute on ``PUBLIC_URL`` when it is
configured; otherwise they are relative (``/doc/ID``): a URL is never built from the request's Host
header, which a client chooses (SECURITY.md).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, request, stream_with_context, url_for
from werkzeug.datastructures import MultiDict

from search.formats import EVERY, FeedInfo, get_format, names
from search.formats.produce import produce
from search.query import QueryError
from web import engine_of
from web.messages import explain
from web.params import ParamError, SearchParams, parse

feeds = Blueprint("feeds", __name__)

# what /api/search?format= offers (text is the CLI's)
API_FORMATS = ("json", *names(EVERY), "atom")


def format_of(args: MultiDict) -> str:
    values = set(args.getlist("format")) or {"json"}
    if len(values) > 1:
        raise ParamError("parameter 'format' was given more than once with different values")
    name = values.pop().strip() or "json"
    if name not in API_FORMATS:
        raise ParamError(f"format must be one of {', '.join(API_FORMATS)}, not {name!r}")
    return name


def _external(endpoint: str, **args: str) -> str:
    """An absolute URL on ``PUBLIC_URL`` when it is configured, else the path alone."""
    return (current_app.config.get("PUBLIC_URL") or "").rstrip("/") + url_for(endpoint, **args)


def document_links() -> Callable[[str], str]:
    """Document id → the address of its page (built once per request, not per row)."""
    base = _external("pages.document", doc_id="0")[:-1]
    return lambda doc_id: base + doc_id


def _feed_args(params: SearchParams) -> dict:
    """The page's search as feed parameters: query and filters (feeds are newest first, one page)."""
    args = params.url_args(current_app.config["PER_PAGE"])
    return {name: value for name, value in args.items() if name not in ("sort", "page", "per_page", "undated")}


def page_links(params: SearchParams) -> dict[str, str]:
    """The results page's download and feed links: every matching release in the page's order."""
    args = params.url_args(current_app.config["PER_PAGE"])
    args.pop("per_page", None)
    return {
        "csv": url_for("api.api_search", format="csv", **args),
        "jsonl": url_for("api.api_search", format="jsonl", **args),
        "atom": url_for("feeds.feed", **_feed_args(params)),
    }


def formatted_response(params: SearchParams, name: str) -> Response:
    """``params``' search as format ``name``; raises ParamError or QueryError before any byte is sent."""
    format_ = get_format(name)
    feed = None
    if name == "atom":
        feed = FeedInfo(
            self_url=_external("feeds.feed", **_feed_args(params)),
            alternate_url=_external("pages.search", **_feed_args(params)),
        )
    produced = produce(
        engine_of(current_app),
        name,
        params.engine_kwargs(),
        cap=current_app.config["EXPORT_CAP"],
        link=document_links(),
        feed=feed,
    )
    response = Response(stream_with_context(produced.chunks), content_type=format_.content_type)
    response.call_on_close(produced.close)  # also when the client goes away mid-download
    if format_.scope == EVERY:
        response.headers["X-Total-Count"] = str(produced.result.total)
        response.headers["X-Result-Cap"] = str(produced.cap)
        response.headers["X-Truncated"] = "true" if produced.truncated else "false"
        response.headers.set("Content-Disposition", "attachment", filename=f"police-search.{format_.extension}")
    return response


@feeds.route("/feed.atom")
def feed():
    """The newest releases of a search as Atom 1.0 (``?q=…&district=…``: the search page's parameters)."""
    try:
        return formatted_response(parse(request.args, current_app.config["PER_PAGE"]), "atom")
    except (ParamError, QueryError) as error:
        abort(400, description=explain(str(error), request.args).message_zh)
