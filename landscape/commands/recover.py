"""``landscape recover``: every QAT rule from PTQ-failed points of one case, in one call, as a table."""

from __future__ import annotations

import math
from pathlib import Path

import typer


def _fmt(x, spec="g") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def register(app: typer.Typer) -> None:
    """Add the ``recover`` subcommand to the app."""

    @app.command("recover")
    def recover(
        case: str = typer.Option(
            ..., "--case", help="rotated_2d (2-D, max flip > 2 r_b) or random_river (d=256, k=4); "
            "the older names rotated2d and highdim are accepted."),
        quick: bool = typer.Option(False, "--quick", help="200 trained points instead of 2000."),
        out: Path | None = typer.Option(
            None, "--out", help="Folder for the netCDF dataset and a JSON summary."
        ),
        ptq: str = typer.Option("rtn", "--ptq", help="PTQ whose failed points are the starts: rtn or gptq."),
        seed: int = typer.Option(0, "--seed", help="PRNG seed (landscape, trained points, noise)."),
        learning_rate: float | None = typer.Option(
            None, "--learning-rate", "--lr",
            help="Learning rate eta of every rule (default: the case's, 0.05).",
        ),
        optimizer: str = typer.Option(
            "sgd", "--optimizer",
            help="optax optimizer of every rule, a name of landscape.registry.OPTIMIZERS "
            "(sgd, adam, adamw, rmsprop, lion, ...).",
        ),
        n_points: int | None = typer.Option(
            None, "--n-points", min=1, help="Trained points (overrides --quick)."
        ),
        force: bool = typer.Option(False, "--force", help="Write into a non-empty --out of other content."),
    ) -> None:
        """Recovery probability and median first hitting time T of every QAT rule on one case."""
        from landscape.commands._common import StepLines, check_out_dir, err_console, out_console, say_reuse

        # the output folder first: before any work and any import of JAX
        state = check_out_dir(out, force=force, own=("recovery_*.nc", "recovery_*.json")) if out else "new"
        from rich.table import Table

        from landscape._errors import LandscapeError
        from landscape.manifest import load_manifest, save_dataset, write_json
        from landscape.registry import default_rules
        from landscape.studies.recovery import case_config, recovery_experiment

        if ptq not in ("rtn", "gptq"):
            raise typer.BadParameter(f"--ptq must be rtn or gptq; got {ptq!r}.")
        n = n_points if n_points is not None else (200 if quick else 2000)
        lr = {} if learning_rate is None else {"learning_rate": learning_rate}
        try:  # the case name is translated once, by the config
            cfg = case_config(case, n_points=n, ptq=ptq, seed=seed, optimizer=optimizer, **lr)
        except LandscapeError as err:
            raise typer.BadParameter(str(err)) from err
        case = cfg.case
        console = out_console()
        if out is not None:
            say_reuse(state, out, "recover output")
        rules = default_rules(cfg.learning_rate, cfg.rule_optimizer())
        err_console().print(f"recover {case}: {len(rules)} rules on {n} starts (each compiles at its first "
                            "call) ...", highlight=False, soft_wrap=True)
        ds = recovery_experiment(cfg, rules, progress=StepLines("recover", len(rules)))
        a = ds.attrs
        title = (
            f"{case}: {a['n_failed']} of {n} {ptq.upper()} points outside the basin "
            f"(max flip/r_b = {a['max_flip_over_rb']:.3g}, step/r_b = {a['step_over_rb']:.3g})"
        )
        table = Table(title=title)
        cols = ("rule", "P(recover) [95% Wilson]", "P(diverged)", "median T", "T 90%", "P(chatter)",
                "P(stall)", "median switches")
        for col in cols:
            table.add_column(col, justify="left" if col == "rule" else "right")
        rows = []
        for r in ds["rule"].values:
            s = ds.sel(rule=r)
            row = {
                "rule": str(r),
                "p_recover": float(s["p_recover"]),
                "p_recover_lo": float(s["p_recover_lo"]),
                "p_recover_hi": float(s["p_recover_hi"]),
                "p_diverged": float(s["p_diverged"]),
                "T_median": float(s["T_median"]),
                "T_q90": float(s["T_q90"]),
                "p_chatter": float(s["p_chatter"]),
                "p_stall": float(s["p_stall"]),
                "median_switches": float(s["median_switches"]),
            }
            rows.append(row)
            table.add_row(
                row["rule"],
                f"{row['p_recover']:.3f} [{row['p_recover_lo']:.3f}, {row['p_recover_hi']:.3f}]",
                f"{row['p_diverged']:.3f}",
                _fmt(row["T_median"]),
                _fmt(row["T_q90"], ".0f"),
                f"{row['p_chatter']:.3f}",
                f"{row['p_stall']:.3f}",
                _fmt(row["median_switches"]),
            )
        console.print(table)
        console.print(
            f"eta = {cfg.learning_rate} ({'SGD' if cfg.optimizer == 'sgd' else cfg.optimizer}), "
            f"kappa = {cfg.kappa}, r_b = {cfg.basin_radius}, "
            f"step = {cfg.step}, "
            f"{cfg.num_steps} steps. T = first t with Q(w_t) in the basin, over recovered starts; "
            f"chatter = recurrent cycle of >= 2 grid points over the last {cfg.window} steps, "
            "never in the basin; "
            "stall = one grid point over that window, never in the basin. Diverged runs (non-finite) are "
            "never counted as recovered."
        )
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            path = save_dataset(ds, out / f"recovery_{case}_{ptq}.nc", load_manifest(ds))
            write_json(out / f"recovery_{case}_{ptq}.json", {"manifest": load_manifest(ds), "rules": rows})
            console.print(f"wrote {path} and {path.with_suffix('.json')}")
