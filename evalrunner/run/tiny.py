"""Train the tiny model family: a reference family whose whole history we control.

Three Llama-architecture sizes, each saved at four checkpoints (step 0 = the initialisation), every
checkpoint a complete `save_pretrained` folder with its own copy of a tokenizer trained here
(a folder without tokenizer files loads an empty tokenizer silently).
Everything is seeded and single-process, so a rerun on the same machine gives the same weights.
About a minute on 2 CPU cores.

Layout written: `<out>/<model>/step<N>/` for model in `tiny-xs`, `tiny-s`, `tiny-m`.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .tinydata import corpus_lines

SEED = 0
VOCAB_SIZE = 512
SEQ_LEN = 64
BATCH = 32
TOKENS_PER_STEP = SEQ_LEN * BATCH  # recorded as Revision.tokens = step * TOKENS_PER_STEP
STEPS = (0, 100, 200, 300)
WARMUP = 20
LR = 5e-3  # one recipe for every size: a reference family varies only N and D
EOS = "<|endoftext|>"


@dataclass(frozen=True)
class Size:
    name: str
    hidden: int
    layers: int
    heads: int
    ffn: int


# Non-embedding parameters: 23k, 82k, 328k (params.decoder_non_embedding, no biases).
SIZES = (
    Size("tiny-xs", hidden=48, layers=1, heads=4, ffn=96),
    Size("tiny-s", hidden=64, layers=2, heads=4, ffn=128),
    Size("tiny-m", hidden=128, layers=2, heads=4, ffn=256),
)


def train_tokenizer(lines: list[str]):
    """A byte-level BPE trained on the corpus, wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE, special_tokens=[EOS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(lines, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=EOS, eos_token=EOS, pad_token=EOS, unk_token=EOS,
        model_max_length=SEQ_LEN * 2,
    )


def save_tokenizer(tokenizer, folder: Path) -> None:
    tokenizer.save_pretrained(folder)
    # transformers 5 writes its own class name, which transformers 4 cannot load
    cfg_path = folder / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")


def token_stream(tokenizer, lines: list[str], epochs: int, seed: int = SEED) -> list[int]:
    """The corpus shuffled `epochs` times, one sentence per line, as token ids."""
    rng = random.Random(seed)
    ids: list[int] = []
    encoded = [tokenizer(line + "\n").input_ids for line in lines]
    for _ in range(epochs):
        order = list(range(len(lines)))
        rng.shuffle(order)
        for i in order:
            ids.extend(encoded[i])
    return ids


def build_model(size: Size, vocab_size: int, eos_id: int):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size, hidden_size=size.hidden, intermediate_size=size.ffn,
        num_hidden_layers=size.layers, num_attention_heads=size.heads,
        num_key_value_heads=size.heads, max_position_embeddings=SEQ_LEN * 2,
        tie_word_embeddings=True, bos_token_id=eos_id, eos_token_id=eos_id,
        pad_token_id=eos_id,
    )
    torch.manual_seed(SEED)
    return LlamaForCausalLM(config)


def _lr_at(step: int, peak: float, total: int) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    import math

    if step < WARMUP:
        return peak * (step + 1) / WARMUP
    progress = (step - WARMUP) / max(1, total - WARMUP)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def train_size(size: Size, tokenizer, stream: list[int], out: Path,
               steps: tuple[int, ...] = STEPS) -> list[Path]:
    """Train one size for max(steps) steps, saving a checkpoint folder at each of `steps`."""
    import torch

    data = torch.tensor(stream, dtype=torch.long)
    model = build_model(size, len(tokenizer), tokenizer.eos_token_id)
    optim = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01,
                              betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(SEED)
    saved = []
    for step in range(max(steps) + 1):
        if step in steps:
            folder = out / size.name / f"step{step}"
            model.save_pretrained(folder)
            save_tokenizer(tokenizer, folder)
            saved.append(folder)
        if step == max(steps):
            break
        starts = torch.randint(0, len(data) - SEQ_LEN - 1, (BATCH,), generator=gen)
        batch = torch.stack([data[s : s + SEQ_LEN] for s in starts.tolist()])
        for group in optim.param_groups:
            group["lr"] = _lr_at(step, LR, max(steps))
        loss = model(input_ids=batch, labels=batch).loss
        optim.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optim.step()
    return saved


def train_family(out: Path, sizes: tuple[Size, ...] = SIZES, steps: tuple[int, ...] = STEPS,
                 log: Callable[[str], None] = print) -> list[Path]:
    """Train every size into `out`; returns the checkpoint folders in order."""
    import torch

    torch.manual_seed(SEED)
    lines = corpus_lines()
    tokenizer = train_tokenizer(lines)
    tokens_needed = max(steps) * TOKENS_PER_STEP
    per_epoch = len(token_stream(tokenizer, lines, 1))
    stream = token_stream(tokenizer, lines, epochs=max(2, tokens_needed // per_epoch + 1))
    folders = []
    for size in sizes:
        t0 = time.perf_counter()
        folders += train_size(size, tokenizer, stream, out, steps)
        log(f"trained {size.name} ({max(steps)} steps) in {time.perf_counter() - t0:.1f} s")
    return folders
