r"""The evaluation runs of the bridge: STE-QAT, the full-precision control and the oracle, in three bands.

On the evaluation seeds, from every start that needs QAT (:func:`~landscape.models.protocol.needs_qat`):

* **STE-QAT** with the tuned setting of its bit width for the budget :math:`T` (RTN start: latent
  :math:`w^*`; GPTQ start: latent = the GPTQ point), with its path: the training loss every step, the test
  loss and the test metric every ``metric_every`` steps, and the normal frame
  (:func:`~landscape.models.frame.normal_frame`);
* the **control** "gradient at the latent" (full-precision fine-tuning from :math:`w^*` with the same
  setting, deployed by RTN), from the RTN starts;
* the **oracle** (the same optimizer and rate, cosine-decayed over ``oracle_factor`` x the budget) from the
  RTN starts of the first ``oracle_seeds`` seeds.

Every run -- the oracle and the control included -- is judged the same way in every band
(:mod:`landscape.models.band`): **settled** = in the band for the whole last 10 % of *its own* budget and
at the end. The training-loss band is judged at every step; the test-loss and test-metric bands every
``metric_every`` steps (the control and the oracle: over their last window only, which is all that
"settled" reads).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np

from landscape.models.band import TAU_GRID, abs_in_band, band_times, rel_in_band, window
from landscape.models.frame import normal_frame
from landscape.models.losses import NetLoss, NetMetric, test_data, values_along
from landscape.models.protocol import needs_qat
from landscape.models.recovery import RunSpec, loss_rows, q_rows, run_specs

__all__ = ["evaluate", "band_summary", "path_steps"]


def band_summary(flags) -> dict:
    """band_times of per-step flags as plain Python values (for JSON)."""
    bt = band_times(flags)
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in bt.items()}


def path_steps(num_steps: int, every: int, tail_only: bool = False) -> np.ndarray:
    """The steps 0, m, 2m, ... and T where the test bands are judged (only the last window's if asked)."""
    idx = np.unique(np.concatenate([np.arange(0, num_steps + 1, every), [num_steps]]))
    return idx[idx >= num_steps - window(num_steps)] if tail_only else idx


def _test_bands(cfg, net, qs, num_steps, bands, tail_only):
    """Test-loss and test-metric flags along q_t at path_steps; their band times (re-indexed to steps)."""
    idx = path_steps(num_steps, cfg.metric_every, tail_only)
    te = test_data(net.task)
    test = values_along(NetLoss(net.task.apply), te, qs[idx])
    met = values_along(NetMetric(net.task.apply, net.task.metric), te, qs[idx])
    flags = {
        "test": abs_in_band(test, net.test_loss_star, bands["tau_test"]),
        "rel": rel_in_band(met, net.metric_star, net.task.metric),
    }
    out = {"metric_steps": idx.tolist(), "metric_path": met.tolist(), "test_loss_path": test.tolist()}
    for band, f in flags.items():
        if tail_only:
            out[f"{band}_settled"] = bool(np.all(f))
            continue
        bt = band_summary(f)
        for k in ("hit_time", "settle_time"):
            bt[k] = int(idx[bt[k]]) if bt[k] >= 0 else -1
        # settled at the path's resolution: in band at every judged step of the last window and at the end
        bt["settled"] = bool(np.all(f[idx >= num_steps - window(num_steps)]))
        out.update({f"{band}_{k}": v for k, v in bt.items() if k != "window"})
    out["final_test_loss"], out["final_metric"] = float(test[-1]), float(met[-1])
    return out


def evaluate(cfg, nets: dict, tuned: dict, bands: dict, run_kw: dict) -> dict:
    """STE-QAT, the control and the oracle on the evaluation seeds (bands: tau, tau_test), per run."""
    tau = bands["tau"]
    keys = [
        (s, b, g, m)
        for s in nets
        for b in cfg.bits
        for g in cfg.grids
        for m in cfg.methods
        if needs_qat(nets[s], (b, g, m), tau, bands["tau_test"], cfg.qat_floor)
    ]
    # one thinning of the loss paths for every row (bit widths may have budgets of their own)
    every = max(1, min(cfg.budgets().values()) // 100)
    clock = {"geometry_s": 0.0, "metric_path_s": 0.0}

    def reduce_ste(spec, traj):
        net = nets[spec.net]
        loss = loss_rows(traj)
        qs = q_rows(traj)
        bt = band_summary(abs_in_band(loss, net.loss_star, tau))
        rec = {f"abs_{k}": v for k, v in bt.items()}
        rec["driver_hit_time"], rec["driver_settle_time"] = int(traj.hit_time), int(traj.settle_time)
        rec["diverged"] = bool(traj.diverge_time >= 0)
        rec["switches"] = int(traj.switches)
        rec["tau_sensitivity"] = {
            f"{x:g}": band_summary(abs_in_band(loss, net.loss_star, x)) for x in sorted({*TAU_GRID, tau})
        }
        t0 = time.perf_counter()
        rec.update(_test_bands(cfg, net, qs, spec.num_steps, bands, tail_only=False))
        clock["metric_path_s"] += time.perf_counter() - t0
        rec["final_loss"] = float(loss[-1])
        rec["loss_path_every"] = every
        rec["loss_path"] = loss[:: rec["loss_path_every"]].tolist()
        t0 = time.perf_counter()
        rec.update(normal_frame(cfg, net, qs, spec.num_steps, tau))
        clock["geometry_s"] += time.perf_counter() - t0
        return rec

    def reduce_short(spec, traj):
        net = nets[spec.net]
        loss = loss_rows(traj)
        bt = band_summary(abs_in_band(loss, net.loss_star, tau))
        rec = _test_bands(cfg, net, q_rows(traj), spec.num_steps, bands, tail_only=True)
        return {
            **{f"abs_{k}": v for k, v in bt.items()},
            "final_loss": float(loss[-1]),
            "test_settled": rec["test_settled"],
            "rel_settled": rec["rel_settled"],
            "final_metric": rec["final_metric"],
            "final_test_loss": rec["final_test_loss"],
            "diverged": bool(traj.diverge_time >= 0),
        }

    t0 = time.perf_counter()
    ste_specs = [RunSpec(k[0], k, k[:3], "ste", tuned[k[1]]["config"], cfg.budget(k[1])) for k in keys]
    ste = run_specs(ste_specs, paths=True, reduce=reduce_ste, key=jax.random.PRNGKey(1), **run_kw)
    clock["ste_runs_s"] = time.perf_counter() - t0 - clock["geometry_s"] - clock["metric_path_s"]
    t0 = time.perf_counter()
    fp_keys = [k for k in keys if k[3] == "rtn"]
    fp_specs = [RunSpec(k[0], k, k[:3], "fp", tuned[k[1]]["config"], cfg.budget(k[1])) for k in fp_keys]
    fp = run_specs(fp_specs, paths=True, reduce=reduce_short, key=jax.random.PRNGKey(2), **run_kw)
    clock["fp_control_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_or = len(cfg.eval_seeds) if cfg.oracle_seeds < 0 else cfg.oracle_seeds
    or_keys = [k for k in keys if k[0] in cfg.eval_seeds[:n_or] and k[3] == "rtn"]
    or_specs = [
        RunSpec(
            k[0],
            k,
            k[:3],
            "ste",
            dataclasses.replace(tuned[k[1]]["config"], schedule="cosine"),
            cfg.oracle_budget(k[1]),
        )
        for k in or_keys
    ]
    # the oracle's paths are oracle_factor x longer: fewer runs per driver call
    or_kw = dict(run_kw, max_batch=max(1, run_kw["max_batch"] // cfg.oracle_factor))
    oracle = run_specs(or_specs, paths=True, reduce=reduce_short, key=jax.random.PRNGKey(3), **or_kw)
    clock["oracle_s"] = time.perf_counter() - t0
    return {
        "ste": dict(zip(keys, ste, strict=True)),
        "fp": dict(zip(fp_keys, fp, strict=True)),
        "oracle": dict(zip(or_keys, oracle, strict=True)),
        "timings": clock,
        "counts": {"ste": len(keys), "fp": len(fp_keys), "oracle": len(or_keys)},
    }
