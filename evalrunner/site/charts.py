"""Interactive charts: altair (Vega-Lite) specs with tooltips, inlined into pages.

A chart is a `ChartBlock`: its id, the Vega-Lite spec as JSON (data inlined as named datasets,
so it draws offline and from file://) and the data frame offered for download beside it. The
page puts the spec into a `data-spec` attribute (HTML-escaped); the glue
(site_src/javascripts/site.js) draws it with vega-embed. Parameters, tokens and compute always
use log scales.

Speed: altair builds each kind of chart once, against named data (`points`, `curve`, ...); every
chart of that kind is the cached spec plus its own datasets. Building hundreds of altair objects
took most of the build otherwise.

Untrusted strings (model names) go into the datasets only, never into Vega expressions.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import altair as alt
import pandas as pd

HEIGHT = 320
SCORE_AXIS = alt.Axis(format="%")
SCORE_SCALE = alt.Scale(zero=False)
LOG = alt.Scale(type="log")
TOKENS_AXIS = alt.Axis(format="~s")  # 1G, 10G, 300G
COMPUTE_AXIS = alt.Axis(format=".0e")


@dataclass(frozen=True)
class ChartBlock:
    id: str
    title: str
    spec: str  # Vega-Lite JSON
    data: pd.DataFrame  # offered as <id>.csv beside the page
    note: str = ""


def records_json(frame: pd.DataFrame) -> str:
    """Rows as a JSON array of objects: dates as ISO days, NaN as null."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out.to_json(orient="records", double_precision=15)


def _named(name: str) -> alt.Chart:
    return alt.Chart(alt.NamedData(name=name)).properties(width="container", height=HEIGHT)


def _finish(template: dict[str, Any], chart_id: str, title: str,
            datasets: dict[str, pd.DataFrame], note: str = "") -> ChartBlock:
    # the spec's JSON with the datasets spliced in as pandas writes them (no round trip
    # through Python objects: that was most of the cost of a chart)
    assert "datasets" not in template
    head = json.dumps(template, sort_keys=True, allow_nan=False, separators=(",", ":"))
    sets = ",".join(f"{json.dumps(k)}:{records_json(datasets[k])}" for k in sorted(datasets))
    text = f'{head[:-1]},"datasets":{{{sets}}}}}'
    data = pd.concat([v.assign(series=k) for k, v in datasets.items()], ignore_index=True)
    return ChartBlock(chart_id, title, text, data, note)


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    # validated by the tests (test_site_build); skipping it here keeps big builds fast
    return chart.to_dict(validate=False)


def _task_pick() -> alt.Parameter:
    """A select box of tasks (its options are filled per chart); layers keep the picked one."""
    return alt.param(name="task_pick", bind=alt.binding_select(options=["?"], name="Task "))


def _pick_tasks(template: dict[str, Any], tasks: list[str],
                labels: list[str] | None = None) -> dict[str, Any]:
    spec = copy.deepcopy(template)
    param = spec["params"][0]
    param["value"] = tasks[0]
    param["bind"]["options"] = list(tasks)
    if labels is not None:
        param["bind"]["labels"] = list(labels)
    return spec


@lru_cache(maxsize=32)
def _scaling_template(x_title: str, curve: bool, predicted: bool) -> dict[str, Any]:
    pick = _task_pick()
    picked = alt.datum.task == pick
    xs = alt.X("x:Q", title=x_title, scale=LOG, axis=COMPUTE_AXIS)
    tooltip = [alt.Tooltip("name:N", title="model"), alt.Tooltip("x:Q", title=x_title,
                                                                  format=".3s"),
               alt.Tooltip("value:Q", title="score", format=".1%"),
               alt.Tooltip("lo:Q", title="95% low", format=".1%"),
               alt.Tooltip("hi:Q", title="95% high", format=".1%")]
    layers = []
    if curve:  # drawn first, so the points stay on top (and under the pointer)
        layers.append(_named("curve").mark_line(strokeDash=[4, 3], color="#888").encode(
            xs, alt.Y("value:Q", title="score", axis=SCORE_AXIS, scale=SCORE_SCALE),
            tooltip=[alt.Tooltip("value:Q", title="fit", format=".1%")]
        ).transform_filter(picked))
    layers += [
        _named("points").mark_rule(opacity=0.5).encode(
            xs, alt.Y("lo:Q", scale=SCORE_SCALE), alt.Y2("hi:Q")).transform_filter(picked),
        _named("points").mark_point(filled=True, size=60).encode(
            xs, alt.Y("value:Q", title="score", axis=SCORE_AXIS, scale=SCORE_SCALE),
            tooltip=tooltip).transform_filter(picked),
    ]
    if predicted:
        layers.append(_named("predicted").mark_point(
            shape="diamond", size=110, color="#d62728", filled=True).encode(
            xs, alt.Y("value:Q", scale=SCORE_SCALE),
            tooltip=[alt.Tooltip("value:Q", title="predicted (leave-largest-out)", format=".1%"),
                     alt.Tooltip("actual:Q", title="actual", format=".1%")]
        ).transform_filter(picked))
    return _spec(alt.layer(*layers).add_params(pick))


def scaling_chart(chart_id: str, title: str, points: pd.DataFrame, x_title: str,
                  tasks: list[str], labels: list[str], curve: pd.DataFrame | None = None,
                  predicted: pd.DataFrame | None = None) -> ChartBlock:
    """Score against log-compute (or log-parameters) of one family's models, one task at a
    time (a select box of `tasks`, shown as `labels`).

    points: task, name, x, value, lo, hi. curve: task, x, value (the P_pow fit). predicted:
    task, x, value, actual (the leave-largest-out prediction of the largest point).
    """
    has_curve = curve is not None and len(curve) > 0
    has_pred = predicted is not None and len(predicted) > 0
    datasets = {"points": points}
    if has_curve:
        datasets["curve"] = curve
    if has_pred:
        datasets["predicted"] = predicted
    template = _pick_tasks(_scaling_template(x_title, has_curve, has_pred), tasks, labels)
    return _finish(template, chart_id, title, datasets)


@lru_cache(maxsize=8)
def _trajectory_template() -> dict[str, Any]:
    pick = _task_pick()
    chart = _named("points").mark_line(point=True).encode(
        alt.X("tokens:Q", title="training tokens", scale=LOG, axis=TOKENS_AXIS),
        alt.Y("value:Q", title="score", axis=SCORE_AXIS, scale=SCORE_SCALE),
        alt.Color("name:N", title="model", sort=alt.EncodingSortField("n", order="ascending")),
        tooltip=[alt.Tooltip("name:N", title="model"), alt.Tooltip("revision:N"),
                 alt.Tooltip("tokens:Q", format=".3s"),
                 alt.Tooltip("value:Q", title="score", format=".1%")],
    ).add_params(pick).transform_filter(alt.datum.task == pick)
    return _spec(chart)


def trajectory_chart(chart_id: str, title: str, frame: pd.DataFrame,
                     tasks: list[str]) -> ChartBlock:
    """Checkpoint trajectories: score against tokens seen, one line per model, a task picker.

    frame: name, task, revision, tokens, value, n (orders the legend).
    """
    return _finish(_pick_tasks(_trajectory_template(), tasks), chart_id, title,
                   {"points": frame})


@lru_cache(maxsize=8)
def _density_template(line: bool) -> dict[str, Any]:
    xs = alt.X("release_date:T", title="release date")
    ys = alt.Y("density:Q", title="capacity density", scale=LOG)
    layers = [_named("points").mark_point(filled=True, size=60).encode(
        xs, ys, alt.Color("family:N", title="family"),
        tooltip=[alt.Tooltip("name:N", title="model"), alt.Tooltip("family:N"),
                 alt.Tooltip("release_date:T", format="%Y-%m-%d"),
                 alt.Tooltip("density:Q", format=".3")])]
    if line:
        layers.append(_named("law").mark_line(color="#888", strokeDash=[6, 3]).encode(
            xs, ys, tooltip=[alt.Tooltip("density:Q", title="densing law", format=".3")]))
    return _spec(alt.layer(*layers))


def density_time_chart(chart_id: str, title: str, points: pd.DataFrame,
                       line: pd.DataFrame | None = None) -> ChartBlock:
    """Capacity density against release date (log y), with the densing-law line.

    points: name, family, release_date, density. line: release_date, density.
    """
    has_line = line is not None and len(line) > 0
    datasets = {"points": points, **({"law": line} if has_line else {})}
    return _finish(_density_template(has_line), chart_id, title, datasets)


@lru_cache(maxsize=16)
def _series_template(x_title: str, y_title: str, log_y: bool,
                     band: bool = False) -> dict[str, Any]:
    xs = alt.X("x:Q", title=x_title, scale=LOG, axis=TOKENS_AXIS)
    color = alt.Color("series_name:N", title="model",
                      sort=alt.EncodingSortField("order", order="ascending"))
    tips = [alt.Tooltip("series_name:N", title="model"),
            alt.Tooltip("x:Q", title=x_title, format=".3s"),
            alt.Tooltip("y:Q", title=y_title, format=".3")]
    if band:
        tips += [alt.Tooltip("y_low:Q", title="2.5%", format=".3"),
                 alt.Tooltip("y_high:Q", title="97.5%", format=".3")]
    line = _named("points").mark_line(point=True).encode(
        xs, alt.Y("y:Q", title=y_title, scale=LOG if log_y else alt.Scale()), color,
        tooltip=tips)
    if not band:
        return _spec(line)
    area = _named("points").mark_area(opacity=0.15).encode(
        xs, alt.Y("y_low:Q", scale=LOG if log_y else alt.Scale()), alt.Y2("y_high:Q"), color)
    return _spec(alt.layer(area, line))


def series_chart(chart_id: str, title: str, frame: pd.DataFrame, x_title: str, y_title: str,
                 log_y: bool = False) -> ChartBlock:
    """Lines of y against log x, one per `series_name`, legend sorted by `order`; with
    `y_low` and `y_high` columns, each line's 95% interval as a band.

    frame: series_name, order, x, y (+ y_low, y_high, extras)."""
    band = {"y_low", "y_high"} <= set(frame.columns)
    return _finish(_series_template(x_title, y_title, log_y, band), chart_id, title,
                   {"points": frame})


@lru_cache(maxsize=8)
def _scatter_template(x_title: str) -> dict[str, Any]:
    chart = _named("points").mark_point(filled=True, size=50).encode(
        alt.X("x:Q", title=x_title, scale=LOG, axis=TOKENS_AXIS),
        alt.Y("value:Q", title="score", axis=SCORE_AXIS, scale=SCORE_SCALE),
        alt.Color("family:N", title="family"),
        tooltip=[alt.Tooltip("name:N", title="model"), alt.Tooltip("family:N"),
                 alt.Tooltip("x:Q", title=x_title, format=".3s"),
                 alt.Tooltip("value:Q", title="score", format=".1%")],
    )
    return _spec(chart)


def scatter_chart(chart_id: str, title: str, frame: pd.DataFrame, x_title: str) -> ChartBlock:
    """Scores of many models against log-parameters. frame: name, family, x, value."""
    return _finish(_scatter_template(x_title), chart_id, title, {"points": frame})


@lru_cache(maxsize=1)
def _predicted_template() -> dict[str, Any]:
    """Predicted against actual score, the chained prediction's 95% interval as a rule, and
    the diagonal where a prediction is exact."""
    xs = alt.X("actual:Q", title="actual score", axis=SCORE_AXIS, scale=SCORE_SCALE)
    ys = alt.Y("predicted:Q", title="predicted score (chained)", axis=SCORE_AXIS,
               scale=SCORE_SCALE)
    tips = [alt.Tooltip("target:N"), alt.Tooltip("role:N"), alt.Tooltip("task:N"),
            alt.Tooltip("origin:N", title="fitted up to"),
            alt.Tooltip("actual:Q", format=".1%"), alt.Tooltip("predicted:Q", format=".1%"),
            alt.Tooltip("low:Q", title="2.5%", format=".1%"),
            alt.Tooltip("high:Q", title="97.5%", format=".1%")]
    # twenty colours: a grid's 17 tasks stay apart (the default scheme repeats after ten)
    color = alt.Color("task:N", title="task", scale=alt.Scale(scheme="category20"))
    return _spec(alt.layer(
        _named("diagonal").mark_line(color="#888", strokeDash=[6, 3]).encode(
            alt.X("actual:Q"), alt.Y("predicted:Q")),
        _named("points").mark_rule().encode(xs, alt.Y("low:Q"), alt.Y2("high:Q"), color),
        _named("points").mark_point(filled=True, size=60).encode(
            xs, ys, color, alt.Shape("origin:N", title="fitted up to",
                                     sort=alt.SortField("origin_n")), tooltip=tips)))


def predicted_chart(chart_id: str, title: str, points: pd.DataFrame) -> ChartBlock:
    """Ladder predictions against the actual scores. points: target, role, task, origin (label),
    origin_n, actual, predicted, low, high."""
    lo = float(min(points["actual"].min(), points["predicted"].min()))
    hi = float(max(points["actual"].max(), points["predicted"].max()))
    diagonal = pd.DataFrame({"actual": [lo, hi], "predicted": [lo, hi]})
    return _finish(_predicted_template(), chart_id, title,
                   {"points": points, "diagonal": diagonal})
