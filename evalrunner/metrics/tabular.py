"""Table plumbing for large metric tables: joins, sorts and string columns through integer codes.

Pandas merges and multi-key sorts on string columns copy every string once per step; at
100k result files the density table alone has millions of rows. These helpers work on row
positions and factorised codes instead, and give exactly the rows and order that
`DataFrame.merge(how="inner")` and `sort_values(kind="stable")` give.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def codes(values: pd.Series | np.ndarray) -> np.ndarray:
    """Integer codes whose order is the sort order of the values, missing values last."""
    key = pd.factorize(values, sort=True)[0]
    return np.where(key < 0, key.max(initial=0) + 1, key)


def pair_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Codes 0..n-1 of the pairs (a[i], b[i]) of two non-negative code arrays, in the pairs'
    sort order (so codes of sort-ordered codes stay sort-ordered)."""
    return pd.factorize(a.astype(np.int64) * (int(b.max(initial=0)) + 1) + b, sort=True)[0]


def distinct_per_group(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each row, the number of distinct values (codes) in its group (codes)."""
    _, first = np.unique(pair_codes(group, values), return_index=True)
    return np.bincount(group[first], minlength=group.max(initial=-1) + 1)[group]


def sort_order(columns: list[pd.Series | np.ndarray],
               ascending: list[bool] | None = None) -> np.ndarray:
    """Row positions in the order `sort_values(by, ascending, kind="stable")` gives (missing
    values last): float columns compare as numbers, others through their sorted codes."""
    keys = []
    for col, asc in zip(columns, ascending or [True] * len(columns), strict=True):
        if pd.api.types.is_float_dtype(col):
            values = np.asarray(col)
            keys.append(values if asc else -values)  # NaN stays NaN: last either way
        else:
            key = codes(col)
            # descending: present values reversed (codes <= 0), missing ones still last
            keys.append(key if asc else np.where(pd.isna(np.asarray(col)), 1, -key))
    return np.lexsort(keys[::-1])


def inner_join(left: pd.DataFrame, right: pd.DataFrame,
               on: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Row positions (left, right) of `left.merge(right, on=on, how="inner")`, in its order:
    left rows in order, each followed by its matches in right's order."""
    if left.empty or right.empty:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.intp)
    both = pd.concat([left[on], right[on]], ignore_index=True)
    key = both.groupby(on, sort=False, dropna=False).ngroup().to_numpy()
    lkey, rkey = key[:len(left)], key[len(left):]
    rpos = np.argsort(rkey, kind="stable")  # right rows grouped by key, in right order
    count = np.bincount(rkey, minlength=key.max() + 1)
    first = np.r_[0, np.cumsum(count)[:-1]]
    n = count[lkey]
    li = np.repeat(np.arange(len(left)), n)
    offset = np.arange(len(li)) - np.repeat(np.cumsum(n) - n, n)
    return li, rpos[first[lkey[li]] + offset]


def strings(labels: list[str], index: np.ndarray) -> pd.arrays.ArrowStringArray | np.ndarray:
    """The column `labels[index]` as a string array (each label stored once per row, without
    building Python objects per row)."""
    return pd.array(labels, dtype="str").take(index)


def joined_per_group(group: np.ndarray, values: np.ndarray, n_groups: int, sep: str,
                     distinct: bool = False) -> np.ndarray:
    """Per group id in range(n_groups): `sep.join` of its values in sorted order (only the
    distinct ones if `distinct`); None for a group without values. Object array."""
    out = np.full(n_groups, None, dtype=object)
    if len(group) == 0:
        return out
    vcode = codes(values)
    order = np.lexsort((vcode, group))
    group, vcode = group[order], vcode[order]
    values = np.asarray(values, dtype=object)[order]
    if distinct:
        keep = np.r_[True, (group[1:] != group[:-1]) | (vcode[1:] != vcode[:-1])]
        group, values = group[keep], values[keep]
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    stops = np.r_[starts[1:], len(group)]
    out[group[starts]] = [sep.join(values[a:b]) for a, b in zip(starts, stops, strict=True)]
    return out
