"""The tasks the importers write, declared once: chance level, direction, items, citation.

Chance: 1/k for k-way multiple choice, 0 for generative tasks and LAMBADA. An aggregate's
chance is the item-weighted mean of its subtasks' (its score is an item-weighted mean).
Item counts are those of the evaluated split; for the Pythia tasks they agree with
`p(1-p)/stderr^2 + 1` computed from the published stderrs.
"""

from __future__ import annotations

from evalrunner.results.schema import Task

# MMLU (Hendrycks et al. 2021): subject -> test items (14,042 in all).
MMLU_SUBJECTS: dict[str, int] = {
    "abstract_algebra": 100, "anatomy": 135, "astronomy": 152, "business_ethics": 100,
    "clinical_knowledge": 265, "college_biology": 144, "college_chemistry": 100,
    "college_computer_science": 100, "college_mathematics": 100, "college_medicine": 173,
    "college_physics": 102, "computer_security": 100, "conceptual_physics": 235,
    "econometrics": 114, "electrical_engineering": 145, "elementary_mathematics": 378,
    "formal_logic": 126, "global_facts": 100, "high_school_biology": 310,
    "high_school_chemistry": 203, "high_school_computer_science": 100,
    "high_school_european_history": 165, "high_school_geography": 198,
    "high_school_government_and_politics": 193, "high_school_macroeconomics": 390,
    "high_school_mathematics": 270, "high_school_microeconomics": 238,
    "high_school_physics": 151, "high_school_psychology": 545, "high_school_statistics": 216,
    "high_school_us_history": 204, "high_school_world_history": 237, "human_aging": 223,
    "human_sexuality": 131, "international_law": 121, "jurisprudence": 108,
    "logical_fallacies": 163, "machine_learning": 112, "management": 103, "marketing": 234,
    "medical_genetics": 100, "miscellaneous": 783, "moral_disputes": 346,
    "moral_scenarios": 895, "nutrition": 306, "philosophy": 311, "prehistory": 324,
    "professional_accounting": 282, "professional_law": 1534, "professional_medicine": 272,
    "professional_psychology": 612, "public_relations": 110, "security_studies": 245,
    "sociology": 201, "us_foreign_policy": 100, "virology": 166, "world_religions": 171,
}
MMLU_TASKS = [f"mmlu_{s}" for s in MMLU_SUBJECTS]

# CrowS-Pairs category -> pairs, English and French (as the harness splits them).
CROWS_CATEGORIES: dict[str, tuple[int, int]] = {
    "age": (91, 90), "autre": (11, 13), "disability": (65, 66), "gender": (320, 321),
    "nationality": (216, 253), "physical_appearance": (72, 72), "race_color": (508, 460),
    "religion": (111, 115), "sexual_orientation": (93, 91), "socioeconomic": (190, 196),
}

# Open LLM Leaderboard v2 subtasks: name -> (items, answer options; 0 = generative).
BBH_SUBTASKS: dict[str, tuple[int, int]] = {
    "boolean_expressions": (250, 2), "causal_judgement": (187, 2), "date_understanding": (250, 6),
    "disambiguation_qa": (250, 3), "formal_fallacies": (250, 2), "geometric_shapes": (250, 11),
    "hyperbaton": (250, 2), "logical_deduction_five_objects": (250, 5),
    "logical_deduction_seven_objects": (250, 7), "logical_deduction_three_objects": (250, 3),
    "movie_recommendation": (250, 6), "navigate": (250, 2), "object_counting": (250, 19),
    "penguins_in_a_table": (146, 5), "reasoning_about_colored_objects": (250, 18),
    "ruin_names": (250, 6), "salient_translation_error_detection": (250, 6),
    "snarks": (178, 2), "sports_understanding": (250, 2), "temporal_sequences": (250, 4),
    "tracking_shuffled_objects_five_objects": (250, 5),
    "tracking_shuffled_objects_seven_objects": (250, 7),
    "tracking_shuffled_objects_three_objects": (250, 3), "web_of_lies": (250, 2),
}
GPQA_SUBTASKS: dict[str, tuple[int, int]] = {"diamond": (198, 4), "extended": (546, 4),
                                              "main": (448, 4)}
MATH_SUBTASKS: dict[str, tuple[int, int]] = {
    "algebra": (307, 0), "counting_and_prob": (123, 0), "geometry": (132, 0),
    "intermediate_algebra": (280, 0), "num_theory": (154, 0), "prealgebra": (193, 0),
    "precalculus": (135, 0),
}
# Object placements has a varying number of locations per item; 5 approximates it.
MUSR_SUBTASKS: dict[str, tuple[int, int]] = {"murder_mysteries": (250, 2),
                                              "object_placements": (256, 5),
                                              "team_allocation": (250, 3)}

ARXIV = "https://arxiv.org/abs/"


def _task(id: str, name: str, metric: str, chance: float, n_items: int | None, output_type: str,
          description: str = "", citation: str = "", arxiv: str | None = None, **kw) -> Task:
    return Task(id=id, name=name, metric=metric, chance=chance, n_items=n_items,
                output_type=output_type, description=description, citation=citation,
                url=f"{ARXIV}{arxiv}" if arxiv else None, **kw)


def _mc(id: str, name: str, k: int, n_items: int, description: str, citation: str,
        arxiv: str | None, metric: str = "acc", **kw) -> Task:
    return _task(id, name, metric, 1 / k, n_items, "multiple_choice", description, citation,
                 arxiv, **kw)


def _group_chance(subtasks: dict[str, tuple[int, int]]) -> float:
    items = sum(n for n, _ in subtasks.values())
    return sum(n * (1 / k if k else 0.0) for n, k in subtasks.values()) / items


def _core() -> list[Task]:
    return [
        _mc("arc_easy", "ARC-Easy", 4, 2376, "Grade-school science questions (easy set), 4 "
            "options (a few have 3 or 5).", "Clark et al. 2018, Think you have Solved Question "
            "Answering? Try ARC", "1803.05457"),
        _mc("arc_challenge", "ARC-Challenge", 4, 1172, "Grade-school science questions that "
            "retrieval and co-occurrence baselines fail, 4 options.", "Clark et al. 2018, "
            "Think you have Solved Question Answering? Try ARC", "1803.05457"),
        _mc("piqa", "PIQA", 2, 1838, "Physical commonsense: pick the better of two solutions "
            "to a goal (validation split).", "Bisk et al. 2020, PIQA: Reasoning about Physical "
            "Commonsense in Natural Language", "1911.11641"),
        _mc("sciq", "SciQ", 4, 1000, "Crowd-sourced science exam questions with a supporting "
            "paragraph, 4 options.", "Welbl et al. 2017, Crowdsourcing Multiple Choice "
            "Science Questions", "1707.06209"),
        _mc("logiqa", "LogiQA", 4, 651, "Logical reasoning questions from the Chinese civil "
            "service exam (English translation), 4 options.", "Liu et al. 2020, LogiQA: A "
            "Challenge Dataset for Machine Reading Comprehension with Logical Reasoning",
            "2007.08124"),
        _mc("winogrande", "WinoGrande", 2, 1267, "Winograd-style pronoun resolution as a "
            "two-way fill-in (validation split).", "Sakaguchi et al. 2020, WinoGrande: An "
            "Adversarial Winograd Schema Challenge at Scale", "1907.10641"),
        _mc("wsc", "WSC (SuperGLUE)", 2, 104, "Winograd Schema Challenge as in SuperGLUE: is "
            "the pronoun this noun phrase? (validation split).", "Levesque et al. 2012; Wang "
            "et al. 2019, SuperGLUE", "1905.00537"),
        _task("lambada_openai", "LAMBADA (OpenAI)", "acc", 0.0, 5153, "loglikelihood",
              "Predict the last word of a passage whose context makes it guessable; acc is "
              "whether greedy decoding gives the word exactly (OpenAI's preprocessing).",
              "Paperno et al. 2016, The LAMBADA dataset", "1606.06031"),
        _mc("mmlu", "MMLU", 4, 14042, "57 subjects from elementary to professional level, 4 "
            "options. Where a source gives only the subjects, the score is their macro mean "
            "(unweighted over subjects), marked as an aggregate.", "Hendrycks et al. 2021, "
            "Measuring Massive Multitask Language Understanding", "2009.03300"),
        _mc("hellaswag", "HellaSwag", 4, 10042, "Commonsense sentence completion with "
            "adversarially filtered endings (validation split).", "Zellers et al. 2019, "
            "HellaSwag: Can a Machine Really Finish Your Sentence?", "1905.07830",
            metric="acc_norm"),
        _mc("truthfulqa_mc2", "TruthfulQA (MC2)", 4, 817, "Questions that some humans answer "
            "falsely; MC2 is the normalised probability mass on the true answers. Options "
            "vary per question, so chance is approximate.", "Lin et al. 2022, TruthfulQA: "
            "Measuring How Models Mimic Human Falsehoods", "2109.07958"),
        _task("gsm8k", "GSM8K", "exact_match", 0.0, 1319, "generate_until", "Grade-school "
              "math word problems; the final number must match.", "Cobbe et al. 2021, "
              "Training Verifiers to Solve Math Word Problems", "2110.14168"),
        _mc("xwinograd", "XWinograd", 2, 4449, "Winograd schemas in six languages (en 2325, "
            "fr 83, jp 959, pt 263, ru 315, zh 504 items), two options.", "Tikhonov and "
            "Ryabinin 2021, It's All in the Heads", "2106.12066"),
        _mc("boolq", "BoolQ", 2, 3270, "Yes/no questions about a Wikipedia passage "
            "(validation split).", "Clark et al. 2019, BoolQ: Exploring the Surprising "
            "Difficulty of Natural Yes/No Questions", "1905.10044"),
        _mc("commonsense_qa", "CommonsenseQA", 5, 1221, "Commonsense questions built on "
            "ConceptNet relations, 5 options (validation split).", "Talmor et al. 2019, "
            "CommonsenseQA", "1811.00937"),
        _mc("social_iqa", "Social IQa", 3, 1954, "Reasoning about people's motivations and "
            "reactions in everyday situations, 3 options (validation split).", "Sap et al. "
            "2019, Social IQa: Commonsense Reasoning about Social Interactions", "1904.09728"),
        _mc("openbookqa", "OpenBookQA", 4, 500, "Elementary science questions that need a "
            "core fact plus common knowledge, 4 options (test split).", "Mihaylov et al. "
            "2018, Can a Suit of Armor Conduct Electricity?", "1809.02789"),
        _task("humaneval", "HumanEval", "pass@1", 0.0, 164, "generate_until", "Python "
              "functions from docstrings, checked by unit tests; pass@1.", "Chen et al. 2021, "
              "Evaluating Large Language Models Trained on Code", "2107.03374"),
    ]


# LLM Foundry's in-context tasks in the 17-task split of Gadre et al. 2024 that no other source
# here has: id -> (name, options (0: a continuation scored by exact greedy match), items,
# description, citation, arXiv id). Items as the grid's eval_metadata.csv counts them.
FOUNDRY_TASKS: dict[str, tuple[str, int, int, str, str, str | None]] = {
    "hellaswag_zeroshot": ("HellaSwag (zero-shot)", 4, 10042, "HellaSwag scored with no "
                           "examples in the prompt, beside its few-shot score.",
                           "Zellers et al. 2019, HellaSwag", "1905.07830"),
    "copa": ("COPA", 2, 100, "Choice of plausible alternatives: the more likely cause or "
             "effect of a premise.", "Roemmele et al. 2011, Choice of Plausible Alternatives",
             None),
    "winograd": ("Winograd Schema Challenge (WSC273)", 2, 273, "The 273 original Winograd "
                 "schemas as a two-way fill-in.", "Levesque et al. 2012, The Winograd Schema "
                 "Challenge", None),
    "coqa": ("CoQA", 0, 7983, "Conversational question answering over a passage; the answer "
             "continuation must be reproduced exactly.", "Reddy et al. 2019, CoQA",
             "1808.07042"),
    "squad": ("SQuAD", 0, 10570, "Extractive reading comprehension on Wikipedia (validation "
              "split); the answer continuation must be reproduced exactly.",
              "Rajpurkar et al. 2016, SQuAD", "1606.05250"),
    "pubmed_qa_labeled": ("PubMedQA (labelled)", 0, 1000, "Yes/no/maybe answers to "
                          "biomedical research questions from their abstracts, generated as "
                          "the continuation.", "Jin et al. 2019, PubMedQA", "1909.06146"),
    "bigbench_qa_wikidata": ("BIG-bench: QA WikiData", 0, 20321, "Complete a fact from "
                             "WikiData (\"The capital of France is\").",
                             "Srivastava et al. 2023, BIG-bench", "2206.04615"),
    "bigbench_operators": ("BIG-bench: Operators", 0, 210, "Apply a newly defined operator "
                           "to numbers.", "Srivastava et al. 2023, BIG-bench", "2206.04615"),
    "bigbench_dyck_languages": ("BIG-bench: Dyck languages", 0, 1000, "Close a sequence of "
                                "brackets correctly.", "Srivastava et al. 2023, BIG-bench",
                                "2206.04615"),
    "bigbench_cs_algorithms": ("BIG-bench: CS algorithms", 0, 1320, "Trace a simple "
                               "algorithm (bracket matching, longest common subsequence).",
                               "Srivastava et al. 2023, BIG-bench", "2206.04615"),
    "bigbench_novel_concepts": ("BIG-bench: Novel concepts", 4, 32, "Find what a few "
                                "objects have in common, 4 options.",
                                "Srivastava et al. 2023, BIG-bench", "2206.04615"),
}


def _foundry() -> list[Task]:
    return [_mc(t, name, k, n, text, cite, arxiv) if k else
            _task(t, name, "acc", 0.0, n, "loglikelihood", text, cite, arxiv)
            for t, (name, k, n, text, cite, arxiv) in FOUNDRY_TASKS.items()]


def _mmlu_subtasks() -> list[Task]:
    return [_mc(f"mmlu_{s}", f"MMLU: {s.replace('_', ' ')}", 4, n, f"MMLU subject {s} (the "
                f"old harness calls it hendrycksTest-{s}).", "", None, parent="mmlu")
            for s, n in MMLU_SUBJECTS.items()]


def _crows_pairs() -> list[Task]:
    out = []
    cite = "Nangia et al. 2020, CrowS-Pairs; French: Névéol et al. 2022"
    for lang, index, total in (("english", 0, 1677), ("french", 1, 1677)):
        parent = f"crows_pairs_{lang}"
        out.append(_task(parent, f"CrowS-Pairs ({lang.title()})", "pct_stereotype", 0.5, total,
                         "multiple_choice", "Share of sentence pairs where the model prefers "
                         "the more stereotyped sentence; 0.5 is no preference, lower is less "
                         "stereotyped. A bias measure: never in capability aggregates.", cite,
                         "2010.00133", category="bias", direction="lower"))
        for cat, counts in CROWS_CATEGORIES.items():
            out.append(_task(f"{parent}_{cat}", f"CrowS-Pairs ({lang.title()}): "
                             f"{cat.replace('_', ' ')}", "pct_stereotype", 0.5, counts[index],
                             "multiple_choice", f"CrowS-Pairs pairs about {cat.replace('_', ' ')}"
                             ".", cite, "2010.00133", category="bias", direction="lower",
                             parent=parent))
    return out


def _leaderboard_v2() -> list[Task]:
    out = [_task("leaderboard_ifeval", "IFEval", "strict_acc", 0.0, 541, "generate_until",
                 "Verifiable formatting instructions. strict_acc is the Open LLM Leaderboard "
                 "v2 score: the mean of prompt-level and instruction-level strict accuracy.",
                 "Zhou et al. 2023, Instruction-Following Evaluation for Large Language Models",
                 "2311.07911"),
           _mc("leaderboard_mmlu_pro", "MMLU-Pro", 10, 12032, "Harder, 10-option successor of "
               "MMLU.", "Wang et al. 2024, MMLU-Pro", "2406.01574")]
    groups = (
        ("bbh", "BBH", BBH_SUBTASKS, "acc_norm", "multiple_choice", "Suzgun et al. 2022, "
         "Challenging BIG-Bench Tasks and Whether Chain-of-Thought Can Solve Them", "2210.09261",
         "BIG-Bench Hard as multiple choice (the leaderboard's version)"),
        ("gpqa", "GPQA", GPQA_SUBTASKS, "acc_norm", "multiple_choice", "Rein et al. 2023, "
         "GPQA: A Graduate-Level Google-Proof Q&A Benchmark", "2311.12022",
         "Graduate-level science questions, 4 options"),
        ("math_hard", "MATH Lvl 5", MATH_SUBTASKS, "exact_match", "generate_until",
         "Hendrycks et al. 2021, Measuring Mathematical Problem Solving With the MATH Dataset",
         "2103.03874", "Competition mathematics, level 5 problems only"),
        ("musr", "MuSR", MUSR_SUBTASKS, "acc_norm", "multiple_choice", "Sprague et al. 2023, "
         "MuSR: Testing the Limits of Chain-of-thought with Multistep Soft Reasoning",
         "2310.16049", "Multistep soft reasoning over long narratives"),
    )
    for key, name, subs, metric, otype, cite, arxiv, what in groups:
        parent = f"leaderboard_{key}"
        out.append(_task(parent, name, metric, _group_chance(subs), sum(n for n, _ in
                         subs.values()), otype, f"{what}; the score is over all "
                         f"{len(subs)} subtasks' items.", cite, arxiv))
        for sub, (n, k) in subs.items():
            sub_id = f"leaderboard_math_{sub}_hard" if key == "math_hard" else f"{parent}_{sub}"
            out.append(_task(sub_id, f"{name}: {sub.replace('_', ' ')}", metric,
                             1 / k if k else 0.0, n, otype, f"{name} subtask {sub}.", "", None,
                             parent=parent))
    return out


def all_tasks() -> list[Task]:
    """Every task the importers may write, in registry order."""
    return _core() + _foundry() + _mmlu_subtasks() + _crows_pairs() + _leaderboard_v2()


def v2_subtasks(group: str) -> list[str]:
    """Subtask ids of a leaderboard v2 group (`leaderboard_bbh` -> its 24 tasks)."""
    return [t.id for t in _leaderboard_v2() if t.parent == group]
