"""More like this: releases similar to one release, by its key terms (query layer; uses Whoosh).

The release's key terms are the words of its headline and body that are frequent in it and rare
in the index (Whoosh's Bo1 expansion model, as ``Searcher.more_like`` uses). Releases are scored
by those terms (BM25F, each term weighted by how key it is); then, among the best ``POOL``, one
sharing a crime type with the release is raised by ``SAME_CRIME_BOOST`` and one from the same
district (or city, when either has no district) by ``SAME_PLACE_BOOST`` — what a reader of a
fraud case in 九龙坡 wants next is more fraud, and more from 九龙坡.

Copies of the release's own story are left out (they are listed as copies), and every other story
appears once, by its best-scoring copy.
"""

from __future__ import annotations

from typing import Any

from whoosh import query as wq

from search.collapse import Stories

KEY_TERMS = 12
POOL = 40
SAME_CRIME_BOOST = 0.5
SAME_PLACE_BOOST = 0.25
# Single characters are parts of longer words here (the analyser indexes both): as key terms they
# would match every release that uses a common character.
MIN_TERM_CHARS = 2


def key_terms(searcher: Any, text: str, copies: int = 0) -> list[tuple[str, float]]:
    """The release's most characteristic words, with weights (the best is 1): only words some
    other release uses too (beyond its ``copies``) — a word no other release has is the most
    characteristic of all, and finds nothing."""
    wanted = KEY_TERMS * 20  # many are dropped below (in a small index, most words are in one release)
    terms = searcher.key_terms_from_text("body", text, numterms=wanted, normalize=True)
    kept = [
        (word, weight)
        for word, weight in terms
        if len(word) >= MIN_TERM_CHARS and not word.isdigit() and searcher.doc_frequency("body", word) > 1 + copies
    ]
    return kept[:KEY_TERMS]


def similar_releases(searcher: Any, doc: int, stories: Stories, limit: int) -> list[tuple[float, int]]:
    """``(score, document number)`` of up to ``limit`` releases like ``doc``, best first."""
    stored = searcher.stored_fields(doc)
    excluded = {doc, *stories.copies_of(doc)}
    terms = key_terms(searcher, f"{stored.get('title', '')}\n{stored.get('body', '')}", len(excluded) - 1)
    if not terms:
        return []
    query = wq.Or([wq.Term("body", word, boost=weight) for word, weight in terms])
    results = searcher.search(query, limit=POOL, mask=excluded, terms=False)  # the mask applies before the limit
    own_types = _crime_types(stored)
    own_places = _places(stored)
    rescored = []
    for hit in results:
        other = hit.fields()
        factor = 1.0
        if own_types & _crime_types(other):
            factor += SAME_CRIME_BOOST
        if own_places & _places(other):
            factor += SAME_PLACE_BOOST
        rescored.append((hit.score * factor, hit.docnum))
    rescored.sort(key=lambda item: (-round(item[0], 6), item[1]))
    chosen: list[tuple[float, int]] = []
    seen_stories = set()
    for score, other in rescored:
        story = stories.story_of[other]
        if story in seen_stories:
            continue
        seen_stories.add(story)
        chosen.append((score, other))
        if len(chosen) == limit:
            break
    return chosen


def _crime_types(stored: dict[str, Any]) -> set[str]:
    return {kind for kind in (stored.get("crime_type") or "").split(",") if kind}


def _places(stored: dict[str, Any]) -> set[str]:
    """The most precise place named: the district, else the city (never just a province, which
    is too wide to say two releases are about the same place)."""
    place = stored.get("district") or stored.get("city")
    return {place} if place else set()
