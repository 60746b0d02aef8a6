"""``landscape bridge``: the basin-crossing diagnostics on a small trained network."""

from __future__ import annotations

import time
from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``bridge`` subcommand to the CLI."""

    @app.command("bridge")
    def bridge(
        model: str = typer.Option("digits-mlp", help="digits-mlp, digits-cnn or markov-lm"),
        bits: str = typer.Option("2,3,4,8", help="comma-separated bit widths in 2..8"),
        quick: bool = typer.Option(False, "--quick", help="small run: k=4, 24 Lanczos steps, 300 QAT steps"),
        seed: int = typer.Option(0, help="seed of data, init, Lanczos"),
        tau: float = typer.Option(0.05, help="loss-rise threshold (nats) defining the basin"),
        k: int = typer.Option(0, help="sharp directions (0: 4 quick, 8 full)"),
        qat_steps: int = typer.Option(0, help="STE-QAT steps (0: 300 quick, 600 full)"),
        qat_lr: float = typer.Option(0.0, help="STE-SGD learning rate (0: the model's default)"),
        out: Path = typer.Option(None, help="folder for bridge_<model>.nc and figures"),
        force: bool = typer.Option(False, "--force", help="write into a non-empty --out of other content"),
    ) -> None:
        """Train, find sharp directions, place RTN/GPTQ points, run STE-QAT, print verdicts per bit width."""
        import json

        from rich.table import Table

        from landscape.commands._common import check_out_dir, out_console, say_reuse, working

        from landscape.models.bridge import BridgeConfig, run_bridge, summary_rows

        try:
            bit_list = [int(b) for b in bits.split(",") if b.strip()]
        except ValueError:
            msg = f"bits must be comma-separated integers in 2..8; got {bits!r}."
            raise typer.BadParameter(msg) from None
        try:
            extra = {"k": k} if k else {}
            extra.update({"qat_steps": qat_steps} if qat_steps else {})
            cfg = BridgeConfig.preset(model, quick=quick, bits=bit_list, seed=seed, tau=tau, qat_lr=qat_lr,
                                      **extra)
        except ValueError as err:
            raise typer.BadParameter(str(err)) from None
        state = check_out_dir(out, force=force, own=("bridge_*",)) if out is not None else "new"
        console = out_console()
        if out is not None:
            say_reuse(state, out, "bridge output")
        t0 = time.perf_counter()
        with working(f"bridge: {model} ({'quick' if quick else 'full'})"):
            ds = run_bridge(cfg)
        wall = time.perf_counter() - t0
        info = json.loads(ds.attrs["task_info"])
        metric = ds.attrs["metric"]
        console.print(f"[bold]{model}[/bold]: dim w = {ds.attrs['dim']}, train loss L* = "
                      f"{ds.attrs['loss_star']:.4f}, test {metric} = {ds.attrs['metric_star']:.4f}"
                      + (f" (optimal {info['optimal_perplexity']:.4f})" if metric == "perplexity" else ""))
        console.print("top eigenvalues: " + ", ".join(f"{x:.4g}" for x in ds.eigenvalue.values))
        console.print(f"basin widths r-/r+ (tau = {cfg.tau:g}): " + ", ".join(
            f"{a:.3g}/{b:.3g}" for a, b in zip(ds.width_minus.values, ds.width_plus.values, strict=False)))
        console.print(f"in basin: {ds.attrs['in_basin_definition']}")
        console.print(f"prediction: {ds.attrs['prediction']}")
        table = Table(title=f"bridge {model}: per bit width")
        short = "acc" if metric == "accuracy" else "ppl"
        for col in ("bits", "ptq", "grid/basin", "PTQ dL", f"PTQ {short}", "rho", "in", "QAT back",
                    "tail in", f"QAT {short}", "verdict"):
            table.add_column(col, no_wrap=True)
        rows = summary_rows(ds)
        for r in rows:
            table.add_row(str(r["bits"]), r["ptq"], f"{r['grid_to_basin']:.3g}",
                          f"{r['ptq_loss'] - ds.attrs['loss_star']:.3g}", f"{r['ptq_metric']:.4g}",
                          f"{r['ptq_rho']:.3g}", "yes" if r["ptq_in_basin"] else "no",
                          str(r["hit_time"]) if r["hit_time"] >= 0 else "never",
                          f"{r['qat_tail_in_basin']:.2f}", f"{r['qat_final_metric']:.4g}",
                          r["verdict"].split(":")[0])
        console.print(table)
        console.print("grid/basin = ||sigma_i / r_i||; PTQ dL = L(q) - L*; rho = ||v_i / r_i|| (sharp offset "
                      "in basin widths); QAT back = first STE step with L(q_t) - L* <= tau; "
                      "tail in = fraction of the last 10% of QAT steps in the basin")
        for r in rows:
            sel = ds.sel(bits=r["bits"], ptq=r["ptq"])
            d_loss = r["ptq_loss"] - ds.attrs["loss_star"]
            quad = (f"quadratic model: top-{ds.sizes['direction']} {float(sel.ptq_quad_sharp):.3g}, "
                    f"full Hessian {float(sel.ptq_quad_full):.3g}")
            head = f"  {r['bits']}-bit {r['ptq']}: {r['verdict']}"
            console.print(f"{head}  [dim](dL = {d_loss:.3g}; {quad})[/dim]")
        console.print(f"wall time {wall:.1f} s; phases {ds.attrs['timings']}")
        if out is not None:
            import matplotlib.pyplot as plt

            from landscape.manifest import load_manifest, save_dataset
            from landscape.models.figures import plot_profile_grid, plot_qat

            Path(out).mkdir(parents=True, exist_ok=True)
            path = save_dataset(ds, Path(out) / f"bridge_{model}.nc", load_manifest(ds))
            fig = plot_profile_grid(ds)
            fig.savefig(Path(out) / f"bridge_{model}_profiles.png", dpi=120)
            plt.close(fig)
            fig, ax = plt.subplots(figsize=(6, 4))
            plot_qat(ds, ax)
            fig.tight_layout()
            fig.savefig(Path(out) / f"bridge_{model}_qat.png", dpi=120)
            plt.close(fig)
            console.print(f"wrote {path} and figures in {out}")
