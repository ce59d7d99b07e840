"""The committed OLMo-ladder results against their source CSVs, read here independently, and the
importer's errors on bad source rows."""

from __future__ import annotations

import csv
import math
import shutil
from pathlib import Path

import pytest
from shared_data import DATA, NEEDS_DATA, RESULTS, edit_csv_cell

from evalrunner.importers import olmo_ladder
from evalrunner.importers.base import SourceDataError
from evalrunner.importers.manifest import sha256_of
from evalrunner.results.read import read_yaml
from evalrunner.results.schema import Model, Result

pytestmark = NEEDS_DATA
RUNS = DATA / olmo_ladder.DIR if DATA else Path()
SETTING = olmo_ladder.SETTING


def rows(name: str) -> list[dict[str, str]]:
    with open(RUNS / name, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def committed(family: str, model: str, revision: str) -> Result:
    return Result.model_validate(read_yaml(RESULTS / family / model / SETTING /
                                           f"{revision}.yaml"))


def model(family: str, model: str) -> Model:
    return Model.model_validate(read_yaml(RESULTS / family / model / "model.yaml"))


def test_parameter_counts_are_the_ladders_own_non_embedding_counts():
    # MODEL_PARAMS in src/scaling/utils.py at commit 67a3f440
    expected = {("olmo-ladder", "olmo-ladder-190m-1xc"): 190_354_176,
                ("olmo-ladder", "olmo-ladder-1b-5xc"): 1_279_395_840,  # the file's "1B" = 1.3B
                ("olmo-ladder", "olmo-ladder-3b-10xc"): 3_169_537_280,
                ("olmo-2", "olmo-2-7b"): 6_887_575_552,
                ("olmo-2", "olmo-2-13b"): 13_202_396_160}
    for (family, mid), n in expected.items():
        params = model(family, mid).params
        assert params.non_embedding.value == n and params.non_embedding.source == "config"
        assert params.total is None  # no total is stated, so none is made up


def test_every_checkpoint_of_every_run_is_imported_once():
    files = sorted(RESULTS.glob(f"olmo-*/*/{SETTING}/*.yaml"))
    assert len(files) == 3850
    by_model: dict[str, list[Result]] = {}
    for path in files:
        res = Result.model_validate(read_yaml(path))
        by_model.setdefault(res.model, []).append(res)
    assert len(by_model) == 32  # 25 grid runs, 5 reruns, 2 targets
    for mid, results in by_model.items():
        assert sum(r.revision.final for r in results) == 1, mid
    # 3B at 10x Chinchilla: one file per distinct step of the CSV (its last step is final)
    steps = {int(r["_step"]) for r in rows("3B-10xC.csv")}
    ours = {r.revision.step for r in by_model["olmo-ladder-3b-10xc"]}
    assert ours == steps
    final = next(r for r in by_model["olmo-ladder-3b-10xc"] if r.revision.final)
    assert final.revision.step == max(steps) == 201524


def test_scores_and_answer_losses_equal_the_source_cells():
    src = rows("3B-10xC.csv")[-1]
    res = committed("olmo-ladder", "olmo-ladder-3b-10xc", f"step{src['_step']}")
    assert res.revision.tokens == int(float(src["throughput/total_tokens"])) == 633_939_689_472
    hs = res.scores["hellaswag"]
    assert hs.metric == "acc_norm" and hs.n_shot == 5
    assert hs.value == float(src["eval/downstream/hellaswag_val_rc_5shot_len_norm"])
    bpb = float(src["eval/downstream_bpb/hellaswag_val_rc_5shot_bpb"])
    assert hs.answer_loss.per_byte == pytest.approx(bpb * math.log(2), rel=1e-15)
    assert hs.answer_loss.per_token is None  # the source gives bytes only
    boolq = res.scores["boolq"]
    assert boolq.metric == "acc" and boolq.value == float(
        src["eval/downstream/boolq_val_rc_5shot_acc"])
    assert set(res.scores) == set(olmo_ladder.TASKS)  # MMLU is left out
    assert res.scores["arc_easy"].extra == {}  # the ladder runs have no MC-format scores
    anneal = committed("olmo-2", "olmo-2-7b", "anneal")  # the targets have them
    mc = rows("peteish7_eval_anneal.csv")[0]["eval/downstream/arc_easy_test_mc_5shot_acc"]
    assert anneal.scores["arc_easy"].extra["acc_mc"].value == float(mc)


def test_tokens_without_a_counter_are_steps_times_the_batch():
    src = rows("peteish7_eval_full.csv")[-1]
    assert not src.get("throughput/total_tokens")
    res = committed("olmo-2", "olmo-2-7b", f"step{src['_step']}")
    assert res.revision.tokens == int(src["_step"]) * int(src["batch_size_in_tokens"])
    assert not res.revision.final  # the annealed model after it is the final one


def test_the_7b_target_ends_with_its_anneal_and_the_13b_with_its_last_step():
    anneal = committed("olmo-2", "olmo-2-7b", "anneal")
    src = rows("peteish7_eval_anneal.csv")[0]
    assert anneal.revision.final and anneal.revision.step is None
    assert anneal.revision.tokens == int(src["throughput/total_tokens"])
    assert model("olmo-2", "olmo-2-7b").training_tokens.value == anneal.revision.tokens
    last = committed("olmo-2", "olmo-2-13b", "step596057")
    assert last.revision.final
    assert model("olmo-2", "olmo-2-7b").release_date.date.isoformat() == "2024-11-26"
    assert model("olmo-ladder", "olmo-ladder-190m-1xc").release_date is None  # never released


def test_provenance_names_the_file_its_hash_and_the_row():
    src = rows("760M-2xC.csv")
    res = committed("olmo-ladder", "olmo-ladder-760m-2xc", f"step{src[4]['_step']}")
    prov = res.provenance
    assert prov.repository == "allenai/OLMo-ladder" and prov.commit.startswith("67a3f440")
    assert prov.path == "src/scripts/paper/data/ladder-runs/760M-2xC.csv"
    assert prov.sha256 == sha256_of(RUNS / "760M-2xC.csv")
    assert prov.row == f"_step={src[4]['_step']} (data row 5)"
    assert res.tier == "published" and prov.license == "Apache-2.0"


def test_reruns_are_models_of_their_own():
    a = committed("olmo-ladder", "olmo-ladder-190m-1xc", "step1000")
    b = committed("olmo-ladder", "olmo-ladder-190m-1xc-rerun", "step1000")
    assert a.scores["hellaswag"].value != b.scores["hellaswag"].value  # another seed


# --- bad source rows ------------------------------------------------------------------------

@pytest.fixture()
def bad_root(tmp_path: Path) -> Path:
    """A data folder holding one ladder CSV (the first three rows of 190M-1xC.csv)."""
    folder = tmp_path / olmo_ladder.DIR
    folder.mkdir(parents=True)
    text = (RUNS / "190M-1xC.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "190M-1xC.csv").write_text("".join(text[:4]), encoding="utf-8")
    return tmp_path


RUN = olmo_ladder.Run(model="m", family="f", name="m", n=1, files=("190M-1xC.csv",))


@pytest.mark.parametrize(("column", "value", "expected"), [
    ("eval/downstream/piqa_val_rc_5shot_len_norm", "1.7", "a fraction in [0, 1]"),
    ("eval/downstream/piqa_val_rc_5shot_len_norm", "nan", "a finite number"),
    ("eval/downstream_bpb/piqa_val_rc_5shot_bpb", "-0.2", "bits per byte >= 0"),
    ("eval/downstream_bpb/piqa_val_rc_5shot_bpb", "high", "a number"),
    ("_step", "two", "a number"),
])
def test_a_bad_cell_names_the_file_the_row_and_the_column(bad_root, column, value, expected):
    edit_csv_cell(bad_root / olmo_ladder.DIR / "190M-1xC.csv", 1, column, value)
    with pytest.raises(SourceDataError) as err:
        for cp in olmo_ladder.checkpoints(bad_root, RUN):
            olmo_ladder.scores_of(bad_root / olmo_ladder.DIR / cp.file, cp)
    message = str(err.value)
    assert "190M-1xC.csv" in message and f"row 2 {column}" in message and expected in message


def test_a_missing_run_file_or_parameter_table_is_named(bad_root):
    run = olmo_ladder.Run(model="m", family="f", name="m", n=1, files=("3B-1xC.csv",))
    with pytest.raises(SourceDataError, match="3B-1xC.csv"):
        olmo_ladder.checkpoints(bad_root, run)
    with pytest.raises(SourceDataError, match="utils.py"):
        olmo_ladder.model_params(bad_root)
    utils = bad_root / olmo_ladder.PARAMS_FILE
    utils.parent.mkdir(parents=True)
    shutil.copy(DATA / olmo_ladder.PARAMS_FILE, utils)
    utils.write_text(utils.read_text().replace('"13B": 13202396160,', ""))
    with pytest.raises(SourceDataError, match="13B"):
        olmo_ladder.model_params(bad_root)
