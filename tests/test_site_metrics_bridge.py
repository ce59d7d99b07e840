"""metrics_bridge.checkpoint_density gives what density_table and model_table give for every
revision taken as a target model (its definition, written out with pandas)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalrunner.metrics import density, synthetic
from evalrunner.metrics.compute import compute_all
from evalrunner.metrics.config import MetricsConfig
from evalrunner.metrics.prepare import prepare
from evalrunner.site.metrics_bridge import checkpoint_density


def _by_definition(rows: pd.DataFrame, fits: pd.DataFrame, reference: str,
                   config: MetricsConfig) -> pd.DataFrame:
    rows = rows[rows["tokens"].notna() & (rows["tokens"] > 0)]
    rows = rows[rows.groupby(["model", "setting"])["revision"].transform("nunique") > 1]
    key = rows["model"] + "\x1f" + rows["revision"]
    tokens = pd.Series(rows["tokens"].to_numpy(), index=key).groupby(level=0).first()
    per_task = density.density_table(rows.assign(model=key, final=True),
                                     fits[fits["reference"] == reference], config)
    targets = pd.DataFrame({"model": per_task["model"].unique(), "release_date": pd.NaT})
    per_model = density.model_table(per_task, targets, reference, config)
    split = per_model["model"].str.split("\x1f", n=1, expand=True)
    out = pd.DataFrame({"model": split[0], "revision": split[1],
                        "setting": per_model["setting"],
                        "tokens": per_model["model"].map(tokens).astype(float),
                        "density": per_model["density"].where(per_model["status"] == "ok"),
                        "status": per_model["status"]})
    return out.sort_values(["setting", "model", "tokens"], kind="stable").reset_index(drop=True)


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


@pytest.mark.parametrize("seed", range(4))
def test_checkpoint_density_is_its_definition(seed):
    config = MetricsConfig()
    frames = _frames(seed)
    prepared = prepare(frames, config)
    fits = compute_all(frames, config, prepared=prepared).density_fits
    got = checkpoint_density(prepared.rows, fits, "ref", config)
    assert len(got) and set(got["model"]) >= {"f-m1", "f-m2"}
    pd.testing.assert_frame_equal(got, _by_definition(prepared.rows, fits, "ref", config),
                                  check_exact=True)
    assert checkpoint_density(prepared.rows, fits, None, config).empty
