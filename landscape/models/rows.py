"""The bridge's records joined into rows (per model, bits, grid, PTQ method, seed); verdicts; definitions."""

from __future__ import annotations

import numpy as np

from landscape.models.band import REL_TOL, TAU_GRID, window
from landscape.models.protocol import needs_qat, ptq_outside
from landscape.models.verdict import POWER, bootstrap_mean, group_verdict, tau_sensitivity

__all__ = ["row_of", "verdicts_of_rows", "definitions", "BANDS"]

#: the bands every verdict is given in
BANDS = ("abs", "test", "rel")

_STE_COPY = (
    "inward_cos_mean",
    "cos_to_wstar_mean",
    "rho_ptq",
    "width_ptq",
    "width_censored",
    "outside_geometric",
    "rho_end",
    "foot_reached_end",
    "barrier_ptq_foot",
    "barrier_end_foot",
    "barrier_end_river",
    "barrier_end_river_gap",
    "dist_wstar_start",
    "dist_wstar_end",
    "probe_steps",
    "inward_cos",
    "cos_to_wstar",
    "step_normal",
    "step_norm",
    "rho",
    "foot_reached",
    "foot_gap",
    "loss_path",
    "loss_path_every",
    "metric_steps",
    "metric_path",
    "test_loss_path",
)


def row_of(cfg, net, key, ev, blind, bands) -> dict:
    """One row: the PTQ point, its bands, the STE-QAT run, the control, the oracle and the blindness terms."""
    b, g, m = key
    s = net.seed
    out = ptq_outside(net, key, bands["tau"], bands["tau_test"])
    row = {
        "model": cfg.model,
        "bits": b,
        "grid": g,
        "method": m,
        "seed": s,
        "qat_steps": cfg.budget(b),
        "fp_loss": net.loss_star,
        "fp_test_loss": net.test_loss_star,
        "fp_metric": net.metric_star,
        "ptq_loss": net.ptq_loss[key],
        "ptq_gap": net.ptq_loss[key] - net.loss_star,
        "ptq_test_gap": net.ptq_test_loss[key] - net.test_loss_star,
        "ptq_metric": net.ptq_metric[key],
        **{f"ptq_outside_{k}": v for k, v in out.items()},
        "qat_run": needs_qat(net, key, bands["tau"], bands["tau_test"], cfg.qat_floor),
    }
    sk = (s, *key)
    rec = ev["ste"].get(sk)
    if rec is not None:
        row.update(
            {
                "qat_loss": rec["final_loss"],
                "qat_test_loss": rec["final_test_loss"],
                "qat_metric": rec["final_metric"],
                "hit_time": rec["abs_hit_time"],
                "settle_time": rec["abs_settle_time"],
                "settled": rec["abs_settled"],
                "frac_in_band": rec["abs_frac_in_band"],
                "frac_in_band_tail": rec["abs_frac_in_band_tail"],
                "driver_agrees": rec["driver_hit_time"] == rec["abs_hit_time"]
                and rec["driver_settle_time"] == rec["abs_settle_time"],
                "diverged": rec["diverged"],
                "switches": rec["switches"],
                "tau_sensitivity": {
                    k: {"settled": bool(v["settled"]), "hit_time": int(v["hit_time"])}
                    for k, v in rec["tau_sensitivity"].items()
                },
            }
        )
        for band in ("test", "rel"):
            for k in ("hit_time", "settle_time", "settled", "frac_in_band_tail"):
                row[f"{band}_{k}"] = rec[f"{band}_{k}"]
        for k in _STE_COPY:
            row[k] = rec[k]
        sn = [x for x in rec["step_normal"] if x is not None and np.isfinite(x)]
        row["step_normal_mean"] = float(np.mean(sn)) if sn else None
    for name, src in (("fp_control", ev["fp"].get(sk)), ("oracle", ev["oracle"].get(sk))):
        if src is None:
            continue
        row.update(
            {
                f"{name}_settled": src["abs_settled"],
                f"{name}_test_settled": src["test_settled"],
                f"{name}_rel_settled": src["rel_settled"],
                f"{name}_hit_time": src["abs_hit_time"],
                f"{name}_final_gap": src["final_loss"] - net.loss_star,
                f"{name}_metric": src["final_metric"],
            }
        )
    bl = blind[key]
    for k, v in bl["saturated"].items():
        row[k] = v
    for k, v in bl.get("early", {}).items():
        row[f"early_{k}"] = v
    return row


def verdicts_of_rows(cfg, rows: list[dict]) -> list[dict]:
    """Every (bits, grid, method) group's verdict in every band, with its power, tau sensitivity and means."""
    verdicts = []
    for b in cfg.bits:
        for g in cfg.grids:
            for m in cfg.methods:
                grp = [r for r in rows if (r["bits"], r["grid"], r["method"]) == (b, g, m)]
                for band in BANDS:
                    v = group_verdict(
                        grp,
                        band,
                        qat_steps=cfg.budget(b),
                        window=window(cfg.budget(b)),
                        oracle_steps=cfg.oracle_budget(b),
                    )
                    v.update(model=cfg.model, bits=b, grid=g, method=m)
                    v["text"] = f"{cfg.model} {b}-bit {g} {m}, {band} band -- {v['text']}"
                    if band == "abs":
                        v["tau_sensitivity"] = tau_sensitivity(grp, TAU_GRID)
                    run = [
                        r for r in grp if r.get("inward_cos_mean") is not None and r[f"ptq_outside_{band}"]
                    ]
                    v["inward_cos"] = bootstrap_mean([r["inward_cos_mean"] for r in run])
                    v["cos_to_wstar"] = bootstrap_mean([r["cos_to_wstar_mean"] for r in run])
                    v["rise_ratio"] = bootstrap_mean([r["ratio"] for r in grp])
                    verdicts.append(v)
    return verdicts


def _by_budget(budgets: dict) -> dict:
    """``{T: [bits, ...]}`` from ``{bits: T}``, budgets in descending order."""
    out: dict = {}
    for b, t in budgets.items():
        out.setdefault(t, []).append(b)
    return dict(sorted(out.items(), reverse=True))


def definitions(cfg, metric: str, bands: dict) -> dict:
    """The definitions the numbers of a run use, in words (stored with the results)."""
    bud = cfg.budgets()
    rel = {
        "accuracy": f"test accuracy >= accuracy(w*) - {REL_TOL['accuracy']}",
        "bpc": f"test bits per char <= bpc(w*) + log2(1.02) = bpc(w*) + {REL_TOL['bpc']:.5f}",
        "perplexity": f"test perplexity <= {REL_TOL['perplexity']} x perplexity(w*)",
    }[metric]
    how = (
        "calibrated: the smallest width (at least {floor}) that holds the full-precision null on every "
        "evaluation seed (max over its last 10 % of steps)".format(floor=bands["floor"])
        if bands["calibrated"]
        else "fixed by the caller"
    )
    return {
        "abs_band": f"L_fit(q) - L_fit(w*) <= tau = {bands['tau']:.4g} nats (training / fit loss; tau {how})",
        "test_band": f"L_test(q) - L_test(w*) <= tau_test = {bands['tau_test']:.4g} nats (test loss; {how}; "
        f"judged every {cfg.metric_every} steps)",
        "rel_band": rel + f" (evaluated every {cfg.metric_every} steps)",
        "settled": "in the band for the last "
        + "; ".join(
            f"{window(t)} of {t} steps"
            + (f" ({', '.join(map(str, bs))}-bit)" if len(set(bud.values())) > 1 else "")
            for t, bs in _by_budget(bud).items()
        )
        + " (10 %) and at the end (the oracle: the last 10 % of its "
        + "; ".join(f"{cfg.oracle_factor * t}" for t in _by_budget(bud))
        + " steps)",
        "needs_qat": f"PTQ outside any band, or outside the training-loss band at min(tau, {cfg.qat_floor})",
        "river": "points within tau/4 of L* joined to the late checkpoints (late_75, late_90, final)",
        "foot": "P(q): safeguarded gradient descent from q (eta0 = 1/lambda_max(w*), "
        f"<= {cfg.foot_steps} steps) stopped at L <= L* + tau/4",
        "inward_cos": "c_t = cos(-grad L(q_t), P(q_t) - q_t), mean over the probe steps off the river",
        "step_normal": "(q_{t+1} - q_t) . (P(q_t) - q_t) / ||P(q_t) - q_t|| (positive: inward)",
        "width_ptq": "first t > 0 with L(P(q0) + t n) - L(P(q0)) > tau along n = (q0 - P(q0))/||q0 - P(q0)||",
        "barrier_end_river": "max of L on the segment from the QAT endpoint q_T to the nearest river anchor, "
        "minus the higher of its ends",
        "quad_rise": "g.e + e^T H e / 2 at w* for the PTQ error e = q - w* (HVP)",
        "verdict": "held / failed / undecided: the Wilson 95% interval of the settled fraction among the "
        "seeds whose PTQ point is outside lies above / below / across 1/2",
        "power": f"k_held: the fewest settled of n_outside that reads held; min_rate: the smallest true "
        f"settling rate that reads held with probability {POWER:.0%} (1 - min_rate reads failed as often)",
        "tuning": "per setting: (runs with a non-finite loss, mean signed excess loss over the last 10 %, "
        "mean std of the loss there, grid position); the smallest wins",
    }
