"""The checkpoint density table: every revision's row is the headline density that revision
would get as a model of its own (its definition), with the same interval and bound; the final
revision's row is the model's headline."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalrunner.metrics import synthetic
from evalrunner.metrics.compute import compute_all
from evalrunner.metrics.config import MetricsConfig

COLS = ["density", "bound", "density_bound", "density_low", "density_high", "status"]


def _frames(seed: int):
    rng = np.random.default_rng(seed)
    tasks = [{"task": f"t{t}", "chance": 0.25 * (t % 2)} for t in range(3)]
    tasks.append({"task": "t1-sub", "parent": "t1"})
    names = [t["task"] for t in tasks]
    scores, models = synthetic.reference_family(
        "ref", np.geomspace(2e7, 1.2e10, 5), [1000, 3000, 13000, 33000, 73000],
        (400.0, 0.34, 410.0, 0.28), (0.7, -3.0, 1.5, 0.25), tasks=names, noise=0.01, seed=seed)
    families = [{"family": "ref", "reference": True}, {"family": "f"}]
    for i in range(4):  # targets: one to four revisions, some without tokens or N
        model = f"f-m{i}"
        models.append({"model": model, "family": "f",
                       "n_fit": np.nan if i == 3 else float(10 ** rng.uniform(7.5, 10))})
        for k in range(i + 1):
            tokens = np.nan if k == 0 and i == 2 else float(rng.integers(1, 100)) * 1e9
            scores += [{"family": "f", "model": model, "revision": f"r{k}", "step": k,
                        "tokens": tokens, "final": k == i, "task": t,
                        "value": float(rng.uniform(0, 1))} for t in names]
    return synthetic.build_frames(scores, models, families, tasks)


def _alone(frames, model: str, revision: str):
    """The frames with `model` reduced to `revision`, marked final."""
    sc = frames.scores
    drop = (sc["model"] == model) & (sc["revision"] != revision)
    sc = sc.loc[~drop].copy()
    sc.loc[sc["model"] == model, "final"] = True
    return type(frames)(sc, frames.models, frames.families, frames.tasks, frames.settings)


@pytest.mark.parametrize("seed", range(3))
def test_checkpoint_density_is_each_revisions_headline(seed):
    config = MetricsConfig()
    frames = _frames(seed)
    tables = compute_all(frames, config)
    got = tables.checkpoint_density
    assert len(got) and set(got["model"]) >= {"f-m1", "f-m2"}
    assert (got["reference"] == "ref").all()
    assert got.loc[got["status"] == "ok", "density_low"].notna().all()
    heads = tables.density_models[tables.density_models["default_reference"]].set_index("model")
    finals = frames.scores.loc[frames.scores["final"], ["model", "revision"]].drop_duplicates()
    for model, revision in zip(finals["model"], finals["revision"], strict=True):
        row = got[(got["model"] == model) & (got["revision"] == revision)]
        if len(row):  # the final revision's row is the headline
            pd.testing.assert_series_equal(row[COLS].iloc[0], heads.loc[model, COLS],
                                           check_names=False)
    # an earlier revision: what the model would get if that revision were all it had
    early = got[(got["model"] == "f-m2") & (got["revision"] == "r1")].iloc[0]
    alone = compute_all(_alone(frames, "f-m2", "r1"), config).density_models
    alone = alone[alone["default_reference"]].set_index("model").loc["f-m2"]
    for col in COLS:
        a, b = early[col], alone[col]
        if isinstance(a, str):
            assert a == b, col
        else:  # the same inversion of the same draws; percentiles equal to rounding
            assert a == pytest.approx(b, rel=1e-12, nan_ok=True), col
    assert np.isnan(got.loc[got["model"] == "f-m3", "density"]).all()  # no parameter count
