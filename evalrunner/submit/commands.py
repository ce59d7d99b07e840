"""`densitometer submit` and `densitometer diff`: submissions by pull request."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def diff(
    base: Annotated[str, typer.Argument(help="Git revision the pull request targets "
                                        "(origin/main).")],
    head: Annotated[str, typer.Argument(help="Git revision of the pull request.")] = "HEAD",
    out: Annotated[Path | None, typer.Option(help="Write the Markdown here instead of "
                                             "printing it.")] = None,
    repo: Annotated[Path, typer.Option(help="The git repository.")] = Path("."),
) -> None:
    """Preview what a pull request changes on the leaderboard, as Markdown for its comment.

    Reads results/ at the merge base and at HEAD from git (never running anything from them),
    validates both, checks that history stays append-only, ranks the changed models and lists
    every warning. Exits 1 when the head has errors.

    Example: densitometer diff origin/main HEAD --out preview/comment.md
    """
    from evalrunner.submit.gitrev import GitError
    from evalrunner.submit.preview import write_preview

    try:
        text, preview = write_preview(repo, base, head, out)
    except GitError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    if out is None:
        typer.echo(text, nl=False)
    n_err = len(preview.errors)
    typer.echo(f"{len(preview.changes)} file(s) changed under results/: {n_err} error(s), "
               f"{len(preview.problems) - n_err} warning(s)", err=True)
    raise typer.Exit(1 if n_err else 0)


def submit(
    source: Annotated[Path, typer.Argument(help="An lm-eval results JSON (0.4.x or the old "
                                           "format) or a runner result YAML.")],
    family: Annotated[str, typer.Option(help="Family id (folder under results/).")],
    submitter: Annotated[str, typer.Option(help="Your name or GitHub handle.")],
    model: Annotated[str | None, typer.Option(help="Model id (required for lm-eval JSON).")]
    = None,
    setting: Annotated[str | None, typer.Option(help="Setting id from settings.yaml (required "
                                                "for lm-eval JSON).")] = None,
    revision: Annotated[str | None, typer.Option(help="Revision id, also the file name "
                                                 "(default: the run's revision, else main).")]
    = None,
    url: Annotated[str | None, typer.Option(help="Logs, paper or model card.")] = None,
    into: Annotated[Path, typer.Option(help="The results tree to add to.")] = Path("results"),
    model_dir: Annotated[Path | None, typer.Option(help="Local model folder: parameter counts "
                                                   "from its config.json.")] = None,
    params: Annotated[int | None, typer.Option(help="Total parameters, when no config is at "
                                               "hand (declared).")] = None,
    step: Annotated[int | None, typer.Option(help="Training step of this revision.")] = None,
    tokens: Annotated[int | None, typer.Option(help="Training tokens seen at this revision.")]
    = None,
    final: Annotated[bool, typer.Option(help="The released, fully trained revision.")] = True,
    name: Annotated[str | None, typer.Option(help="Display name of a new model.")] = None,
    hf_id: Annotated[str | None, typer.Option(help="Hugging Face id of a new model.")] = None,
    training_tokens: Annotated[int | None, typer.Option(help="Training tokens of a new "
                                                       "model.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Organisation, for a new family.")]
    = None,
    family_name: Annotated[str | None, typer.Option(help="Display name of a new family.")]
    = None,
    reason: Annotated[str | None, typer.Option(help="Why an existing result is replaced "
                                               "(recorded under supersedes).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Check and preview only; write nothing.")]
    = False,
) -> None:
    """Turn an evaluation output into the result files a pull request needs, validate them and
    show what changes on the leaderboard. Writes only when there are no errors.

    Example: densitometer submit out/results_2025.json --family pythia --model pythia-160m
    --setting pythia-lmeval-0shot --submitter alice --model-dir models/pythia-160m
    """
    from evalrunner.submit.render import plain, render
    from evalrunner.submit.submit import Submission, SubmitError, check_and_write

    sub = Submission(family=family, submitter=submitter, model=model, setting=setting,
                     revision=revision, url=url, step=step, tokens=tokens, final=final,
                     model_dir=model_dir, hf_id=hf_id, name=name, family_name=family_name,
                     organisation=organisation, params=params, training_tokens=training_tokens,
                     reason=reason)
    try:
        plan, preview, written = check_and_write(source, sub, into, write=not dry_run)
    except SubmitError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2) from None
    for note in plan.notes:
        typer.echo(f"note: {plain(note)}", err=True)
    typer.echo(render(preview, plain), nl=False)
    if preview.errors:
        typer.echo(f"{len(preview.errors)} error(s): nothing written", err=True)
        raise typer.Exit(1)
    for path in written:
        typer.echo(f"wrote {path}", err=True)
    if not dry_run:
        typer.echo("Next: git add the files above, commit, and open a pull request.", err=True)


def register(app: typer.Typer) -> None:
    app.command()(submit)
    app.command()(diff)
