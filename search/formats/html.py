"""HTML: highlighted text as escaped markup whose only tags are our own ``<mark>``.

Used by the web pages (the ``marked`` template filter) and by the JSON format's ``snippet``.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from search.snippets import Snippet, Span


def marked(snippet: Snippet | str, spans: tuple[Span, ...] | None = None) -> Markup:
    """The snippet's text escaped, its highlighted stretches in ``<mark>`` (or ``spans`` of a text)."""
    if spans is not None:
        snippet = Snippet(str(snippet), tuple(spans))
    return Markup("").join(
        Markup("<mark>{}</mark>").format(piece) if highlighted else escape(piece)
        for piece, highlighted in snippet.pieces()
    )
