"""``landscape reproduce [--quick] --out DIR``: the paper's figures, data, report and summary."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``reproduce`` subcommand to the app."""

    @app.command("reproduce")
    def reproduce_cmd(
        out: Path = typer.Option(..., "--out", "-o", help="Output directory (created if absent)."),
        quick: bool = typer.Option(False, "--quick", help="The small study: under 3 minutes on 2 cores."),
        seed: int = typer.Option(0, "--seed", help="PRNG seed of the whole study."),
        only: str = typer.Option(None, "--only", help="Comma-separated stage keys to run (debugging)."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
    ) -> None:
        """Run the default study; write DIR/figures, DIR/results, DIR/report.md and DIR/summary.json."""
        from rich.console import Console
        from rich.table import Table

        from landscape.reproduce import reproduce

        stages = None if only is None else [s.strip() for s in only.split(",") if s.strip()]
        summary = reproduce(out, quick=quick, seed=seed, only=stages, progress=progress)
        table = Table(title=f"landscape reproduce{' --quick' if quick else ''}: {summary['seconds']:.1f} s")
        for col in ("stage", "status", "seconds", "note"):
            table.add_column(col)
        colour = {"ok": "green", "missing": "yellow", "skipped": "cyan", "error": "red"}
        for key, st in summary["stages"].items():
            table.add_row(
                key, f"[{colour[st['status']]}]{st['status']}[/]", f"{st['seconds']:.1f}", st["reason"][:80]
            )
        console = Console()
        console.print(table)
        console.print(f"report: {out / 'report.md'}   summary: {out / 'summary.json'}")
        if not summary["ok"]:
            raise typer.Exit(code=1)
