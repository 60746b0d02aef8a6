"""``landscape sweep CONFIG --out DIR``: run or resume a sweep described by a TOML file."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``sweep`` subcommand to the CLI."""

    @app.command("sweep")
    def sweep(
        config: Path = typer.Argument(..., help="Sweep description (TOML); see docs/sweeps.md."),
        out: Path = typer.Option(..., "--out", help="Results directory (created; rerun to resume)."),
        coordinator: str = typer.Option(
            None, help="host:port of the jax.distributed coordinator (env LANDSCAPE_COORDINATOR_ADDRESS)."
        ),
        num_processes: int = typer.Option(
            None, help="Number of processes of a multi-process run (env LANDSCAPE_NUM_PROCESSES)."
        ),
        process_id: int = typer.Option(None, help="This process's id, 0-based (env LANDSCAPE_PROCESS_ID)."),
        devices: int = typer.Option(None, help="Use only the first N local devices (default: all)."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar and no summary."),
    ) -> None:
        """Expand the grid, run it in vmapped, jitted, device-sharded chunks; write DIR/result.nc."""
        from landscape._checks import LandscapeError
        from landscape.sweep import RESULT_NAME, load_config, process_settings, run_sweep
        from landscape.sweep.distributed import initialize, shutdown

        err = Console(stderr=True)
        try:
            cfg = load_config(config)
            settings = process_settings(coordinator, num_processes, process_id)
        except LandscapeError as e:
            err.print(f"[red]error:[/red] {e}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        initialize(settings)
        import jax

        local = jax.local_devices()
        if devices is not None and not 1 <= devices <= len(local):
            msg = f"[red]error:[/red] --devices must lie in [1, {len(local)}]; got {devices}."
            err.print(msg, soft_wrap=True)
            raise typer.Exit(2)
        try:
            ds = run_sweep(
                cfg, out, settings=settings, devices=local[:devices] if devices else None, progress=not quiet
            )
        except LandscapeError as e:
            err.print(f"[red]error:[/red] {e}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        finally:
            shutdown(settings)
        if ds is not None and not quiet:
            import json

            man = json.loads(ds.attrs["manifest"])
            con = Console()
            con.print(f"wrote {out / RESULT_NAME}: {man['n_cases']:,} cases, dims {man['dims']}")
            con.print(f"RTN leaves the basin in {float(ds.rtn_exit.mean()):.4f} of the cases", soft_wrap=True)
            rules = ds.rule.values.tolist() if "rule" in ds.dims else [str(ds.rule.values)]
            from landscape.simulate.outcomes import recovery_stats

            for name in rules:
                sub = ds.sel(rule=name) if "rule" in ds.dims else ds
                failed = sub.rtn_exit.values.astype(bool)
                st = recovery_stats(hit_time=sub.hit_time.values, diverge_time=sub.diverge_time.values, mask=failed)
                con.print(
                    f"rule {name}: among the {st.n:,} RTN failures, recovered {st.recovered:,} "
                    f"({st.p_recovered:.4f}, 95% Wilson [{st.p_lo:.4f}, {st.p_hi:.4f}]), never entered within "
                    f"num_steps {st.censored:,}, diverged {st.diverged:,}", soft_wrap=True,
                )
            con.print(
                f"wall time {man['wall_time_s']:.2f} s on {len(man['local_devices'])} local device(s) "
                f"x {man['processes']} process(es)", soft_wrap=True,
            )
