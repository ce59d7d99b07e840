"""Every number the two-stage, diagnostics and sampling tables publish is declared in the metric
registry (name, formula, citation), and the methodology page lists each of those tables."""

from __future__ import annotations

import math

import pandas as pd
from test_science_passk import _items
from test_science_twostage import family

from evalrunner.metrics import registry
from evalrunner.metrics.compute import compute_all
from evalrunner.site.pages.methodology import TABLE_TITLES

TABLES = ("twostage", "diagnostics", "passk", "coverage", "passuntil")
CONTEXT = {"n_points", "low_dof", "final"}  # identifiers beside the numbers


def _mc_items(frames) -> pd.DataFrame:
    """Two 2-choice items per revision of the synthetic family, gold log-likelihood = -proxy."""
    rows = []
    for r in frames.scores.itertuples():
        for doc, other in enumerate((-1.5, -3.0)):
            gold = -r.answer_nll_token
            rows.append({"family": r.family, "model": r.model, "revision": r.revision,
                         "setting": r.setting, "task": r.task, "doc_id": doc, "filter": "none",
                         "output_type": "multiple_choice", "n_choices": 2, "gold": 0,
                         "ll_gold": gold, "lse_choices": math.log(math.exp(gold)
                                                                  + math.exp(other)),
                         "correct": float(gold > other)})
    return pd.DataFrame(rows)


def test_registry_declares_every_published_column():
    frames = family()
    sampled = _items("m10000000", [1, 2, 0, 4], 4).assign(setting="zero-shot", revision="d1.0")
    tables = compute_all(frames, items=pd.concat([_mc_items(frames), sampled])).tables()
    missing = []
    for name in TABLES:
        table = tables[name]
        assert len(table), name
        for col in table.columns:
            numeric = pd.api.types.is_numeric_dtype(table[col]) and table[col].dtype != bool
            if numeric and col not in CONTEXT:
                try:
                    spec = registry.lookup(name, col)
                except KeyError:
                    missing.append(f"{name}.{col}")
                    continue
                assert spec.formula and spec.citation and spec.description, spec
    assert not missing


def test_methodology_titles_every_table():
    assert set(TABLES) <= set(TABLE_TITLES)
    topics = {d.topic for d in registry.DECISIONS}
    assert {"Two-stage points", "Diagnostics points", "Repeated sampling",
            "Coverage fit"} <= topics


def test_metric_tables_are_the_stage_tables():
    """METRIC_TABLES (the API's list, in its order) is every table the stage computes, in
    compute.MetricTables' order, and every registry entry belongs to one of them."""
    assert tuple(compute_all(family()).tables()) == registry.METRIC_TABLES
    assert {m.table for m in registry.METRICS} == set(registry.METRIC_TABLES)
