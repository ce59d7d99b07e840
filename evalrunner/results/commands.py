"""`densitometer validate` and `densitometer schema`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class Format(StrEnum):
    text = "text"
    github = "github"


def _find_root(paths: list[Path]) -> Path:
    """The results tree that contains the given paths (the folder holding tasks.yaml)."""
    start = Path(paths[0]).resolve() if paths else Path("results").resolve()
    for candidate in [start, *start.parents]:
        if (candidate / "tasks.yaml").is_file() or (candidate / "settings.yaml").is_file():
            return candidate
    return start if start.is_dir() else start.parent


def validate(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Files or folders to check (default: results/). Cross-file facts are always "
             "checked against the whole tree that holds them.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="text, or github for workflow "
                                        "annotations.")] = Format.text,
    base: Annotated[str | None, typer.Option(
        "--base", help="A git revision: also check that history is append-only against it "
        "(removed or changed results need a supersedes entry) and warn about implausible "
        "numbers in the files changed since.")] = None,
) -> None:
    """Validate result files: schema, path vs content, cross-file facts. Exits 1 on errors.

    Example: densitometer validate results/pythia-deduped/
    Example: densitometer validate results --base origin/main
    """
    from evalrunner.results.validate import Problem, validate_tree

    paths = paths or [Path("results")]
    root = _find_root(paths)
    only = None if [Path(p).resolve() for p in paths] == [root] else paths
    report = validate_tree(root, only=only)
    if base is not None:
        from evalrunner.submit.gitrev import GitError
        from evalrunner.submit.history import against_base

        try:
            extra = against_base(root, base, report.tree)
        except GitError as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(2) from None
        report.problems = sorted(set(report.problems) | set(extra), key=Problem.sort_key)
    for problem in report.problems:
        typer.echo(problem.github() if fmt == Format.github else str(problem))
    n_err, n_warn = len(report.errors), len(report.problems) - len(report.errors)
    summary = (f"{report.files} files checked: {n_err} error(s), {n_warn} warning(s); "
               f"{len(report.tree.results)} results, {len(report.tree.models)} models, "
               f"{len(report.tree.families)} families")
    typer.echo(summary, err=True)
    raise typer.Exit(1 if n_err else 0)


def schema(
    out: Annotated[Path, typer.Option(help="Folder to write the JSON Schemas into.")] = Path(
        "schema"),
    check: Annotated[bool, typer.Option(help="Only check that the files are current; exit 1 "
                                        "if stale.")] = False,
) -> None:
    """Write the JSON Schema of every results file kind (from the pydantic models).

    Example: densitometer schema --out schema/
    """
    from evalrunner.results.jsonschema import stale_schemas, write_schemas

    if check:
        stale = stale_schemas(out)
        for name in stale:
            typer.echo(f"{out / name}: stale or missing; run `densitometer schema --out {out}`")
        raise typer.Exit(1 if stale else 0)
    for path in write_schemas(out):
        typer.echo(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.command()(validate)
    app.command()(schema)
