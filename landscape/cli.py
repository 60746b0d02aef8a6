"""The ``landscape`` console script: one typer app, one module per subcommand.

Each module in ``landscape/commands/`` exposes ``register(app)``; this file discovers
them, so a subcommand is added by adding its module. Command modules import only typer and the
standard library at the top (JAX and the package's layers inside the command), so ``landscape --help``
and ``landscape --version`` answer without importing JAX.
"""

from __future__ import annotations

import importlib
import pkgutil

import typer

import landscape.commands as _commands

app = typer.Typer(
    name="landscape",
    help="A JAX laboratory for the geometry of quantization: river, valley, basin; "
    "PTQ failure, QAT recovery.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from landscape import __version__  # noqa: PLC0415

        typer.echo(f"landscape {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """A JAX laboratory for the geometry of quantization: river, valley, basin; PTQ failure, QAT recovery."""


for _info in sorted(pkgutil.iter_modules(_commands.__path__), key=lambda m: m.name):
    if not _info.name.startswith("_"):
        importlib.import_module(f"landscape.commands.{_info.name}").register(app)


def main() -> None:  # pragma: no cover - console entry
    """Entry point of the console script."""
    app()


if __name__ == "__main__":  # pragma: no cover - ``python -m landscape.cli``
    main()
