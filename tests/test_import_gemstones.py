"""Gemstones: the committed checkpoints are the parquet's, the final one is the runs file's last
step, the item counts and the non-embedding counts follow from the source's own numbers, and
bad source rows are named."""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from shared_data import DATA, NEEDS_DATA, RESULTS

from evalrunner.importers import gemstones
from evalrunner.importers.base import SourceDataError
from evalrunner.results.read import read_yaml
from evalrunner.results.schema import Model, Result

pytestmark = NEEDS_DATA


def committed() -> dict[tuple[str, str], Result]:
    out = {}
    for path in (RESULTS / "gemstones").glob(f"*/{gemstones.SETTING}/*.yaml"):
        res = Result.model_validate(read_yaml(path))
        out[res.model, res.revision.id] = res
    return out


def test_every_checkpoint_is_committed_with_the_parquets_values():
    values = pd.read_parquet(DATA / gemstones.SCORES)
    errors = pd.read_parquet(DATA / gemstones.STDERRS)
    runs = gemstones.shapes(DATA)
    results = committed()
    assert len(results) == len(values) == 22 * 35
    for index in values.index:
        shape, rev = index.removeprefix("Gemstone-").split("-", 1)
        ours = "main" if rev == "main" else f"step{int(rev.removeprefix('step_'))}"
        res = results[f"gemstone-{shape}", ours]
        assert {t: s.value for t, s in res.scores.items()} == {
            t: float(values.loc[index, c]) for t, c in gemstones.TASKS.items()}
        assert {t: s.stderr for t, s in res.scores.items()} == {
            t: float(errors.loc[index, c]) for t, c in gemstones.TASKS.items()}
        assert res.revision.tokens == runs[shape].checkpoints[res.revision.step].tokens
        assert res.revision.final == (rev == "main") and res.provenance.row == index
    # the final checkpoint: 350B tokens, the step the parquet has no step_ row for
    main = results["gemstone-1024x28", "main"]
    assert (main.revision.step, main.revision.tokens) == (83_475, 350_119_526_400)


def test_item_counts_are_what_the_stderrs_imply():
    values = pd.read_parquet(DATA / gemstones.SCORES)
    errors = pd.read_parquet(DATA / gemstones.STDERRS)
    res = next(iter(committed().values()))
    for task, column in gemstones.TASKS.items():
        implied = (values[column] * (1 - values[column]) / errors[column] ** 2 + 1).round()
        if task == "mmlu":  # a mean over subjects: no one count
            assert res.scores[task].n_items is None and implied.nunique() > 1
        else:
            assert set(implied) == {res.scores[task].n_items}, task


def test_non_embedding_counts_follow_from_the_runs_that_differ_in_depth():
    """Two runs of one width differ by whole layers; what is left outside the layers is the two
    embedding matrices (50,304 rows each) and the final norm, for every width with two depths."""
    runs = gemstones.shapes(DATA)
    by_width = defaultdict(list)
    for s in runs.values():
        by_width[s.width].append((int(s.shape.split("x")[1]), s.total))
    checked = 0
    for width, pairs in by_width.items():
        if len(pairs) < 2:
            continue
        (d0, t0), (d1, t1) = sorted(pairs)[:2]
        per_layer = (t1 - t0) // (d1 - d0)
        assert (t1 - t0) % (d1 - d0) == 0
        for depth, total in pairs:
            assert total - depth * per_layer == 2 * gemstones.VOCAB_ROWS * width + width
        checked += 1
    assert checked == 6
    for s in runs.values():
        m = Model.model_validate(read_yaml(RESULTS / "gemstones" / s.model / "model.yaml"))
        assert m.params.total.value == s.total
        assert m.params.total.value - m.params.non_embedding.value == 2 * 50_304 * s.width
        assert (m.release_date.date.isoformat(), m.release_date.precision) == ("2025-02-01",
                                                                               "month")
        assert m.hf_id == f"tomg-group-umd/Gemstone-{s.shape}"


def _copy(tmp_path: Path) -> Path:
    for rel in (gemstones.SCORES, gemstones.STDERRS, gemstones.RUNS):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(DATA / rel, tmp_path / rel)
    return tmp_path


def test_a_bad_runs_line_is_named(tmp_path: Path):
    root = _copy(tmp_path)
    path = root / gemstones.RUNS
    lines = path.read_text().splitlines()
    doc = json.loads(lines[4])
    doc["tokens"] = -1
    lines[4] = json.dumps(doc)
    path.write_text("\n".join(lines))
    with pytest.raises(SourceDataError) as err:
        gemstones.shapes(root)
    assert str(path) in str(err.value) and "line 5 tokens" in str(err.value)


def test_a_bad_row_is_named():
    run = gemstones.shapes(DATA)["1024x28"]
    path = DATA / gemstones.SCORES
    with pytest.raises(SourceDataError) as err:
        gemstones._revision(path, "Gemstone-1024x28-step_00000001", run)
    assert "step_00000001" in str(err.value) and "a step of" in str(err.value)
    values = pd.read_parquet(path).iloc[0].copy()
    errors = pd.read_parquet(DATA / gemstones.STDERRS).iloc[0].copy()
    values["piqa"] = 72.1
    with pytest.raises(SourceDataError) as err:
        gemstones.scores_of(path, "Gemstone-1024x28-main", values, errors)
    assert "piqa" in str(err.value) and "[0, 1]" in str(err.value)
