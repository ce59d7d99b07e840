"""Plausibility warnings, with known answers."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from treebuilder import build_tree

from evalrunner.metrics.laws import p_pow
from evalrunner.results.validate import validate_tree
from evalrunner.submit.plausibility import (
    binomial_stderr,
    count_disagreement,
    plausibility_problems,
)

RESULT = "fam/fam-small/zero-shot/main.yaml"
MODEL = "fam/fam-small/model.yaml"


def warnings(root: Path, results: set[str] | None = None) -> list[str]:
    tree = validate_tree(root).tree
    found = plausibility_problems(tree, "", results=results)
    assert all(p.severity == "warning" for p in found)
    return [str(p) for p in found]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    text = (root / rel).read_text()
    assert old in text
    (root / rel).write_text(text.replace(old, new, 1))


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "results")


def test_known_values() -> None:
    assert binomial_stderr(0.5, 2500) == pytest.approx(0.01)
    assert binomial_stderr(0.5, None) is None
    assert count_disagreement(101, 100) is None  # 1% is allowed
    assert count_disagreement(102, 100) == pytest.approx(0.02)


def test_clean_tree_has_no_warnings(tree: Path) -> None:
    assert warnings(tree) == []


def test_below_chance_by_more_than_two_stderr(tree: Path) -> None:
    edit(tree, RESULT, "value: 0.65\n", "value: 0.45\n")  # piqa: chance 0.5, stderr 0.011
    assert warnings(tree) == [
        f"{RESULT}: scores.piqa.value: below chance: 0.45 is 4.5 stderr under the chance level "
        "0.5; a prompt-format or label problem?"]
    edit(tree, RESULT, "value: 0.45\n", "value: 0.49\n")  # within 2 stderr: noise
    assert warnings(tree) == []


@pytest.mark.parametrize(("stderr", "message"), [
    ("0.03", "stderr 0.03 is 2.92x the binomial sqrt(p(1-p)/n) = 0.01026"),
    ("0.004", "stderr 0.004 is 0.39x the binomial sqrt(p(1-p)/n) = 0.01026"),
    ("0.006", None),  # 0.585x: within a factor of 2
    ("0.02", None),  # 1.95x
])
def test_stderr_against_n_items(tree: Path, stderr: str, message: str | None) -> None:
    edit(tree, RESULT, "stderr: 0.01\n", f"stderr: {stderr}\n")  # arc_easy 0.5, n 2376
    got = warnings(tree)
    if message is None:
        assert got == []
    else:
        assert got == [f"{RESULT}: scores.arc_easy.stderr: {message} for n_items 2376; expected "
                       "within a factor of 2 (check n_items, or a stderr in percent)"]


def _set_arc(root: Path, model: str, value: float) -> None:
    """arc_easy's value, with the binomial stderr for its 2376 items."""
    rel = f"fam/{model}/zero-shot/main.yaml"
    stderr = binomial_stderr(value, 2376)
    text = re.sub(r"value: [0-9.]+\n    stderr: [0-9.]+\n", f"value: {value!r}\n    stderr: "
                  f"{stderr!r}\n", (root / rel).read_text(), count=1)
    (root / rel).write_text(text)


def test_far_above_the_family_curve(tmp_path: Path) -> None:
    sizes = {f"m{i}": 10.0 ** (8 + i / 2) for i in range(5)}  # 1e8 .. 1e10
    root = build_tree(tmp_path / "results", sizes)
    a, b = 0.8, -0.12  # a P_pow curve on arc_easy (chance 0.25): 0.43 at 1e9
    for model, n in sizes.items():
        _set_arc(root, model, float(p_pow(a, b, math.log10(n), 0.25, 1.0)))
    assert warnings(root) == []
    _set_arc(root, "m2", 0.9)
    assert warnings(root, results={"fam/m2/zero-shot/main.yaml"}) == [
        "fam/m2/zero-shot/main.yaml: scores.arc_easy.value: far above its family's fitted "
        "curve: 0.900 vs 0.433 predicted (P_pow on log10 N from 4 other fam models); "
        "contamination or an error?"]
    _set_arc(root, "m2", 0.47)  # 3.7 points above: within noise of the curve
    assert warnings(root) == []


def test_parameter_counts_that_disagree(tree: Path) -> None:
    edit(tree, MODEL, "params:\n", "params:\n  total:\n    value: 150000000\n    source: "
         "declared\n  embedding:\n    value: 20000000\n    source: config\n")
    assert warnings(tree) == [
        f"{MODEL}: params.total: total 150,000,000 differs from non_embedding + embedding "
        "120,000,000 by 25.0% (more than 1%)"]


def test_curve_is_floored_at_chance(tmp_path: Path) -> None:
    """Below the family's range P_pow falls under chance (0.1875 at 1e6 here): a tiny model at
    chance is not "far above" it."""
    sizes = {f"m{i}": 10.0 ** (8 + i / 2) for i in range(5)} | {"tiny": 1e6}
    root = build_tree(tmp_path / "results", sizes)
    for model, n in sizes.items():
        _set_arc(root, model, float(p_pow(0.8, -0.12, math.log10(n), 0.25, 1.0)))
    assert float(p_pow(0.8, -0.12, 6.0, 0.25, 1.0)) == pytest.approx(0.1875, abs=1e-4)
    edit(root, "fam/tiny/zero-shot/main.yaml", "value: 0.85", "value: 0.5")  # piqa at chance
    _set_arc(root, "tiny", 0.26)
    assert warnings(root, results={"fam/tiny/zero-shot/main.yaml"}) == []
    _set_arc(root, "tiny", 0.4)
    assert warnings(root, results={"fam/tiny/zero-shot/main.yaml"}) == [
        "fam/tiny/zero-shot/main.yaml: scores.arc_easy.value: far above its family's fitted "
        "curve: 0.400 vs 0.250 predicted (P_pow on log10 N from 5 other fam models); "
        "contamination or an error?"]
