"""Exact parameter counts: from a Hugging Face-style config dict, or from the weights themselves.

Density and scaling fits use non-embedding N (Kaplan et al. 2020,
arXiv 2001.08361, section 2.1). For the standard decoder of the Densing Law reference models
(GQA attention, gated FFN, RMSNorm, no biases) it is

    N = n_layer*(2*d*d_head*n_head + 2*d*d_head*n_kv + 3*d*d_ffn + 2*d) + d

For the other architectures every weight the config implies is counted, bias by bias, so the
total equals ``sum(p.numel() for p in model.parameters())`` of the transformers model (the tests
check this against transformers itself). Embedding = token embedding + unembedding when untied +
learned position table; everything else, norms and projections included, is non-embedding.
Mixture-of-experts configs also give the active count: the parameters used for one token
(attention, norms, router and the top-k experts).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from math import prod
from pathlib import Path
from typing import Any


class ParamCountError(ValueError):
    """A config or weight folder that cannot be counted; says what was expected and found."""

    def __init__(self, where: str, field: str, expected: str, found: Any):
        self.where, self.field, self.expected, self.found = where, field, expected, found
        super().__init__(f"{where}: {field}: expected {expected}, found {found!r}")


@dataclass(frozen=True)
class ParamCounts:
    """Counts of one model. `active*` are set for mixture-of-experts models only."""

    total: int
    embedding: int
    architecture: str
    active: int | None = None
    active_embedding: int | None = None

    @property
    def non_embedding(self) -> int:
        return self.total - self.embedding

    @property
    def active_non_embedding(self) -> int | None:
        if self.active is None or self.active_embedding is None:
            return None
        return self.active - self.active_embedding


def decoder_non_embedding(n_layer: int, d: int, d_ffn: int, d_head: int, n_head: int,
                          n_kv: int) -> int:
    """Non-embedding N of a GQA / gated-FFN / RMSNorm decoder without biases:
    `n_layer*(2*d*d_head*n_head + 2*d*d_head*n_kv + 3*d*d_ffn + 2*d) + d`."""
    return n_layer * (2 * d * d_head * n_head + 2 * d * d_head * n_kv + 3 * d * d_ffn + 2 * d) + d


# ---------------------------------------------------------------------------------------------
# From a config


def _get(cfg: Mapping[str, Any], *keys: str, default: int | None = None) -> int:
    """The first of `keys` present in cfg, as a whole number (configs name things differently)."""
    for key in keys:
        value = cfg.get(key)
        if value is None:
            continue
        if (isinstance(value, bool) or not isinstance(value, int | float) or value < 0
                or (isinstance(value, float) and not value.is_integer())):
            raise ParamCountError("config", key, "a whole number >= 0", value)
        return int(value)
    if default is None:
        raise ParamCountError("config", " or ".join(keys), "a value", None)
    return default


def _embeddings(cfg: Mapping[str, Any], vocab: int, width: int, tie_default: bool) -> int:
    tied = cfg.get("tie_word_embeddings", tie_default)
    return vocab * width * (1 if tied else 2)


def _gpt_neox(cfg: Mapping[str, Any]) -> ParamCounts:
    # GPT-NeoX (Black et al. 2022, arXiv 2204.06745): biased q/k/v/o and MLP, two LayerNorms
    # per layer, a final LayerNorm, rotary positions (no weights), untied unembedding.
    d, n_layer = _get(cfg, "hidden_size"), _get(cfg, "num_hidden_layers")
    ffn = _get(cfg, "intermediate_size", default=4 * d)
    b = 1 if cfg.get("attention_bias", True) else 0
    layer = 2 * 2 * d + (3 * d * d + 3 * d * b) + (d * d + d * b) + (d * ffn + ffn) + (ffn * d + d)
    emb = _embeddings(cfg, _get(cfg, "vocab_size"), d, tie_default=False)
    return ParamCounts(n_layer * layer + 2 * d + emb, emb, "gpt_neox")


def _gpt2(cfg: Mapping[str, Any]) -> ParamCounts:
    # GPT-2 (Radford et al. 2019): Conv1D layers with biases, learned positions, tied head.
    d, n_layer = _get(cfg, "n_embd", "hidden_size"), _get(cfg, "n_layer", "num_hidden_layers")
    ffn = _get(cfg, "n_inner", default=4 * d)
    layer = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (d * ffn + ffn) + (ffn * d + d)
    emb = _embeddings(cfg, _get(cfg, "vocab_size"), d, tie_default=True)
    emb += _get(cfg, "n_positions", "max_position_embeddings") * d
    return ParamCounts(n_layer * layer + 2 * d + emb, emb, "gpt2")


def _opt(cfg: Mapping[str, Any]) -> ParamCounts:
    # OPT (Zhang et al. 2022, arXiv 2205.01068): the learned position table has 2 extra rows
    # (an offset kept from fairseq); opt-350m embeds at 512 and projects in and out of 1024
    # (no bias) and, being post-LN, has no final LayerNorm.
    d, n_layer = _get(cfg, "hidden_size"), _get(cfg, "num_hidden_layers")
    ffn, proj = _get(cfg, "ffn_dim"), _get(cfg, "word_embed_proj_dim", default=d)
    b = 1 if cfg.get("enable_bias", True) else 0
    norm = 2 * d if cfg.get("layer_norm_elementwise_affine", True) else 0
    layer = 4 * (d * d + d * b) + norm + (d * ffn + ffn * b) + (ffn * d + d * b) + norm
    emb = _embeddings(cfg, _get(cfg, "vocab_size"), proj, tie_default=True)
    emb += (_get(cfg, "max_position_embeddings") + 2) * d
    projections = 2 * proj * d if proj != d else 0
    final = norm if cfg.get("do_layer_norm_before", True) and not cfg.get(
        "_remove_final_layer_norm", False) else 0
    return ParamCounts(n_layer * layer + projections + final + emb, emb, "opt")


def _bloom(cfg: Mapping[str, Any]) -> ParamCounts:
    # BLOOM (BigScience 2022, arXiv 2211.05100): ALiBi (no position weights), a LayerNorm right
    # after the embedding, biased fused qkv and 4d MLP, tied head.
    d, n_layer = _get(cfg, "hidden_size", "n_embed"), _get(cfg, "n_layer", "num_hidden_layers")
    layer = 2 * 2 * d + (3 * d * d + 3 * d) + (d * d + d) + (4 * d * d + 4 * d) + (4 * d * d + d)
    emb = _embeddings(cfg, _get(cfg, "vocab_size"), d, tie_default=True)
    return ParamCounts(n_layer * layer + 2 * d + 2 * d + emb, emb, "bloom")


def _llama_like(cfg: Mapping[str, Any], arch: str, qkv_bias_default: bool,
                tie_default: bool = False, layer_norms: int = 2,
                final_norm: int = 1) -> ParamCounts:
    # Llama / Mistral / Qwen2 (and the Mixtral attention): GQA, RMSNorm (weight only), SwiGLU.
    # Gemma is the same layer with a tied head and its own head_dim; Gemma-2 adds a norm
    # before and after the MLP (four per layer); OLMo-1 has norms without weights.
    d, n_layer = _get(cfg, "hidden_size"), _get(cfg, "num_hidden_layers")
    n_head = _get(cfg, "num_attention_heads")
    n_kv = _get(cfg, "num_key_value_heads", default=n_head)
    d_head = _get(cfg, "head_dim", default=d // n_head)
    attn_bias = bool(cfg.get("attention_bias", False))
    qkv_b = 1 if attn_bias or qkv_bias_default else 0
    o_b = 1 if attn_bias and not qkv_bias_default else 0  # Qwen2 biases q/k/v only
    attn = (d * d_head * (n_head + 2 * n_kv) + qkv_b * d_head * (n_head + 2 * n_kv)
            + n_head * d_head * d + o_b * d)
    emb = _embeddings(cfg, _get(cfg, "vocab_size"), d, tie_default=tie_default)
    ffn = _get(cfg, "intermediate_size")
    mlp_b = 1 if cfg.get("mlp_bias", False) else 0
    expert = 3 * d * ffn + mlp_b * (2 * ffn + d)
    n_experts = _get(cfg, "num_local_experts", default=0)
    if not n_experts:
        layer = attn + expert + layer_norms * d
        return ParamCounts(n_layer * layer + final_norm * d + emb, emb, arch)
    top_k = _get(cfg, "num_experts_per_tok")
    router = d * n_experts  # Mixtral's gate: a bias-free linear d -> n_experts
    total = n_layer * (attn + router + n_experts * expert + 2 * d) + d + emb
    active = n_layer * (attn + router + top_k * expert + 2 * d) + d + emb
    return ParamCounts(total, emb, arch, active=active, active_embedding=emb)


def _phi(cfg: Mapping[str, Any]) -> ParamCounts:
    # Phi-1.5 / Phi-2 (Microsoft): one LayerNorm per layer feeding attention and MLP in
    # parallel, biased q/k/v/dense and fc1/fc2, a final LayerNorm, an untied head with a bias
    # (the bias is not an embedding table, so it counts as non-embedding, as in the weights).
    d, n_layer = _get(cfg, "hidden_size"), _get(cfg, "num_hidden_layers")
    n_head = _get(cfg, "num_attention_heads")
    n_kv = _get(cfg, "num_key_value_heads", default=n_head)
    d_head, ffn, vocab = d // n_head, _get(cfg, "intermediate_size"), _get(cfg, "vocab_size")
    attn = d * d_head * (n_head + 2 * n_kv) + d_head * (n_head + 2 * n_kv) + (d * d + d)
    qk_norm = 2 * 2 * d_head if cfg.get("qk_layernorm", False) else 0
    layer = 2 * d + attn + qk_norm + (d * ffn + ffn) + (ffn * d + d)
    emb = _embeddings(cfg, vocab, d, tie_default=False)
    return ParamCounts(n_layer * layer + 2 * d + vocab + emb, emb, "phi")


def _falcon(cfg: Mapping[str, Any]) -> ParamCounts:
    # Falcon (TII): fused qkv with multi-query (7B) or grouped kv heads (the "new decoder
    # architecture" of 40B/180B, with one LayerNorm for attention and one for the MLP),
    # parallel attention and MLP, no linear biases by default, tied head.
    d, n_layer = _get(cfg, "hidden_size"), _get(cfg, "num_hidden_layers")
    n_head = _get(cfg, "num_attention_heads")
    d_head = d // n_head
    new_arch = bool(cfg.get("new_decoder_architecture", False))
    if new_arch:
        n_kv = _get(cfg, "num_kv_heads", default=n_head)
    else:
        n_kv = 1 if cfg.get("multi_query", True) else n_head
    b = 1 if cfg.get("bias", False) else 0
    ffn = _get(cfg, "ffn_hidden_size", default=4 * d)
    qkv = (n_head + 2 * n_kv) * d_head
    attn = d * qkv + b * qkv + d * d + b * d
    mlp = d * ffn + b * ffn + ffn * d + b * d
    if new_arch:
        norms = 2 * d * _get(cfg, "num_ln_in_parallel_attn", default=2)
    else:
        norms = 2 * d * (1 if cfg.get("parallel_attn", True) else 2)
    emb = _embeddings(cfg, _get(cfg, "vocab_size"), d, tie_default=True)
    return ParamCounts(n_layer * (attn + mlp + norms) + 2 * d + emb, emb, "falcon")


COUNTERS: dict[str, Callable[[Mapping[str, Any]], ParamCounts]] = {
    "gpt_neox": _gpt_neox,
    "gpt2": _gpt2,
    "opt": _opt,
    "bloom": _bloom,
    "llama": lambda c: _llama_like(c, "llama", qkv_bias_default=False),
    "mistral": lambda c: _llama_like(c, "mistral", qkv_bias_default=False),
    "qwen2": lambda c: _llama_like(c, "qwen2", qkv_bias_default=True),
    "mixtral": lambda c: _llama_like(c, "mixtral", qkv_bias_default=False),
    "gemma": lambda c: _llama_like(c, "gemma", qkv_bias_default=False, tie_default=True),
    "gemma2": lambda c: _llama_like(c, "gemma2", qkv_bias_default=False, tie_default=True,
                                    layer_norms=4),
    "olmo": lambda c: _llama_like(c, "olmo", qkv_bias_default=False, layer_norms=0,
                                  final_norm=0),
    "phi": _phi,
    "falcon": _falcon,
}


def count_params(config: Mapping[str, Any]) -> ParamCounts:
    """Exact counts from a Hugging Face `config.json` dict (model_type decides the layout)."""
    model_type = config.get("model_type")
    counter = COUNTERS.get(str(model_type))
    if counter is None:
        raise ParamCountError("config", "model_type", f"one of {', '.join(sorted(COUNTERS))} "
                              "(else count the weights with count_model_dir)", model_type)
    return counter(config)


# ---------------------------------------------------------------------------------------------
# From weights

# Tensor names (module paths) that hold embedding, unembedding or position tables.
EMBEDDING_MODULES = re.compile(
    r"(^|\.)(embed_in|embed_out|wte|wpe|embed_tokens|embed_positions|lm_head|word_embeddings|"
    r"position_embeddings|tok_embeddings)\.weight$|^output\.weight$"  # output: Meta's own format
)


def count_state_dict(tensors: Mapping[str, Any], architecture: str = "unknown") -> ParamCounts:
    """Counts from a state dict (name -> tensor) or a mapping name -> shape.

    Tensors that share storage (tied embeddings in `model.state_dict()`) are counted once.
    """
    total = embedding = 0
    seen: set[int] = set()
    for name, item in sorted(tensors.items()):
        if hasattr(item, "data_ptr"):
            ptr = item.data_ptr()
            if ptr in seen and item.numel() > 0:
                continue
            seen.add(ptr)
            n = int(item.numel())
        else:
            n = prod(int(s) for s in _shape(name, item))
        total += n
        if EMBEDDING_MODULES.search(name):
            embedding += n
    return ParamCounts(total, embedding, architecture)


def _shape(name: str, item: Any) -> Sequence[int]:
    shape = getattr(item, "shape", item)
    if not isinstance(shape, Sequence | tuple) or not all(isinstance(s, int) for s in shape):
        raise ParamCountError("state dict", name, "a tensor or a shape (sequence of ints)", item)
    return shape


def safetensors_shapes(path: Path) -> dict[str, list[int]]:
    """Tensor shapes from a .safetensors header (8-byte little-endian length + JSON); no torch."""
    with open(path, "rb") as fh:
        raw = fh.read(8)
        if len(raw) != 8:
            raise ParamCountError(str(path), "header", "an 8-byte header length", raw)
        (length,) = struct.unpack("<Q", raw)
        if length > 100_000_000:
            raise ParamCountError(str(path), "header", "a header under 100 MB", length)
        header = json.loads(fh.read(length))
    return {k: v["shape"] for k, v in header.items() if k != "__metadata__"}


def count_model_dir(path: Path) -> ParamCounts:
    """Counts from a local model folder: *.safetensors headers, else pytorch_model*.bin (torch).

    The architecture comes from config.json when present. MoE active counts need the config
    (count_params), since the weights do not say how many experts a token uses.
    """
    path = Path(path)
    arch = "unknown"
    if (path / "config.json").is_file():
        arch = str(json.loads((path / "config.json").read_text()).get("model_type", "unknown"))
    files = sorted(path.glob("*.safetensors"))
    if files:
        shapes: dict[str, list[int]] = {}
        for f in files:
            shapes.update(safetensors_shapes(f))
        return count_state_dict(shapes, arch)
    bins = sorted(path.glob("pytorch_model*.bin"))
    if not bins:
        raise ParamCountError(str(path), "weights", "*.safetensors or pytorch_model*.bin", None)
    import torch  # only for legacy pickled weights

    state: dict[str, Any] = {}
    for f in bins:
        state.update(torch.load(f, map_location="cpu", weights_only=True, mmap=True))
    return count_state_dict(state, arch)
