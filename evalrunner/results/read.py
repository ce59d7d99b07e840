"""Reading YAML that arrives in pull requests: safe, bounded, and precise about where it fails.

`yaml.safe_load` alone accepts duplicate keys (the last one silently wins), aliases (the
"billion laughs" blow-up), explicit tags, NaN and infinities. This reader refuses all of them and
names the line. The fast path uses libyaml's C parser when present; line numbers for pydantic
errors are looked up only when a file has errors.
"""

from __future__ import annotations

import math
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1024 * 1024  # 1 MiB: a result file is a few KB
MAX_DEPTH = 12
MAX_KEYS = 5000  # mapping keys in one file
MAX_STRING = 10_000
MAX_INT = 2**63 - 1  # counts and steps; larger integers become inexact or overflow as floats

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Control characters (other than tab/newline) and bidirectional overrides hide what a reviewer sees.
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


class ReadError(Exception):
    """A file that cannot be read as a results file; str() is `file:line: message`."""

    def __init__(self, path: str, message: str, line: int | None = None):
        self.path, self.message, self.line = path, message, line
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {message}")


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader that rejects duplicate keys, merge keys and non-finite floats.

    Anchors and aliases are refused earlier, from the event stream (an alias needs an anchor).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise yaml.constructor.ConstructorError(
                    None, None, "YAML merge keys (<<) are not allowed", key_node.start_mark
                )
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    None, None, f"keys must be strings, found {type(key).__name__} {key!r}",
                    key_node.start_mark,
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None,
                    f"duplicate key {key!r} (first at line {seen[key].start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise yaml.constructor.ConstructorError(
                None, None, f"NaN and infinity are not allowed, found {_clip(node.value)!r}",
                node.start_mark,
            )
        return value

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        # Checked before conversion: Python refuses to parse ints over 4,300 digits (ValueError),
        # and a count beyond 64 bits overflows when turned into a float downstream.
        if len(node.value.replace("_", "")) > 30:
            raise yaml.constructor.ConstructorError(
                None, None, f"integer out of range, found {_clip(node.value)!r}", node.start_mark)
        value = super().construct_yaml_int(node)
        if abs(value) > MAX_INT:
            raise yaml.constructor.ConstructorError(
                None, None, f"integer out of range (at most {MAX_INT}), found {value}",
                node.start_mark)
        return value

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:  # `2023-02-30` matches the timestamp pattern, then fails in datetime (ValueError)
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as err:
            raise yaml.constructor.ConstructorError(
                None, None, f"not a valid date: {_clip(node.value)!r} ({err})",
                node.start_mark) from None


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp",
                              _StrictLoader.construct_yaml_timestamp)
# Only plain data: no binary blobs, sets, ordered maps or pairs.
for _tag in ("binary", "set", "omap", "pairs"):
    _StrictLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", None)


def _check_events(text: str, path: str) -> None:
    """Anchors and explicit tags need the event stream to see; only run when they could occur."""
    if "&" not in text and "!" not in text and "*" not in text:
        return
    for event in yaml.parse(text, Loader=_BaseLoader):
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            kind = "aliases (*" if isinstance(event, yaml.AliasEvent) else "anchors (&"
            raise ReadError(path, f"YAML {kind}{anchor}) are not allowed",
                            event.start_mark.line + 1)
        tag = getattr(event, "tag", None)
        if tag is not None:
            raise ReadError(path, f"explicit YAML tags are not allowed, found {tag!r}",
                            event.start_mark.line + 1)


def _check_shape(data: Any, path: str) -> None:
    """Depth, key count, string length and hidden characters, without recursion limits."""
    keys = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ReadError(path, f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            keys += len(node)
            if keys > MAX_KEYS:
                raise ReadError(path, f"more than {MAX_KEYS} keys")
            for k, v in node.items():
                _check_string(k, path)
                stack.append((v, depth + 1))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
        elif isinstance(node, str):
            _check_string(node, path)


def _check_string(s: str, path: str) -> None:
    if len(s) > MAX_STRING:
        raise ReadError(path, f"a string of {len(s)} characters (at most {MAX_STRING}): "
                              f"{s[:40]!r}...")
    if _BAD_CHARS.search(s):
        bad = _BAD_CHARS.search(s).group()  # type: ignore[union-attr]
        raise ReadError(path, f"control or bidirectional character U+{ord(bad):04X} in {s[:60]!r}")


def parse_text(text: str, path: str) -> Any:
    """Parse YAML text with every restriction; raises ReadError naming the line."""
    try:
        _check_events(text, path)
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except RecursionError:  # the pure-Python parser, without libyaml's own depth limit
        raise ReadError(path, f"nesting deeper than {MAX_DEPTH} levels") from None
    except UnicodeEncodeError as err:  # a str with lone surrogates (never from decode())
        raise ReadError(path, f"not UTF-8 text ({err.reason})") from None
    except yaml.reader.ReaderError as err:  # a raw control character: not a marked error
        code = err.character if isinstance(err.character, int) else ord(err.character)
        raise ReadError(path, f"control character U+{code:04X} is not allowed in YAML",
                        text.count("\n", 0, err.position) + 1) from None
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else None
        raise ReadError(path, err.problem or str(err), line) from None
    except yaml.YAMLError as err:
        raise ReadError(path, f"not valid YAML: {err}") from None
    _check_shape(data, path)
    return data


def read_bytes(file: Path, display: str | None = None) -> bytes:
    """Read a file's bytes with the size and symlink limits."""
    shown = display or str(file)
    if file.is_symlink():
        raise ReadError(shown, "symbolic links are not allowed in results/")
    if not file.is_file():  # a FIFO or device would block or stream forever
        raise ReadError(shown, "not a regular file")
    size = file.stat().st_size
    if size > MAX_BYTES:
        raise ReadError(shown, f"file is {size:,} bytes; the limit is {MAX_BYTES:,} (1 MiB)")
    return file.read_bytes()


def decode(raw: bytes, path: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        bad = raw[err.start:err.start + 1]
        raise ReadError(path, f"not UTF-8 (byte {err.start}: {bad!r})") from None
    return text.removeprefix("\ufeff")


def read_yaml(file: Path, display: str | None = None) -> Any:
    """Read one YAML file under every restriction above."""
    shown = display or str(file)
    return parse_text(decode(read_bytes(file, shown), shown), shown)


def locate(text: str, loc: tuple[str | int, ...]) -> int | None:
    """1-based line of the value at a pydantic error location, or of its nearest parent."""
    try:
        node = yaml.compose(text, Loader=_BaseLoader)  # libyaml when present: 50x faster
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((kv for kv in node.value if kv[0].value == part), None)
            if match is None:
                return line
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


_HIDDEN = ("Cc", "Cf", "Cs")  # control, format (bidi, zero-width), lone surrogates


def bad_name_char(name: str) -> str | None:
    """Why a file or folder name is refused (a control, format or undecodable character), or None.

    Format characters (Unicode category Cf) include the bidirectional overrides and zero-width
    characters that make a path look like another one.
    """
    for ch in name:
        if unicodedata.category(ch) in _HIDDEN:
            return f"control or format character U+{ord(ch):04X} in the name '{shown_name(name)}'"
    return None


def shown_name(name: str) -> str:
    """A name safe to print: hidden characters written as \\uXXXX."""
    return "".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN else ch
                   for ch in name)


def normalise_id(text: str) -> str:
    """Case-folded NFKC form: two ids that differ only here would collide for a reader."""
    return unicodedata.normalize("NFKC", text).casefold()
