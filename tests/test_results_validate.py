"""Every validation rule, with its exact message."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from treebuilder import build_tree

from evalrunner.results.validate import validate_tree

RESULT = "fam/fam-small/zero-shot/main.yaml"
MODEL = "fam/fam-small/model.yaml"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return build_tree(tmp_path / "results")


def messages(root: Path) -> list[str]:
    return [str(p).replace(root.as_posix() + "/", "") for p in validate_tree(root).problems]


def edit(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1))


def test_clean_tree_has_no_problems(tree: Path) -> None:
    assert messages(tree) == []


def test_schema_comment_points_at_the_committed_schema(tree: Path) -> None:
    first = (tree / RESULT).read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../../../../schema/result.schema.json"
    # results/fam/fam-small/zero-shot/ -> four levels up is the repository root
    assert (Path("results/fam/fam-small/zero-shot") / "../../../../schema").as_posix()


@pytest.mark.parametrize(
    ("rel", "old", "new", "expected"),
    [
        (RESULT, "stderr: 0.01\n", "stderr: -0.02\n",
         f"{RESULT}:14: scores.arc_easy.stderr: expected greater than or equal to 0, found -0.02"),
        (RESULT, "  piqa:\n", "  piqa:\n    metrc: acc\n",
         f"{RESULT}:16: scores.piqa.metrc: unknown field; did you mean 'metric'? (allowed: "
         "aggregate, answer_loss, converted_from, extra, metric, n_items, n_shot, scale, stderr, "
         "value)"),
        (RESULT, "tier: published\n", "",
         f"{RESULT}:2: tier: required field is missing"),
        (RESULT, "tier: published", "tier: reproduced",
         f"{RESULT}:2: tier 'reproduced' does not match provenance kind 'import' (expected tier "
         "'published')"),
        (RESULT, "value: 0.5\n", "value: 53.2\n",
         f"{RESULT}: scores.arc_easy.value: expected a fraction in [0, 1] for acc, found 53.2 "
         "(percent? divide by 100 and set converted_from: percent)"),
        (RESULT, "setting: zero-shot", "setting: zero-shots",
         f"{RESULT}:4: setting: expected 'zero-shot' (from the file's path), found 'zero-shots'; "
         "move the file or fix the id"),
        (RESULT, "  piqa:", "  piqaa:",
         f"{RESULT}: scores.piqaa: unknown task 'piqaa'; add it to tasks.yaml; did you mean "
         "'piqa'?"),
        (RESULT, "metric: acc\n    value: 0.5", "metric: acc_norm\n    value: 0.5",
         f"{RESULT}: scores.arc_easy.metric: expected 'acc' (the headline metric of 'arc_easy' "
         "in setting 'zero-shot'), found 'acc_norm'; report others under extra"),
        (RESULT, "metric: acc\n    value: 0.5", "metric: acc\n    n_shot: 5\n    value: 0.5",
         f"{RESULT}: scores.arc_easy.n_shot: expected 0 (setting 'zero-shot'), found 5; a "
         "different shot count is another setting"),
        (RESULT, "value: 0.5", "value: .nan",
         f"{RESULT}:13: NaN and infinity are not allowed, found '.nan'"),
        (RESULT, "  piqa:\n", "  piqa:\n    answer_loss:\n      n_items: 3\n",
         f"{RESULT}:16: scores.piqa.answer_loss: expected per_token or per_byte (nats), found "
         "neither"),
        (RESULT, "value: 0.5", "value: .inf",
         f"{RESULT}:13: NaN and infinity are not allowed, found '.inf'"),
        (RESULT, "  piqa:\n", "  arc_easy:\n    metric: acc\n    value: 0.1\n  piqa:\n",
         f"{RESULT}:15: duplicate key 'arc_easy' (first at line 11)"),
        (RESULT, "revision:\n  id: main", "revision: &r\n  id: main",
         f"{RESULT}:5: YAML anchors (&r) are not allowed"),
        (RESULT, "tier: published", "tier: !!python/object/apply:os.system [ls]",
         f"{RESULT}:9: explicit YAML tags are not allowed, found "
         "'tag:yaml.org,2002:python/object/apply:os.system'"),
        (MODEL, "family: fam\n", "family: other\n",
         f"{MODEL}:4: family: expected 'fam' (from the file's path), found 'other'; move the "
         "file or fix the id"),
        (MODEL, "  non_embedding:\n    value: 100000000\n",
         "  non_embedding:\n    value: 100000000.5\n",
         f"{MODEL}:7: params.non_embedding: a count from config must be a whole number, got "
         "100000000.5"),
        (RESULT, "model: fam-small", "model: fam-smal",
         f"{RESULT}:3: model: expected 'fam-small' (from the file's path), found 'fam-smal'; "
         "move the file or fix the id"),
        ("settings.yaml", "n_shot: 0", "n_shot: -1",
         "settings.yaml:8: settings.0.n_shot: expected greater than or equal to 0, found -1"),
        ("tasks.yaml", "chance: 0.5", "chance: 1.0",
         "tasks.yaml:10: tasks.1: chance (1.0) must be below ceiling (1.0)"),
        ("fam/family.yaml", "organisation: Example Org", "organisation: Example Org\nurl: x",
         "fam/family.yaml:6: url: unknown field (allowed: description, id, license, links, name, "
         "organisation, reference, schema_version, tokenizer, training_data)"),
    ],
)
def test_rule_message(tree: Path, rel: str, old: str, new: str, expected: str) -> None:
    edit(tree, rel, old, new)
    assert expected in messages(tree)


def test_unknown_model_and_setting_with_hint(tree: Path) -> None:
    (tree / "fam/fam-small/model.yaml").unlink()
    assert f"{RESULT}: model: unknown model 'fam-small': add fam/fam-small/model.yaml" in (
        messages(tree))
    edit(tree, "settings.yaml", "id: zero-shot", "id: zero-shot-v2")
    assert (f"{RESULT}: setting: unknown setting 'zero-shot'; add it to settings.yaml; did you "
            "mean 'zero-shot-v2'?") in messages(tree)


def test_imported_accuracy_needs_a_stderr_or_items(tree: Path) -> None:
    edit(tree, RESULT, "    stderr: 0.01\n", "")
    assert messages(tree) == []  # tasks.yaml gives n_items: the binomial stderr is defined
    edit(tree, "tasks.yaml", "  n_items: 2376\n", "")
    assert messages(tree) == [
        f"{RESULT}: scores.arc_easy.stderr: imported accuracy needs a stderr, or n_items here or "
        "in tasks.yaml for the binomial stderr"]


def test_an_invalid_file_does_not_cascade(tree: Path) -> None:
    edit(tree, MODEL, "name: fam-small", "name: ''")
    assert messages(tree) == [
        f"{MODEL}:5: name: expected a string with at least 1 character, found ''"]


def test_duplicate_result_for_one_revision(tree: Path) -> None:
    src = (tree / RESULT).read_text()
    (tree / "fam/fam-small/zero-shot/step143000.yaml").write_text(
        src.replace("id: main", "id: step143000"))
    assert ("fam/fam-small/zero-shot/step143000.yaml: revision: duplicate result: "
            f"{tree.as_posix()}/{RESULT} already holds model 'fam-small', setting 'zero-shot', "
            "revision step 143000") in [str(p).replace(tree.as_posix() + "/", "", 1)
                                        for p in validate_tree(tree).problems]


def test_file_in_wrong_place_and_oversize_and_non_utf8(tree: Path) -> None:
    (tree / "fam/stray.yaml").write_text("a: 1\n")
    (tree / "fam/fam-small/zero-shot/big.yaml").write_text("a: '" + "x" * (1024 * 1024) + "'\n")
    (tree / "fam/fam-small/zero-shot/latin1.yaml").write_bytes(b"model: caf\xe9\n")
    got = messages(tree)
    assert ("fam/stray.yaml: not a results file location; expected tasks.yaml, settings.yaml, "
            "<family>/family.yaml, <family>/<model>/model.yaml or "
            "<family>/<model>/<setting>/<revision>.yaml") in got
    assert ("fam/fam-small/zero-shot/big.yaml: file is 1,048,582 bytes; the limit is 1,048,576 "
            "(1 MiB)") in got
    assert "fam/fam-small/zero-shot/latin1.yaml: not UTF-8 (byte 10: b'\\xe9')" in got


def test_symlink_is_refused(tree: Path) -> None:
    (tree / "fam/fam-small/zero-shot/link.yaml").symlink_to(tree / RESULT)
    assert ("fam/fam-small/zero-shot/link.yaml: symbolic links are not allowed in results/"
            in messages(tree))


def test_aggregate_must_be_the_macro_mean(tree: Path) -> None:
    edit(tree, "tasks.yaml", "tasks:\n", "tasks:\n- id: avg\n  name: Avg\n  metric: acc\n"
         "  chance: 0.25\n  output_type: mixed\n")
    edit(tree, RESULT, "scores:\n", "scores:\n  avg:\n    metric: acc\n    value: 0.6\n"
         "    aggregate:\n      method: macro_mean\n      of: [arc_easy, piqa]\n")
    assert (f"{RESULT}: scores.avg.value: expected the macro mean of its 2 subtasks, 0.575, "
            "found 0.6") in messages(tree)


def test_ids_colliding_after_case_folding(tree: Path) -> None:
    edit(tree, "tasks.yaml", "- id: piqa", "- id: ARC_EASY")
    assert ("tasks.yaml: tasks.1.id: duplicate id 'ARC_EASY' (ids must differ after case "
            "folding and Unicode normalisation)") in messages(tree)


def test_cli_exit_codes_and_github_format(tree: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "evalrunner", "validate", str(tree)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    edit(tree, RESULT, "stderr: 0.01\n", "stderr: -0.02\n")
    bad = subprocess.run([sys.executable, "-m", "evalrunner", "validate", str(tree),
                          "--format", "github"], capture_output=True, text=True)
    assert bad.returncode == 1
    assert (f"::error file={tree.as_posix()}/{RESULT},line=14::scores.arc_easy.stderr: expected "
            "greater than or equal to 0, found -0.02") in bad.stdout.splitlines()
