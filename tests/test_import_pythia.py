"""The committed Pythia / OPT / BLOOM results against their source files in ../shared/data."""

from __future__ import annotations

import json
import math
import random
import re
from pathlib import Path

import pytest
from shared_data import DATA, NEEDS_DATA, RESULTS

from evalrunner.importers import pythia
from evalrunner.importers.lmeval import METRIC_RENAMES, task_id
from evalrunner.importers.manifest import Manifest, sha256_of
from evalrunner.importers.taskdefs import MMLU_TASKS
from evalrunner.results.read import read_yaml
from evalrunner.results.schema import Model, Result

pytestmark = NEEDS_DATA
SIZES = list(pythia.PYTHIA_SIZES)
ZERO_SHOT_STEPS = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000] + list(range(3000, 143001,
                                                                               10000))
FIVE_SHOT_STEPS = list(range(3000, 143001, 10000))


def result(family: str, model: str, setting: str, revision: str) -> Result:
    return Result.model_validate(read_yaml(RESULTS / family / model / setting /
                                           f"{revision}.yaml"))


def revisions(family: str, model: str, setting: str) -> list[str]:
    return sorted(p.stem for p in (RESULTS / family / model / setting).glob("*.yaml"))


@pytest.mark.parametrize("variant", ["", "-deduped"])
@pytest.mark.parametrize("size", SIZES)
def test_every_checkpoint_of_every_pythia_model(size, variant):
    family = "pythia-deduped" if variant else "pythia"
    model = f"pythia-{size}{variant}"
    assert revisions(family, model, "pythia-lmeval-0shot") == sorted(
        f"step{s}" for s in ZERO_SHOT_STEPS)
    assert revisions(family, model, "pythia-lmeval-5shot") == sorted(
        f"step{s}" for s in FIVE_SHOT_STEPS)


def test_opt_and_bloom_final_checkpoints():
    for family, sizes in (("opt", pythia.OPT_SIZES), ("bloom", pythia.BLOOM_SIZES)):
        for size in sizes:
            assert revisions(family, f"{family}-{size}", "pythia-lmeval-0shot") == ["main"]
    assert len(pythia.OPT_SIZES) == 8 and len(pythia.BLOOM_SIZES) == 5


def test_steps_become_tokens():
    final = result("pythia-deduped", "pythia-12b-deduped", "pythia-lmeval-0shot", "step143000")
    assert final.revision.tokens == 299_892_736_000 and final.revision.final
    early = result("pythia", "pythia-70m", "pythia-lmeval-5shot", "step3000")
    assert early.revision.tokens == 3000 * 2_097_152 and not early.revision.final
    model = Model.model_validate(read_yaml(RESULTS / "pythia" / "pythia-70m" / "model.yaml"))
    assert model.training_tokens.value == 299_892_736_000
    assert (model.params.total.value, model.params.non_embedding.value) == (70_426_624,
                                                                            18_915_328)
    assert model.params.total.source == "config"


def test_12b_deduped_has_both_shot_counts_at_the_final_step():
    zero = result("pythia-deduped", "pythia-12b-deduped", "pythia-lmeval-0shot", "step143000")
    five = result("pythia-deduped", "pythia-12b-deduped", "pythia-lmeval-5shot", "step143000")
    assert zero.scores["arc_easy"].n_shot == 0 and five.scores["arc_easy"].n_shot == 5
    assert round(five.scores["mmlu"].value, 3) == 0.299  # Pythia's own 5-shot MMLU
    obs = Result.model_validate(read_yaml(RESULTS / "pythia-deduped" / "pythia-12b-deduped" /
                                          "obsscaling" / "main.yaml"))
    assert round(obs.scores["mmlu"].value, 3) == 0.256  # ObsScaling's, in its own setting


def _source_json(res: Result) -> dict:
    assert res.provenance.kind == "import" and res.provenance.repository == "EleutherAI/pythia"
    local = DATA / "pythia" / res.provenance.path
    assert sha256_of(local) == res.provenance.sha256
    return json.loads(local.read_text())


def _all_result_files() -> list[Path]:
    files = []
    for family in ("pythia", "pythia-deduped", "opt", "bloom"):
        files += sorted((RESULTS / family).glob("*/pythia-lmeval-*/*.yaml"))
    return files


def test_a_sample_of_files_equals_the_source_exactly():
    files = _all_result_files()
    assert len(files) == 16 * 42 + 8 + 5
    for path in random.Random(7).sample(files, 60):
        res = Result.model_validate(read_yaml(path))
        source = _source_json(res)
        assert source["config"]["num_fewshot"] == (0 if "0shot" in res.setting else 5)
        assert set(res.scores) == {task_id(t) for t in source["results"]} | {"mmlu"}
        for name, metrics in source["results"].items():
            score = res.scores[task_id(name)]
            reported = {score.metric: (score.value, score.stderr)}
            reported.update({m: (v.value, v.stderr) for m, v in score.extra.items()})
            for key, value in metrics.items():
                if key.endswith("_stderr"):
                    continue
                ours = METRIC_RENAMES.get(key, key)
                assert reported[ours] == (value, metrics[f"{key}_stderr"]), (path, name, key)


def test_mmlu_is_the_macro_mean_of_its_57_subjects():
    res = result("pythia", "pythia-1.4b", "pythia-lmeval-0shot", "step73000")
    mmlu = res.scores["mmlu"]
    assert mmlu.aggregate.method == "macro_mean" and mmlu.aggregate.of == MMLU_TASKS
    values = [res.scores[t].value for t in MMLU_TASKS]
    assert math.isclose(mmlu.value, sum(values) / 57, rel_tol=1e-15)


def test_files_named_5shot_in_zero_shot_folder_are_zero_shot():
    res = result("pythia", "pythia-1b", "pythia-lmeval-0shot", "step128")
    assert res.provenance.path.endswith("zero-shot/1b-bf16-5shot_step128.json")
    assert "num_fewshot is 0" in res.provenance.notes
    assert all(s.n_shot == 0 for s in res.scores.values())


def test_every_source_file_is_imported_or_left_out_with_a_reason():
    base = DATA / pythia.FOLDER
    manifest = Manifest(DATA)
    # The provenance path line of each file (reading 685 files whole takes seconds).
    imported = {re.search(r"^  path: (.+)$", p.read_text(), re.M).group(1)
                for p in _all_result_files()}
    for path in base.rglob("*.json"):
        rel = path.relative_to(base).as_posix()
        row = manifest.rows[f"pythia/evals/{rel}"]
        if row.path not in imported:
            assert pythia.left_out(rel), rel
    assert pythia.left_out("pythia-v1/pythia-410m-deduped/intervention/x_step1.json")
    assert pythia.left_out("pythia-v1/pythia-1b-0.5MtokBS/five-shot/x_step1.json")
    assert pythia.left_out("pythia-v1/pythia-70m-deduped/baseline/x_step1.json")
    assert not pythia.left_out("pythia-v1/pythia-70m/zero-shot/70m_step0.json")


def test_lmeval_json_import_of_one_file_gives_the_same_scores(tmp_path):
    import shutil

    from evalrunner.importers import SourceDataError, import_lmeval_json

    for name in ("tasks.yaml", "settings.yaml"):
        shutil.copy(RESULTS / name, tmp_path / name)
    shutil.copytree(RESULTS / "opt" / "opt-125m", tmp_path / "opt" / "opt-125m",
                    ignore=shutil.ignore_patterns("pythia-lmeval-0shot"))
    source = DATA / "pythia" / "evals" / "opt" / "opt-125m.json"
    report = import_lmeval_json(source, tmp_path, "opt-125m", "pythia-lmeval-0shot")
    assert report.results == 1 and report.scores == 66
    ours = result_at(tmp_path / "opt" / "opt-125m" / "pythia-lmeval-0shot" / "main.yaml")
    committed = result("opt", "opt-125m", "pythia-lmeval-0shot", "main")
    assert ours.scores == committed.scores
    assert ours.provenance.sha256 == committed.provenance.sha256
    with pytest.raises(SourceDataError, match="known setting"):
        import_lmeval_json(source, tmp_path, "opt-125m", "no-such-setting")
    with pytest.raises(SourceDataError, match="model.yaml"):
        import_lmeval_json(source, tmp_path, "opt-350m", "pythia-lmeval-0shot")


def result_at(path: Path) -> Result:
    return Result.model_validate(read_yaml(path))
