"""Gadre et al.'s grid: the committed results are the source's numbers, the paper's published
forecast errors come out of them, and bad source files are named with their field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import curve_fit
from shared_data import DATA, NEEDS_DATA, RESULTS

from evalrunner.importers import openlm_grid
from evalrunner.importers.base import SourceDataError
from evalrunner.results.read import read_yaml
from evalrunner.results.schema import Model, Result

pytestmark = NEEDS_DATA
MODELS = DATA / openlm_grid.ROOT / "models" if DATA else Path()


def committed(corpus: str) -> dict[str, tuple[Model, Result]]:
    out = {}
    for path in sorted((RESULTS / f"openlm-{corpus}").glob("*/openlm-grid-icl/*.yaml")):
        res = Result.model_validate(read_yaml(path))
        out[res.model] = (Model.model_validate(read_yaml(path.parents[1] / "model.yaml")), res)
    return out


def test_every_run_is_committed_with_the_sources_numbers():
    runs = {c: committed(c) for c in ("c4", "rpj", "rw")}
    assert [len(r) for r in runs.values()] == [34, 35, 35]  # 104 runs, as the paper says
    for path in sorted(MODELS.glob("*.json")):
        doc = json.loads(path.read_text())
        h = doc["hyperparameters"]
        corpus = openlm_grid.CORPORA[doc["dataset_name"]][0]
        match = [(m, r) for m, r in runs[corpus].values()
                 if m.params.non_embedding.value == h["params_no_embed"]
                 and r.revision.tokens == h["tokens"]]
        assert len(match) == 1, path.name
        model, res = match[0]
        assert model.params.total.value == h["params"]
        c4 = [e for e in doc["results"] if "/c4_val/" in e["val_data"][0]]
        assert res.heldout_loss.per_token == c4[0]["loss"]
        evals = json.loads((DATA / openlm_grid.ROOT / "evals" /
                            f"evaluation_{path.stem}_heavy.json").read_text())
        icl = evals["eval_metrics"]["icl"]
        assert {t: s.value for t, s in res.scores.items()} == {
            t: icl[k] for t, k in openlm_grid.TASKS.items()}
        assert res.provenance.path == f"exp_data/evals/evaluation_{path.stem}_heavy.json"
        assert path.name in res.provenance.notes


def _paper_law(x, a, b, eta, e):  # Gadre et al.'s eq. (4): one exponent, N total, M = D/N
    n, m = x
    return a * n ** eta + b * 6 ** (eta / 2) * (m * n) ** eta + e


def _paper_fit(n, m, loss):
    """The paper's fit (its scaling/laws.py): least squares from a grid of starts, the start
    with the smallest residual kept."""
    best = (np.inf, None)
    for a in (1e2, 3e2, 1e3, 3e3):
        for b in (1e2, 3e2, 1e3, 3e3):
            for eta in (-0.1, -0.3):
                for e in (0.0, 1.0, 2.0, 10.0):
                    try:
                        p, _ = curve_fit(_paper_law, np.array([n, m]), loss,
                                         p0=[a, b, eta, e], maxfev=10000)
                    except RuntimeError:
                        continue
                    res = float(np.sqrt(np.sum((loss - _paper_law((n, m), *p)) ** 2)
                                        / (len(loss) - 2)))
                    best = min(best, (res, tuple(p)), key=lambda t: t[0])
    return best[1]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_the_papers_published_forecast_errors_come_out_of_the_committed_results():
    """The notebook of mlfoundations/scaling prints, for RedPajama with its Table 2 defaults,
    relative errors of 0.7103% (1.4B, M=640) and 0.7320% (6.9B, M=20) on C4 eval loss and
    3.6365% / 0.0464% on the 17-task split's top-1 error."""
    runs = committed("rpj")
    def get(size, mult):
        m, r = runs[f"openlm-rpj-{size}-{mult}xc"]
        n = float(m.params.total.value)
        err = np.mean([1 - s.value for s in r.scores.values()])
        return n, r.revision.tokens / n, r.heldout_loss.per_token, err
    # loss law: the four small sizes at M=20 and the smallest at M=320
    pts = np.array([get(s, "1") for s in ("11m", "79m", "154m", "411m")] + [get("11m", "16")])
    law = _paper_fit(pts[:, 0], pts[:, 1], pts[:, 2])
    # error law Err(L) = e - k*exp(-gamma*L): those runs and the 1.4B at M=20
    pts6 = np.vstack([pts, get("1.4b", "1")])
    (k, gamma, e), _ = curve_fit(lambda x, k, g, e: e - k * np.exp(-g * x), pts6[:, 2],
                                 pts6[:, 3], maxfev=10000)
    got = []
    for size, mult in (("1.4b", "32"), ("6.9b", "1")):
        n, m, loss, err = get(size, mult)
        pred = _paper_law((n, m), *law)
        got += [abs(pred - loss) / loss * 100, abs(e - k * np.exp(-gamma * pred) - err) / err * 100]
    assert np.round(got, 4).tolist() == [0.7103, 3.6365, 0.7320, 0.0464]


def _copy_run(tmp_path: Path, stem: str) -> tuple[Path, dict]:
    src = MODELS / f"{stem}.json"
    dst = tmp_path / openlm_grid.ROOT / "models" / src.name
    dst.parent.mkdir(parents=True)
    shutil.copy(src, dst)
    return dst, json.loads(dst.read_text())


STEM = "rpj-d=96_l=8_h=4-1.0"


def test_a_run_without_its_c4_loss_is_named(tmp_path: Path):
    path, doc = _copy_run(tmp_path, STEM)
    doc["results"] = [e for e in doc["results"] if "/c4_val/" not in e["val_data"][0]]
    with pytest.raises(SourceDataError) as err:
        openlm_grid.heldout_loss(path, doc)
    assert str(path) in str(err.value) and "c4_val" in str(err.value)
    assert "0 such entries" in str(err.value)


@pytest.mark.parametrize(("edit", "field", "expected"), [
    (lambda d: d.update(dataset_name="pile"), "dataset_name", "one of c4_original"),
    (lambda d: d["hyperparameters"].update(params_no_embed=-5), "params_no_embed",
     "a positive whole number"),
    (lambda d: d.update(checkpoint_url="x/latest.pt"), "checkpoint_url", "epoch_<k>.pt")])
def test_a_bad_run_file_is_named(tmp_path: Path, edit, field, expected):
    path, doc = _copy_run(tmp_path, STEM)
    edit(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(SourceDataError) as err:
        openlm_grid.model_facts(tmp_path) if field != "checkpoint_url" else \
            openlm_grid.revision_of(path, doc)
    assert str(path) in str(err.value) and field in str(err.value)
    assert expected in str(err.value)


def test_an_accuracy_outside_zero_one_is_named(tmp_path: Path):
    path = tmp_path / "evaluation_x_heavy.json"
    icl = json.loads((DATA / openlm_grid.ROOT / "evals" /
                      f"evaluation_{STEM}_heavy.json").read_text())
    icl["eval_metrics"]["icl"]["piqa"] = 66.2
    with pytest.raises(SourceDataError) as err:
        openlm_grid.scores_of(path, icl, openlm_grid.task_metadata(DATA))
    assert "eval_metrics.icl.piqa" in str(err.value) and "[0, 1]" in str(err.value)
