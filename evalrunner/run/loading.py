"""Loading one revision through lm-eval's model registry, and the facts recorded about it:
weights hash or hub commit, parameter counts, and lm-eval's tokenization of answers.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from evalrunner.results.schema import Count, Params

from .convert import TokenCounter
from .matrix import ShardSpec

# Files that make a folder loadable by transformers' AutoTokenizer: without one
# of them it loads an empty tokenizer silently.
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "tokenizer.model",
                   "spiece.model")
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".gguf")


class ModelLoadError(Exception):
    """A revision that cannot be loaded: which, from where, and what to do."""


def set_offline(offline: bool) -> None:
    """Hub access off before transformers/datasets are imported (they read it at import)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if offline:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"


def check_local(spec: ShardSpec) -> None:
    """Fail clearly, before lm-eval would turn a bad path into a hub lookup."""
    folder = Path(spec.source)
    if not folder.is_dir():
        raise ModelLoadError(f"{spec.key}: no model folder {folder} (from the plan's path)")
    if spec.run.backend != "hf":
        return
    if not (folder / "config.json").is_file():
        raise ModelLoadError(f"{spec.key}: {folder} has no config.json: not a transformers "
                             "model folder")
    if "tokenizer" not in spec.run.model_args and not any(
            (folder / f).is_file() for f in TOKENIZER_FILES):
        raise ModelLoadError(f"{spec.key}: {folder} has no tokenizer files; transformers would "
                             "load an empty tokenizer silently. Save the tokenizer into every "
                             "checkpoint, or set run.model_args.tokenizer in the plan")


def model_args(spec: ShardSpec) -> dict[str, Any]:
    if spec.run.backend == "dummy":
        return {}
    args: dict[str, Any] = {"pretrained": spec.source}
    if spec.run.dtype:
        args["dtype"] = spec.run.dtype
    if spec.hub_revision:
        args["revision"] = spec.hub_revision
    return args | dict(spec.run.model_args)


def load_lm(spec: ShardSpec):
    """The lm-eval LM for this revision, loaded once for all its settings."""
    if spec.local:
        check_local(spec)
    from lm_eval.api.registry import get_model

    try:
        cls = get_model(spec.run.backend)
    except (KeyError, ValueError) as err:
        raise ModelLoadError(f"{spec.key}: unknown lm-eval backend {spec.run.backend!r}: "
                             f"{err}") from None
    return cls.create_from_arg_obj(model_args(spec), {"batch_size": spec.run.batch_size,
                                                      "device": spec.run.device})


def hf_model(lm: Any) -> Any | None:
    """The transformers model inside an lm-eval LM, if there is one."""
    model = getattr(lm, "_model", None)
    return model if model is not None and hasattr(model, "config") else None


def weights_sha(folder: Path) -> str | None:
    """sha256 over the weight files of a local folder, in name order (`sha256:<hex>`)."""
    files = sorted(p for p in folder.iterdir() if p.suffix in WEIGHT_SUFFIXES and p.is_file())
    if not files:
        return None
    digest = hashlib.sha256()
    for p in files:
        digest.update(p.name.encode() + b"\0")
        with open(p, "rb") as fh:
            while chunk := fh.read(1 << 22):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def model_sha(spec: ShardSpec, lm: Any) -> tuple[str | None, str | None]:
    """(model_sha for provenance, hub commit for Revision.commit)."""
    if spec.local:
        return weights_sha(Path(spec.source)), None
    model = hf_model(lm)
    commit = getattr(getattr(model, "config", None), "_commit_hash", None)
    if isinstance(commit, str) and len(commit) == 40:
        return commit, commit
    return None, None


def count_params(spec: ShardSpec, lm: Any) -> tuple[Params | None, str | None]:
    """(counts, architecture): exact, from the config (evalrunner.params), else the weights."""
    from evalrunner.params import ParamCountError, count_params, count_state_dict

    model = hf_model(lm)
    if model is None:
        return None, None
    config = model.config.to_dict()
    arch = config.get("model_type")
    try:
        counts, source = count_params(config), "config"
    except ParamCountError:
        counts, source = count_state_dict(model.state_dict(), str(arch)), "safetensors"

    def c(n: int | None) -> Count | None:
        return Count(value=n, source=source) if n else None

    params = Params(total=c(counts.total), non_embedding=c(counts.non_embedding),
                    embedding=c(counts.embedding), active=c(counts.active),
                    active_non_embedding=c(counts.active_non_embedding))
    return params, arch


def token_counter(lm: Any) -> TokenCounter | None:
    """Answer tokens exactly as lm-eval's loglikelihood encodes them (API `_encode_pair`)."""
    encode_pair = getattr(lm, "_encode_pair", None)
    tok_encode = getattr(lm, "tok_encode", None)
    if encode_pair is None or tok_encode is None:
        return None  # e.g. the dummy model: no tokenizer, no per-token loss

    def count(context: str, continuation: str) -> int:
        if context == "":  # lm-eval conditions on the prefix token and encodes alone
            return len(tok_encode(continuation, add_special_tokens=False))
        return len(encode_pair(context, continuation)[1])

    return count

