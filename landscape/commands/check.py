"""``landscape check``: run the proof layer (statements, sympy, z3, hypothesis attacks, mutants)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``check`` subcommand to the app."""

    @app.command("check")
    def check(
        quick: bool = typer.Option(False, "--quick", help="Small attack budget (times: docs/theory.md)."),
        json_path: Path = typer.Option(None, "--json", help="Also write the report as JSON here."),
        only: str = typer.Option(None, "--only", help="Comma-separated statement ids (default: all)."),
        replay: Path = typer.Option(None, "--replay", help="Replay a saved counterexample JSON and exit."),
        cex_dir: Path = typer.Option(None, "--cex-dir", help="Save every counterexample found here (JSON)."),
        workers: int = typer.Option(2, "--workers", min=1, help="Processes to spread the statements over."),
    ) -> None:
        """Check every statement of docs/theory.md: status, evidence, counterexamples, tightness, mutants."""
        from landscape.commands._common import (
            StepLines,
            check_out_dir,
            check_out_file,
            err_console,
            out_console,
        )

        check_out_file(json_path, "--json")
        if cex_dir is not None:  # counterexample files are added to what is there
            check_out_dir(cex_dir, force=True, option="--cex-dir")
        console = out_console()
        if replay is not None:
            from proofs.core.falsify import load_counterexample
            from proofs.core.falsify import replay as do_replay

            res = do_replay(load_counterexample(replay))
            verdict = "holds" if res.holds else f"VIOLATED ({', '.join(res.failed)})"
            console.print(f"replay of {replay}: applicable={res.applicable}, conclusion {verdict}")
            raise typer.Exit(0 if res.holds else 1)

        from landscape.manifest import manifest, write_json
        from proofs.catalog import STATEMENTS, by_id
        from proofs.core.report import check as run_check
        from proofs.core.report import render_table

        statements = None
        if only:
            try:
                statements = [by_id(s.strip()) for s in only.split(",") if s.strip()]
            except ValueError as exc:
                raise typer.BadParameter(str(exc), param_hint="--only") from None
        todo = STATEMENTS if statements is None else statements
        step = StepLines("check", len(todo))
        err_console().print(
            f"checking {len(todo)} statements (sympy, z3, hypothesis attacks in float64) on {workers} "
            "worker(s); one line per statement as it ends", highlight=False, soft_wrap=True)
        report = run_check(quick=quick, statements=statements, workers=workers,
                           progress=lambda row: step(f"{row['id']} {row['status']}"))
        console.print(render_table(report))
        if cex_dir is not None:
            from proofs.core.falsify import save_counterexample

            cex_dir.mkdir(parents=True, exist_ok=True)
            for row in report["statements"]:
                cexs = row.get("counterexamples") or [row["counterexample"]]
                found = [(row["id"] if i == 0 else f"{row['id']}_{c.get('attack', i)}", c)
                         for i, c in enumerate(cexs) if c is not None]
                if len(found) > 1:  # one file per attack (e.g. the two refutations of S5C)
                    found = [(f"{row['id']}_{c.get('attack', i)}", c) for i, (_, c) in enumerate(found)]
                found += [(f"{row['id']}_mutant{i}", m["counterexample"])
                          for i, m in enumerate(row["mutants"])]
                for name, cex in found:
                    if cex is not None:
                        save_counterexample(cex, cex_dir / f"{name}.json")
            console.print(f"counterexamples written to {cex_dir}/ (replay: landscape check --replay FILE)")
        if json_path is not None:
            report["manifest"] = manifest({"quick": quick, "only": only, "workers": workers}, seed=0)
            write_json(json_path, report)
            console.print(f"report written to {json_path}")
        # a refuted conjecture (S5C) is a result; a falsified theorem is a failure
        if any(r["status"] == "falsified" and r.get("kind") != "conjecture" for r in report["statements"]):
            raise typer.Exit(1)
