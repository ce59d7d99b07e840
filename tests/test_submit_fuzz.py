"""Fuzzing the reader and the validator: every input parses, or yields ReadError / Problems.

Three generators, each run for thousands of cases: arbitrary text, mutations of a valid result
file (bytes spliced in, lines dropped or duplicated, values replaced with odd YAML scalars), and
structured documents shaped like result files with random values. Anything other than a value,
a ReadError or a list of Problems is a crash. A fourth checks that the preview's Markdown
escaping leaves nothing Markdown or HTML would act on, and `submit` reads any JSON shaped
roughly like lm-eval's without a crash. About 9,900 cases, derandomized.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from treebuilder import build_tree

from evalrunner.results.read import ReadError, parse_text
from evalrunner.results.validate import Problem, validate_tree

RESULT = "fam/fam-small/zero-shot/main.yaml"
MODEL = "fam/fam-small/model.yaml"
FUZZ = settings(max_examples=2000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# YAML fragments that have broken parsers before: tags, anchors, odd scalars, flow collections.
ODD = ["&a", "*a", "!!python/object:os.system", "!x", "<<: {}", ".nan", "-.inf", "~", "null",
       "0x1F", "0o17", "1_000", "190:20:30", "2023-02-30", "2001-12-14t21:59:43.10-05:00",
       "9" * 40, "1.0e+309", "'\u202e'", "\"\\x07\"", "\"\\0\"", "[", "]", "{", "}", "? ", ": ",
       "- ", "|", ">", "%YAML 1.1", "---", "...", "\t", "\ufeff", "yes", "no", "=", "''", "#",
       "[" * 200, "{a: " * 50, "\u2028", "\x85", "\ud800"]


@pytest.fixture(scope="module")
def tree() -> Iterator[Path]:
    shm = Path("/dev/shm")  # a file system in memory: each case writes and reads six files
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-", dir=shm if shm.is_dir() else None))
    root = build_tree(tmp / "results", {"fam-small": 1e8})  # few files: fast cases
    yield root
    shutil.rmtree(tmp)


def _validate_with(root: Path, rel: str, raw: bytes) -> list[Problem]:
    path = root / rel
    original = path.read_bytes()
    try:
        path.write_bytes(raw)
        report = validate_tree(root)
    finally:
        path.write_bytes(original)
    assert all(isinstance(p, Problem) for p in report.problems)
    return report.problems


def _parse(text: str) -> None:
    try:
        parse_text(text, "fuzz.yaml")
    except ReadError:
        pass


@FUZZ
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=400))
def test_reader_on_arbitrary_text(text: str) -> None:
    _parse(text)


@FUZZ
@given(st.lists(st.sampled_from(ODD) | st.text(max_size=8), max_size=30).map(" ".join))
def test_reader_on_odd_fragments(text: str) -> None:
    _parse(text)
    _parse(text.replace(" ", "\n"))


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    lines = original.split(b"\n")
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["insert", "drop", "dup", "value", "bytes"]))
        if op == "insert":
            lines.insert(i, draw(st.sampled_from(ODD)).encode("utf-8", "surrogatepass"))
        elif op == "drop" and len(lines) > 1:
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "value" and b": " in lines[i]:
            key = lines[i].split(b": ", 1)[0]
            lines[i] = key + b": " + draw(st.sampled_from(ODD)).encode("utf-8", "surrogatepass")
        else:
            lines[i] = lines[i][:3] + draw(st.binary(max_size=6)) + lines[i][3:]
    return b"\n".join(lines)



@FUZZ
@given(st.data())
def test_validator_on_mutated_result(tree: Path, data: st.DataObject) -> None:
    raw = data.draw(mutated((tree / RESULT).read_bytes()))
    _validate_with(tree, RESULT, raw)


@settings(FUZZ, max_examples=800)
@given(st.data())
def test_validator_on_mutated_model(tree: Path, data: st.DataObject) -> None:
    raw = data.draw(mutated((tree / MODEL).read_bytes()))
    _validate_with(tree, MODEL, raw)


SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
           | st.sampled_from(["main", "zero-shot", "acc", "arc_easy", "fam-small", "submission",
                              "runner", "import", "published", "submitted", "results/x.yaml"]))
FIELDS = ["schema_version", "model", "setting", "revision", "tier", "scores", "provenance",
          "supersedes", "id", "step", "tokens", "commit", "final", "kind", "submitter", "url",
          "metric", "value", "stderr", "n_items", "n_shot", "extra", "aggregate", "of",
          "method", "path", "reason", "arc_easy", "piqa", "answer_loss", "per_token"]
DOCS = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner,
                                      max_size=6), max_leaves=12)


@settings(FUZZ, max_examples=800)  # drawing nested documents costs more than checking them
@given(st.dictionaries(st.sampled_from(FIELDS), DOCS, min_size=1, max_size=8))
def test_validator_on_structured_documents(tree: Path, doc: dict) -> None:
    import yaml

    text = yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True)
    _validate_with(tree, RESULT, text.encode("utf-8", "surrogatepass"))


@FUZZ
@given(st.text(max_size=200) | st.lists(st.sampled_from(
    ["|", "<", ">", "[", "](", "\\", "`", "*", "_", "@", "://", "www.", "&", "#", "\n", "\u202e",
     "javascript:", "<img src=x>", "&#60;", "!["]), max_size=20).map("".join))
def test_markdown_escaping_is_inert(text: str) -> None:
    from evalrunner.submit.markdown import md

    out = md(text)
    assert "\n" not in out and "\r" not in out and "<" not in out and ">" not in out
    assert "://" not in out and "www." not in out
    i = 0
    while i < len(out):  # outside a backslash escape, no character Markdown acts on
        if out[i] == "\\":
            i += 2
            continue
        assert out[i] not in "|[]()`*_!#{}~", (text, out)
        if out[i] == "@":
            assert out[i + 1] == "\u200b"
        if out[i] == "&":  # only the entities html.escape writes
            assert re.match(r"&(amp|lt|gt);", out[i:]), (text, out)
        i += 1


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                    | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=10)
LMEVAL_KEYS = st.sampled_from(["results", "n-shot", "n-samples", "config", "versions",
                               "group_subtasks", "lm_eval_version", "configs"])
TASK = st.dictionaries(st.sampled_from(["acc,none", "acc_stderr,none", "acc", "acc_stderr",
                                        "alias", "acc_norm,none", "exact_match,strict-match"]),
                       st.floats(allow_nan=False) | st.text(max_size=4) | st.none(), max_size=4)


@settings(FUZZ, max_examples=300)
@given(st.dictionaries(LMEVAL_KEYS, JSON, max_size=5),
       st.dictionaries(st.sampled_from(["arc_easy", "piqa", "x"]), TASK, max_size=3))
def test_submit_reads_any_json_without_crashing(tree: Path, doc: dict, results: dict) -> None:
    import json

    from evalrunner.submit.submit import Submission, SubmitError, plan_submission

    doc = {**doc, "results": results} if results else doc
    source = tree.parent / "fuzz.json"
    source.write_text(json.dumps(doc))
    sub = Submission(family="fam", submitter="fuzz", model="fam-x", setting="zero-shot",
                     params=1000)
    try:
        plan_submission(source, sub, tree)
    except SubmitError:
        pass
