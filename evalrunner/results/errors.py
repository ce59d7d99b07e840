"""One wording for pydantic's errors on every file kind (results, registries, plans, Slurm
options, submissions): what was expected, and what was found with its YAML type, so a `true`
or a quoted "0.5" where a number belongs is named as what it is."""

from __future__ import annotations

from typing import Any

_KINDS = {bool: "a boolean", str: "a string", int: "an integer", float: "a number",
          list: "a list", dict: "a mapping", type(None): "null"}
_EXPECTED = {"int_type": "an integer", "float_type": "a number", "bool_type": "true or false",
             "int_from_float": "an integer", "string_type": "a string",
             "dict_type": "a mapping", "list_type": "a list"}


def found(value: Any) -> str:
    """`value` as shown in a message, cut at 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def yaml_kind(value: Any) -> str:
    """What YAML made of a value: 'a boolean', 'a string', 'a mapping', ..."""
    return _KINDS.get(type(value), type(value).__name__)


def message(e: dict) -> str:
    """The message of one pydantic error (`err.errors()` item) without its location."""
    kind, msg = e["type"], e["msg"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind in _EXPECTED:
        value = e.get("input")
        return f"expected {_EXPECTED[kind]}, found {found(value)} ({yaml_kind(value)})"
    expected = msg.removeprefix("Input should be ")
    for noun in ("String", "List", "Dictionary", "Value"):
        expected = expected.replace(f"{noun} should have", f"a {noun.lower()} with")
        expected = expected.replace(f"{noun} should match", f"a {noun.lower()} matching")
    return f"expected {expected}, found {found(e.get('input'))}"


def strict_number(value: Any) -> Any:
    """A count that may be an int or a float, but never a boolean or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, found {found(value)} ({yaml_kind(value)})")
    return value
