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
        scheduler: str = typer.Option(
            None, "--scheduler",
            help="Dask scheduler address (tcp://host:8786) of a running cluster, or 'processes' (a local "
                 "cluster, one worker process per core) or 'synchronous' (this process). Default: a local "
                 "cluster for large sweeps, this process for small ones.",
        ),
        devices: int = typer.Option(None, help="Run in this process on the first N local devices."),
        quiet: bool = typer.Option(False, "--quiet", help="No progress bar and no summary."),
        force: bool = typer.Option(False, "--force", help="Write into a non-empty --out of other content."),
    ) -> None:
        """Run the grid's chunks as Dask tasks; write DIR/result.zarr as they finish (rerun to resume)."""
        from landscape.commands._common import check_out_dir

        err = Console(stderr=True)
        state = check_out_dir(out, force=force, own=("sweep.json", "done", "result.zarr"))  # before JAX
        from landscape._errors import LandscapeError  # imports JAX
        from landscape.sweep import load_config, run_sweep

        if state == "forced" and (out / "sweep.json").exists() is False:
            err.print(
                f"note: writing the sweep into the non-empty directory {out} (--force).", highlight=False
            )
        try:
            cfg = load_config(config)
        except LandscapeError as e:
            if state == "new" and out.is_dir() and not any(out.iterdir()):
                out.rmdir()  # the folder this call created for a sweep that never started
            err.print(f"[red]error:[/red] {e}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        local = None
        if devices is not None:
            import jax

            local = jax.local_devices()
            if not 1 <= devices <= len(local):
                err.print(f"[red]error:[/red] --devices must lie in [1, {len(local)}]; got {devices}.",
                          soft_wrap=True)
                raise typer.Exit(2)
            local = local[:devices]
            scheduler = scheduler or "synchronous"
        try:
            ds = run_sweep(cfg, out, scheduler=scheduler, devices=local, progress=not quiet, console=err)
        except LandscapeError as e:
            err.print(f"[red]error:[/red] {e}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print(f"resume with: landscape sweep {config} --out {out}", highlight=False, soft_wrap=True)
            raise typer.Exit(130) from None
        if not quiet:
            _print_summary(ds, out)


def _print_summary(ds, out) -> None:
    """The sweep's result in numbers: PTQ exits, and per rule the outcomes counted apart (Wilson)."""
    import json

    from landscape.commands._common import out_console
    from landscape.sweep import RESULT_NAME, summarize

    man = json.loads(ds.attrs["manifest"])
    con = out_console()
    con.print(
        f"wrote {out / RESULT_NAME}: {man['n_cases']:,} cases, dims {man['dims']}"
        + (
            f"; {man['chunks_resumed']} of {man['n_chunks']} chunks resumed"
            if man.get("chunks_resumed")
            else ""
        ),
        soft_wrap=True,
    )
    ptq = str(ds.ptq.values) if "ptq" not in ds.dims else "PTQ"
    con.print(
        f"{ptq.upper()} leaves the basin in {float(ds.ptq_exit.mean()):.4f} of the cases", soft_wrap=True
    )
    keep = [d for d in ("rule", "optimizer", "ptq") if d in ds.dims]
    s = summarize(ds, over=[d for d in ds.dims if d not in keep])
    cells = (
        [{}]
        if not keep
        else [
            dict(zip(keep, vals, strict=True))
            for vals in __import__("itertools").product(*(s[d].values for d in keep))
        ]
    )
    for cell in cells:
        sub = s.sel(cell) if cell else s
        name = ", ".join(f"{k} {v}" for k, v in cell.items()) or f"rule {ds.rule.values}"
        n, rec, cen, div = (int(sub[v]) for v in ("n", "recovered", "censored", "diverged"))
        p, lo, hi = (float(sub[v]) for v in ("p_recovered", "p_lo", "p_hi"))
        con.print(
            f"{name}: among the {n:,} PTQ failures, recovered {rec:,} "
            f"({p:.4f}, 95% Wilson [{lo:.4f}, {hi:.4f}]), "
            f"never entered within num_steps {cen:,}, diverged {div:,}",
            soft_wrap=True,
        )
    con.print(
        f"wall time {man['wall_time_s']:.2f} s; scheduler {man['scheduler']} with {man['workers']} worker(s)",
        soft_wrap=True,
    )
