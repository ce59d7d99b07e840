"""evalrunner.metrics.tabular gives exactly what the pandas operations it replaces give."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evalrunner.metrics import tabular

keys = st.lists(st.tuples(st.sampled_from(["a", "b", "c", None]), st.sampled_from(["x", "y"])),
                max_size=12)


@settings(max_examples=60, deadline=None)
@given(keys, keys)
def test_inner_join_matches_merge_order(left_keys, right_keys):
    left = pd.DataFrame(left_keys or [("a", "x")], columns=["s", "t"], dtype="str")
    right = pd.DataFrame(right_keys, columns=["s", "t"], dtype="str")
    merged = left.assign(li=np.arange(len(left))).merge(
        right.assign(ri=np.arange(len(right))), on=["s", "t"], how="inner")
    li, ri = tabular.inner_join(left, right, ["s", "t"])
    assert li.tolist() == merged["li"].tolist() and ri.tolist() == merged["ri"].tolist()


def test_codes_follow_sort_order():
    values = pd.Series(["b", "B", "a", "ä", "a10", "a9", "b"], dtype="str")
    order = np.argsort(tabular.codes(values), kind="stable")
    assert order.tolist() == values.sort_values(kind="stable").index.tolist()


def test_joined_per_group_sorted_distinct_and_empty_groups():
    group = np.array([2, 0, 2, 2, 0])
    values = np.array(["t2", "m", "t1", "t2", "a"], dtype=object)
    assert tabular.joined_per_group(group, values, 4, ";").tolist() == [
        "a;m", None, "t1;t2;t2", None]
    assert tabular.joined_per_group(group, values, 4, " + ", distinct=True).tolist() == [
        "a + m", None, "t1 + t2", None]
    assert tabular.strings(["ok", "no"], np.array([1, 0, 1])).tolist() == ["no", "ok", "no"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 4)), max_size=20))
def test_pair_codes_and_distinct_per_group_match_pandas(pairs):
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    frame = pd.DataFrame({"a": a, "b": b})
    expected = frame.groupby(["a", "b"], sort=True).ngroup().to_numpy()
    assert tabular.pair_codes(a, b).tolist() == expected.tolist()
    distinct = frame.groupby("a")["b"].transform("nunique").to_numpy()
    assert tabular.distinct_per_group(a, b).tolist() == distinct.tolist()
