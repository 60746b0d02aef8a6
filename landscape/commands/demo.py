"""``landscape demo``: the built-in default study (RTN exit, STE recovery, one figure)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` subcommand to the app."""

    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("demo_out"), "--out", help="Folder for the figure and results."),
        seed: int = typer.Option(0, help="PRNG seed."),
        n_points: int = typer.Option(2000, "--n-points", min=1, help="Trained points per landscape."),
        force: bool = typer.Option(False, "--force", help="Write into a non-empty --out of other content."),
    ) -> None:
        """RTN exit fraction, STE recovery and median T on a 2-D and a d=256, k=4 landscape."""
        from landscape.commands._common import check_out_dir, out_console, say_reuse, working

        state = check_out_dir(out, force=force, own=("demo.png", "demo.json"))  # before any import of JAX
        from rich.table import Table

        from landscape.manifest import manifest, write_json
        from landscape.studies.demo import DemoConfig, plot_demo, run_demo

        console = out_console()
        say_reuse(state, out, "demo")
        cfg = DemoConfig(seed=seed, n_points=n_points)
        with working("demo: compiling, then simulating"):
            results, art = run_demo(cfg)
        table = Table(title="PTQ failure and STE recovery (grid step = 1)")
        for col in ("landscape", "r_b", "delta_perp", "max flip", "RTN exit", "STE recovered", "median T"):
            table.add_column(col, justify="right")
        for r in results:
            dp = f"{r.delta_perp:.3f}" + ("" if r.delta_perp_exact else " (bound)")
            table.add_row(
                r.name,
                f"{r.basin_radius:.3g}",
                dp,
                f"{r.max_flip_size:.3f}",
                f"{r.rtn_exit_fraction:.3f} of {r.n_points}",
                f"{r.ste_recovery_fraction:.3f} of {r.n_failed}",
                f"{r.median_hit_time:g}",
            )
        console.print(table)
        console.print(
            f"STE: lr = {cfg.learning_rate}, {cfg.num_steps} steps; recovered = Q(w_t) entered the basin."
        )
        fig = plot_demo(art, out / "demo.png")
        write_json(
            out / "demo.json",
            {
                "results": [dataclasses.asdict(r) for r in results],
                "manifest": manifest(cfg.as_dict(), cfg.seed),
            },
        )
        console.print(f"wrote {fig} and {out / 'demo.json'}")
