"""``landscape bridge``: the river / basin protocol on small trained networks, verdicts over seeds."""

from __future__ import annotations

import time
from pathlib import Path

import typer


def _ints(text: str, name: str) -> list[int]:
    try:
        return [int(b) for b in text.split(",") if b.strip()]
    except ValueError:
        raise typer.BadParameter(f"{name} must be comma-separated integers; got {text!r}.") from None


def _pairs(text: str, name: str) -> list[tuple[int, int]]:
    try:
        return [tuple(int(x) for x in p.split(":")) for p in text.split(",") if p.strip()]
    except ValueError:
        raise typer.BadParameter(f"{name} must be comma-separated bits:T pairs; got {text!r}.") from None


def register(app: typer.Typer) -> None:
    """Add the ``bridge`` subcommand to the CLI."""

    @app.command("bridge")
    def bridge(
        model: str = typer.Option(
            "digits-mlp",
            help="digits-mlp, digits-cnn, char-transformer, markov-lm, a comma list of them, or 'all'",
        ),
        quick: bool = typer.Option(
            False, "--quick", help="2 evaluation seeds, 1 tuning seed, shorter runs (decides no verdict)"
        ),
        bits: str = typer.Option("", help="comma-separated bit widths in 2..8 (default: the model's preset)"),
        eval_seeds: str = typer.Option(
            "", help="comma-separated evaluation seeds (default 0..23; quick 0,1)"
        ),
        tune_seeds: str = typer.Option("", help="comma-separated tuning seeds (default 100..103; quick 100)"),
        tau: float = typer.Option(
            None, help="training- and test-loss band (nats); default: calibrated on the full-precision null"
        ),
        qat_steps: int = typer.Option(
            0, help="STE-QAT budget T of every bit width (0: the model's preset, maybe per bit width)"
        ),
        qat_steps_by_bits: str = typer.Option(
            "",
            "--qat-steps-by-bits",
            help="budgets of some bit widths, 'bits:T,...' (e.g. '3:200'; the rest: --qat-steps)",
        ),
        train_steps: int = typer.Option(0, help="training steps of every network (0: the model's preset)"),
        json_path: Path = typer.Option(
            None, "--json", help="write every row, verdict and setting to this file"
        ),
        out: Path = typer.Option(None, help="folder for bridge_<model>.nc and bridge_<model>.png"),
        force: bool = typer.Option(False, "--force", help="write into a non-empty --out of other content"),
        summary: Path = typer.Option(
            None, help="merge each model's summary (what docs/bridge.md prints) into this JSON file"
        ),
        docs: Path = typer.Option(
            None,
            help="regenerate this doc's generated blocks (presets; results from --summary, default "
            "docs/data/bridge_summary.json) and exit without running",
        ),
        from_json: Path = typer.Option(
            None,
            "--from-json",
            help="with --docs: first merge the models of this --json file into the summary",
        ),
    ) -> None:
        """Train, quantize (RTN/GPTQ x absmax/clip grids), tune STE-QAT on tuning seeds, judge on others."""
        from landscape.commands._common import out_console

        if docs is not None:
            path = Path(summary) if summary else Path("docs/data/bridge_summary.json")
            if from_json is not None:
                import json

                for res in json.loads(Path(from_json).read_text())["models"]:
                    _merge_summary(path, res, out_console())
            _render_docs(Path(docs), path)
            return
        from landscape.commands._common import check_out_dir, check_out_file, out_console, say_reuse, working

        check_out_file(json_path, "--json")  # the paths first: before any import of JAX and any work
        state = check_out_dir(out, force=force, own=("bridge_*",)) if out is not None else None
        from landscape.manifest import manifest, write_json
        from landscape.models.bridge import run_bridge
        from landscape.models.config import MODELS, BridgeConfig

        names = list(MODELS) if model == "all" else [m.strip() for m in model.split(",") if m.strip()]
        over = {} if tau is None else {"tau": tau}
        if bits:
            over["bits"] = _ints(bits, "bits")
        if eval_seeds:
            over["eval_seeds"] = _ints(eval_seeds, "eval-seeds")
        if tune_seeds:
            over["tune_seeds"] = _ints(tune_seeds, "tune-seeds")
        if qat_steps:  # one budget for every bit width (a preset's per-bit budgets go)
            over.update(qat_steps=qat_steps, qat_steps_by_bits=())
        if qat_steps_by_bits:
            over["qat_steps_by_bits"] = _pairs(qat_steps_by_bits, "qat-steps-by-bits")
        if train_steps:
            over["train_steps"] = train_steps
        try:
            cfgs = [BridgeConfig.preset(m, quick=quick, **over) for m in names]
        except ValueError as err:
            raise typer.BadParameter(str(err)) from None
        if out is not None:
            say_reuse(state, out, "bridge output")
        console = out_console()
        results, t_all = [], time.perf_counter()
        for cfg in cfgs:
            t0, c0 = time.perf_counter(), time.process_time()
            with working(f"bridge: {cfg.model} ({'quick' if quick else 'full'})"):
                res = run_bridge(cfg)
            res["wall_s"] = time.perf_counter() - t0
            res["cpu_s"] = time.process_time() - c0  # user + system time of every thread of this process
            results.append(res)
            _print(console, res)
            if json_path is not None:  # after every model: a later failure keeps the finished ones
                doc = {
                    "models": results,
                    "wall_s": time.perf_counter() - t_all,
                    "manifest": manifest({"models": names, "quick": quick, **over}),
                }
                write_json(json_path, doc)
                console.print(f"wrote {json_path} ({len(results)} of {len(cfgs)} models)")
            if out is not None:
                _write_figures(res, Path(out), console)
            if summary is not None:
                _merge_summary(Path(summary), res, console)
        wall = time.perf_counter() - t_all
        console.print(f"total wall time {wall:.0f} s")


def _print(console, res) -> None:
    from rich.table import Table

    net0 = next(v for v in res["networks"].values() if v["role"] == "eval")
    console.print(
        f"[bold]{res['model']}[/bold]: dim w = {net0['dim']}; test {res['metric']} of the evaluation "
        "seeds: "
        + ", ".join(f"{s}: {v['metric_star']:.4g}" for s, v in res["networks"].items() if v["role"] == "eval")
    )
    info = net0["info"]
    if "bigram_bpc" in info:
        console.print(
            f"  baselines (test): unigram {info['unigram_bpc']:.3f} bpc, bigram {info['bigram_bpc']:.3f} bpc"
        )
    if "optimal_perplexity" in info:
        console.print(
            f"  optimal perplexity e^H = {info['optimal_perplexity']:.4g} "
            f"(seed {next(iter(res['networks']))})"
        )
    console.print(
        "tuned STE-QAT per bit width: "
        + "; ".join(
            f"{b}-bit {t['label']}" + (f" (from {t['borrowed_from']}-bit)" if t.get("borrowed_from") else "")
            for b, t in res["tuning"].items()
        )
    )
    bd = res["bands"]
    console.print(
        f"bands: tau = {bd['tau']:.4g}, tau_test = {bd['tau_test']:.4g} nats "
        f"({'calibrated on' if bd['calibrated'] else 'fixed; checked against'} the full-precision null: "
        f"largest tail rise {bd['null']['null_max_rise']:.4g} (train), "
        f"{bd['null']['null_max_test_rise']:.4g} (test) over {bd['null']['n_runs']} runs; "
        f"holds the null: {bd['null_holds']})"
    )
    cal = res["calibration"]
    console.print(
        "loss-to-metric calibration (share of random points in the relative band): "
        + ", ".join(
            f"{r:g} nats: {p:.2f}" for r, p in zip(cal["rises"], cal["share_rel_in_band"], strict=True)
        )
    )
    for band in ("abs", "test", "rel"):
        table = Table(title=f"{res['model']}: verdicts, {res['definitions'][band + '_band']}")
        for col in (
            "bits",
            "grid",
            "ptq",
            "outside",
            "settled",
            "Wilson 95%",
            "min rate",
            "oracle",
            "control",
            "inward cos",
            "actual/quad",
            "verdict",
        ):
            table.add_column(col, no_wrap=True)
        for v in res["verdicts"]:
            if v["band"] != band:
                continue
            lo, hi = v.get("wilson_lo"), v.get("wilson_hi")
            ic, rr = v["inward_cos"]["mean"], v["rise_ratio"]["mean"]
            pw = v["power"]
            table.add_row(
                str(v["bits"]),
                v["grid"],
                v["method"],
                f"{v['n_outside']}/{v['n_seeds']}",
                f"{v['k_settled']}/{v['n_outside']}" if v["n_outside"] else "-",
                f"[{lo:.2f}, {hi:.2f}]" if lo is not None else "-",
                f"{pw['min_rate']:.2f}" if pw["decidable"] else ("cannot decide" if v["n_outside"] else "-"),
                f"{v['oracle_settled']}/{v['n_oracle']}" if v.get("n_oracle") else "-",
                f"{v['fp_control_settled']}/{v['n_fp_control']}" if v.get("n_fp_control") else "-",
                f"{ic:.2f}" if ic is not None else "-",
                f"{rr:.3g}" if rr is not None else "-",
                v["label"],
            )
        console.print(table)
    blind = [
        f"{v['bits']}-bit {v['grid']} {v['method']} ({v['band']}, n = {v['n_outside']})"
        for v in res["verdicts"]
        if v["n_outside"] and not v["power"]["decidable"]
    ]
    if blind:
        console.print(
            "[yellow]cannot decide at this seed count[/yellow] (even n/n leaves 1/2 in the interval): "
            + "; ".join(blind)
        )
    reg = res["regime"]
    console.print(
        f"regime (seeds {reg['seeds']}): median offset of the 1-D minimum {reg['offset_min_median']:.3g} "
        "half-widths; sharp directions (>= 1% of lambda_max) "
        + ", ".join(
            f">= {sp['n_sharp']} (censored)" if sp["n_sharp_censored"] else str(sp["n_sharp"])
            for sp in reg["spectra"]
        )
    )
    for b, r in reg["per_bits"].items():
        if r["regime"] == "ptq-inside":
            console.print(f"  {b}-bit: no PTQ point left the band")
            continue
        console.print(
            f"  {b}-bit: {r['regime']} (error / width along it: median {r['error_over_width_median']:.3g}, "
            f"n = {r['n_failed']}); top-3 share of the error {_g(r['error_share_top']['3'])}, of the rise "
            f"{_g(r['rise_share_top']['3'])}; barrier QAT end -> river {_g(r['barrier_end_river_median'])}"
        )
    console.print(f"settled = {res['definitions']['settled']}; verdict = {res['definitions']['verdict']}")
    console.print(
        f"timings {res['timings']}; load average {res['load']}; wall {res['wall_s']:.0f} s, "
        f"CPU {res['cpu_s']:.0f} s"
    )


def _g(x) -> str:
    return "-" if x is None else f"{x:.3g}"


def _merge_summary(path: Path, res: dict, console) -> None:
    import json

    from landscape.models.tables import merge_summary, summarize

    old = json.loads(path.read_text()) if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merge_summary(old, [summarize(res)]), indent=1) + "\n")
    console.print(f"merged {res['model']} into {path}")


def _render_docs(doc: Path, summary: Path) -> None:
    import json

    from landscape.commands._common import out_console
    from landscape.models.tables import render_blocks, update_doc

    if not doc.exists():
        raise typer.BadParameter(f"--docs must name an existing file with generated blocks; got {doc}.")
    data = json.loads(summary.read_text()) if summary.exists() else None
    text = doc.read_text()
    new = update_doc(text, render_blocks(data))
    doc.write_text(new)
    out_console().print(
        f"{doc}: generated blocks {'rewritten' if new != text else 'already current'}"
        + ("" if data else f" (no {summary}: presets only)")
    )


def _write_figures(res, out: Path, console) -> None:
    import matplotlib.pyplot as plt

    from landscape.manifest import save_dataset
    from landscape.models.bridge import to_dataset
    from landscape.plot.bridge import plot_bridge

    out.mkdir(parents=True, exist_ok=True)
    ds = to_dataset(res)
    path = save_dataset(ds, out / f"bridge_{res['model']}.nc", res["manifest"])
    fig = plot_bridge(ds)
    fig.savefig(out / f"bridge_{res['model']}.png", dpi=120)
    plt.close(fig)
    console.print(f"wrote {path} and bridge_{res['model']}.png")
