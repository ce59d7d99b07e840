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
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _previous(docs: Path | None, rel: str, version: str) -> tuple[str, dict[str, list]] | None:
    """(the previous file's text, model -> [run digest, start, end]) if both are consistent."""
    if docs is None:
        return None
    try:
        index = json.loads((docs / index_path(rel)).read_text(encoding="utf-8"))
        text = (docs / rel).read_text(encoding="utf-8")
        if index["version"] != version or index["file"] != _digest(text):
            return None
        runs = {str(k): [str(d), int(a), int(b)] for k, d, a, b in index["runs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return text, runs


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
    old_text, old_runs = previous if previous is not None else ("", {})
    types, hashes = frame_types(frame), row_hashes(frame)
    header = frame_csv(frame.iloc[:0])
    digests = [hashlib.blake2b(types + hashes[a:b].tobytes(), digest_size=16).hexdigest()
               for a, b in zip(*cuts, strict=True)]
    names = [str(k) for k in keys[cuts[0]]]
    kept = [old_runs.get(k, [None])[0] == d for k, d in zip(names, digests, strict=True)]
    # mostly new (a first build): one pass over every row is faster than a call per run
    cut = cut_csv(frame, cuts[1] - cuts[0]) if kept.count(False) > len(kept) // 2 else None
    pieces = cut[1] if cut is not None else None
    if pieces is None:
        pieces = [old_text[old_runs[k][1]:old_runs[k][2]] if keep
                  else frame_csv(frame.iloc[a:b])[len(header):]
                  for k, keep, a, b in zip(names, kept, *cuts, strict=True)]
    index, at = [], len(header)
    for k, digest, piece in zip(names, digests, pieces, strict=True):
        index.append([k, digest, at, at + len(piece)])
        at += len(piece)
    pieces.insert(0, header)
    text = "".join(pieces)
    doc: dict[str, Any] = {"version": version, "file": _digest(text), "runs": index}
    return {rel: text, index_path(rel): json.dumps(doc, separators=(",", ":"))}
