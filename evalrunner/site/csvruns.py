"""Big CSV downloads as runs of rows per model, each run's text kept in the build's memo store
(evalrunner.memo), so a rebuild formats only the runs that changed.

The API's results.csv is 70 MB and 3 s of pandas at 10,000 result files, and a new result
changes one model's rows. A file here is its header, then one run per model in frame order;
a run's text is stored under the digest of its rows (every column, pandas' row hashes, and the
column types). pandas formats every value on its own, so the runs joined are exactly the CSV of
the whole frame (tests compare). Nothing is read from a previous build's output.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from evalrunner.memo import Memo, frame_types, row_hashes

from .tables import cut_csv, frame_csv

KIND = "csv-run"
# Fewer rows than this and the file is formatted whole: nothing to save.
MIN_ROWS = 10_000


def _runs(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(starts, ends) of the runs of equal keys, or None if a key has two runs."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    ends = np.r_[starts[1:], len(keys)]
    return (starts, ends) if len(set(keys[starts].tolist())) == len(starts) else None


def csv_text(frame: pd.DataFrame, key: str, memo: Memo | None) -> str:
    """frame_csv(frame), with the text of each unchanged run of `key` taken from `memo`."""
    frame = frame.reset_index(drop=True)
    keys = frame[key].astype(object).to_numpy()
    cuts = _runs(keys) if len(frame) >= MIN_ROWS and memo is not None and memo.enabled \
        else None
    if cuts is None:
        return frame_csv(frame)
    assert memo is not None
    types, hashes = frame_types(frame), row_hashes(frame)
    names = [memo.key(KIND, hashlib.blake2b(types + hashes[a:b].tobytes(),
                                            digest_size=16).digest())
             for a, b in zip(*cuts, strict=True)]
    found = [memo.read(KIND, name, "csv") for name in names]
    missing = [i for i, raw in enumerate(found) if raw is None]
    header = frame_csv(frame.iloc[:0])
    if missing:
        # mostly new (a first build): one pass over every row is faster than a call per run
        cut = cut_csv(frame, cuts[1] - cuts[0]) if len(missing) > len(found) // 2 else None
        for i in missing:
            a, b = cuts[0][i], cuts[1][i]
            text = cut[1][i] if cut is not None else \
                frame_csv(frame.iloc[a:b])[len(header):]
            found[i] = text.encode("utf-8")
            memo.write(KIND, names[i], found[i], "csv")
    return b"".join([header.encode("utf-8"), *found]).decode("utf-8")  # type: ignore[list-item]
