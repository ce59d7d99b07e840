"""The reviewed architecture table: its rows count to the models' known exact totals, agree
with the sizes the results tables publish, and give the catalogue exact non-embedding counts."""

from __future__ import annotations

import pytest
from shared_data import DATA

from evalrunner.importers import architectures, load_catalog
from evalrunner.importers.base import SourceDataError
from evalrunner.params import count_params

ROWS = {row.models[0]: row for row in architectures.load_table()}

# Totals as the weights give them (sum of tensor sizes, the figure on each model's Hub page),
# with whether the head is tied, which the table itself leaves out.
KNOWN_TOTALS = {
    "meta-llama/Llama-2-7b-hf": (6_738_415_616, False),
    "mistralai/Mistral-7B-v0.1": (7_241_732_096, False),
    "meta-llama/Meta-Llama-3-8B": (8_030_261_248, False),
    "google/gemma-7b": (8_537_680_896, True),
    "google/gemma-2-2b": (2_614_341_888, True),
    "mistralai/Mixtral-8x7B-v0.1": (46_702_792_704, False),
    "tiiuae/falcon-7b": (6_921_720_704, True),
    "microsoft/phi-2": (2_779_683_840, False),
}


@pytest.mark.parametrize("hf_id", sorted(KNOWN_TOTALS))
def test_rows_count_to_the_known_exact_totals(hf_id):
    total, tied = KNOWN_TOTALS[hf_id]
    counts = count_params({**ROWS[hf_id].config, "tie_word_embeddings": tied})
    assert counts.total == total


def test_llama_3_and_mistral_share_their_non_embedding_layers():
    # Same 32 layers at width 4096 (GQA 8, FFN 14336); only the vocabularies differ.
    ne = {h: count_params(ROWS[h].config).non_embedding
          for h in ("meta-llama/Meta-Llama-3-8B", "mistralai/Mistral-7B-v0.1")}
    assert len(set(ne.values())) == 1 and ne["mistralai/Mistral-7B-v0.1"] == 6_979_588_096


@pytest.fixture(scope="module")
def catalog():
    if DATA is None:
        pytest.skip("published data not found: set DENSITOMETER_SHARED_DATA")
    return load_catalog(DATA)


def test_every_row_agrees_with_the_published_size(catalog):
    # A transcription slip (a wrong layer count or width) moves the count by far more than a
    # rounding: the total or the non-embedding count lies within 12% of the published size.
    # A published "total" below the exact non-embedding count is a nominal size, not a total
    # (ObsScaling's 2.0B for Gemma-2-2B, 2.6B in all): the catalogue leaves it out and says so.
    by_hf = {(m.hf_id or "").lower(): m for m in catalog.models.values()}
    checked, dropped = 0, []
    for hf_id, row in ROWS.items():
        model = by_hf[hf_id.lower()]
        counts = count_params(row.config)
        published = model.params.total
        if published is None:
            assert "published total size" in model.notes and "left out" in model.notes, hf_id
            dropped.append(hf_id)
            continue
        assert published.source == "published", hf_id
        assert counts.non_embedding <= published.value, hf_id
        gap = min(abs(counts.total - published.value), abs(counts.non_embedding - published.value))
        assert gap / published.value <= 0.12, (hf_id, counts.total, published.value)
        checked += 1
    assert checked >= 24 and checked + len(dropped) == len(ROWS) >= 30
    assert "google/gemma-2-2b" in dropped and "google/gemma-7b" in dropped


def test_catalog_takes_the_exact_non_embedding_count(catalog):
    by_hf = {(m.hf_id or "").lower(): m for m in catalog.models.values()}
    gemma = by_hf["google/gemma-2-2b"]
    assert gemma.params.non_embedding.value == 2_024_517_888
    assert gemma.params.non_embedding.source == "config"
    assert gemma.params.total is None  # ObsScaling's 2.0B is not its total
    assert gemma.name and gemma.family == "gemma-2"  # identity from the results tables
    assert "entry Gemma-2-2b" in gemma.notes and "litgpt@0006c973" in gemma.notes
    llama = by_hf["meta-llama/llama-2-7b-hf"]
    assert llama.params.non_embedding.value == 6_476_271_616
    assert llama.params.total.value == 7e9 and llama.params.total.source == "published"
    mixtral = by_hf["mistralai/mixtral-8x7b-v0.1"]
    assert mixtral.params.active_non_embedding.source == "config"
    assert mixtral.params.active_non_embedding.value == 12_617_781_248
    assert mixtral.params.active.source == "published"  # the paper's 12.9B stays beside it
    # Pythia's own exact counts are not replaced by the table (it has no Pythia rows anyway).
    pythia = catalog.models["pythia-12b"]
    assert pythia.params.non_embedding.value == 11_327_027_200


def test_bad_rows_are_refused_with_the_row_named(tmp_path):
    head = "source: {repository: a/b, commit: abcdef12, path: c.py}\nrows:\n"
    bad = tmp_path / "t.yaml"
    bad.write_text(head + "- {models: [x/y], entry: e, config: {model_type: t5}}\n")
    with pytest.raises(SourceDataError, match=r"rows\[0\]\.config"):
        architectures.load_table(bad)
    bad.write_text(head + "- {models: [x/y], entry: e, config: {model_type: llama,"
                   " hidden_size: 8}}\n")
    with pytest.raises(SourceDataError, match="num_hidden_layers"):
        architectures.load_table(bad)
    row = ("- {models: [X/Y], entry: e, config: {model_type: llama, hidden_size: 8, "
           "num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 8, vocab_size: 4}}\n")
    bad.write_text(head + row + row.replace("X/Y", "x/y"))
    with pytest.raises(SourceDataError, match="each model in one row"):
        architectures.load_table(bad)
    bad.write_text("rows: []\n")
    with pytest.raises(SourceDataError, match="repository, commit and path"):
        architectures.load_table(bad)
