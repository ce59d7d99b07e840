"""`densitometer metrics`: compute every metric table from results/ and write CSV and JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def metrics(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the tables into.")],
    results: Annotated[Path, typer.Option("--results", help="The results tree to read.")] = Path(
        "results"),
    reference: Annotated[list[str] | None, typer.Option(
        "--reference", help="Reference family id for capacity density (repeatable; the first "
        "is the default). Default: every family with reference: true.")] = None,
    d0: Annotated[float | None, typer.Option(
        "--d0", help="Data size D0 (tokens) at which effective parameters are read off "
        "(default 1e12).")] = None,
    config_file: Annotated[Path | None, typer.Option(
        "--config", help="YAML file overriding metric constants (keys as in "
        "evalrunner/metrics/config.py).")] = None,
    samples: Annotated[Path | None, typer.Option(
        "--samples", help="The runner's per-sample logs, for the diagnostics and pass@k "
        "tables (default: <results>/../samples when it exists).")] = None,
) -> None:
    """Compute density, the densing law and scaling predictability; write CSV and JSON.

    Writes predictability_family_task, checkpoints, tasks, density, density_models,
    densing_law, density_fits, twostage, diagnostics, passk, coverage and passuntil (.csv and
    .json each) plus metric_registry.json.

    Example: densitometer metrics --out build/metrics --results results/ --reference pythia-deduped
    """
    from evalrunner.metrics.compute import compute_all
    from evalrunner.metrics.config import ConfigError, load_config
    from evalrunner.metrics.itemdata import items_for_root
    from evalrunner.metrics.output import write_tables
    from evalrunner.metrics.prepare import MetricsInputError
    from evalrunner.results.load import ValidationFailed, load_frames

    overrides: dict = {"d0": d0}
    if reference:
        overrides.update(references=tuple(reference), default_reference=reference[0])
    try:
        config = load_config(config_file, **overrides)
        frames = load_frames(results)
        items = items_for_root(results, frames.scores, samples)
        tables = compute_all(frames, config, items=items.items)
    except (ConfigError, MetricsInputError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    except ValidationFailed as err:
        typer.echo(f"error: {results} does not validate; run `densitometer validate {results}` "
                   f"for the list ({err})", err=True)
        raise typer.Exit(2) from None
    for path in write_tables(tables, out):
        typer.echo(f"wrote {path}")
    if items.missing:
        typer.echo(f"{len(items.missing)} runner result(s) without a usable per-sample log, "
                   f"e.g. {items.missing[0][0]}: {items.missing[0][1]}", err=True)
    refs = ", ".join(tables.references) or "none"
    typer.echo(f"reference families: {refs} (default {tables.default_reference}); "
               f"D0 = {config.d0:g} tokens", err=True)


def register(app: typer.Typer) -> None:
    app.command()(metrics)
