"""docs/bridge.md's generated parts: the presets from the code, the results from a run's summary JSON.

The doc holds blocks between ``<!-- BEGIN GENERATED: name -->`` and ``<!-- END GENERATED: name -->``;
:func:`render_blocks` makes them (``presets`` from :data:`~landscape.models.config.MODEL_PRESETS`,
``results`` from the summary), :func:`update_doc` writes them into the text. The summary
(:func:`summarize`, one entry per model, merged by :func:`merge_summary`) keeps what the tables print, so
the committed doc can be regenerated from the committed summary and a test checks that it is.
"""

from __future__ import annotations

import re

from landscape.models.adequacy import budget_adequacy, null_by_setting
from landscape.models.config import MODEL_PRESETS, MODELS, BridgeConfig

__all__ = [
    "summarize",
    "preset_changes",
    "merge_summary",
    "render_blocks",
    "update_doc",
    "seeds_text",
    "BLOCK",
]

BLOCK = re.compile(r"(<!-- BEGIN GENERATED: (\w+) -->\n)(.*?)(<!-- END GENERATED: \2 -->)", re.S)
_VERDICT_KEYS = (
    "bits",
    "grid",
    "method",
    "band",
    "n_seeds",
    "n_outside",
    "k_settled",
    "wilson_lo",
    "wilson_hi",
    "label",
    "oracle_settled",
    "n_oracle",
    "fp_control_settled",
    "n_fp_control",
)


def _r(x, nd=4):
    return None if x is None else round(float(x), nd)


def summarize(res: dict) -> dict:
    """The numbers docs/bridge.md prints for one model's result (a ``run_bridge`` dict with ``wall_s``)."""
    ev = [n for n in res["networks"].values() if n["role"] == "eval"]
    bd = res["bands"]
    return {
        "model": res["model"],
        "metric": res["metric"],
        "commit": res["manifest"].get("git_commit"),
        "wall_s": _r(res.get("wall_s"), 1),
        "cpu_s": _r(res.get("cpu_s"), 1),
        "load": res["load"],
        "timings": {k: _r(v, 1) for k, v in res["timings"].items()},
        "preset": "quick" if res["config"]["quick"] else "full",
        "preset_changes": preset_changes(res["config"]),
        "eval_seeds": res["config"]["eval_seeds"],
        "tune_seeds": res["config"]["tune_seeds"],
        "qat_steps": res["config"]["qat_steps"],
        "qat_steps_by_bits": res["config"].get("qat_steps_by_bits") or [],
        "bits": res["config"]["bits"],
        "dim": ev[0]["dim"],
        "metric_star": [_r(min(n["metric_star"] for n in ev)), _r(max(n["metric_star"] for n in ev))],
        "loss_star": [_r(min(n["loss_star"] for n in ev)), _r(max(n["loss_star"] for n in ev))],
        "bands": {
            "tau": _r(bd["tau"]),
            "tau_test": _r(bd["tau_test"]),
            "calibrated": bd["calibrated"],
            "null_max_rise": _r(bd["null"]["null_max_rise"]),
            "null_max_test_rise": _r(bd["null"]["null_max_test_rise"]),
            "n_null": bd["null"]["n_runs"],
            "null_rel_held": bd["null"]["rel_held"],
            "null_settings": bd["null_settings"],
            "null_by_setting": null_by_setting(res),
        },
        "calibration": {
            "rises": res["calibration"]["rises"],
            "share_rel_in_band": [_r(x, 3) for x in res["calibration"]["share_rel_in_band"]],
            "n_points": res["calibration"]["n_points_per_rise"],
        },
        "tuning": {
            b: {
                "label": t["label"],
                "borrowed_from": t.get("borrowed_from"),
                "n_starts": len(t["starts"]),
                "ranked": [
                    [e["label"], e["nonfinite"], _r(e["mean_tail_excess"]), _r(e["mean_tail_std"])]
                    for e in sorted(t["table"], key=lambda e: e["rank"])
                ],
            }
            for b, t in res["tuning"].items()
        },
        "verdicts": [
            {
                **{k: v.get(k) for k in _VERDICT_KEYS},
                "wilson_lo": _r(v.get("wilson_lo"), 2),
                "wilson_hi": _r(v.get("wilson_hi"), 2),
                "min_rate": _r(v["power"]["min_rate"], 2),
                "k_held": v["power"]["k_held"],
            }
            for v in res["verdicts"]
        ],
        "adequacy": budget_adequacy(res["rows"], res["config"]["qat_steps"], bd["tau"], bd["null"]),
        "regime": {
            "seeds": res["regime"]["seeds"],
            "n_sharp": res["regime"]["n_sharp"],
            "n_sharp_censored": [sp["n_sharp_censored"] for sp in res["regime"]["spectra"]],
            "offset_min_median": _r(res["regime"]["offset_min_median"], 5),
            "lambda_max": [_r(s["lambda_max"]) for s in res["regime"]["spectra"]],
            "lanczos_vs_dense_rel_err": [s.get("lanczos_vs_dense_rel_err") for s in res["regime"]["spectra"]],
            "lanczos_residual_max": _r(max(max(s["lanczos_residual"]) for s in res["regime"]["spectra"]), 6),
            "per_bits": res["regime"]["per_bits"],
        },
    }


def preset_changes(config: dict) -> list[str]:
    """The fields in which a run's config differs from its model's preset (quick or full)."""
    ref = BridgeConfig.preset(config["model"], quick=config["quick"]).as_dict()
    return [k for k, v in config.items() if ref.get(k) != v]


def merge_summary(old: dict | None, new: list[dict]) -> dict:
    """The summary file's content with these models' entries replaced (models kept in MODELS order)."""
    models = {m["model"]: m for m in (old or {}).get("models", [])}
    models.update({m["model"]: m for m in new})
    return {"models": [models[m] for m in MODELS if m in models]}


def _lrs(x):
    return ", ".join(f"{v:g}" for v in x)


def seeds_text(x) -> str:
    """Seeds as printed: ``0-23 (24)`` for a run of consecutive integers (more than 2), else a comma list."""
    x = list(x)
    return f"{x[0]}-{x[-1]} ({len(x)})" if len(x) > 2 and x == list(range(x[0], x[-1] + 1)) else _lrs(x)


def render_presets() -> str:
    """The presets table, from MODEL_PRESETS and the BridgeConfig defaults."""
    cols = (
        "train_steps",
        "qat_steps",
        "bits",
        "sgd_lrs",
        "adam_lrs",
        "tune_methods",
        "eval_seeds",
        "tune_seeds",
    )
    lines = [
        "| model | preset | training steps | QAT budget T | bits | SGD rates | Adam rates | tuned on | "
        "eval seeds | tuning seeds | oracle seeds |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for m in MODELS:
        for quick in (False, True):
            c = BridgeConfig.preset(m, quick=quick)
            d = c.model_dump()
            vals = [
                str(d[cols[0]]),
                budget_text(d[cols[1]], d["qat_steps_by_bits"], d["bits"]),
                _lrs(d["bits"]),
                _lrs(d["sgd_lrs"]),
                _lrs(d["adam_lrs"]),
            ]
            vals += ["+".join(d["tune_methods"]), seeds_text(d["eval_seeds"]), seeds_text(d["tune_seeds"])]
            vals.append("all" if c.oracle_seeds < 0 else str(c.oracle_seeds))
            lines.append(f"| `{m}` | {'quick' if quick else 'full'} | " + " | ".join(vals) + " |")
    assert set(MODEL_PRESETS) == set(MODELS)
    d, q = BridgeConfig(), BridgeConfig.preset("digits-mlp", quick=True)
    lines += [
        "",
        f"Every full preset: tau {'calibrated on the null' if d.tau is None else d.tau}, at least "
        f"{d.min_tune_starts} tuning starts per bit width, oracle budget {d.oracle_factor} x T, the "
        f"loss-to-metric calibration on {d.calib_seeds} networks x {d.calib_dirs} directions, the regime "
        f"on {d.regime_seeds} networks (top {d.k_lanczos} eigenpairs from {d.lanczos_matvecs} Lanczos "
        f"HVPs; dense check on the first: {d.dense_check}). The quick preset: calibration and regime on "
        f"{q.calib_seeds} network, dense check {q.dense_check}.",
    ]
    return "\n".join(lines) + "\n"


def _sharp(reg) -> str:
    cens = reg.get("n_sharp_censored", [False] * len(reg["n_sharp"]))
    return ", ".join(
        f">= {n} (Lanczos, censored)" if c else str(n) for n, c in zip(reg["n_sharp"], cens, strict=True)
    )


def _cell(v) -> str:
    if v is None:
        return "-"
    if not v["n_outside"]:
        return f"0/{v['n_seeds']} out: ptq-inside"
    lo, hi = v["wilson_lo"], v["wilson_hi"]
    s = f"{v['n_outside']}/{v['n_seeds']} out, {v['k_settled']} settled [{lo:.2f}, {hi:.2f}]"
    return s + f" **{v['label']}**" + ("" if v["k_held"] is not None else " (cannot decide)")


def _model_block(s: dict) -> str:
    bd, cal, reg = s["bands"], s["calibration"], s["regime"]
    ms, ls = s["metric_star"], s["loss_star"]
    out = [
        f"**{s['model']}** (d = {s['dim']}; evaluation seeds {seeds_text(s['eval_seeds'])}, "
        f"tuning seeds {seeds_text(s['tune_seeds'])}, "
        f"budget T = {budget_text(s['qat_steps'], s.get('qat_steps_by_bits'), s.get('bits'))}; "
        f"{_preset_text(s)}; "
        f"wall {s['wall_s']} s{_cpu(s)}, load average {s['load']['start'][0]} -> {s['load']['end'][0]}, "
        "commit "
        f"`{str(s['commit'])[:12]}`): test {s['metric']} of w* {ms[0]:.4g}-{ms[1]:.4g}, training loss L* "
        f"{ls[0]:.4g}-{ls[1]:.4g} nats.",
        "",
        f"* Bands: tau = {bd['tau']:g} nats (training loss), tau_test = {bd['tau_test']:g} nats (test "
        "loss), "
        + (
            f"calibrated on {bd['n_null']} full-precision null runs ({'; '.join(bd['null_settings'])}); "
            f"their largest rise over the last 10 % was {bd['null_max_rise']:g} (train) and "
            f"{bd['null_max_test_rise']:g} (test) nats, floor 0.01; the null stayed in the relative band on "
            f"{bd['null_rel_held']}/{bd['n_null']}."
            + _per_setting(bd.get("null_by_setting"))
            if bd["calibrated"]
            else "fixed by the caller."
        ),
        "* Loss-to-metric calibration (share of random points at each training-loss rise whose test metric "
        f"stays in the relative band, {cal['n_points']} points per rise): "
        + ", ".join(f"{r:g}: {p:.2f}" for r, p in zip(cal["rises"], cal["share_rel_in_band"], strict=True))
        + ".",
        "* Tuned STE-QAT: "
        + "; ".join(
            f"{b}-bit {t['label']}"
            + (
                f" (borrowed from {t['borrowed_from']}-bit)"
                if t["borrowed_from"]
                else f" ({t['n_starts']} starts)"
            )
            for b, t in s["tuning"].items()
        )
        + ".",
        *_adequacy_lines(s.get("adequacy")),
        "",
        "| bits | grid | PTQ | training-loss band | test-loss band | relative band | held needs |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    vs = {(v["bits"], v["grid"], v["method"], v["band"]): v for v in s["verdicts"]}
    for b, g, m in dict.fromkeys((v["bits"], v["grid"], v["method"]) for v in s["verdicts"]):
        cells = [_cell(vs.get((b, g, m, band))) for band in ("abs", "test", "rel")]
        need = [
            f"{vs[(b, g, m, band)]['k_held']}/{vs[(b, g, m, band)]['n_outside']}"
            for band in ("abs", "test", "rel")
            if vs.get((b, g, m, band)) and vs[(b, g, m, band)]["k_held"] is not None
        ]
        out.append(f"| {b} | {g} | {m} | " + " | ".join(cells) + f" | {', '.join(need) or '-'} |")
    out += [
        "",
        f"Regime (spectra at w* of seeds {_lrs(reg['seeds'])}; lambda_max {_lrs(reg['lambda_max'])}; "
        f"sharp directions (eigenvalue >= 1 % of lambda_max) {_sharp(reg)}; median offset of the "
        f"1-D minimum along the top 3 eigenvectors {reg['offset_min_median']:g} half-widths; largest "
        f"Lanczos residual {reg['lanczos_residual_max']:g}"
        + (
            "; Lanczos against dense eigenvalues, top 5: relative error "
            f"{reg['lanczos_vs_dense_rel_err'][0]:.1e}"
            if reg["lanczos_vs_dense_rel_err"] and reg["lanczos_vs_dense_rel_err"][0] is not None
            else ""
        )
        + "):",
        "",
        "| bits | regime | PTQ points out (train band) | error / width along it: median [range] | top-1/3/10 "
        "share of the error | of the actual rise | barrier QAT end -> river (median) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for b, r in reg["per_bits"].items():
        if r["regime"] == "ptq-inside":
            out.append(f"| {b} | ptq-inside | 0 | - | - | - | - |")
            continue
        es = "/".join(
            "-" if r["error_share_top"][k] is None else f"{r['error_share_top'][k]:.3f}"
            for k in ("1", "3", "10")
        )
        rs = "/".join(
            "-" if r["rise_share_top"][k] is None else f"{r['rise_share_top'][k]:.3f}"
            for k in ("1", "3", "10")
        )
        lo, hi = r["error_over_width_range"]
        bar = r["barrier_end_river_median"]
        out.append(
            f"| {b} | `{r['regime']}` | {r['n_failed']} | {r['error_over_width_median']:.3g} "
            f"[{lo:.3g}, {hi:.3g}] | {es} | {rs} | {'-' if bar is None else f'{bar:.3g}'} |"
        )
    return "\n".join(out) + "\n"


def _preset_text(s: dict) -> str:
    if "preset_changes" not in s:
        return "preset not recorded"
    ch = s["preset_changes"]
    return f"the {s['preset']} preset" + (f" except {', '.join(f'`{c}`' for c in ch)}" if ch else "")


def _per_setting(rows) -> str:
    """The null's largest tail rises per setting (what a band per bit width would be), where recorded."""
    if not rows or len(rows) < 2:
        return ""
    return (
        " Per setting (the bit widths it serves): "
        + "; ".join(
            f"{r['setting']}, T = {r['qat_steps']} ({', '.join(map(str, r['bits']))}-bit): "
            f"{r['max_rise']:g} (train), {r['max_test_rise']:g} (test)"
            for r in rows
        )
        + "."
    )


def _cpu(s: dict) -> str:
    return f", CPU {s['cpu_s']} s" if s.get("cpu_s") is not None else ""


def _adequacy_lines(a: dict | None) -> list[str]:
    """The budget-adequacy bullet (:mod:`landscape.models.adequacy`); none for a summary without it."""
    if not a:
        return []
    parts = [
        f"{b}-bit: {r['n_unsettled']} of {r['n_runs']} runs unsettled, {r['n_unsettled_falling']} of them "
        f"still falling (> {a['fall_fraction']:g} tau over the window), {r['n_reach_by_2T']} extrapolated "
        f"into the band by 2T; median tail drop {_g4(r['tail_drop_median'])} nats "
        f"(share of the descent {_g4(r['tail_share_median'])})" + _oracle_text(r.get("oracle"))
        for b, r in a["per_bits"].items()
    ]
    own = {r.get("qat_steps", a["qat_steps"]) for r in a["per_bits"].values()} - {a["qat_steps"]}
    if own:  # some bit widths have budgets of their own: say each one's T and W
        parts = [
            f"{p} (T = {r['qat_steps']}, W = {r['window']})"
            for p, r in zip(parts, a["per_bits"].values(), strict=True)
        ]
        head = "* Budget adequacy (T and W, the last window, per bit width; STE-QAT runs of the "
    else:
        head = (
            f"* Budget adequacy (T = {a['qat_steps']}, last window W = {a['window']} steps, STE-QAT runs "
            "of the "
        )
    return [head + "evaluation seeds, training-loss band): " + ("; ".join(parts) or "no STE-QAT run") + "."]


def _oracle_text(o: dict | None) -> str:
    """The oracle comparison of one bit width's adequacy (none where no row had an oracle)."""
    if not o:
        return ""
    return (
        f"; where an oracle ran ({o['n']} runs) the final gap is {_g4(o['run_gap_median'])} nats after T "
        f"and {_g4(o['oracle_gap_median'])} after the oracle's budget (medians), {o['run_settled']} and "
        f"{o['settled']} settled"
    )


def budget_text(qat_steps: int, by_bits=None, bits=None) -> str:
    """The budget as printed: ``100`` or ``100 (3-bit: 200)`` where bit widths of the run have their own."""
    own = [(int(b), int(t)) for b, t in (by_bits or []) if bits is None or int(b) in {int(x) for x in bits}]
    own = [(b, t) for b, t in own if t != qat_steps]
    return f"{qat_steps}" + (f" ({', '.join(f'{b}-bit: {t}' for b, t in own)})" if own else "")


def _g4(x) -> str:
    return "-" if x is None else f"{x:.3g}"


def render_blocks(summary: dict | None) -> dict:
    """The generated blocks: ``presets`` always; ``results`` from the summary (every model in it)."""
    blocks = {"presets": render_presets()}
    if summary is not None:
        blocks["results"] = "\n".join(_model_block(s) for s in summary["models"])
    return blocks


def update_doc(text: str, blocks: dict) -> str:
    """``text`` with each generated block whose name is in ``blocks`` replaced by its rendering."""
    return BLOCK.sub(lambda m: m.group(1) + blocks.get(m.group(2), m.group(3)) + m.group(4), text)
