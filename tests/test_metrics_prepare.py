"""prepare: row order and the choice of final revisions equal the plain pandas definition
(sort by ORDER; per (model, setting, source, task, metric) the most trained final revision)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from evalrunner.metrics import tabular
from evalrunner.metrics.config import MetricsConfig
from evalrunner.metrics.prepare import ORDER, prepare
from evalrunner.metrics.synthetic import build_frames

score_rows = st.lists(st.fixed_dictionaries({
    "model": st.sampled_from(["m0", "m1", "m2"]),
    "setting": st.sampled_from(["zero-shot", "five-shot"]),
    "source": st.sampled_from(["runner", "import:x"]),
    "task": st.sampled_from(["t", "u"]),
    "revision": st.sampled_from(["main", "step1", "step2"]),
    "tokens": st.sampled_from([np.nan, 1e9, 2e9]),
    "final": st.booleans(),
    "value": st.sampled_from([0.3, 0.5, 0.7]),
}), min_size=1, max_size=25)


def _oracle(frames) -> tuple[list[str], list[str]]:
    sc = frames.scores.copy()
    models = frames.models.set_index("model")
    sc["kind"] = sc["model"].map(models["kind"])
    fill = sc["final"] & sc["tokens"].isna()
    sc["tokens"] = sc["tokens"].where(~fill, sc["model"].map(models["training_tokens"]))
    rows = sc.sort_values(ORDER, kind="stable")
    fin = rows[rows["final"]].sort_values(ORDER[:-2] + ["tokens", "revision"], kind="stable",
                                          ascending=[True] * 7 + [False, False])
    fin = fin.drop_duplicates(["model", "setting", "source", "task", "metric"])
    return rows["path"].tolist(), fin.sort_values(ORDER, kind="stable")["path"].tolist()


@settings(max_examples=80, deadline=None)
@given(score_rows)
def test_rows_and_finals_follow_the_pandas_definition(rows):
    scores = [{**r, "family": "f", "path": f"p{i}"} for i, r in enumerate(rows)]
    models = [{"model": m, "family": "f", "n_fit": 1e9, "training_tokens": 3e9,
               "kind": "instruct" if m == "m2" else "base"} for m in ("m0", "m1", "m2")]
    frames = build_frames(scores, models, [{"family": "f"}], [{"task": "t"}, {"task": "u"}],
                          settings=("zero-shot", "five-shot"))
    prep = prepare(frames, MetricsConfig())
    want_rows, want_finals = _oracle(frames)
    assert prep.rows["path"].tolist() == want_rows
    assert prep.finals["path"].tolist() == want_finals
    assert isinstance(prep.rows.index, pd.RangeIndex)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["b", "a", "B", None]),
                          st.sampled_from([1.0, -0.0, 0.0, np.nan, 2.5])), max_size=15),
       st.booleans(), st.booleans())
def test_sort_order_matches_sort_values(pairs, asc_s, asc_x):
    frame = pd.DataFrame(pairs, columns=["s", "x"]).astype({"s": "str", "x": float})
    want = frame.sort_values(["s", "x"], ascending=[asc_s, asc_x], kind="stable").index
    got = tabular.sort_order([frame["s"], frame["x"]], [asc_s, asc_x])
    assert got.tolist() == want.tolist()


def test_answer_loss_is_per_token_or_per_byte_or_heldout_per_setting():
    """A setting whose rows give only bytes (the OLMo ladder) is fitted on bytes; one whose
    scores give no answer loss at all (Gadre et al.'s grid) on each result's held-out loss;
    every other setting on tokens; one kind per setting, so a fit never mixes them."""
    scores = [
        {"model": "m0", "family": "f", "setting": "grid", "task": "t", "value": 0.5,
         "heldout_nll_token": 3.1},
        {"model": "m0", "family": "f", "setting": "grid", "task": "u", "value": 0.6,
         "heldout_nll_token": 3.1},
        # a held-out loss where answer losses exist: those are used, never mixed with it
        {"model": "m0", "family": "f", "setting": "zero-shot", "task": "u", "value": 0.5,
         "heldout_nll_token": 2.0},
        {"model": "m0", "family": "f", "setting": "zero-shot", "task": "t", "value": 0.5,
         "answer_nll_token": 1.2, "answer_nll_byte": 0.3},
        {"model": "m0", "family": "f", "setting": "five-shot", "task": "t", "value": 0.5,
         "answer_nll_byte": 0.4},
        {"model": "m0", "family": "f", "setting": "five-shot", "task": "u", "value": 0.5,
         "answer_nll_token": 0.9},  # a token loss in a bytes setting: not comparable, dropped
    ]
    frames = build_frames(scores, [{"model": "m0", "family": "f"}], [{"family": "f"}],
                          [{"task": "t"}, {"task": "u"}],
                          settings=("zero-shot", "five-shot", "grid"))
    rows = prepare(frames, MetricsConfig()).rows.set_index(["setting", "task"])
    assert rows.loc[("zero-shot", "t"), "answer_loss"] == 1.2
    assert np.isnan(rows.loc[("zero-shot", "u"), "answer_loss"])
    assert rows.loc[("grid", "t"), "answer_loss"] == rows.loc[("grid", "u"), "answer_loss"] == 3.1
    assert rows.loc[("five-shot", "t"), "answer_loss"] == 0.4
    assert np.isnan(rows.loc[("five-shot", "u"), "answer_loss"])
