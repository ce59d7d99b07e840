"""Parameter counting: known answers (Pythia, OPT, BLOOM, the Densing Law reference models)
and agreement with transformers itself for every supported architecture."""

from __future__ import annotations

import json
import struct

import pytest

from evalrunner.params import (
    ParamCountError,
    count_model_dir,
    count_params,
    count_state_dict,
    decoder_non_embedding,
    safetensors_shapes,
)

# GPT-NeoX hyperparameters of the Pythia suite (Biderman et al. 2023, Table 1): d_model, layers,
# heads, vocabulary rows; intermediate 4*d, untied embeddings.
PYTHIA = {
    "70m": (512, 6, 8, 50304), "160m": (768, 12, 12, 50304), "410m": (1024, 24, 16, 50304),
    "1b": (2048, 16, 8, 50304), "1.4b": (2048, 24, 16, 50304), "2.8b": (2560, 32, 32, 50304),
    "6.9b": (4096, 32, 32, 50432), "12b": (5120, 36, 40, 50688),
}
# Total / non-embedding: the published Pythia counts (the ones results/pythia*/*/model.yaml record).
PYTHIA_COUNTS = {
    "70m": (70_426_624, 18_915_328), "160m": (162_322_944, 85_056_000),
    "410m": (405_334_016, 302_311_424), "1b": (1_011_781_632, 805_736_448),
    "1.4b": (1_414_647_808, 1_208_602_624), "2.8b": (2_775_208_960, 2_517_652_480),
    "6.9b": (6_857_302_016, 6_444_163_072), "12b": (11_846_072_320, 11_327_027_200),
}


@pytest.mark.parametrize("size", list(PYTHIA))
def test_pythia_counts_match_the_published_ones(size):
    d, layers, heads, vocab = PYTHIA[size]
    config = {"model_type": "gpt_neox", "hidden_size": d, "num_hidden_layers": layers,
              "num_attention_heads": heads, "intermediate_size": 4 * d, "vocab_size": vocab,
              "tie_word_embeddings": False}
    counts = count_params(config)
    assert (counts.total, counts.non_embedding) == PYTHIA_COUNTS[size]
    assert counts.embedding == 2 * vocab * d
    assert counts.active is None


# Densing Law reference models: (n_layer, d, d_ffn, d_head, n_head, n_kv) -> non-embedding N.
DENSING = [((8, 256, 640, 64, 4, 1), 5_247_232), ((12, 512, 1280, 64, 8, 2), 31_470_080),
           ((36, 1536, 3840, 64, 24, 3), 828_225_024)]


@pytest.mark.parametrize(("shape", "expected"), DENSING)
def test_densing_reference_models(shape, expected):
    n_layer, d, d_ffn, d_head, n_head, n_kv = shape
    assert decoder_non_embedding(*shape) == expected
    config = {"model_type": "llama", "hidden_size": d, "num_hidden_layers": n_layer,
              "intermediate_size": d_ffn, "num_attention_heads": n_head, "head_dim": d_head,
              "num_key_value_heads": n_kv, "vocab_size": 32000}
    counts = count_params(config)
    assert counts.non_embedding == expected
    assert counts.embedding == 2 * 32000 * d


def test_known_totals_of_opt_and_bloom():
    # Published totals: opt-125m / opt-350m / opt-1.3b and the BLOOM model cards.
    opt = {"model_type": "opt", "vocab_size": 50272, "max_position_embeddings": 2048}
    assert count_params({**opt, "hidden_size": 768, "num_hidden_layers": 12,
                         "ffn_dim": 3072}).total == 125_239_296
    assert count_params({**opt, "hidden_size": 1024, "num_hidden_layers": 24, "ffn_dim": 4096,
                         "word_embed_proj_dim": 512, "do_layer_norm_before": False}
                        ).total == 331_196_416
    assert count_params({**opt, "hidden_size": 2048, "num_hidden_layers": 24,
                         "ffn_dim": 8192}).total == 1_315_758_080
    bloom = {"model_type": "bloom", "vocab_size": 250880}
    assert count_params({**bloom, "hidden_size": 1024, "n_layer": 24}).total == 559_214_592
    assert count_params({**bloom, "hidden_size": 4096, "n_layer": 30}).total == 7_069_016_064


def test_gpt2_small_is_124m():
    config = {"model_type": "gpt2", "n_embd": 768, "n_layer": 12, "vocab_size": 50257,
              "n_positions": 1024}
    counts = count_params(config)
    assert counts.total == 124_439_808
    assert counts.embedding == 50257 * 768 + 1024 * 768  # tied head counted once


def test_mixtral_8x7b_matches_its_published_total_and_active():
    config = {"model_type": "mixtral", "hidden_size": 4096, "num_hidden_layers": 32,
              "num_attention_heads": 32, "num_key_value_heads": 8, "intermediate_size": 14336,
              "vocab_size": 32000, "num_local_experts": 8, "num_experts_per_tok": 2}
    counts = count_params(config)
    assert abs(counts.total - 46.7e9) < 0.05e9  # "46.7B total"
    assert abs(counts.active - 12.9e9) < 0.05e9  # "12.9B active per token"
    assert counts.active_non_embedding == counts.active - 2 * 32000 * 4096


def test_unknown_architecture_and_bad_values_raise():
    with pytest.raises(ParamCountError, match="model_type"):
        count_params({"model_type": "t5"})
    with pytest.raises(ParamCountError, match="hidden_size"):
        count_params({"model_type": "gpt_neox", "hidden_size": 12.5, "num_hidden_layers": 2,
                      "vocab_size": 10})
    with pytest.raises(ParamCountError, match="num_hidden_layers"):
        count_params({"model_type": "llama", "hidden_size": 8})


TINY = {
    "GPTNeoXConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                          intermediate_size=256, vocab_size=100),
    "GPT2Config": dict(n_embd=32, n_layer=2, n_head=4, vocab_size=101, n_positions=64),
    "OPTConfig": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64,
                      vocab_size=103, max_position_embeddings=50),
    "OPTConfig/350m-style": dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                 ffn_dim=64, vocab_size=103, max_position_embeddings=50,
                                 word_embed_proj_dim=16, do_layer_norm_before=False),
    "BloomConfig": dict(hidden_size=32, n_layer=2, n_head=4, vocab_size=107),
    "LlamaConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=2, intermediate_size=96, vocab_size=111),
    "LlamaConfig/tied+bias": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                  num_key_value_heads=1, intermediate_size=96, vocab_size=111,
                                  tie_word_embeddings=True, attention_bias=True, mlp_bias=True),
    "MistralConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=2, intermediate_size=96, vocab_size=111,
                          head_dim=32),
    "Qwen2Config": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=2, intermediate_size=96, vocab_size=111),
    "MixtralConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                          num_key_value_heads=2, intermediate_size=96, vocab_size=111,
                          num_local_experts=4, num_experts_per_tok=2),
    "GemmaConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=1, head_dim=32, intermediate_size=96,
                        vocab_size=111),
    "Gemma2Config": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                         num_key_value_heads=2, head_dim=24, intermediate_size=96,
                         vocab_size=111),
    "OlmoConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, intermediate_size=96, vocab_size=111),
    "OlmoConfig/tied": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                            intermediate_size=96, vocab_size=111, tie_word_embeddings=True),
    "PhiConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                      intermediate_size=96, vocab_size=111),
    "PhiConfig/qk-norm": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                              num_key_value_heads=2, intermediate_size=96, vocab_size=111,
                              qk_layernorm=True),
    "FalconConfig": dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                         vocab_size=111),
    "FalconConfig/new-architecture": dict(hidden_size=64, num_hidden_layers=2,
                                          num_attention_heads=8, num_kv_heads=2,
                                          new_decoder_architecture=True, vocab_size=111),
    "FalconConfig/sequential+bias": dict(hidden_size=64, num_hidden_layers=2,
                                         num_attention_heads=4, parallel_attn=False, bias=True,
                                         multi_query=False, vocab_size=111),
}


@pytest.fixture(scope="module")
def transformers():
    return pytest.importorskip("transformers")


@pytest.mark.parametrize("name", list(TINY))
def test_counts_equal_transformers_parameters(transformers, name):
    config = getattr(transformers, name.split("/")[0])(**TINY[name])
    model = transformers.AutoModelForCausalLM.from_config(config)
    expected = sum(p.numel() for p in model.parameters())
    counts = count_params(config.to_dict())
    assert counts.total == expected
    from_weights = count_state_dict(model.state_dict())
    assert from_weights.total == expected  # tied tensors counted once
    assert from_weights.embedding == counts.embedding


def test_model_dir_from_safetensors_headers(tmp_path, transformers):
    config = transformers.LlamaConfig(**TINY["LlamaConfig"])
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.save_pretrained(tmp_path)
    counts = count_model_dir(tmp_path)
    assert counts.total == count_params(config.to_dict()).total
    assert counts.architecture == "llama"


def test_safetensors_header_is_read_without_torch(tmp_path):
    header = json.dumps({"__metadata__": {}, "a.weight": {"dtype": "F32", "shape": [3, 4],
                                                          "data_offsets": [0, 48]},
                         "lm_head.weight": {"dtype": "F32", "shape": [10, 4],
                                            "data_offsets": [48, 208]}}).encode()
    path = tmp_path / "model.safetensors"
    path.write_bytes(struct.pack("<Q", len(header)) + header + bytes(208))
    assert safetensors_shapes(path) == {"a.weight": [3, 4], "lm_head.weight": [10, 4]}
    counts = count_model_dir(tmp_path)
    assert (counts.total, counts.embedding) == (52, 40)


def test_model_dir_without_weights_raises(tmp_path):
    with pytest.raises(ParamCountError, match="safetensors"):
        count_model_dir(tmp_path)
