"""A full import from ../shared/data reproduces the committed results/ byte for byte, and a second
run changes nothing. A full import takes about 20-25 s on 2 cores (most of it YAML emitting), so
the second run repeats the table sources in full and a sample of the Pythia files.
The committed tree's validity is checked by test_results_validate.py; the fresh one equals it."""

from __future__ import annotations

import random
from pathlib import PurePosixPath

import pytest
from shared_data import DATA, NEEDS_DATA, RESULTS

from evalrunner.importers import ALL, load_catalog, pythia, run_import
from evalrunner.importers.base import Writer, find_data_root
from evalrunner.importers.manifest import Manifest
from evalrunner.results.read import read_yaml
from evalrunner.results.schema import SettingRegistry, TaskRegistry

pytestmark = NEEDS_DATA
REGISTRIES = ("tasks.yaml", "settings.yaml")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    catalog = load_catalog(find_data_root(DATA))
    reports = [run_import(source, DATA, root, catalog) for source in ALL]
    return root, reports, catalog


def test_fresh_import_equals_the_committed_files(fresh):
    root, reports, _ = fresh
    written = sorted({f for r in reports for f in r.files} - set(REGISTRIES))
    # results of pythia+tables, olmo-ladder, card, openlm-grid, gemstones; model.yaml and
    # family.yaml files
    assert len(written) == 1000 + 3850 + 14 + 104 + 770 + 319 + 55
    different = [f for f in written
                 if (root / f).read_bytes() != (RESULTS / f).read_bytes()]
    assert not different, f"{len(different)} files differ, e.g. {different[:3]}; rerun " \
                          "`densitometer import all --into results/` and review the diff"


def test_registries_hold_the_same_entries(fresh):
    root, _, _ = fresh
    for name, model, attr in (("tasks.yaml", TaskRegistry, "tasks"),
                              ("settings.yaml", SettingRegistry, "settings")):
        ours = {x.id: x for x in getattr(model.model_validate(read_yaml(root / name)), attr)}
        committed = {x.id: x for x in getattr(model.model_validate(read_yaml(RESULTS / name)),
                                              attr)}
        assert {i: committed.get(i) for i in ours} == ours


def test_counts(fresh):
    _, reports, catalog = fresh
    by = {r.source: r for r in reports}
    assert by["pythia"].results == 16 * (27 + 15) + 8 + 5
    assert by["obsscaling"].results == 148
    assert by["olmo-ladder"].results == 3850  # every evaluated checkpoint of 32 runs
    assert by["openlm-grid"].results == 104  # one final checkpoint per run
    assert by["gemstones"].results == 22 * 35  # every 10B tokens to 350B
    assert len(catalog.models) == 319 and len(catalog.families) == 55
    notes = by["epoch-dates"].notes
    assert any(note.startswith("Epoch rows: 52 of 185") for note in notes)
    dated = sum(1 for m in catalog.models.values() if m.release_date)
    assert any(note.startswith(f"release dates: {dated} of 185") for note in notes)


def test_a_second_run_changes_no_byte(fresh):
    root, _, catalog = fresh
    for source in ("obsscaling", "sloth", "epoch-dates"):  # these rewrite every model.yaml
        report = run_import(source, DATA, root, catalog)
        assert report.changed == [], (source, report.changed[:3])
    writer = Writer(root)
    manifest = Manifest(DATA)
    items = pythia.series()
    for item in random.Random(3).sample(items, 12):
        path = sorted((DATA / pythia.FOLDER / item.folder).glob(item.pattern))[-1]
        res = pythia.import_file(path, manifest, item)
        family = catalog.models[res.model].family
        writer.write(PurePosixPath(family, res.model, res.setting, f"{res.revision.id}.yaml"),
                     "result", res)
    assert writer.changed == [] and len(writer.unchanged) == 12
