"""Bounded memo tables for the indexing hot path: a corpus repeats its vocabulary endlessly, so
what one jieba token or one shingle gives is worked out once and looked up after."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")


def looked_up(cache: dict[Key, Value], keys: Sequence[Key], compute: Callable[[Key], Value], limit: int) -> list[Value]:
    """``cache[key]`` for every key, in order, computing and keeping the missing ones (``compute``
    never returns None). The table is cleared when it holds ``limit`` entries, so memory stays
    bounded; the look-ups themselves run in C."""
    values: list = list(map(cache.get, keys))
    if None in values:
        for index, value in enumerate(values):
            if value is None:
                if len(cache) >= limit:
                    cache.clear()
                key = keys[index]
                values[index] = cache[key] = compute(key)
    return values
