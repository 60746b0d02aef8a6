r"""The bridge's networks: train one per seed, place its PTQ points, and say which bands they leave.

1. **Networks** -- one per seed (tuning and evaluation seeds are disjoint), each with its loss surface,
   training and test loss, test metric, the river's anchors (late checkpoints) and the step
   :math:`\eta_0 = 1/\lambda_{\max}` of its foot descent (power iteration on HVPs at :math:`w^*`).
2. **PTQ points** -- per (bits, grid, method): RTN and sequentially calibrated GPTQ on the absmax and
   clip-optimised grids, with their training loss, test loss and test metric.
3. **Which bands a PTQ point leaves** (:func:`ptq_outside`): the training-loss band (tau), the test-loss
   band (tau_test) and the relative test-metric band; an evaluation start *needs QAT*
   (:func:`needs_qat`) when it leaves any of them, or the training-loss band at the QAT floor.

Tuning is :mod:`landscape.models.tuning`, the calibration of the bands :mod:`landscape.models.calibration`,
the evaluation runs :mod:`landscape.models.evaluation`.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from landscape.models.band import TAU_GRID, rel_in_band
from landscape.models.config import BridgeConfig, build_task
from landscape.models.hessian import top_eigenvalue
from landscape.models.losses import (
    NetLoss,
    NetMetric,
    stack,
    task_surface,
    test_data,
    train_data,
    values_along,
)
from landscape.models.nets import flat_weights
from landscape.models.quant import ptq_point, weight_quantizer
from landscape.models.river import barrier

__all__ = ["Network", "prepare", "ptq_outside", "needs_qat", "run_tables", "with_tau"]


@dataclasses.dataclass
class Network:
    """One trained network (a seed) and everything measured on it before QAT."""

    seed: int
    task: object
    w_star: jax.Array
    loss_star: float
    test_loss_star: float
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
    ptq_test_loss: dict
    ptq_metric: dict


def prepare(cfg: BridgeConfig, seed: int) -> Network:
    """Train the seed's network; its surface, anchors, foot step and every PTQ point with loss and metric."""
    task = build_task(cfg.model, seed, cfg.train_steps)
    net_loss, net_metric = NetLoss(task.apply), NetMetric(task.apply, task.metric)
    tr, te = train_data(task), test_data(task)
    w = flat_weights(task.params)
    surface = task_surface(task, min(TAU_GRID) if cfg.tau is None else cfg.tau)  # with_tau sets the band
    loss_star = float(surface.loss_star)
    metric_star = float(values_along(net_metric, te, w[None])[0])
    test_loss_star = float(values_along(net_loss, te, w[None])[0])
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
    pt = values_along(net_loss, te, qs)
    return Network(
        seed,
        task,
        w,
        loss_star,
        test_loss_star,
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
        dict(zip(keys, pt.tolist(), strict=True)),
        dict(zip(keys, pm.tolist(), strict=True)),
    )


def ptq_outside(net: Network, key, tau: float, tau_test: float | None = None) -> dict:
    """Which bands the PTQ point ``key`` leaves: training loss at tau, test loss at tau_test, test metric."""
    gap = net.ptq_loss[key] - net.loss_star
    test_gap = net.ptq_test_loss[key] - net.test_loss_star
    rel = not bool(rel_in_band(net.ptq_metric[key], net.metric_star, net.task.metric))
    return {
        "abs": bool(gap > tau),
        "test": bool(test_gap > (tau if tau_test is None else tau_test)),
        "rel": rel,
    }


def needs_qat(net: Network, key, tau: float, tau_test: float, floor: float = min(TAU_GRID)) -> bool:
    """Outside a band (train loss at tau, test loss at tau_test, test metric) or the train band at floor."""
    out = ptq_outside(net, key, min(tau, floor), tau_test)
    return any(out.values())


def with_tau(net: Network, tau: float) -> Network:
    """The network with its driver surface's band L - L* <= tau (the driver's hit and settle times)."""
    surface = dataclasses.replace(net.surface, tau=jnp.asarray(tau, jnp.float32))
    return dataclasses.replace(net, surface=surface)


def run_tables(cfg: BridgeConfig, nets: dict, max_batch: int | None = None) -> dict:
    """The keyword arguments of ``run_specs`` for these networks: surfaces, starts, quantizers, batching.

    Starts: ``(seed, bits, grid, method)`` (RTN: the latent w*, GPTQ: the GPTQ point) and ``("wstar", seed)``.
    """
    surfaces = {s: n.surface for s, n in nets.items()}
    starts, quants = {}, {}
    for s, n in nets.items():
        starts[("wstar", s)] = n.w_star
        for (b, g, m), q in n.points.items():
            starts[(s, b, g, m)] = n.w_star if m == "rtn" else q
            quants[(s, b, g)] = n.quantizers[(b, g)]
    return {
        "surfaces": surfaces,
        "starts": starts,
        "quantizers": quants,
        "max_batch": cfg.max_batch if max_batch is None else max_batch,
        "batch_loss": batch_loss_of(cfg, nets),
    }


def batch_loss_of(cfg: BridgeConfig, nets: dict):
    """The minibatch loss of QAT for a network trained on a stream (the transformer), else None."""
    task = next(iter(nets.values())).task
    if getattr(task, "stream", None) is None:
        return None
    from landscape.models.minibatch import MinibatchLoss

    return MinibatchLoss(task.apply, cfg.qat_batch, int(task.info["context"]))
