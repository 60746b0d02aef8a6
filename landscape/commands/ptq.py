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
        family: str = typer.Option("all", "--family", help="river, valley (wall-free curvature) or all."),
        dim: int = typer.Option(None, "--dim", help="Valley: dimension d (default 16; proxy_min: d <= 20)."),
        k: int = typer.Option(None, "--k", help="Valley: number of walled directions (default 2)."),
        m: str = typer.Option(None, "--m", help="Valley: curved directions, comma list (default 2,4,8)."),
        points: int = typer.Option(None, "--points", help="Valley: trained points per seed and cell."),
        lambda_over_mu: str = typer.Option(None, "--lambda-over-mu", help="Valley: comma list of lambda/mu."),
        step_over_rb: str = typer.Option(None, "--step-over-rb", help="Valley: comma list of step/r_b."),
    ) -> None:
        """RTN exit laws; PTQ methods vs the oracle, walled vs wall-free; the valley family's failure."""
        import time

        from landscape.commands._common import (
            StepLines,
            check_out_dir,
            err_console,
            fail,
            out_console,
            say_reuse,
        )

        state = check_out_dir(out, force=force, own=("*.nc",))  # before any work and any import of JAX
        import numpy as np
        from rich.table import Table

        from landscape.manifest import load_manifest, save_dataset
        from landscape.studies.ptq_failure import run_all

        if family not in ("river", "valley", "all"):
            fail(f"--family must be one of river, valley, all; got {family!r}.")

        def floats(text, option):
            try:
                return tuple(float(x) for x in text.split(",") if x.strip())
            except ValueError:
                fail(f"{option} must be a comma-separated list of numbers; got {text!r}.")

        valley = {key: val for key, val in (
            ("dim", dim), ("k", k), ("ms", None if m is None else tuple(int(x) for x in floats(m, "--m"))),
            ("n_points", points),
            ("lambda_over_mu",
             None if lambda_over_mu is None else floats(lambda_over_mu, "--lambda-over-mu")),
            ("step_over_rb", None if step_over_rb is None else floats(step_over_rb, "--step-over-rb")),
        ) if val is not None}
        console = out_console()
        say_reuse(state, out, "ptq output")
        t0 = time.perf_counter()
        err_console().print(f"ptq: the PTQ failure measurements ({family}{', quick' if quick else ''}) ...",
                            highlight=False, soft_wrap=True)
        lines = []

        def progress(name, done, total):  # one line on stderr per finished measurement
            if not lines:
                lines.append(StepLines("ptq", total))
            lines[0](name)

        results = run_all(quick=quick, seed=seed, family=family, valley=valley, progress=progress)
        seconds = time.perf_counter() - t0
        out.mkdir(parents=True, exist_ok=True)
        for name, ds in results.items():
            save_dataset(ds, out / f"{name}.nc", load_manifest(ds))
        if "valley_exit" in results:
            _valley_tables(console, results)
        if "rtn_exit_step" not in results:
            console.print(f"datasets written to {out}/ ({', '.join(f'{k}.nc' for k in results)}); "
                          f"{seconds:.1f} s")
            return

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
        names = ", ".join(f"{k}.nc" for k in results)
        console.print(f"datasets written to {out}/ ({names}); {seconds:.1f} s")


def _valley_tables(console, results) -> None:
    """Print the valley family's exit fractions (Wilson intervals), the planar law and STE recovery."""
    import json

    import numpy as np
    from rich.table import Table

    ds = results["valley_exit"]
    names = [str(x) for x in ds["method"].values]
    for m in ds["m"].values:
        for r in ds["step_over_rb"].values:
            title = (f"Valley d = {ds.attrs['dim']}, k = {ds.attrs['k']}, m = {m}, step/r_b = {r:g}: "
                     f"exit fraction [95% Wilson], {ds.attrs['n_total']} trained points per cell")
            table = Table(title=title)
            table.add_column("method")
            for lam in ds["lambda_over_mu"].values:
                table.add_column(f"lambda/mu = {lam:g}", justify="right")
            for name in names:
                row = ds.sel({"method": name, "m": m, "step_over_rb": r})
                cells = zip(*(row[v].values for v in ("exit_pooled", "exit_lo", "exit_hi")), strict=True)
                table.add_row(name, *(f"{p:.3f} [{lo:.3f}, {hi:.3f}]" for p, lo, hi in cells))
            sub = ds["corner_inside_fraction"].sel(m=m, step_over_rb=r).mean("seed").values
            table.add_row("in-basin corner exists", *(f"{float(v):.3f}" for v in sub))
            console.print(table)
    pl = results.get("valley_planar")
    if pl is not None:
        table = Table(title="Planar valley (d = 3, n and e on the cells' diagonals): simulated vs exact law")
        for col in ("method", "lambda/mu", "step/r_b", "simulated [95% Wilson]", "exact law"):
            table.add_column(col, justify="right")
        for name in pl["method"].values:
            for lam in pl["lambda_over_mu"].values:
                for r in pl["step_over_rb"].values:
                    row = pl.sel({"method": name, "lambda_over_mu": lam, "step_over_rb": r})
                    table.add_row(str(name), f"{lam:g}", f"{r:g}",
                                  f"{float(row.simulated):.3f} [{float(row.lo):.3f}, {float(row.hi):.3f}]",
                                  f"{float(row.exact):.4f}")
        console.print(table)
    rec = results.get("valley_recovery")
    if rec is not None:
        st = json.loads(rec.attrs["stats"])
        med = {v: float(np.median(rec[v])) for v in ("final_loss", "ptq_loss", "oracle_loss")}
        console.print(
            f"STE from the {rec.attrs['n_failed']} {rec.attrs['ptq']}-failed starts (of "
            f"{rec.attrs['n_points']}): recovered {st['recovered']} ({st['p_recovered']:.3f}, 95% Wilson "
            f"[{st['p_lo']:.3f}, {st['p_hi']:.3f}]), censored {st['censored']}, diverged {st['diverged']}; "
            f"median T = {st['median_T']:g}; in the basin from some step to the end: "
            f"{rec.attrs['settled_fraction']:.3f}; median loss: final {med['final_loss']:.3g}, PTQ point "
            f"{med['ptq_loss']:.3g}, oracle {med['oracle_loss']:.3g}", soft_wrap=True)
