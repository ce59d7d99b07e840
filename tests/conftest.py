"""Shared test setup: never reach a model hub."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The single-node Slurm fixture (session-scoped, so all Slurm tests share one cluster).
from slurm_cluster import slurm_cluster  # noqa: E402, F401

# The tiny model family, trained and run once per session (end-to-end tests).
from tiny_family import tiny_plan, tiny_results  # noqa: E402, F401
