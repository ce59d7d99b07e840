"""Formatting, in one place: every number the site shows is turned into text here.

A value and its display are kept apart: tables keep the float for sorting,
charts and downloads, and call these functions for the text. Missing values (None, NaN) are shown
as an em dash; the reason, where there is one, goes into a tooltip by the caller.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

MISSING = "\u2014"  # em dash
SCORE_DIGITS = 1  # scores are shown in percent with one decimal (0.4213 -> "42.1")
Z95 = 1.959963984540054  # two-sided 95% normal quantile, for confidence intervals


def is_missing(x: Any) -> bool:
    """True for None, NaN, NaT and pandas NA."""
    if x is None:
        return True
    if isinstance(x, float):  # the common cases first: pd.isna on a scalar is slow
        return x != x
    if isinstance(x, str | bool | int):
        return False
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def sort_value(x: Any) -> str:
    """The `data-sort` text of a numeric cell: a plain decimal (never 1e-05), '' when missing."""
    if is_missing(x):
        return ""
    if isinstance(x, pd.Timestamp | datetime | date):
        return pd.Timestamp(x).strftime("%Y%m%d")
    return np.format_float_positional(float(x), trim="-")


def fixed(x: Any, digits: int) -> str:
    """A float with a fixed number of decimals; '-0.0' is shown as '0.0'."""
    if is_missing(x):
        return MISSING
    text = f"{float(x):.{digits}f}"
    return text[1:] if text[0] == "-" and not text.strip("-0.") else text


def rounded(x: Any, digits: int) -> float | None:
    """x rounded as `fixed` shows it (for compact JSON whose numbers the browser prints as is)."""
    if is_missing(x):
        return None
    return float(fixed(x, digits))


def pct(x: Any, digits: int = SCORE_DIGITS) -> str:
    """A fraction as a percentage without the sign: 0.4213 -> '42.1'."""
    return MISSING if is_missing(x) else fixed(float(x) * 100.0, digits)


def pct_value(x: Any, digits: int = SCORE_DIGITS) -> float | None:
    """The number `pct` shows, as a float (42.1), for compact JSON."""
    return None if is_missing(x) else rounded(float(x) * 100.0, digits)


def pct_values(values: Any, digits: int = SCORE_DIGITS) -> list[float | None]:
    """`pct_value` over a sequence of floats (fast path: no pandas per element)."""
    out: list[float | None] = []
    for x in values:
        x = float(x)
        out.append(None if math.isnan(x) else float(fixed(x * 100.0, digits)))
    return out


def score(value: Any, stderr: Any = None) -> str:
    """A score with its standard error: '42.1 ± 1.2' (percent)."""
    if is_missing(value):
        return MISSING
    if is_missing(stderr):
        return pct(value)
    return f"{pct(value)} \u00b1 {pct(stderr)}"


def plus_minus(value: Any, half: Any) -> str:
    """A score with the half-width of its interval, in percent: '72.9 ± 0.8'."""
    if is_missing(value):
        return MISSING
    return pct(value) if is_missing(half) else f"{pct(value)} \u00b1 {pct(half)}"


def interval(lo: Any, hi: Any) -> str:
    """A confidence interval in percent: '[40.2, 44.0]'."""
    if is_missing(lo) or is_missing(hi):
        return MISSING
    return f"[{pct(lo)}, {pct(hi)}]"


_SUFFIXES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def count(n: Any) -> str:
    """A parameter or token count with three significant digits: 70426624 -> '70.4M'."""
    if is_missing(n):
        return MISSING
    n = float(n)
    for scale, suffix in _SUFFIXES:
        if abs(n) >= scale * 0.9995:  # 999.6M reads better as 1.00B
            return f"{sig(n / scale, 3)}{suffix}"
    return sig(n, 3)


def sig(x: Any, digits: int = 3) -> str:
    """x with `digits` significant digits in positional notation: 0.0004123 -> '0.000412'."""
    if is_missing(x):
        return MISSING
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return "0" if x == 0 else str(x)
    decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0)
    text = f"{x:.{decimals}f}"
    # rounding can carry into a new digit (9.996 -> 10.00): drop the extra decimal
    if decimals and len(text.replace("-", "").replace(".", "").lstrip("0")) > digits:
        text = f"{x:.{decimals - 1}f}"
    return text


def ratio(x: Any) -> str:
    """A density or other positive ratio, three significant digits."""
    return sig(x, 3)


def bounded(bound: Any, x: Any) -> str:
    """A bound on a ratio as shown: '> 2.31', '< 0.05'; 'undetermined' when tasks bound it from
    both sides; '' where there is no bound (the number itself is shown)."""
    if bound == "?":
        return "undetermined"
    if bound in (">", "<") and not is_missing(x):
        return f"{bound} {ratio(x)}"
    return ""


def ratio_interval(lo: Any, hi: Any) -> str:
    """A 95% interval of a ratio: '[0.82, 1.41]'; '' without one."""
    if is_missing(lo) or is_missing(hi):
        return ""
    return f"[{ratio(lo)}, {ratio(hi)}]"


def interval_column(frame: pd.DataFrame) -> list[str]:
    """fmt.ratio_interval over a table's `density_low` and `density_high` columns."""
    return [ratio_interval(a, b) for a, b in
            zip(frame["density_low"], frame["density_high"], strict=True)]


def density_column(frame: pd.DataFrame) -> list[str]:
    """A density as one text: '0.93 [0.81, 1.12]', its bound ('> 9.00') where it has no
    number, or the missing mark."""
    def col(name: str, fill: Any = np.nan) -> pd.Series:
        return frame[name].fillna(fill) if name in frame else pd.Series(fill, index=frame.index)

    return [bounded(b, xb) if b else " ".join(p for p in (ratio(x), ratio_interval(lo, hi)) if p)
            for b, xb, x, lo, hi in zip(col("bound", ""), col("density_bound"), frame["density"],
                                        col("density_low"), col("density_high"), strict=True)]


def bound_column(frame: pd.DataFrame) -> list[str]:
    """fmt.bounded over a table's `bound` and `density_bound` columns."""
    return [bounded(b, x) for b, x in zip(frame["bound"], frame["density_bound"], strict=True)]


def day(x: Any) -> str:
    """A date as ISO 'YYYY-MM-DD'."""
    if is_missing(x):
        return MISSING
    return pd.Timestamp(x).strftime("%Y-%m-%d")


def days(x: Any) -> str:
    """A duration in days, one decimal: '95.0 days'."""
    return MISSING if is_missing(x) else f"{fixed(x, 1)} days"


def boolean(x: Any) -> str:
    return MISSING if is_missing(x) else ("yes" if bool(x) else "no")


def integer(x: Any) -> str:
    """An integer with thousands separators: 143000 -> '143,000'."""
    return MISSING if is_missing(x) else f"{int(x):,}"
