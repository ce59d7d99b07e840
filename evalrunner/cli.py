"""The `densitometer` command: one subcommand per pipeline stage.

Each stage module exposes ``register(app)`` and keeps heavy imports (pandas, lm_eval, torch)
inside its command functions, so `densitometer --help` stays instant.
"""

from __future__ import annotations

import importlib

import typer

# Stage modules, in pipeline order. Each defines register(app: typer.Typer) -> None.
COMMAND_MODULES = [
    "evalrunner.results.commands",
    "evalrunner.importers.commands",
    "evalrunner.run.commands",
    "evalrunner.metrics.commands",
    "evalrunner.submit.commands",
    "evalrunner.site.commands",
]

app = typer.Typer(
    name="densitometer",
    help="Densitometer: capacity density and scaling predictability for language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()
