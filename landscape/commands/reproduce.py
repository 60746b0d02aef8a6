"""``landscape reproduce [--quick] --out DIR``: the paper's figures, data, report and summary."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``reproduce`` subcommand to the app."""

    @app.command("reproduce")
    def reproduce_cmd(
        out: Path = typer.Option(..., "--out", "-o", help="Output directory (created if absent)."),
        quick: bool = typer.Option(False, "--quick", help="The small study (a few minutes on 2 cores)."),
        seed: int = typer.Option(0, "--seed", help="PRNG seed of the whole study."),
        only: str = typer.Option(None, "--only", help="Comma-separated stage keys to run (debugging)."),
        progress: bool = typer.Option(True, "--progress/--no-progress", help="Show progress bars."),
        force: bool = typer.Option(False, "--force", help="Write into a non-empty --out of other content."),
    ) -> None:
        """Run the default study; write DIR/figures, DIR/results, DIR/report.md and DIR/summary.json."""
        from landscape.commands._common import check_out_dir, fail, out_console, say_reuse

        state = check_out_dir(out, force=force, own=("figures", "results", "report.md", "summary.json",
                                                     "summary.schema.json"))  # before any import of JAX
        from rich.table import Table

        from landscape.reproduce import reproduce
        from landscape.reproduce.runner import STAGE_KEYS

        stages = None if only is None else [s.strip() for s in only.split(",") if s.strip()]
        bad = [s for s in stages or [] if s not in STAGE_KEYS]
        if bad:
            fail(f"--only names unknown stage(s) {', '.join(bad)}; the stages are {', '.join(STAGE_KEYS)}.")
        say_reuse(state, out, "reproduce output")
        summary = reproduce(out, quick=quick, seed=seed, only=stages, progress=progress)
        table = Table(title=f"landscape reproduce{' --quick' if quick else ''}: {summary['seconds']:.1f} s")
        for col in ("stage", "status", "seconds", "note"):
            table.add_column(col)
        colour = {"ok": "green", "missing": "yellow", "skipped": "cyan", "error": "red"}
        for key, st in summary["stages"].items():
            table.add_row(
                key, f"[{colour[st['status']]}]{st['status']}[/]", f"{st['seconds']:.1f}", st["reason"][:80]
            )
        console = out_console()
        console.print(table)
        console.print(f"report: {out / 'report.md'}   summary: {out / 'summary.json'}")
        if not summary["ok"]:
            raise typer.Exit(code=1)
