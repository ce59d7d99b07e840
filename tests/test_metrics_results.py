"""Optional: the committed results pass through the metrics (skipped while results/ is empty).

The only metrics test that reads results/; it loads and validates the whole tree, so it is the
slow one of this area.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

RESULTS = Path(__file__).resolve().parents[1] / "results"

pytestmark = pytest.mark.skipif(not (RESULTS / "tasks.yaml").is_file(),
                                reason="results/ not populated")


def test_committed_results_pass_through_metrics():
    from evalrunner.metrics.compute import compute_all
    from evalrunner.results.load import load_frames

    tables = compute_all(load_frames(RESULTS))
    for name, table in tables.tables().items():
        if "status" in table:
            assert table["status"].notna().all(), name
            assert (table["reason"].astype(str) != "").all(), name
    assert len(tables.predictability_family_task) > 0
    fits = tables.density_fits
    pythia = fits.loc[(fits["reference"] == "pythia-deduped")
                      & (fits["setting"] == "pythia-lmeval-0shot")].set_index("task")
    if len(pythia):
        for task in ("arc_easy", "lambada_openai", "piqa", "winogrande"):
            assert pythia.loc[task, "status"] == "ok", pythia.loc[task, "reason"]
        # at chance for every Pythia size: not a reference task
        assert pythia.loc["logiqa", "status"] == "uninformative"
    used = fits[fits["status"] == "ok"]
    assert (used["c"] + used["d"] <= 1 + 1e-9).all()  # a possible ceiling
    assert (used["n_informative"] >= 4).all()
    # no density is a number outside the reference's widened range
    dens = tables.density.merge(fits[["reference", "setting", "task", "n_lo", "n_hi"]])
    shown = dens[dens["density"].notna()]
    assert ((shown["n_hat"] >= shown["n_lo"]) & (shown["n_hat"] <= shown["n_hi"])).all()
    bounded = dens[dens["bound"] != ""]
    assert bounded["density"].isna().all() and bounded["density_bound"].notna().all()
    # every number has its interval, inside the same range
    for table in (shown, tables.density_models[tables.density_models["density"].notna()]):
        assert table["density_low"].notna().all() and table["density_high"].notna().all()
        assert (table["density_low"] <= table["density"] * (1 + 1e-9)).all()
        assert (table["density"] <= table["density_high"] * (1 + 1e-9)).all()
    assert (shown["density_low"] * shown["n_fit"] >= shown["n_lo"] * (1 - 1e-9)).all()
    assert (shown["density_high"] * shown["n_fit"] <= shown["n_hi"] * (1 + 1e-9)).all()
    # the headline: one task set per setting and reference, from its own fit, in range
    heads = tables.density_models.merge(
        fits.loc[fits["task"] == "task set mean", ["reference", "setting", "n_lo", "n_hi"]])
    number = heads[heads["density"].notna()]
    assert len(number) and (number["n_hat"] >= number["n_lo"]).all()
    assert (number["n_hat"] <= number["n_hi"]).all()
    assert (tables.density_models.groupby(["setting", "reference"])["task_set"].nunique()
            <= 1).all()
    # the OLMo ladder, fitted up to 1.3B as its paper does, forecasts OLMo-2 7B and 13B on
    # every task, with intervals and the true loss beside the predicted one
    lad = tables.ladder
    paper = lad[(lad["reference"] == "olmo-ladder") & (lad["origin_n"] == 1_279_395_840)
                & (lad["role"] == "target model")]
    assert sorted(paper["target"].unique()) == ["olmo-2-13b", "olmo-2-7b"]
    assert len(paper) == 2 * 9 and (paper["label"] == "prediction").all()
    assert paper[["chained_low", "chained_high", "loss_true", "err_chained"]].notna().all().all()
    assert (paper["chained_low"] <= paper["pred_chained"]).all()
    assert (paper["pred_chained"] <= paper["chained_high"]).all()
    olmo = lad[lad["reference"] == "olmo-ladder"]
    assert set(olmo.loc[olmo["status"] == "poor_fit", "task"]) <= {"boolq", "winogrande"}
    # Gadre et al.'s grid, fitted on the runs up to 0.41B, forecasts each corpus's 1.4B runs
    # and its 6.9B run from the one held-out loss: step 1 is the same for every task
    grid = lad[(lad["setting"] == "openlm-grid-icl") & (lad["origin_n"] == 359_973_888)]
    assert set(grid["reference"]) == {"openlm-c4", "openlm-rpj", "openlm-rw"}
    assert (grid["role"] == "larger ladder run").all() and (grid["n"] > 1e9).all()
    assert (grid["label"] == "prediction").all() and len(grid) == 17 * 9
    assert (grid.groupby(["reference", "target"])["loss_pred"].nunique() == 1).all()
    assert (np.abs(grid["loss_err"] / grid["loss_true"]) < 0.05).all()
