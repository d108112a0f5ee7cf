"""Newest-first ranking over arrays (``execute._newest``) orders releases as ``heapq.nlargest`` by
(date key, document number) does: undated (key 0) last, equal dates the most recently indexed first."""

from __future__ import annotations

import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from search.query.execute import _newest


@settings(max_examples=200, deadline=None)
@given(
    datekeys=st.lists(st.sampled_from([0, 20200101, 20200101, 20231231, 99991231]), min_size=1, max_size=60),
    data=st.data(),
)
def test_newest_orders_as_the_heap_of_date_and_number(datekeys: list[int], data: st.DataObject) -> None:
    members = sorted(data.draw(st.sets(st.integers(0, len(datekeys) - 1))))
    wanted = data.draw(st.integers(1, 70))
    expected = heapq.nlargest(wanted, members, key=lambda doc: (datekeys[doc], doc))
    assert _newest(np.asarray(members, dtype=np.int64), wanted, np.asarray(datekeys, dtype=np.int64)) == expected
