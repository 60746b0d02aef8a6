r"""The bridge on one model: the protocol's records joined into rows, verdicts over seeds, and a Dataset.

:func:`run_bridge` returns a JSON-ready dict:

* ``rows`` -- one per (model, bits, grid, PTQ method, evaluation seed): ``fp_metric``, ``ptq_metric``,
  ``qat_metric``, ``hit_time``, ``settle_time``, ``settled``, ``frac_in_band_tail``, ``inward_cos_mean``,
  ``quad_rise``, ``actual_rise`` (and the rest: see docs/bridge.md);
* ``verdicts`` -- one per (bits, grid, method) and band, with seeds, counts and the Wilson interval,
  and the absolute band's sensitivity to tau over 0.01 ... 0.2;
* ``tuning`` (the chosen setting per bit width and every setting's score), ``networks`` (per seed: the
  trained metric, the river's anchors), ``timings``, ``load`` (the machine's load average), ``manifest``.

:func:`to_dataset` turns it into an ``xarray.Dataset`` (dimension ``run``; verdicts in the attrs) for the
figures and ``landscape reproduce``.
"""

from __future__ import annotations

import json
import os
import time

import jax
import numpy as np
import xarray as xr

from landscape.manifest import manifest
from landscape.models.band import REL_TOL, TAU_GRID
from landscape.models.blindness import blindness_terms
from landscape.models.config import BridgeConfig
from landscape.models.losses import NetLoss, NetMetric, test_data, train_data, values_along
from landscape.models.nets import flat_weights
from landscape.models.protocol import evaluate, needs_qat, prepare, ptq_outside, tune
from landscape.models.quant import ptq_point
from landscape.models.verdict import bootstrap_mean, group_verdict, tau_sensitivity

__all__ = ["run_bridge", "to_dataset", "ROW_SCALARS"]


def _load() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def _blindness(cfg, net) -> dict:
    """Saturated and early-stopped w*: the blindness terms of every PTQ error (bits, grid, method)."""
    task = net.task
    keys = list(net.points)
    loss = NetLoss(task.apply)
    sat = blindness_terms(
        loss,
        train_data(task),
        net.w_star,
        np.stack([net.points[k] for k in keys]),
        jax.random.PRNGKey(1000 + net.seed),
    )
    out = {k: {"saturated": r} for k, r in zip(keys, sat, strict=True)}
    early = (task.checkpoints or {}).get("early")
    if early is not None:
        w_e = flat_weights(early)
        qs = np.stack([ptq_point(task, b, g, m, params=early, n_calib=cfg.n_calib) for b, g, m in keys])
        ear = blindness_terms(loss, train_data(task, early), w_e, qs, jax.random.PRNGKey(2000 + net.seed))
        m_e = float(
            values_along(NetMetric(task.apply, task.metric), test_data(task, early), np.asarray(w_e)[None])[0]
        )
        for k, r in zip(keys, ear, strict=True):
            out[k]["early"] = {**r, "fp_metric": m_e}
    return out


def _row(cfg, net, key, ev, blind) -> dict:
    b, g, m = key
    s = net.seed
    gap = net.ptq_loss[key] - net.loss_star
    out_abs, out_rel = ptq_outside(net, key, cfg.tau)
    row = {
        "model": cfg.model,
        "bits": b,
        "grid": g,
        "method": m,
        "seed": s,
        "fp_loss": net.loss_star,
        "fp_metric": net.metric_star,
        "ptq_loss": net.ptq_loss[key],
        "ptq_gap": gap,
        "ptq_metric": net.ptq_metric[key],
        "ptq_outside_abs": out_abs,
        "ptq_outside_rel": out_rel,
        "qat_run": needs_qat(net, key, cfg.qat_floor),
    }
    sk = (s, *key)
    rec = ev["ste"].get(sk)
    if rec is not None:
        row.update(
            {
                "qat_loss": rec["final_loss"],
                "qat_metric": rec["final_metric"],
                "hit_time": rec["abs_hit_time"],
                "settle_time": rec["abs_settle_time"],
                "settled": rec["abs_settled"],
                "frac_in_band": rec["abs_frac_in_band"],
                "frac_in_band_tail": rec["abs_frac_in_band_tail"],
                "rel_hit_time": rec["rel_hit_time"],
                "rel_settle_time": rec["rel_settle_time"],
                "rel_settled": rec["rel_settled"],
                "rel_frac_in_band_tail": rec["rel_frac_in_band_tail"],
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
        for k in (
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
        ):
            row[k] = rec[k]
        sn = [x for x in rec["step_normal"] if x is not None and np.isfinite(x)]
        row["step_normal_mean"] = float(np.mean(sn)) if sn else None
    fp = ev["fp"].get(sk)
    if fp is not None:
        row.update(
            {
                "fp_control_settled": fp["abs_settled"],
                "fp_control_metric": fp["final_metric"],
                "fp_control_final_gap": fp["final_loss"] - net.loss_star,
                "fp_control_rel_in_band_end": fp["rel_in_band_end"],
            }
        )
    orc = ev["oracle"].get(sk)
    if orc is not None:
        row.update(
            {
                "oracle_settled": orc["abs_settled"],
                "oracle_hit_time": orc["abs_hit_time"],
                "oracle_final_gap": orc["final_loss"] - net.loss_star,
                "oracle_metric": orc["final_metric"],
                "oracle_rel_in_band_end": orc["rel_in_band_end"],
            }
        )
    bl = blind[key]
    for k, v in bl["saturated"].items():
        row[k] = v
    for k, v in bl.get("early", {}).items():
        row[f"early_{k}"] = v
    return row


def run_bridge(cfg: BridgeConfig) -> dict:
    """Every measurement and verdict of the bridge for one model (see the module docstring)."""
    timings, load = {}, {"start": _load()}
    t0 = time.perf_counter()
    tune_nets = {s: prepare(cfg, s) for s in cfg.tune_seeds}
    eval_nets = {s: prepare(cfg, s) for s in cfg.eval_seeds}
    timings["train_and_ptq_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tuned = tune(cfg, tune_nets)
    timings["tune_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ev = evaluate(cfg, eval_nets, tuned)
    timings["evaluate_s"] = time.perf_counter() - t0
    timings.update({f"evaluate.{k}": v for k, v in ev["timings"].items()})
    t0 = time.perf_counter()
    blind = {s: _blindness(cfg, n) for s, n in eval_nets.items()}
    timings["blindness_s"] = time.perf_counter() - t0
    rows = []
    for b in cfg.bits:
        for g in cfg.grids:
            for m in cfg.methods:
                for s, net in eval_nets.items():
                    row = _row(cfg, net, (b, g, m), ev, blind[s])
                    row.update({f"qat_{k}": v for k, v in tuned[b]["config"].as_dict().items()})
                    rows.append(row)
    verdicts = []
    for b in cfg.bits:
        for g in cfg.grids:
            for m in cfg.methods:
                grp = [r for r in rows if (r["bits"], r["grid"], r["method"]) == (b, g, m)]
                for band in ("abs", "rel"):
                    v = group_verdict(
                        grp, band, qat_steps=cfg.qat_steps, window=ev["window"], oracle_steps=cfg.oracle_steps
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
    load["end"] = _load()
    networks = {}
    for s, net in {**tune_nets, **eval_nets}.items():
        info = {k: v for k, v in net.task.info.items() if not k.startswith("final_train")}
        networks[str(s)] = {
            "role": "tune" if s in tune_nets else "eval",
            "loss_star": net.loss_star,
            "metric_star": net.metric_star,
            "lambda_max": net.lam_max,
            "eta0_foot": net.eta0,
            "anchor_gaps": net.anchor_gaps,
            "anchor_barriers": net.anchor_barriers,
            "dim": int(net.w_star.shape[0]),
            "info": info,
        }
    tuning = {
        str(b): {
            "config": t["config"].as_dict(),
            "label": t["config"].label,
            "table": t["table"],
            "starts": t["starts"],
            "tau": t.get("tau"),
            "borrowed_from": t.get("borrowed_from"),
        }
        for b, t in tuned.items()
    }
    metric = next(iter(eval_nets.values())).task.metric
    result = {
        "runs": {**ev["counts"], "tune": sum(len(t["table"]) * len(t["starts"]) for t in tuned.values())},
        "model": cfg.model,
        "metric": metric,
        "config": cfg.as_dict(),
        "rows": rows,
        "verdicts": verdicts,
        "tuning": tuning,
        "networks": networks,
        "timings": timings,
        "load": load,
        "definitions": definitions(cfg, metric, ev["window"]),
        "manifest": manifest(cfg.as_dict(), cfg.eval_seeds[0]),
    }
    return json.loads(json.dumps(result, default=_jsonable))


def _jsonable(x):
    if isinstance(x, (np.bool_,)):
        return bool(x)
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return None if not np.isfinite(x) else float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON-serialisable: {type(x).__name__}")


def definitions(cfg: BridgeConfig, metric: str, win: int) -> dict:
    """The definitions the numbers of a run use, in words (stored with the results)."""
    rel = {
        "accuracy": f"test accuracy >= accuracy(w*) - {REL_TOL['accuracy']}",
        "bpc": f"test bits per char <= bpc(w*) + log2(1.02) = bpc(w*) + {REL_TOL['bpc']:.5f}",
        "perplexity": f"test perplexity <= {REL_TOL['perplexity']} x perplexity(w*)",
    }[metric]
    return {
        "abs_band": f"L_fit(q) - L_fit(w*) <= tau = {cfg.tau} nats (training / fit loss)",
        "rel_band": rel + f" (evaluated every {cfg.metric_every} steps)",
        "settled": f"in the band for the last {win} of {cfg.qat_steps} steps (10%) and at the end",
        "needs_qat": f"PTQ outside the absolute band at tau = {cfg.qat_floor} or outside the relative band",
        "river": "points within tau/4 of L* joined to the late checkpoints (late_75, late_90, final)",
        "foot": "P(q): safeguarded gradient descent from q (eta0 = 1/lambda_max(w*), "
        f"<= {cfg.foot_steps} steps) "
        "stopped at L <= L* + tau/4",
        "inward_cos": "c_t = cos(-grad L(q_t), P(q_t) - q_t), mean over the probe steps off the river",
        "step_normal": "(q_{t+1} - q_t) . (P(q_t) - q_t) / ||P(q_t) - q_t|| (positive: inward)",
        "width_ptq": "first t > 0 with L(P(q0) + t n) - L(P(q0)) > tau along n = (q0 - P(q0))/||q0 - P(q0)||",
        "quad_rise": "g.e + e^T H e / 2 at w* for the PTQ error e = q - w* (HVP)",
        "verdict": "held / failed / undecided: the Wilson 95% interval of the settled fraction among the "
        "seeds "
        "whose PTQ point is outside lies above / below / across 1/2",
    }


#: the per-run scalars kept in the Dataset
ROW_SCALARS = (
    "bits",
    "seed",
    "fp_metric",
    "ptq_metric",
    "qat_metric",
    "ptq_gap",
    "ptq_outside_abs",
    "ptq_outside_rel",
    "qat_run",
    "hit_time",
    "settle_time",
    "settled",
    "frac_in_band",
    "frac_in_band_tail",
    "rel_settled",
    "rel_frac_in_band_tail",
    "inward_cos_mean",
    "cos_to_wstar_mean",
    "step_normal_mean",
    "rho_ptq",
    "width_ptq",
    "rho_end",
    "dist_wstar_start",
    "dist_wstar_end",
    "grad_term",
    "hess_term",
    "quad_rise",
    "actual_rise",
    "ratio",
    "random_sign_actual_rise",
    "random_dir_actual_rise",
    "early_grad_term",
    "early_hess_term",
    "early_quad_rise",
    "early_actual_rise",
    "early_ratio",
    "fp_control_settled",
    "fp_control_final_gap",
    "oracle_settled",
    "oracle_final_gap",
    "qat_learning_rate",
)


def to_dataset(result: dict) -> xr.Dataset:
    """The rows as an xarray Dataset over ``run`` (plus the loss paths over ``t``); verdicts in the attrs."""
    rows = result["rows"]
    n = len(rows)
    data = {}
    for k in ROW_SCALARS:
        vals = [r.get(k) for r in rows]
        data[k] = ("run", np.asarray([np.nan if v is None else float(v) for v in vals], np.float64))
    for k in ("grid", "method", "qat_optimizer", "qat_schedule"):
        data[k] = ("run", np.asarray([str(r.get(k, "")) for r in rows]))
    paths = [r.get("loss_path") or [] for r in rows]
    width = max([len(p) for p in paths] + [1])
    lp = np.full((n, width), np.nan)
    for i, p in enumerate(paths):
        lp[i, : len(p)] = np.asarray([np.nan if v is None else v for v in p], np.float64)
    data["loss_gap_path"] = (("run", "t"), lp - np.asarray([r["fp_loss"] for r in rows], np.float64)[:, None])
    every = next((r["loss_path_every"] for r in rows if r.get("loss_path_every")), 1)
    ds = xr.Dataset(data, coords={"run": np.arange(n), "t": np.arange(width) * every})
    ds.attrs.update(
        model=result["model"],
        metric=result["metric"],
        tau=result["config"]["tau"],
        qat_steps=result["config"]["qat_steps"],
        verdicts=json.dumps(result["verdicts"]),
        tuning=json.dumps(result["tuning"]),
        definitions=json.dumps(result["definitions"]),
        networks=json.dumps(result["networks"]),
        timings=json.dumps(result["timings"]),
        manifest=json.dumps(result["manifest"]),
    )
    return ds
