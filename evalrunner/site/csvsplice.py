"""Big CSV downloads as runs of rows per model, so a rebuild formats only the runs that changed.

The API's results.csv is 70 MB and 3 s of pandas at 10,000 result files, and a new result
changes one model's rows. A file here is its header, then one run per model in frame order. A
sidecar index (`.<name>.runs.json` beside it, hidden: mkdocs does not publish dot files) keeps
the code version, a digest of the whole file and, per run, the model, a digest of its rows
(every column, pandas' row hashes) and its character range. A rebuild copies a run unchanged
from the previous file when its digest matches, and formats the others. pandas formats every
value on its own, so the runs joined are exactly the CSV of the whole frame (tests compare).
The previous file is used only if its digest is the index's, and never on a build that reuses
nothing (`densitometer build --no-cache`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pandas as pd

from .pagecache import frame_types, row_hashes
from .tables import cut_csv, frame_csv

# Fewer rows than this and the file is written whole: nothing to save.
MIN_ROWS = 10_000
_VERSION_FILES = ("csvsplice.py", "tables.py")


def index_path(rel: str) -> str:
    p = PurePosixPath(rel)
    return str(p.with_name(f".{p.name}.runs.json"))


def _version() -> str:
    """The code and library that format the runs: any change formats every run again."""
    here = Path(__file__).parent
    h = hashlib.blake2b(f"pandas {pd.__version__}".encode(), digest_size=16)
    for name in _VERSION_FILES:
        h.update((here / name).read_bytes())
    return h.hexdigest()


def _digest(text: str) -> str:
    return _digest_bytes(text.encode("utf-8"))


def _digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _previous(docs: Path | None, rel: str,
              version: str) -> tuple[str, bytes | None, dict[str, list], list, str] | None:
    """(the previous file's text, its bytes if they are ASCII (one byte per character, so the
    index's character ranges are byte ranges too, else None), model -> [run digest, start,
    end], the index's runs as written, the file digest) if the file and its index agree."""
    if docs is None:
        return None
    try:
        index = json.loads((docs / index_path(rel)).read_text(encoding="utf-8"))
        raw = (docs / rel).read_bytes()
        if index["version"] != version or index["file"] != _digest_bytes(raw):
            return None
        text = raw.decode("utf-8")
        listed = [[str(k), str(d), int(a), int(b)] for k, d, a, b in index["runs"]]
        runs = {k: [d, a, b] for k, d, a, b in listed}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return text, raw if len(raw) == len(text) else None, runs, listed, str(index["file"])


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(starts, ends) of the runs of equal keys, or None if a key has two runs."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return (starts, ends) if len(set(keys[starts].tolist())) == len(starts) else None


def csv_files(rel: str, frame: pd.DataFrame, key: str, docs: Path | None) -> dict[str, str]:
    """{rel: the CSV of `frame` (frame_csv), its index: the sidecar} with unchanged runs of
    `key` taken from the file a previous build wrote in `docs` (None: format everything)."""
    frame = frame.reset_index(drop=True)
    keys = frame[key].astype(object).to_numpy()
    cuts = _runs(keys) if len(frame) >= MIN_ROWS else None
    if cuts is None:
        return {rel: frame_csv(frame)}
    version = _version()
    previous = _previous(docs, rel, version)
    old_text, old_raw, old_runs, old_listed, old_file = (
        previous if previous is not None else ("", None, {}, [], ""))
    types, hashes = frame_types(frame), row_hashes(frame)
    header = frame_csv(frame.iloc[:0])
    digests = [hashlib.blake2b(types + hashes[a:b].tobytes(), digest_size=16).hexdigest()
               for a, b in zip(*cuts, strict=True)]
    names = [str(k) for k in keys[cuts[0]]]
    kept = [old_runs.get(k, [None])[0] == d for k, d in zip(names, digests, strict=True)]
    # mostly new (a first build): one pass over every row is faster than a call per run
    cut = cut_csv(frame, cuts[1] - cuts[0]) if kept.count(False) > len(kept) // 2 else None
    # each run: its new text, or the (start, end) of its unchanged text in the previous file
    pieces: list[str | tuple[int, int]]
    if cut is not None:
        pieces = list(cut[1])
    else:
        pieces = [(old_runs[k][1], old_runs[k][2]) if keep
                  else frame_csv(frame.iloc[a:b])[len(header):]
                  for k, keep, a, b in zip(names, kept, *cuts, strict=True)]
    index, at = [], len(header)
    whole = range(len(old_text))  # its slices measure a range of old_text without copying it
    for k, digest, piece in zip(names, digests, pieces, strict=True):
        size = len(piece) if isinstance(piece, str) else len(whole[piece[0]:piece[1]])
        index.append([k, digest, at, at + size])
        at += size
    if (previous is not None and index == old_listed and at == len(old_text)
            and old_text.startswith(header)):
        # every run unchanged and where it was: the text is the previous file's, whose digest
        # was just checked against the index
        text, file_digest = old_text, old_file
    else:
        text, file_digest = _splice(header, pieces, old_text, old_raw)
    doc: dict[str, Any] = {"version": version, "file": file_digest, "runs": index}
    return {rel: text, index_path(rel): json.dumps(doc, separators=(",", ":"))}


def _splice(header: str, pieces: list[str | tuple[int, int]], old_text: str,
            old_raw: bytes | None) -> tuple[str, str]:
    """(the text of `header` and `pieces`, its digest): neighbouring unchanged runs are copied
    as one range, and hashed from the previous file's bytes when they are its characters."""
    spans: list[str | tuple[int, int]] = [header]
    for piece in pieces:
        last = spans[-1]
        if isinstance(piece, tuple) and isinstance(last, tuple) and last[1] == piece[0]:
            spans[-1] = (last[0], piece[1])
        else:
            spans.append(piece)
    h = hashlib.blake2b(digest_size=16)
    parts = []
    view = memoryview(old_raw) if old_raw is not None else None
    for span in spans:
        if isinstance(span, str):
            parts.append(span)
            if view is not None:
                h.update(span.encode("utf-8"))
        else:
            parts.append(old_text[span[0]:span[1]])
            if view is not None:
                h.update(view[span[0]:span[1]])
    text = "".join(parts)
    if view is None:
        return text, _digest(text)
    return text, h.hexdigest()
