"""``landscape ptq``: the PTQ failure measurements (RTN exit rates, Hessian blindness, method vs oracle)."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``ptq`` subcommand to the app."""

    @app.command("ptq")
    def ptq(
        out: Path = typer.Option(..., "--out", help="Folder for the netCDF datasets (one per measurement)."),
        quick: bool = typer.Option(False, "--quick", help="Small sizes and one seed."),
        seed: int = typer.Option(0, "--seed", help="First PRNG seed (full run: seed, seed+1, seed+2)."),
        force: bool = typer.Option(False, "--force", help="Write into a non-empty --out of other content."),
    ) -> None:
        """RTN exit fraction vs step/r_b, theta, (d, k); PTQ methods vs the oracle, walled vs wall-free."""
        import numpy as np
        from rich.table import Table

        from landscape.experiments.ptq_failure import run_all
        from landscape.manifest import load_manifest, save_dataset

        from landscape.commands._common import check_out_dir, out_console, say_reuse, working

        state = check_out_dir(out, force=force, own=("*.nc",))
        console = out_console()
        say_reuse(state, out, "ptq output")
        with working("running the PTQ failure measurements"):
            results = run_all(quick=quick, seed=seed)
        out.mkdir(parents=True, exist_ok=True)
        for name, ds in results.items():
            save_dataset(ds, out / f"{name}.nc", load_manifest(ds))

        st = results["rtn_exit_step"].mean("seed")
        table = Table(title="RTN exit fraction P(rho(Q(w*)) > r_b), 2-D river, mean over seeds")
        table.add_column("step / r_b", justify="right")
        table.add_column("exit fraction", justify="right")
        for r, v in zip(st["step_over_rb"].values, st["exit_fraction"].values, strict=True):
            table.add_row(f"{r:g}", f"{v:.3f}")
        console.print(table)

        th = results["rtn_exit_theta"]
        table = Table(title=f"2-D RTN exit fraction vs theta (step/r_b = "
                      f"{load_manifest(th)['config']['step_over_rb']:g})")
        for col in ("theta", "along the river", "Monte-Carlo residual", "closed form"):
            table.add_column(col, justify="right")
        m = th.mean("seed")
        for t in m["theta"].values:
            row = m.sel(theta=t)
            table.add_row(f"{t:.3f}", f"{float(row.exit_fraction):.3f}", f"{float(row.mc_residual_exit):.3f}",
                          f"{float(row.closed_form_exit):.3f}")
        console.print(table)

        dk = results["rtn_exit_dk"].mean("seed")
        table = Table(title=f"RTN exit fraction vs (d, k), step/r_b = "
                      f"{load_manifest(results['rtn_exit_dk'])['config']['step_over_rb']:g}")
        table.add_column("d", justify="right")
        for k in dk["k"].values:
            table.add_column(f"k = {k}", justify="right")
        for d in dk["d"].values:
            vals = dk["exit_fraction"].sel(d=d).values
            table.add_row(str(d), *("-" if np.isnan(v) else f"{v:.3f}" for v in vals))
        console.print(table)

        for key in [k for k in results if k.startswith("compare")]:
            ds = results[key]
            cfg = load_manifest(ds)["config"]
            table = Table(title=(
                f"d = {cfg['dim']}, k = {cfg['k']}, walled vs wall-free twin (mu = {cfg['mu']:g}); oracle "
                f"{'exact' if ds.attrs['oracle_exact'] else 'search, not a proof'}; mean over seeds"
            ))
            for col in ("method", "step/r_b", "exit frac", "mean L(q)", "same q (walled/free)",
                        "exit while oracle inside"):
                table.add_column(col, justify="right")
            mm = ds.mean("seed")
            for meth in mm["method"].values:
                for r in mm["step_over_rb"].values:
                    row = mm.sel({"method": meth, "step_over_rb": r})
                    table.add_row(str(meth), f"{r:g}", f"{float(row.exit_fraction):.3f}",
                                  f"{float(row.mean_loss):.3g}", f"{float(row.same_q_fraction):.3f}",
                                  f"{float(row.exit_with_oracle_inside):.3f}")
            console.print(table)
        console.print(f"datasets written to {out}/ ({', '.join(f'{k}.nc' for k in results)})")
