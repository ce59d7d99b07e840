"""No lax coercion in any file a user submits: every numeric or boolean field of every schema
model (result files, registries, families, models, plans, Slurm options) rejects booleans,
numeric strings and containers, with one exact message. Ints where a float belongs are fine
(YAML writes 1.0 as 1)."""

from __future__ import annotations

import types
import typing

import pytest
from pydantic import BeforeValidator, ValidationError
from pydantic import Strict as NoCoercion

import evalrunner.run.plan  # noqa: F401 - registers the plan models
import evalrunner.run.slurm_options  # noqa: F401 - registers SlurmOptions
from evalrunner.results import errors, schema

KEYS = {"seeds": "random"}  # dict fields whose keys are not task ids


def _models(cls=schema.Strict):
    for sub in cls.__subclasses__():
        yield sub
        yield from _models(sub)


def _kind(tp, metadata=()) -> tuple[str, tuple] | None:
    """'number' / 'int' / 'bool' and the path inside the field (dict key, list index), or
    None for a field that holds no number or flag."""
    if any(isinstance(m, BeforeValidator) and m.func is errors.strict_number for m in metadata):
        return "number", ()
    if any(isinstance(m, NoCoercion) for m in metadata):  # pydantic moves a top-level Annotated
        return {float: "number", int: "int", bool: "bool"}.get(tp), ()  # into the metadata
    if typing.get_origin(tp) is typing.Annotated:
        base, *extra = typing.get_args(tp)
        if any(isinstance(m, NoCoercion) for m in extra):
            return {float: "number", int: "int", bool: "bool"}.get(base), ()
        return _kind(base, (*metadata, *extra))
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        kinds = [k for k in (_kind(a) for a in typing.get_args(tp)) if k]
        return kinds[0] if kinds else None
    if origin is dict:
        inner = _kind(typing.get_args(tp)[1])
        return (inner[0], ("KEY", *inner[1])) if inner else None
    if origin is list:
        inner = _kind(typing.get_args(tp)[0])
        return (inner[0], (0, *inner[1])) if inner else None
    return None


FIELDS = sorted({(m.__name__, name, *k) for m in _models()
                 for name, f in m.model_fields.items()
                 if (k := _kind(f.annotation, tuple(f.metadata)))}, key=str)
BY_NAME = {m.__name__: m for m in _models()}
BAD = {"number": [True, False, "0.5", "1e9", [0.5], {"v": 0.5}],
       "int": [True, "3", 2.5, [3], {"v": 3}],
       "bool": ["true", "yes", 1, 0.0, [True]]}
EXPECTED = {"number": "a number", "int": "an integer", "bool": "true or false"}


def test_every_file_kind_has_its_numbers_checked():
    models = {f[0] for f in FIELDS}
    assert {"Count", "Task", "Setting", "Family", "Model", "Revision", "AnswerLoss", "Score",
            "MetricValue", "RunnerProvenance", "RunOptions", "StepSpan", "SlurmOptions",
            "PlanSetting", "Sampling"} <= models
    assert ("Score", "value", "number", ()) in FIELDS
    assert ("RunnerProvenance", "n_samples", "int", ("KEY",)) in FIELDS


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f"{f[0]}.{f[1]}")
def test_no_coercion(field):
    model_name, name, kind, inner = field
    model = BY_NAME[model_name]
    for bad in BAD[kind]:
        value = bad
        for step in reversed(inner):
            value = {KEYS.get(name, "arc_easy"): value} if step == "KEY" else [value]
        with pytest.raises(ValidationError) as err:
            model.model_validate({name: value})
        here = [e for e in err.value.errors() if e["loc"][:1] == (name,)]
        messages = {errors.message(e) for e in here}
        assert (f"expected {EXPECTED[kind]}, found {bad!r} ({errors.yaml_kind(bad)})"
                in messages), (bad, messages)


def test_ints_are_fine_where_floats_belong():
    assert schema.Score(metric="acc", value=1, stderr=0).value == 1.0
    assert schema.Count(value=7_000_000_000, source="config").value == 7_000_000_000


@pytest.mark.parametrize(("value", "message"), [
    (2023, "expected a date as YYYY-MM-DD, found 2023"),
    (True, "expected a date as YYYY-MM-DD, found True"),
    ("2023-1-5", "expected a date as YYYY-MM-DD, found '2023-1-5'"),
    ("2023-02-30", "expected a date as YYYY-MM-DD, found '2023-02-30'"),
])
def test_dates_are_dates(value, message):
    with pytest.raises(ValidationError) as err:
        schema.ReleaseDate.model_validate({"date": value, "source": "a paper"})
    assert message in {errors.message(e) for e in err.value.errors()}
