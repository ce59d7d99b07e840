"""The settings the importers write, and upserting tasks.yaml / settings.yaml.

Two numbers are comparable only within one setting: each source (and each shot count) gets its
own, so Pythia's 5-shot MMLU (0.299 for pythia-12b-deduped) and ObsScaling's (0.256) never meet
in a fit.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import TypeVar

from evalrunner.results.layout import SETTINGS_FILE, TASKS_FILE
from evalrunner.results.read import ReadError, read_yaml
from evalrunner.results.schema import Setting, SettingRegistry, Task, TaskRegistry

from .base import SourceDataError, Writer
from .taskdefs import all_tasks, v2_subtasks

HARNESS = "lm-evaluation-harness"
OLL_V1_COMMIT = "b281b0921b636bc36ad05c0b0b0763bd6dd43463"  # per the ObsScaling README
# Open LLM Leaderboard v1 protocol: shots and headline metrics.
OLL_V1_SHOTS = {"arc_challenge": 25, "hellaswag": 10, "truthfulqa_mc2": 0}  # others 5
OLL_V1_METRICS = {"arc_challenge": "acc_norm", "truthfulqa_mc2": "mc2"}


def _v2_shots() -> dict[str, int]:
    shots = {"leaderboard_bbh": 3, "leaderboard_math_hard": 4, "leaderboard_mmlu_pro": 5}
    for group, n in (("leaderboard_bbh", 3), ("leaderboard_math_hard", 4)):
        shots.update({t: n for t in v2_subtasks(group)})
    return shots


def all_settings() -> list[Setting]:
    pythia_src = "EleutherAI/pythia evals/ (Biderman et al. 2023, arXiv 2304.01373)"
    pythia_desc = ("The Pythia paper's evaluations: lm-evaluation-harness through its legacy "
                   "`hf-causal` model interface; headline acc, acc_norm kept beside it; MMLU "
                   "as 57 subjects plus their macro mean. OPT and BLOOM final checkpoints were "
                   "run the same way. The files name the models pythia-v1.1-*, today's "
                   "EleutherAI/pythia-*.")
    return [
        Setting(id="pythia-lmeval-0shot", name="Pythia evals, zero-shot", harness=HARNESS,
                harness_version="legacy (hf-causal interface, v0.3 era; commit not recorded)",
                n_shot=0, source=pythia_src, description=pythia_desc),
        Setting(id="pythia-lmeval-5shot", name="Pythia evals, five-shot", harness=HARNESS,
                harness_version="legacy (hf-causal interface, v0.3 era; commit not recorded)",
                n_shot=5, source=pythia_src, description=pythia_desc),
        Setting(id="obsscaling", name="ObsScaling base-model benchmarks",
                harness=f"{HARNESS}; EvalPlus for HumanEval",
                harness_version=f"{OLL_V1_COMMIT[:9]} (OLL v1 tasks), f78e2da45 (XWinograd), "
                "EvalPlus 477eab399",
                n_shot_per_task={"mmlu": 5, "arc_challenge": 25, "hellaswag": 10,
                                 "winogrande": 5, "truthfulqa_mc2": 0, "gsm8k": 5,
                                 "humaneval": 0},
                metric_per_task=dict(OLL_V1_METRICS),
                source="ObsScaling (Ruan et al. 2024, arXiv 2405.10938), "
                       "eval_results/base_llm_benchmark_eval.csv",
                description="Six tasks follow the Open LLM Leaderboard v1 protocol (scores "
                "taken from the leaderboard or rerun with its harness commit); XWinograd run "
                "with the harness (its shot count is not stated in the data, so none is "
                "recorded) and HumanEval pass@1 with EvalPlus. Fractions, no stderrs."),
        Setting(id="open-llm-leaderboard-v1", name="Open LLM Leaderboard v1", harness=HARNESS,
                harness_version=OLL_V1_COMMIT[:9], n_shot=5,
                n_shot_per_task=dict(OLL_V1_SHOTS), metric_per_task=dict(OLL_V1_METRICS),
                source="Hugging Face Open LLM Leaderboard v1, as compiled in Sloth "
                       "(Polo et al. 2024) data/data_v1.csv",
                description="ARC 25-shot acc_norm, HellaSwag 10-shot acc_norm, MMLU 5-shot "
                "(57 subjects and the overall score), TruthfulQA 0-shot MC2, WinoGrande and "
                "GSM8K 5-shot. Values as Sloth gives them (some rounded to 4 decimals)."),
        *(Setting(id=f"cerebras-gpt-card-{n}shot", name=f"Cerebras-GPT card, {n}-shot",
                  harness=HARNESS, harness_version="as in Dey et al. 2023 (not stated)", n_shot=n,
                  metric_per_task={t: "acc" for t in ("arc_challenge", "arc_easy", "hellaswag",
                                                      "openbookqa", "piqa", "winogrande")},
                  source="Cerebras-GPT model card (Dey et al. 2023, arXiv 2304.03208), as "
                         "copied into Azure/azureml-assets and transcribed in the data folder",
                  description=f"The card's {n}-shot table: lm-evaluation-harness accuracy (plain "
                  "acc) of the seven Cerebras-GPT sizes, each trained to 20 tokens per "
                  "parameter; three decimals as printed. LAMBADA left out (the card does not "
                  "say which variant).") for n in (0, 5)),
        Setting(id="olmo-ladder-rc5shot", name="OLMo ladder, ranked classification 5-shot",
                harness="OLMo in-loop evaluator (allenai/OLMo)",
                harness_version="as in OLMo-ladder 67a3f440 (not recorded per run)", n_shot=5,
                metric_per_task={t: "acc_norm" for t in (
                    "arc_easy", "arc_challenge", "commonsense_qa", "hellaswag", "openbookqa",
                    "piqa", "social_iqa", "winogrande")} | {"boolq": "acc"},
                source="AI2's model ladder (Bhagia et al. 2024, arXiv 2412.04403), "
                       "allenai/OLMo-ladder src/scripts/paper/data/ladder-runs/",
                description="Ranked classification (the answer options scored by likelihood, "
                "length-normalised: acc_norm; BoolQ plain acc), 5-shot, at every evaluated "
                "checkpoint of 30 ladder runs (5 sizes x 5 token budgets and 5 reruns) and of "
                "OLMo-2 7B and 13B; the bits per byte of the correct answer beside every score "
                "(stored as nats per byte). ARC and OpenBookQA on their test splits, the rest on "
                "validation. Not comparable with lm-evaluation-harness settings."),
        Setting(id="openlm-grid-icl", name="OpenLM grid, LLM Foundry in-context tasks",
                harness="LLM Foundry in-context evaluation (mosaicml/llm-foundry)",
                harness_version="as in mlfoundations/scaling a003c491 (not recorded per run)",
                n_shot=10, n_shot_per_task=dict.fromkeys(
                    ("hellaswag_zeroshot", "coqa", "lambada_openai", "winograd", "copa"), 0),
                metric_per_task={"hellaswag": "acc"},
                source="Gadre et al. 2024 (arXiv 2403.08540), mlfoundations/scaling exp_data/",
                description="Accuracy as LLM Foundry's in-context evaluation scores it "
                "(multiple choice: the most likely option; the rest: the exact continuation "
                "under greedy decoding) on the paper's 17-task split, for 104 OpenLM runs of "
                "one recipe on three corpora over an N x D grid (0.011B-0.411B at 0.25-32x "
                "Chinchilla, then 1.4B and 6.9B). No answer losses: the two-step fits read "
                "each run's next-token loss on held-out C4 (nats per token), the loss the "
                "paper's laws use. No stderrs. Not comparable with lm-evaluation-harness "
                "settings."),
        Setting(id="gemstones-lighteval-0shot", name="Gemstones, lighteval zero-shot",
                harness="lighteval (Hugging Face)",
                harness_version="the repo's lighteval_tasks.py (targets lighteval 0.8.1)",
                n_shot=0, metric_per_task={t: "acc_norm" for t in (
                    "arc_challenge", "arc_easy", "commonsense_qa", "mmlu", "openbookqa", "piqa",
                    "social_iqa", "winogrande")},
                source="Gemstones (McLeish et al. 2025, arXiv 2502.06857), "
                       "mcleish7/gemstone-scaling-laws benchmarks/light_eval_df.parquet",
                description="The FineWeb ablation tasks as the Gemstones repo defines them for "
                "lighteval: zero-shot, the answer options scored by log-likelihood, MMLU with "
                "the full answer text as the option (not a letter), each task capped at 1,000 "
                "items (OpenBookQA has 500), at every 10B-token checkpoint of 22 shapes. "
                "lighteval computed plain and length-normalised accuracy and the parquet keeps "
                "one value per task; the project's page plots these benchmarks as length-"
                "normalised accuracy, so they are recorded as acc_norm. MMLU is one value over "
                "its subjects. Not comparable with lm-evaluation-harness settings."),
        Setting(id="reported", name="Reported elsewhere",
                harness="as each report states", harness_version="as each report states",
                source="Every Eval Ever records and Hugging Face .eval_results files, one "
                       "result per imported file",
                description="Results another party reports, imported from its own file: "
                "shown on the model's page and in the downloads (tier reported), never in a "
                "fit, a density or a ranking. Harness, prompt and shots are the report's and "
                "are not known to be those of any measured setting, so these numbers are not "
                "comparable with them."),
        Setting(id="open-llm-leaderboard-v2", name="Open LLM Leaderboard v2", harness=HARNESS,
                harness_version="leaderboard tasks (commit not recorded in the source)",
                n_shot=0, n_shot_per_task=_v2_shots(),
                source="Hugging Face Open LLM Leaderboard v2, as compiled in Sloth "
                       "(Polo et al. 2024) data/data_v1.csv",
                description="IFEval 0-shot, BBH 3-shot, MATH Lvl 5 4-shot, GPQA 0-shot, MuSR "
                "0-shot, MMLU-Pro 5-shot; raw (not baseline-normalised) scores. The six "
                "headline values are the leaderboard's raw scores rounded to 2 decimals; the "
                "subtask values are at full precision."),
    ]


def setting(setting_id: str) -> Setting:
    for s in all_settings():
        if s.id == setting_id:
            return s
    raise SourceDataError("registry", "setting", "a setting declared in importers/registry.py",
                          setting_id)


def registered(root: Path) -> tuple[dict[str, Task], dict[str, Setting]]:
    """Tasks and settings known under a results root: its registries, then ours."""
    tasks = {t.id: t for t in all_tasks()}
    tasks.update({t.id: t for t in _existing(root / TASKS_FILE, TaskRegistry)})
    settings = {s.id: s for s in all_settings()}
    settings.update({s.id: s for s in _existing(root / SETTINGS_FILE, SettingRegistry)})
    return tasks, settings


def tasks_for(task_ids: Iterable[str]) -> list[Task]:
    """Registry entries for these task ids and their parents, in registry order."""
    table = {t.id: t for t in all_tasks()}
    wanted: set[str] = set()
    for tid in task_ids:
        if tid not in table:
            raise SourceDataError("taskdefs", tid, "a task declared in importers/taskdefs.py",
                                  "an unknown task", fix="declare it there first")
        wanted.add(tid)
        if table[tid].parent:
            wanted.add(table[tid].parent)
    return [t for t in table.values() if t.id in wanted]


T = TypeVar("T", Task, Setting)


def _merge(existing: list[T], new: Iterable[T], canonical: list[str]) -> list[T]:
    """Entries that are not ours keep their place; ours (refreshed by `new`) follow in
    canonical order, so the file does not depend on the order imports ran in."""
    mine_ids = set(canonical)
    mine = {x.id: x for x in existing if x.id in mine_ids}
    mine.update({x.id: x for x in new})
    return [x for x in existing if x.id not in mine_ids] + [mine[i] for i in canonical
                                                             if i in mine]


def _existing(path: Path, model: type) -> list:
    if not path.is_file():
        return []
    try:
        data = read_yaml(path)
        return list(getattr(model.model_validate(data), "tasks" if model is TaskRegistry
                            else "settings"))
    except (ReadError, ValueError) as err:
        raise SourceDataError(path, "file", "a valid registry to merge into", str(err)) from err


def upsert_registries(writer: Writer, task_ids: Iterable[str], setting_ids: Iterable[str]) -> None:
    """Add (or refresh) the given tasks and settings in tasks.yaml and settings.yaml."""
    root = writer.root
    tasks = _merge(_existing(root / TASKS_FILE, TaskRegistry), tasks_for(task_ids),
                   [t.id for t in all_tasks()])
    writer.write(PurePosixPath(TASKS_FILE), "tasks", TaskRegistry(tasks=tasks))
    settings = _merge(_existing(root / SETTINGS_FILE, SettingRegistry),
                      [setting(s) for s in setting_ids], [s.id for s in all_settings()])
    writer.write(PurePosixPath(SETTINGS_FILE), "settings", SettingRegistry(settings=settings))

