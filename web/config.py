"""Configuration objects for ``create_app`` (flaskr style): override by passing a dict or object."""

from __future__ import annotations

from search.index import default_index_dir
from search.streaming import MAX_ROWS


class DefaultConfig:
    INDEX_DIR = str(default_index_dir())
    # Query strings and form posts are tiny; refuse anything large before parsing it.
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    # A 1,000-character query is ~9 KB once percent-encoded; anything far beyond is not a search.
    MAX_QUERY_STRING_BYTES = 16 * 1024
    PER_PAGE = 10
    # the most releases one CSV or JSON-lines download holds (search.streaming)
    EXPORT_CAP = MAX_ROWS
    # scheme and host of the site (https://example.org) for absolute links in downloads and feeds;
    # unset, they are paths (/doc/ID): never built from the Host header a client sends
    PUBLIC_URL = None
    TEMPLATES_AUTO_RELOAD = False
