"""The hostile corpus (tests/hostile/): each file, put into a valid tree, yields exactly the
problems tests/hostile/expected.yaml lists, and validation never raises.

Cases that cannot be stored as a plain file (symbolic links, an oversize file, hidden
characters in file names) are made here, with their exact messages too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from treebuilder import build_tree

from evalrunner.results.validate import validate_tree

HOSTILE = Path(__file__).parent / "hostile"
EXPECTED = yaml.safe_load((HOSTILE / "expected.yaml").read_text(encoding="utf-8"))
RESULT = "fam/fam-small/zero-shot/main.yaml"


@pytest.fixture(scope="module")
def valid_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tree(tmp_path_factory.mktemp("valid") / "results")


@pytest.fixture()
def tree(valid_tree: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(valid_tree, tmp_path / "results", symlinks=True))


def problems(root: Path) -> list[str]:
    return [str(p).replace(root.as_posix() + "/", "") for p in validate_tree(root).problems]


def test_corpus_is_complete() -> None:
    files = sorted(p.stem for p in HOSTILE.glob("*.yaml") if p.name != "expected.yaml")
    assert files == sorted(EXPECTED)
    assert len(files) >= 40
    assert all(case["problems"] for case in EXPECTED.values())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file(tree: Path, name: str) -> None:
    case = EXPECTED[name]
    (tree / case["at"]).write_bytes((HOSTILE / f"{name}.yaml").read_bytes())
    assert problems(tree) == case["problems"]


def test_the_valid_tree_is_clean(tree: Path) -> None:
    assert problems(tree) == []


# ---------------------------------------------------------------------------------------------
# Cases made at test time


def test_symlinked_file_and_folder(tree: Path) -> None:
    (tree / RESULT).unlink()
    (tree / RESULT).symlink_to("/etc/passwd")
    (tree / "fam/fam-large/zero-shot").rename(tree / "elsewhere")
    (tree / "fam/fam-large/zero-shot").symlink_to(tree / "elsewhere")
    got = problems(tree)
    assert f"{RESULT}: symbolic links are not allowed in results/" in got
    assert "fam/fam-large/zero-shot: symbolic links are not allowed in results/" in got


def test_oversize_file_is_not_read(tree: Path) -> None:
    with (tree / RESULT).open("r+b") as fh:
        fh.truncate(5 * 1024 * 1024)  # sparse: the size check comes before any read
    assert problems(tree) == [f"{RESULT}: file is 5,242,880 bytes; the limit is 1,048,576 (1 MiB)"]


def test_hidden_characters_in_names(tree: Path) -> None:
    src = (tree / RESULT).read_bytes()
    (tree / "fam/fam-small/zero-shot/ma\u202ein.yaml").write_bytes(src)
    (tree / "fam/fam-small/zero\u200b-shot").mkdir()
    (tree / "fam/fam-small/zero\u200b-shot/main.yaml").write_bytes(src)
    os.mkdir(os.fsencode(tree / "fam/fam-small") + b"/caf\xe9")
    assert problems(tree) == [
        "fam/fam-small/caf\\udce9: control or format character U+DCE9 in the name "
        "'caf\\udce9'",
        "fam/fam-small/zero-shot/ma\\u202ein.yaml: control or format character U+202E in the "
        "name 'ma\\u202ein.yaml'",
        "fam/fam-small/zero\\u200b-shot: control or format character U+200B in the name "
        "'zero\\u200b-shot'",
    ]


def test_fifo_is_not_read(tree: Path) -> None:
    (tree / RESULT).unlink()
    os.mkfifo(tree / RESULT)  # reading it would block forever
    assert problems(tree) == [f"{RESULT}: not a regular file"]


def test_files_outside_the_layout(tree: Path) -> None:
    src = (tree / RESULT).read_bytes()
    (tree / "fam/fam-small/zero-shot/nested").mkdir()
    (tree / "fam/fam-small/zero-shot/nested/main.yaml").write_bytes(src)
    (tree / "fam/fam-small/zero-shot/main.yml").write_bytes(src)
    where = ("not a results file location; expected tasks.yaml, settings.yaml, "
             "<family>/family.yaml, <family>/<model>/model.yaml or "
             "<family>/<model>/<setting>/<revision>.yaml")
    assert problems(tree) == [f"fam/fam-small/zero-shot/main.yml: {where}",
                              f"fam/fam-small/zero-shot/nested/main.yaml: {where}"]


def test_hostile_files_are_not_in_results() -> None:
    """The corpus lives under tests/: `densitometer validate results/` never sees it."""
    assert "results" not in HOSTILE.resolve().parts[-3:]
