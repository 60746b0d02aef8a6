r"""The bridge's protocol on one model: train, place PTQ points, tune QAT on tuning seeds, evaluate on others.

1. **Networks** -- one per seed (tuning and evaluation seeds are disjoint), each with its loss surface,
   test metric, the river's anchors (late checkpoints) and the step :math:`\eta_0 = 1/\lambda_{\max}` of
   its foot descent (Lanczos on HVPs at :math:`w^*`).
2. **PTQ points** -- per (bits, grid, method): RTN and sequentially calibrated GPTQ on the absmax and
   clip-optimised grids. An evaluation start *needs QAT* when its PTQ point is outside the absolute band
   at the smallest tau of :data:`~landscape.models.band.TAU_GRID` or outside the relative band.
3. **Tuning** (tuning seeds only) -- per bit width, every optimizer setting (SGD / Adam x constant /
   cosine x the learning-rate grid) runs STE-QAT from every tuning start outside the absolute band at
   the smallest tau (the tuning never reads test data); the setting
   that settles (absolute band, tau) on the most starts wins, ties broken by the mean tail fraction in
   band and then by the smaller mean final excess loss. Test data are never used for tuning.
4. **Evaluation** (evaluation seeds) -- STE-QAT with the tuned setting from every start that needs QAT,
   with paths for the normal frame; the controls (gradient at the latent: full-precision fine-tuning
   deployed by RTN, from w*, same setting) and the oracle (from the RTN start of the first
   ``oracle_seeds`` seeds: the same optimizer and rate, cosine-decayed over ``oracle_factor`` x the budget).
"""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from landscape.models.band import TAU_GRID, abs_in_band, band_times, rel_in_band, window
from landscape.models.config import BridgeConfig, build_task
from landscape.models.hessian import top_eigenvalue
from landscape.models.losses import (
    NetLoss,
    NetMetric,
    grads_along,
    stack,
    task_surface,
    test_data,
    train_data,
    values_along,
)
from landscape.models.nets import flat_weights
from landscape.models.quant import ptq_point, weight_quantizer
from landscape.models.recovery import QATConfig, RunSpec, loss_rows, q_rows, run_specs
from landscape.models.river import barrier, cosine, project, width_along

__all__ = ["Network", "prepare", "tuning_configs", "tune", "evaluate", "probe_steps"]


@dataclasses.dataclass
class Network:
    """One trained network (a seed) and everything measured on it before QAT."""

    seed: int
    task: object
    w_star: jax.Array
    loss_star: float
    metric_star: float
    surface: object
    eta0: float
    lam_max: float
    anchors: dict
    anchor_gaps: dict
    anchor_barriers: dict
    quantizers: dict  # (bits, grid) -> quantizer
    points: dict  # (bits, grid, method) -> q
    ptq_loss: dict
    ptq_metric: dict


def prepare(cfg: BridgeConfig, seed: int) -> Network:
    """Train the seed's network; its surface, anchors, foot step and every PTQ point with loss and metric."""
    task = build_task(cfg.model, seed, cfg.train_steps)
    net_loss, net_metric = NetLoss(task.apply), NetMetric(task.apply, task.metric)
    tr, te = train_data(task), test_data(task)
    w = flat_weights(task.params)
    surface = task_surface(task, cfg.tau)
    loss_star = float(surface.loss_star)
    metric_star = float(values_along(net_metric, te, w[None])[0])
    lam = top_eigenvalue(net_loss, tr, w, jax.random.PRNGKey(seed))
    anchors = {k: flat_weights(p) for k, p in (task.checkpoints or {}).items() if k.startswith("late")}
    anchors["final"] = w
    names = list(anchors)
    a = jnp.stack([anchors[k] for k in names])
    gaps = values_along(net_loss, tr, a) - loss_star
    # barriers along the river's anchors: late_75 -> late_90 -> final
    seg = (
        barrier(net_loss, a[:-1], a[1:], stack([tr] * (len(names) - 1))) - loss_star if len(names) > 1 else []
    )
    quantizers, points = {}, {}
    for b in cfg.bits:
        for g in cfg.grids:
            quantizers[(b, g)] = weight_quantizer(task.params, b, g)
            for m in cfg.methods:
                points[(b, g, m)] = ptq_point(task, b, g, m, n_calib=cfg.n_calib)
    keys = list(points)
    qs = jnp.stack([points[k] for k in keys])
    pl = values_along(net_loss, tr, qs)
    pm = values_along(net_metric, te, qs)
    return Network(
        seed,
        task,
        w,
        loss_star,
        metric_star,
        surface,
        1.0 / max(lam, 1e-8),
        lam,
        anchors,
        dict(zip(names, gaps.tolist(), strict=True)),
        {f"{names[i]}->{names[i + 1]}": float(v) for i, v in enumerate(seg)},
        quantizers,
        points,
        dict(zip(keys, pl.tolist(), strict=True)),
        dict(zip(keys, pm.tolist(), strict=True)),
    )


def ptq_outside(net: Network, key, tau: float) -> tuple[bool, bool]:
    """(outside the absolute band at tau, outside the relative band) for the PTQ point ``key``."""
    gap = net.ptq_loss[key] - net.loss_star
    rel = not bool(rel_in_band(net.ptq_metric[key], net.metric_star, net.task.metric))
    return bool(gap > tau), rel


def needs_qat(net: Network, key, floor: float = min(TAU_GRID)) -> bool:
    """Outside the absolute band at ``floor`` (default: the smallest tau of TAU_GRID) or the relative band."""
    out_abs, out_rel = ptq_outside(net, key, floor)
    return out_abs or out_rel


def tuning_configs(cfg: BridgeConfig) -> list[QATConfig]:
    """Every optimizer setting of the tuning grid."""
    return [
        QATConfig(o, s, lr)
        for o in cfg.optimizers
        for s in cfg.schedules
        for lr in (cfg.sgd_lrs if o == "sgd" else cfg.adam_lrs)
    ]


def _tables(nets: dict):
    surfaces = {s: n.surface for s, n in nets.items()}
    starts, quants = {}, {}
    for s, n in nets.items():
        for (b, g, m), q in n.points.items():
            starts[(s, b, g, m)] = n.w_star if m == "rtn" else q
            quants[(s, b, g)] = n.quantizers[(b, g)]
    return surfaces, starts, quants


def batch_loss_of(cfg: BridgeConfig, nets: dict):
    """The minibatch loss of QAT for a network trained on a stream (the transformer), else None."""
    task = next(iter(nets.values())).task
    if getattr(task, "stream", None) is None:
        return None
    from landscape.models.minibatch import MinibatchLoss

    return MinibatchLoss(task.apply, cfg.qat_batch, int(task.info["context"]))


def _band_summary(losses, loss_star, tau):
    bt = band_times(abs_in_band(losses, loss_star, tau))
    return {k: (v.item() if hasattr(v, "item") else v) for k, v in bt.items()}


def tune(cfg: BridgeConfig, nets: dict) -> dict:
    """Per bit width: the chosen QATConfig and the table of every setting's score on the tuning starts."""
    surfaces, starts, quants = _tables(nets)
    configs = tuning_configs(cfg)
    out = {}
    for b in cfg.bits:
        # tuning starts (training loss only, no test data): outside the absolute band at tau; if none, at the
        # smallest tau of TAU_GRID. Each start is scored in the tightest of the two bands it is outside of.
        cand = [(s, b, g, m) for s in nets for g in cfg.grids for m in cfg.tune_methods]
        keys = [k for k in cand if ptq_outside(nets[k[0]], k[1:], cfg.tau)[0]]
        tau_of = dict.fromkeys(keys, cfg.tau)
        if not keys:
            keys = [k for k in cand if ptq_outside(nets[k[0]], k[1:], min(TAU_GRID))[0]]
            tau_of = dict.fromkeys(keys, min(TAU_GRID))
        if not keys:
            out[b] = {"config": None, "table": [], "starts": []}
            continue
        specs = [RunSpec(k[0], k, k[:3], "ste", c, cfg.qat_steps) for c in configs for k in keys]

        def reduce(spec, traj, tau_of=tau_of):
            net = nets[spec.net]
            loss = loss_rows(traj)
            bt = _band_summary(loss, net.loss_star, tau_of[spec.start])
            return {
                "settled": bool(bt["settled"]),
                "tail": bt["frac_in_band_tail"],
                "excess": float(max(loss[-1] - net.loss_star, 0.0)) if np.isfinite(loss[-1]) else np.inf,
                "diverged": bool(traj.diverge_time >= 0),
            }

        res = run_specs(
            specs,
            surfaces,
            starts,
            quants,
            max_batch=cfg.max_batch,
            reduce=reduce,
            batch_loss=batch_loss_of(cfg, nets),
            key=jax.random.PRNGKey(b),
        )
        table = []
        for i, c in enumerate(configs):
            r = res[i * len(keys) : (i + 1) * len(keys)]
            table.append(
                {
                    **c.as_dict(),
                    "label": c.label,
                    "n": len(r),
                    "settled": sum(x["settled"] for x in r),
                    "mean_tail": float(np.mean([x["tail"] for x in r])),
                    "mean_excess": float(np.mean([x["excess"] for x in r])),
                    "diverged": sum(x["diverged"] for x in r),
                }
            )
        best = max(
            range(len(configs)),
            key=lambda i: (table[i]["settled"], table[i]["mean_tail"], -table[i]["mean_excess"]),
        )
        out[b] = {
            "config": configs[best],
            "table": table,
            "starts": [list(k) for k in keys],
            "tau": tau_of[keys[0]],
        }
    tuned = [b for b in cfg.bits if out[b]["config"] is not None]
    for b in cfg.bits:  # a bit width with nothing to tune borrows the nearest tuned one's setting
        if out[b]["config"] is None:
            near = min(tuned, key=lambda x: (abs(x - b), x)) if tuned else None
            out[b]["config"] = out[near]["config"] if near is not None else tuning_configs(cfg)[0]
            out[b]["borrowed_from"] = near
    return out


def probe_steps(num_steps: int, n_probe: int) -> np.ndarray:
    """Steps where the normal frame is measured: 0 and a geometric ladder to T-1 (early steps densest)."""
    ladder = np.unique(np.round(np.geomspace(1, num_steps - 1, max(n_probe - 1, 1))).astype(int))
    return np.unique(np.concatenate([[0], ladder]))[:n_probe]


def _geometry(cfg, net: Network, qs: np.ndarray, num_steps: int) -> dict:
    """The normal frame along one recorded run: feet, normal distances, inward cosines, realised steps."""
    net_loss = NetLoss(net.task.apply)
    tr = train_data(net.task)
    t_probe = probe_steps(num_steps, cfg.n_probe)
    pts = np.concatenate([qs[t_probe], qs[-1:]])  # the probes and the final point
    n = pts.shape[0]
    data = stack([tr] * n)
    foot = project(
        net_loss, jnp.asarray(pts), data, net.loss_star, cfg.tau, eta0=net.eta0, steps=cfg.foot_steps
    )
    feet = np.asarray(foot.point)
    to_foot = feet - pts
    rho = np.linalg.norm(to_foot, axis=1)
    g = grads_along(net_loss, tr, pts[:-1])
    c = cosine(-g, to_foot[:-1])
    c_wstar = cosine(-g, np.asarray(net.w_star)[None] - pts[:-1])
    step = qs[t_probe + 1] - qs[t_probe]
    with np.errstate(invalid="ignore", divide="ignore"):
        step_normal = np.where(rho[:-1] > 0, np.sum(step * to_foot[:-1], 1) / rho[:-1], np.nan)
    reached = np.asarray(foot.reached)
    off = (rho[:-1] > 0) & reached[:-1]
    # width along the normal at the PTQ point (t = 0)
    width, censored = np.nan, False
    if rho[0] > 0:
        nrm = to_foot[0] / rho[0] * -1.0  # from the foot towards q
        r, cens = width_along(
            net_loss, jnp.asarray(feet[:1]), jnp.asarray(nrm[None]), stack([tr]), cfg.tau, 4.0 * rho[0]
        )
        width, censored = float(r[0]), bool(cens[0])
    anchors = np.stack([np.asarray(a) for a in net.anchors.values()])
    ends = feet[[0, -1]]
    nearest = anchors[np.argmin(np.linalg.norm(ends[:, None] - anchors[None], axis=-1), axis=1)]
    bar = barrier(net_loss, jnp.asarray(ends), jnp.asarray(nearest), stack([tr, tr])) - net.loss_star
    w = np.asarray(net.w_star)
    return {
        "probe_steps": t_probe.tolist(),
        "inward_cos": c.tolist(),
        "inward_cos_mean": float(np.mean(c[off])) if off.any() else None,
        "cos_to_wstar": c_wstar.tolist(),
        "cos_to_wstar_mean": float(np.nanmean(c_wstar)),
        "step_normal": step_normal.tolist(),
        "step_norm": np.linalg.norm(step, axis=1).tolist(),
        "rho": rho[:-1].tolist(),
        "foot_reached": reached[:-1].tolist(),
        "foot_gap": (np.asarray(foot.loss)[:-1] - net.loss_star).tolist(),
        "rho_ptq": float(rho[0]),
        "width_ptq": width,
        "width_censored": censored,
        "outside_geometric": bool(rho[0] > width) if np.isfinite(width) else False,
        "rho_end": float(rho[-1]),
        "foot_reached_end": bool(reached[-1]),
        "barrier_ptq_foot": float(bar[0]),
        "barrier_end_foot": float(bar[1]),
        "dist_wstar_start": float(np.linalg.norm(pts[0] - w)),
        "dist_wstar_end": float(np.linalg.norm(pts[-1] - w)),
    }


def _metric_rows(cfg, net: Network, qs: np.ndarray, num_steps: int):
    idx = np.unique(np.concatenate([np.arange(0, num_steps + 1, cfg.metric_every), [num_steps]]))
    vals = values_along(NetMetric(net.task.apply, net.task.metric), test_data(net.task), qs[idx])
    return idx, vals


def evaluate(cfg: BridgeConfig, nets: dict, tuned: dict) -> dict:
    """STE-QAT, the full-precision control and the oracle on the evaluation seeds; one record per run."""
    surfaces, starts, quants = _tables(nets)
    keys = [
        (s, b, g, m)
        for s in nets
        for b in cfg.bits
        for g in cfg.grids
        for m in cfg.methods
        if needs_qat(nets[s], (b, g, m), cfg.qat_floor)
    ]
    t = cfg.qat_steps
    clock = {"geometry_s": 0.0, "metric_path_s": 0.0}

    def reduce_ste(spec, traj):
        net = nets[spec.net]
        loss = loss_rows(traj)
        qs = q_rows(traj)
        bt = _band_summary(loss, net.loss_star, cfg.tau)
        rec = {f"abs_{k}": v for k, v in bt.items()}
        rec["driver_hit_time"], rec["driver_settle_time"] = int(traj.hit_time), int(traj.settle_time)
        rec["diverged"] = bool(traj.diverge_time >= 0)
        rec["switches"] = int(traj.switches)
        rec["tau_sensitivity"] = {f"{tau:g}": _band_summary(loss, net.loss_star, tau) for tau in TAU_GRID}
        t0 = time.perf_counter()
        idx, met = _metric_rows(cfg, net, qs, spec.num_steps)
        clock["metric_path_s"] += time.perf_counter() - t0
        rb = band_times(rel_in_band(met, net.metric_star, net.task.metric))
        rec.update({f"rel_{k}": (v.item() if hasattr(v, "item") else v) for k, v in rb.items()})
        for k in ("rel_hit_time", "rel_settle_time"):
            rec[k] = int(idx[rec[k]]) if rec[k] >= 0 else -1
        rec["rel_window_steps"] = int(idx[-1] - idx[-1 - rb["window"]])
        rec["metric_steps"], rec["metric_path"] = idx.tolist(), met.tolist()
        rec["final_loss"], rec["final_metric"] = float(loss[-1]), float(met[-1])
        rec["loss_path_every"] = max(1, spec.num_steps // 100)
        rec["loss_path"] = loss[:: rec["loss_path_every"]].tolist()
        t0 = time.perf_counter()
        rec.update(_geometry(cfg, net, qs, spec.num_steps))
        clock["geometry_s"] += time.perf_counter() - t0
        return rec

    def reduce_short(spec, traj):
        net = nets[spec.net]
        loss = loss_rows(traj)
        bt = _band_summary(loss, net.loss_star, cfg.tau)
        met = values_along(
            NetMetric(net.task.apply, net.task.metric), test_data(net.task), np.asarray(traj.final_q)[None]
        )[0]
        return {
            **{f"abs_{k}": v for k, v in bt.items()},
            "final_loss": float(loss[-1]),
            "final_metric": float(met),
            "rel_in_band_end": bool(rel_in_band(met, net.metric_star, net.task.metric)),
            "diverged": bool(traj.diverge_time >= 0),
        }

    t0 = time.perf_counter()
    ste_specs = [RunSpec(k[0], k, k[:3], "ste", tuned[k[1]]["config"], t) for k in keys]
    common = dict(max_batch=cfg.max_batch, batch_loss=batch_loss_of(cfg, nets))
    ste = run_specs(
        ste_specs,
        surfaces,
        starts,
        quants,
        paths=True,
        reduce=reduce_ste,
        key=jax.random.PRNGKey(1),
        **common,
    )
    clock["ste_runs_s"] = time.perf_counter() - t0 - clock["geometry_s"] - clock["metric_path_s"]
    t0 = time.perf_counter()
    fp_keys = [k for k in keys if k[3] == "rtn"]
    fp_specs = [RunSpec(k[0], k, k[:3], "fp", tuned[k[1]]["config"], t) for k in fp_keys]
    fp = run_specs(
        fp_specs, surfaces, starts, quants, reduce=reduce_short, key=jax.random.PRNGKey(2), **common
    )
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
            cfg.oracle_steps,
        )
        for k in or_keys
    ]
    oracle = run_specs(
        or_specs, surfaces, starts, quants, reduce=reduce_short, key=jax.random.PRNGKey(3), **common
    )
    clock["oracle_s"] = time.perf_counter() - t0
    return {
        "ste": dict(zip(keys, ste, strict=True)),
        "fp": dict(zip(fp_keys, fp, strict=True)),
        "oracle": dict(zip(or_keys, oracle, strict=True)),
        "window": window(t),
        "timings": clock,
        "counts": {"ste": len(keys), "fp": len(fp_keys), "oracle": len(or_keys)},
    }
