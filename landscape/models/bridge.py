r"""The bridge on one model: train, tune, calibrate the bands, evaluate, locate the regime; rows and verdicts.

:func:`run_bridge` returns a JSON-ready dict:

* ``rows`` -- one per (model, bits, grid, PTQ method, evaluation seed) (:mod:`landscape.models.rows`);
* ``verdicts`` -- one per (bits, grid, method) and band (training loss ``abs``, test loss ``test``, test
  metric ``rel``), with seeds, counts, the Wilson interval and the verdict's power at its sample size;
* ``bands`` -- tau and tau_test and the full-precision null they are calibrated on; ``calibration`` -- the
  loss-to-metric calibration (:mod:`landscape.models.calibration`);
* ``regime`` -- per bit width: the regime of the theory and the dimension of the failures
  (:mod:`landscape.models.regime`), with the spectra they rest on;
* ``tuning`` (every setting's score, :mod:`landscape.models.tuning`), ``networks``, ``timings``, ``load``,
  ``definitions`` and ``manifest``.

:func:`~landscape.models.dataset.to_dataset` turns it into the Dataset the figures read.
"""

from __future__ import annotations

import json
import os
import time

import jax
import numpy as np

from landscape.manifest import manifest
from landscape.models.blindness import blindness_terms
from landscape.models.calibration import (
    TAU_FLOOR,
    loss_metric_calibration,
    null_runs,
    null_taus,
    pool_calibration,
)
from landscape.models.config import BridgeConfig
from landscape.models.dataset import ROW_SCALARS, to_dataset
from landscape.models.evaluation import evaluate
from landscape.models.losses import NetLoss, NetMetric, test_data, train_data, values_along
from landscape.models.nets import flat_weights
from landscape.models.protocol import prepare, run_tables, with_tau
from landscape.models.quant import ptq_point
from landscape.models.regime import error_record, regime_label, spectrum_record
from landscape.models.rows import definitions, row_of, verdicts_of_rows
from landscape.models.tuning import tune

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


def _bands(cfg, eval_nets, tuned) -> dict:
    """The null on the evaluation networks and the bands it calibrates (or the caller's fixed tau)."""
    # one band per model: every tuned setting for the budget of each bit width it serves (deduplicated)
    settings = list({(tuned[b]["config"], cfg.budget(b)): None for b in cfg.bits})
    recs = null_runs(cfg, eval_nets, settings, run_tables(cfg, eval_nets))
    null = null_taus(recs, TAU_FLOOR)
    if cfg.tau is None:
        tau, tau_test = null["tau"], null["tau_test"]
    else:
        tau = tau_test = float(cfg.tau)
    return {
        "tau": tau,
        "tau_test": tau_test,
        "calibrated": cfg.tau is None,
        "floor": TAU_FLOOR,
        "null": null,
        "null_holds": bool(null["null_max_rise"] <= tau and null["null_max_test_rise"] <= tau_test),
        "null_runs": recs,
        "null_settings": [
            c.label if len({t for _, t in settings}) == 1 else f"{c.label}, T = {t}" for c, t in settings
        ],
    }


def _regime(cfg, nets: dict, rows: list[dict], tau: float) -> dict:
    """Spectra at w* of the first regime_seeds networks; per bit width the regime and the top-k shares."""
    seeds = list(nets)[: cfg.regime_seeds]
    spectra, errors = [], {}
    for i, s in enumerate(seeds):
        net = nets[s]
        spec = spectrum_record(
            net,
            tau,
            jax.random.PRNGKey(3000 + s),
            cfg.k_lanczos,
            cfg.lanczos_matvecs,
            dense=cfg.dense_check and i == 0,
        )
        keys = list(net.points)
        for k, r in zip(
            keys,
            error_record(net, spec, np.stack([np.asarray(net.points[k]) for k in keys]), tau),
            strict=True,
        ):
            errors[(s, *k)] = r
        spec.pop("_vecs")
        spectra.append(spec)
    offsets = [a["offset_min"] for sp in spectra for a in sp["along_top"] if a["offset_min"] is not None]
    per_bits = {}
    for b in cfg.bits:
        failed = [
            errors[(r["seed"], b, r["grid"], r["method"])]
            for r in rows
            if r["bits"] == b and r["ptq_outside_abs"] and (r["seed"], b, r["grid"], r["method"]) in errors
        ]
        lab = regime_label(failed, offsets)
        share = lambda name, k, f=failed: [x[name][k] for x in f if x[name][k] is not None]  # noqa: E731
        lab["error_share_top"] = {k: _median(share("error_share", k)) for k in ("1", "3", "10")}
        lab["rise_share_top"] = {k: _median(share("rise_share", k)) for k in ("1", "3", "10")}
        bars = [
            r["barrier_end_river"] for r in rows if r["bits"] == b and r.get("barrier_end_river") is not None
        ]
        lab["barrier_end_river_median"] = _median(bars)
        lab["n_barrier_runs"] = len(bars)
        per_bits[str(b)] = lab
    n_sharp = [sp["n_sharp"] for sp in spectra]
    return {
        "seeds": seeds,
        "spectra": spectra,
        "per_bits": per_bits,
        "offset_min_median": _median(offsets),
        "n_sharp": n_sharp,
        "errors": [{"key": list(k), **v} for k, v in errors.items()],
    }


def _median(x):
    x = [v for v in x if v is not None and np.isfinite(v)]
    return float(np.median(x)) if x else None


def run_bridge(cfg: BridgeConfig) -> dict:
    """Every measurement and verdict of the bridge for one model (see the module docstring)."""
    timings, load = {}, {"start": _load()}
    t0 = time.perf_counter()
    tune_nets = {s: prepare(cfg, s) for s in cfg.tune_seeds}
    eval_nets = {s: prepare(cfg, s) for s in cfg.eval_seeds}
    timings["train_and_ptq_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    tuned = tune(cfg, tune_nets, run_tables(cfg, tune_nets))
    timings["tune_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bands = _bands(cfg, eval_nets, tuned)
    eval_nets = {s: with_tau(n, bands["tau"]) for s, n in eval_nets.items()}
    timings["null_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    ev = evaluate(cfg, eval_nets, tuned, bands, run_tables(cfg, eval_nets))
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
                    row = row_of(cfg, net, (b, g, m), ev, blind[s], bands)
                    row.update({f"qat_{k}": v for k, v in tuned[b]["config"].as_dict().items()})
                    rows.append(row)
    verdicts = verdicts_of_rows(cfg, rows)
    t0 = time.perf_counter()
    calib = pool_calibration(
        [
            loss_metric_calibration(n, jax.random.PRNGKey(5000 + s), cfg.calib_dirs)
            for s, n in list(eval_nets.items())[: cfg.calib_seeds]
        ]
    )
    timings["calibration_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    regime = _regime(cfg, eval_nets, rows, bands["tau"])
    timings["regime_s"] = time.perf_counter() - t0
    load["end"] = _load()
    networks = {}
    for s, net in {**tune_nets, **eval_nets}.items():
        info = {k: v for k, v in net.task.info.items() if not k.startswith("final_train")}
        networks[str(s)] = {
            "role": "tune" if s in tune_nets else "eval",
            "loss_star": net.loss_star,
            "test_loss_star": net.test_loss_star,
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
            "borrowed_from": t.get("borrowed_from"),
        }
        for b, t in tuned.items()
    }
    metric = next(iter(eval_nets.values())).task.metric
    result = {
        "runs": {
            **ev["counts"],
            "tune": sum(len(t["table"]) * len(t["starts"]) for t in tuned.values()),
            "null": len(bands["null_runs"]),
        },
        "model": cfg.model,
        "metric": metric,
        "config": cfg.as_dict(),
        "rows": rows,
        "verdicts": verdicts,
        "bands": bands,
        "calibration": calib,
        "regime": regime,
        "tuning": tuning,
        "networks": networks,
        "timings": timings,
        "load": load,
        "definitions": definitions(cfg, metric, bands),
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
