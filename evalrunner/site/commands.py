"""`densitometer build` and `densitometer serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def build(
    results: Annotated[Path, typer.Option(help="The results tree to publish.")] = Path("results"),
    out: Annotated[Path, typer.Option(help="Where the built site goes.")] = Path("site"),
    docs: Annotated[Path, typer.Option(
        help="Where the generated Markdown goes (mkdocs.yml docs_dir).")] = Path("build/docs"),
    src: Annotated[Path, typer.Option(help="Templates, CSS and JavaScript.")] = Path("site_src"),
    config: Annotated[Path, typer.Option(help="The mkdocs configuration.")] = Path("mkdocs.yml"),
    node_modules: Annotated[Path, typer.Option(
        help="Installed browser libraries (`npm ci`).")] = Path("node_modules"),
    site_url: Annotated[str | None, typer.Option(
        help="Public URL (default: $SITE_URL, else mkdocs.yml).")] = None,
    no_metrics: Annotated[bool, typer.Option(
        "--no-metrics", help="Skip the metrics stage.")] = False,
    samples: Annotated[Path | None, typer.Option(
        help="The runner's per-sample logs, for the diagnostics and pass@k sections "
        "(default: <results>/../samples when it exists).")] = None,
    no_cache: Annotated[bool, typer.Option(
        "--no-cache", help="Build everything from scratch: reuse none of the last build's work "
        "(the store in <results>/../.cache/densitometer/, unchanged HTML in --out). CI uses "
        "it: state found in a checkout is not trusted.")] = False,
) -> None:
    """Build the static leaderboard: validate, compute metrics, generate pages, mkdocs build.

    Example: densitometer build --results results --out site
    """
    from evalrunner.results.validate import ValidationFailed

    from .build import BuildOptions, build_site
    from .errors import SiteError
    opts = BuildOptions(results, out, docs, src, config, node_modules, site_url,
                        metrics=not no_metrics, samples=samples,
                        incremental=not no_cache)
    try:
        report = build_site(opts)
    except ValidationFailed as exc:
        typer.echo(f"results do not validate:\n{exc}", err=True)
        raise typer.Exit(1) from None
    except SiteError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    times = ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items())
    typer.echo(f"Built {report.pages} pages and {report.files} data files into "
               f"{report.out}/ ({times}).")


def serve(
    out: Annotated[Path, typer.Option(help="The built site to serve.")] = Path("site"),
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1.")] = 8000,
) -> None:
    """Serve the built site on http://127.0.0.1:PORT/ (Ctrl-C stops it).

    Example: densitometer serve --out site --port 8000
    """
    import functools
    import http.server

    if not (out / "index.html").is_file():
        typer.echo(f"error: {out}/index.html not found; run `densitometer build` first.",
                   err=True)
        raise typer.Exit(1)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        typer.echo(f"Serving {out}/ on http://127.0.0.1:{port}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            typer.echo("stopped")


def register(app: typer.Typer) -> None:
    app.command()(build)
    app.command()(serve)
