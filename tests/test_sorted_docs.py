"""The coordination plan's document sets kept as the executor's sorted arrays: the same plan as with sets."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import query as wq

from search.coordination import Plan, Unit, _distinct
from search.sorted_docs import DocList, SortedDocs, as_array

doc_sets = st.sets(st.integers(0, 30))


def as_sorted(docs: set[int]) -> SortedDocs:
    return SortedDocs(np.array(sorted(docs), dtype=np.int64))


@settings(max_examples=150, deadline=None)
@given(first=doc_sets, second=doc_sets, probes=st.lists(st.integers(-2, 33), max_size=10))
def test_sorted_docs_behave_as_the_set_they_hold(first, second, probes):
    docs = as_sorted(first)
    assert len(docs) == len(first) and list(docs) == sorted(first) and set(docs) == first
    assert [probe in docs for probe in probes] == [probe in first for probe in probes]
    assert "1" not in docs and 1.5 not in docs
    assert set(docs | second) == first | second and set(second - docs) == second - first
    assert bool(second - docs) == bool(second - first)
    joined = as_sorted(first)
    joined |= second  # a place's releases added to a unit's (coordination.make_plan)
    assert isinstance(joined, SortedDocs) and list(joined) == sorted(first | second)


@settings(max_examples=100, deadline=None)
@given(
    units=st.lists(st.tuples(doc_sets, st.lists(doc_sets, max_size=3)), min_size=1, max_size=4),
    docs=st.lists(st.integers(0, 30), max_size=40),
)
def test_a_plan_of_sorted_arrays_is_the_plan_of_sets(units, docs):
    def plan(kind):
        return Plan([Unit(f"u{i}", wq.NullQuery, kind(whole), [(wq.NullQuery, kind(part)) for part in parts])
                     for i, (whole, parts) in enumerate(units)])  # fmt: skip

    of_sets, of_arrays = plan(set), plan(as_sorted)
    assert of_arrays.docs == of_sets.docs
    assert of_arrays.tiers(docs) == of_sets.tiers(docs) and of_arrays.count_all(docs) == of_sets.count_all(docs)
    for doc in [*docs, -1, 31]:
        assert of_arrays.key(doc) == of_sets.key(doc) and of_arrays.missing(doc) == of_sets.missing(doc)


def test_a_doc_list_is_its_list_and_hands_its_array_back_unconverted():
    array = np.array([2, 5, 9], dtype=np.int64)
    listed = DocList(array)
    assert listed == [2, 5, 9] and isinstance(listed, list)
    assert as_array(listed) is array
    assert as_array([2, 5]).tolist() == [2, 5] and as_array([2, 5]).dtype == np.int64


@settings(max_examples=150, deadline=None)
@given(values=st.lists(st.integers(0, 2**40), max_size=60), small=st.lists(st.integers(0, 50), max_size=60))
def test_distinct_values_are_sorted_once_each(values, small):
    for listed in (values, small):  # large keys (sorted) and document numbers (marked)
        got = _distinct(np.array(listed, dtype=np.int64))
        assert got.tolist() == sorted(set(listed)) and got.dtype == np.int64
