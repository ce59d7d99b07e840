"""`densitometer import`: published evaluations -> results/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer


def import_(
    source: Annotated[str, typer.Argument(
        help="pythia, obsscaling, sloth, olmo-ladder, openlm-grid, gemstones, cerebras-card, "
             "epoch-dates, all, report (one Every Eval Ever JSON or Hub .eval_results YAML; "
             "needs --model), or "
             "lmeval-json (one file; needs --model and --setting).")],
    data: Annotated[Path | None, typer.Option(
        "--from", help="The data folder holding MANIFEST.csv, or a path inside it (for "
        "lmeval-json: the JSON file). Default: $DENSITOMETER_SHARED_DATA, else ../shared/data.")
    ] = None,
    into: Annotated[Path, typer.Option("--into", help="Results root to write into.")] = Path(
        "results"),
    model: Annotated[str | None, typer.Option(help="lmeval-json: the model id (its "
                                              "model.yaml must exist).")] = None,
    setting: Annotated[str | None, typer.Option(help="lmeval-json: the setting id.")] = None,
    revision: Annotated[str | None, typer.Option(help="lmeval-json: revision id (default: the "
                                                 "file's revision, else main).")] = None,
    task: Annotated[list[str] | None, typer.Option(
        help="report: SOURCE=OURS, a source task (a Hub dataset id, or id:task_id) and the "
             "registry's task it is; repeat for several.")] = None,
    scale: Annotated[str | None, typer.Option(
        help="report, Hub files: fraction or percent (the file does not say).")] = None,
) -> None:
    """Import published evaluations into results/ (idempotent: a second run changes nothing).

    Example: densitometer import all --from ../shared/data --into results/
    """
    from evalrunner.importers import ALL, SOURCES, import_lmeval_json, load_catalog, run_import
    from evalrunner.importers.base import SourceDataError, find_data_root
    from evalrunner.importers.lmeval import LmEvalFormatError

    if source not in (*SOURCES, "all", "report"):
        typer.echo(f"unknown source {source!r}; expected one of {', '.join(SOURCES)} or all",
                   err=True)
        raise typer.Exit(2)
    start = time.perf_counter()
    try:
        if source == "report":
            if data is None or model is None:
                typer.echo("report needs --from FILE --model ID", err=True)
                raise typer.Exit(2)
            from evalrunner.importers.reported import import_report

            pairs = [t.split("=", 1) for t in task or []]
            if any(len(p) != 2 for p in pairs):
                typer.echo("--task takes SOURCE=OURS", err=True)
                raise typer.Exit(2)
            reports = [import_report(data, into, model, dict(pairs), scale, revision)]
        elif source == "lmeval-json":
            if data is None or model is None or setting is None:
                typer.echo("lmeval-json needs --from FILE.json --model ID --setting ID", err=True)
                raise typer.Exit(2)
            reports = [import_lmeval_json(data, into, model, setting, revision)]
        else:
            catalog = load_catalog(find_data_root(data))
            names = ALL if source == "all" else (source,)
            reports = [run_import(name, data, into, catalog) for name in names]
    except (SourceDataError, LmEvalFormatError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    for report in reports:
        typer.echo(report.summary())
        for note in report.notes:
            typer.echo(f"  {note}")
        if report.skipped and report.source == "report":
            for reason in report.skipped[:50]:
                typer.echo(f"  left out: {reason}")
        elif report.skipped:
            typer.echo(f"  left out: {len(report.skipped)} (reasons in the importer)")
    typer.echo(f"done in {time.perf_counter() - start:.1f} s", err=True)


def register(app: typer.Typer) -> None:
    app.command(name="import")(import_)
