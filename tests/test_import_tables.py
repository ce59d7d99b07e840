"""The committed ObsScaling, Sloth (Open LLM Leaderboard) and Epoch-date imports against their
source tables in ../shared/data."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from functools import cache

import pytest
from shared_data import DATA, NEEDS_DATA, RESULTS

from evalrunner.importers import epoch_dates, obsscaling, sloth
from evalrunner.results.read import read_yaml
from evalrunner.results.schema import Family, Model, Result

pytestmark = NEEDS_DATA


def results_in(setting: str) -> dict[str, Result]:
    out = {}
    for path in RESULTS.glob(f"*/*/{setting}/*.yaml"):
        res = Result.model_validate(read_yaml(path))
        out[res.model] = res
    return out


@cache
def models() -> dict[str, Model]:
    return {p.parent.name: Model.model_validate(read_yaml(p))
            for p in RESULTS.glob("*/*/model.yaml")}


def test_obsscaling_all_148_models_in_47_families_with_exact_values():
    rows = obsscaling.read_rows(DATA)
    got = results_in("obsscaling")
    assert len(rows) == len(got) == 148
    assert len({r.family_name for r in rows}) == 47
    assert len({models()[m].family for m in got}) == 47
    for row in rows:
        res = got[row.model_id]
        assert res.provenance.row.startswith(f"Model={row.hf_id} ")
        for column, task in obsscaling.TASK_COLUMNS.items():
            text = row.cells[column].strip()
            if text:
                assert res.scores[task].value == float(text), (row.hf_id, column)
                assert res.scores[task].stderr is None
            else:
                assert task not in res.scores
    shots = {t: s.n_shot for t, s in got["llama-2-7b-hf"].scores.items()}
    assert shots == {"arc_challenge": 25, "gsm8k": 5, "hellaswag": 10, "humaneval": 0,
                     "mmlu": 5, "truthfulqa_mc2": 0, "winogrande": 5, "xwinograd": None}


def test_published_sizes_keep_their_precision_and_exact_counts_win():
    m = models()
    llama = m["llama-2-7b-hf"]
    assert (llama.params.total.value, llama.params.total.source,
            llama.params.total.precision) == (7_000_000_000, "published", 1e8)
    assert (llama.training_tokens.value, llama.training_tokens.precision) == (2 * 10**12, 1e11)
    pythia = m["pythia-12b-deduped"]  # ObsScaling says 12.0 B and 0.3 T; the config is exact
    assert pythia.params.total.source == "config"
    assert pythia.params.total.value == 11_846_072_320
    assert pythia.training_tokens.value == 299_892_736_000
    gptj = m["gpt-j-6b"]  # ObsScaling 6.05 beats Sloth's floored 6
    assert gptj.params.total.value == 6_050_000_000


@pytest.mark.parametrize(("model", "total", "active"), [
    ("mixtral-8x7b-v0.1", 46.7e9, 12.9e9), ("qwen2-57b-a14b", 57e9, 14e9),
    ("deepseek-v2-236b", 236e9, 21e9), ("jamba-v0.1", 52e9, 12e9),
])
def test_mixture_of_experts_models_have_active_counts(model, total, active):
    m = models()[model]
    assert m.moe
    assert (m.params.total.value, m.params.active.value) == (total, active)
    assert m.params.active.source == "published" and "arXiv" in m.notes


def test_reference_families():
    fams = {p.parent.name: Family.model_validate(read_yaml(p))
            for p in RESULTS.glob("*/family.yaml")}
    assert {f for f, fam in fams.items() if fam.reference} == {
        "pythia", "pythia-deduped", "cerebras-gpt", "olmo-ladder", "openlm-c4", "openlm-rpj",
        "openlm-rw", "gemstones"}


def test_sloth_leaderboard_values_equal_the_source():
    rows = {r.model_id: r for r in sloth.read_rows_base(DATA)}
    for setting, columns in ((sloth.V1, sloth.V1_COLUMNS), (sloth.V2, sloth.V2_COLUMNS)):
        got = results_in(setting)
        assert got, setting
        for model_id, res in got.items():
            row = rows[model_id]
            for column, task in columns.items():
                text = row.cells[column].strip()
                if text:
                    assert res.scores[task].value == float(text), (model_id, column)
    v2 = results_in(sloth.V2)["pythia-12b"].scores
    assert (v2["leaderboard_ifeval"].value, v2["leaderboard_ifeval"].n_shot) == (0.25, 0)
    assert v2["leaderboard_bbh"].n_shot == 3 and v2["leaderboard_math_hard"].n_shot == 4


def test_sloth_base_models_only_and_only_where_they_add():
    with open(DATA / sloth.FILE, newline="") as fh:
        instruct = {r["Model"] for r in csv.DictReader(fh) if r["Instruct"] == "True"}
    imported = {r.provenance.row.split()[0].removeprefix("Model=")
                for s in (sloth.V1, sloth.V2) for r in results_in(s).values()}
    assert not imported & instruct
    v1 = results_in(sloth.V1)
    assert "pythia-12b" in v1  # not in ObsScaling: a new model
    assert "mmlu_anatomy" in v1["pythia-12b-deduped"].scores  # adds the MMLU subjects
    assert "qwen-72b" not in v1 and "qwen-72b" in results_in("obsscaling")  # only repeats it


def test_values_from_different_sources_live_in_different_settings():
    repos_per_setting: dict[str, set[str]] = defaultdict(set)
    for path in RESULTS.glob("*/*/*/*.yaml"):  # the two lines, not the whole file: fast
        text = path.read_text()
        setting = re.search(r"^setting: (.+)$", text, re.M).group(1)
        repos_per_setting[setting].add(re.search(r"^  repository: (.+)$", text, re.M).group(1))
    assert all(len(repos) == 1 for repos in repos_per_setting.values()), repos_per_setting
    settings_of: dict[tuple, set[str]] = defaultdict(set)
    for path in (RESULTS / "pythia-deduped" / "pythia-12b-deduped").glob("*/*.yaml"):
        res = Result.model_validate(read_yaml(path))
        for task in res.scores:
            settings_of[(res.revision.id, task)].add(res.setting)
    assert settings_of[("main", "mmlu")] == {"obsscaling", "open-llm-leaderboard-v1"}
    assert settings_of[("step143000", "mmlu")] == {"pythia-lmeval-0shot", "pythia-lmeval-5shot"}


def test_release_dates_cite_their_source_row_and_are_never_invented():
    """Each date is Epoch's row (with the alias that joins it) or a reviewed table row; the
    precedence rule and its conflicts are tested in test_import_dates.py."""
    rows = epoch_dates.read_dates(DATA)
    reviewed = {r.id: r for r in epoch_dates.load_reviewed()}
    dated = [m for m in models().values() if m.release_date]
    assert len(dated) >= 40
    for m in dated:
        source = m.release_date.source
        if source.startswith("epoch-research/"):
            key = epoch_dates.ALIASES.get(m.hf_id, (m.hf_id, ""))[0].lower()
            row = rows[key]
            assert m.release_date.date == row.date
            assert f"data row {row.index} (id {row.epoch_id})" in source
            assert "data/model_versions.csv" in source
        else:
            row_id = source.split(f"{epoch_dates.TABLE} row ", 1)[1].split(";")[0]
            assert m.hf_id in reviewed[row_id].models
            assert m.release_date.date == reviewed[row_id].date
    assert models()["llama-2-7b-hf"].release_date.date.isoformat() == "2023-07-18"
    pythia = models()["pythia-12b-deduped"].release_date  # the suite's changelog dates it
    assert pythia.date.isoformat() == "2023-04-03" and "EleutherAI/pythia" in pythia.source
