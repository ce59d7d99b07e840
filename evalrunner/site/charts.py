"""Interactive charts: altair (Vega-Lite) specs with tooltips, inlined into pages.

A chart is a `ChartBlock`: its id, the Vega-Lite spec as JSON (data inlined, so it draws offline
and from file://) and the data frame offered for download beside it. The page puts the spec into a
`data-spec` attribute (HTML-escaped, SITE.md section 5); the glue (site_src/javascripts/site.js)
draws it with vega-embed. Parameters and compute always use log scales.

Untrusted strings (model names) go into the data only, never into Vega expressions.
"""

from __future__ import annotations

from dataclasses import dataclass

import altair as alt
import pandas as pd

HEIGHT = 320
SCORE_AXIS = alt.Axis(format="%")
SCORE_SCALE = alt.Scale(zero=False)
TOKENS_AXIS = alt.Axis(format="~s")  # 1G, 10G, 300G
COMPUTE_AXIS = alt.Axis(format=".0e")


@dataclass(frozen=True)
class ChartBlock:
    id: str
    title: str
    spec: str  # Vega-Lite JSON
    data: pd.DataFrame  # offered as <id>.csv
    note: str = ""


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Dates as ISO strings (no time zone surprises), rows in a stable order."""
    out = frame.copy()
    for col in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out.reset_index(drop=True)


def block(chart: alt.TopLevelMixin, chart_id: str, title: str, data: pd.DataFrame,
          note: str = "") -> ChartBlock:
    with alt.data_transformers.disable_max_rows():
        spec = chart.to_json(indent=None, sort_keys=True)
    return ChartBlock(chart_id, title, spec, data, note)


def _base(frame: pd.DataFrame) -> alt.Chart:
    return alt.Chart(_clean(frame)).properties(width="container", height=HEIGHT)


def scaling_chart(chart_id: str, title: str, points: pd.DataFrame, x: str, x_title: str,
                  curve: pd.DataFrame | None = None,
                  predicted: pd.DataFrame | None = None, note: str = "") -> ChartBlock:
    """Score against log-compute (or log-parameters) for one family and task.

    points: name, `x`, value, lo, hi. curve: `x`, value (the P_pow fit). predicted: `x`, value,
    actual (the leave-largest-out prediction of the largest point).
    """
    xs = alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(type="log"), axis=COMPUTE_AXIS)
    tooltip = [alt.Tooltip("name:N", title="model"), alt.Tooltip(f"{x}:Q", format=".3s"),
               alt.Tooltip("value:Q", title="score", format=".1%"),
               alt.Tooltip("lo:Q", title="95% low", format=".1%"),
               alt.Tooltip("hi:Q", title="95% high", format=".1%")]
    base = _base(points)
    layers = [
        base.mark_rule(opacity=0.5).encode(xs, alt.Y("lo:Q", scale=SCORE_SCALE), alt.Y2("hi:Q")),
        base.mark_point(filled=True, size=60).encode(
            xs, alt.Y("value:Q", title="score", axis=SCORE_AXIS, scale=SCORE_SCALE),
            tooltip=tooltip),
    ]
    frames = [points.assign(series="observed")]
    if curve is not None and len(curve):
        layers.append(_base(curve).mark_line(strokeDash=[4, 3], color="#888").encode(
            xs, alt.Y("value:Q", scale=SCORE_SCALE),
            tooltip=[alt.Tooltip("value:Q", title="fit", format=".1%")]))
        frames.append(curve.assign(series="P_pow fit"))
    if predicted is not None and len(predicted):
        layers.append(_base(predicted).mark_point(shape="diamond", size=110, color="#d62728",
                                                  filled=True).encode(
            xs, alt.Y("value:Q", scale=SCORE_SCALE),
            tooltip=[alt.Tooltip("value:Q", title="predicted (leave-largest-out)", format=".1%"),
                     alt.Tooltip("actual:Q", title="actual", format=".1%")]))
        frames.append(predicted.assign(series="leave-largest-out prediction"))
    chart = alt.layer(*layers)
    return block(chart, chart_id, title, pd.concat(frames, ignore_index=True), note)


def trajectory_chart(chart_id: str, title: str, frame: pd.DataFrame,
                     tasks: list[str]) -> ChartBlock:
    """Checkpoint trajectories: score against tokens seen, one line per model, a task picker.

    frame: name, task, tokens, value, n (for ordering the legend).
    """
    pick = alt.param(name="task_pick", value=tasks[0],
                     bind=alt.binding_select(options=tasks, name="Task "))
    chart = _base(frame).mark_line(point=True).encode(
        alt.X("tokens:Q", title="training tokens", scale=alt.Scale(type="log"), axis=TOKENS_AXIS),
        alt.Y("value:Q", title="score", axis=SCORE_AXIS, scale=SCORE_SCALE),
        alt.Color("name:N", title="model", sort=alt.EncodingSortField("n", order="ascending")),
        tooltip=[alt.Tooltip("name:N", title="model"), alt.Tooltip("revision:N"),
                 alt.Tooltip("tokens:Q", format=".3s"),
                 alt.Tooltip("value:Q", title="score", format=".1%")],
    ).add_params(pick).transform_filter(alt.datum.task == pick)
    return block(chart, chart_id, title, frame)


def density_time_chart(chart_id: str, title: str, points: pd.DataFrame,
                       line: pd.DataFrame | None = None) -> ChartBlock:
    """Capacity density against release date (log y), with the densing-law line.

    points: name, family, release_date, density. line: release_date, density.
    """
    xs = alt.X("release_date:T", title="release date")
    ys = alt.Y("density:Q", title="capacity density", scale=alt.Scale(type="log"))
    layers = [_base(points).mark_point(filled=True, size=60).encode(
        xs, ys, alt.Color("family:N", title="family"),
        tooltip=[alt.Tooltip("name:N", title="model"), alt.Tooltip("family:N"),
                 alt.Tooltip("release_date:T", format="%Y-%m-%d"),
                 alt.Tooltip("density:Q", format=".3")])]
    frames = [points.assign(series="model")]
    if line is not None and len(line):
        layers.append(_base(line).mark_line(color="#888", strokeDash=[6, 3]).encode(
            xs, ys, tooltip=[alt.Tooltip("density:Q", title="densing law", format=".3")]))
        frames.append(line.assign(series="densing law"))
    return block(alt.layer(*layers), chart_id, title, pd.concat(frames, ignore_index=True))


def series_chart(chart_id: str, title: str, frame: pd.DataFrame, x: str, x_title: str,
                 y: str, y_title: str, color: str, log_x: bool = True,
                 log_y: bool = False) -> ChartBlock:
    """A generic line chart of `y` against `x`, one line per `color` value, with tooltips."""
    chart = _base(frame).mark_line(point=True).encode(
        alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(type="log" if log_x else "linear"),
              axis=TOKENS_AXIS),
        alt.Y(f"{y}:Q", title=y_title, scale=alt.Scale(type="log" if log_y else "linear")),
        alt.Color(f"{color}:N", title=color),
        tooltip=[alt.Tooltip(f"{color}:N"), alt.Tooltip(f"{x}:Q", format=".3s"),
                 alt.Tooltip(f"{y}:Q", format=".3")],
    )
    return block(chart, chart_id, title, frame)


def scatter_chart(chart_id: str, title: str, frame: pd.DataFrame, x: str, x_title: str,
                  color: str = "family") -> ChartBlock:
    """Scores of many models against log-parameters (or compute), coloured by family.

    frame: name, `color`, `x`, value.
    """
    chart = _base(frame).mark_point(filled=True, size=50).encode(
        alt.X(f"{x}:Q", title=x_title, scale=alt.Scale(type="log"), axis=TOKENS_AXIS),
        alt.Y("value:Q", title="score", axis=SCORE_AXIS, scale=SCORE_SCALE),
        alt.Color(f"{color}:N", title=color),
        tooltip=[alt.Tooltip("name:N", title="model"), alt.Tooltip(f"{color}:N"),
                 alt.Tooltip(f"{x}:Q", format=".3s"),
                 alt.Tooltip("value:Q", title="score", format=".1%")],
    )
    return block(chart, chart_id, title, frame)
