r"""Calibrated bands: tau from a full-precision null on the same network, and the loss-to-metric calibration.

* **The null** (:func:`null_runs`) -- full-precision continuation from :math:`w^*` with each tuned setting
  (the rule ``fp``: gradient at the latent; the *latent* :math:`w_t` is judged, not a deployed point),
  on every evaluation seed, for the budget :math:`T` of the bit widths it was tuned for (one band per
  model: the union over the settings and budgets of its bit widths). Nothing was quantized, so a band
  that reads this run as "left the band" mistakes optimizer noise for quantization damage. The band must
  hold the null on every seed: the training-loss band's width is
  :math:`\tau = \max(\tau_{\min}, \max_{\rm seeds,\,settings} \max_{t \in [T-W, T]} L(w_t) - L^*)` and the
  test-loss band's :math:`\tau_{\rm test}` the same with the test loss (:func:`null_taus`;
  :math:`\tau_{\min}` = :data:`TAU_FLOOR`). The null's relative-band (test metric) record is kept too.
* **Loss-to-metric calibration** (:func:`loss_metric_calibration`) -- along ``n_dirs`` isotropic random
  directions :math:`u` from :math:`w^*`, the first point :math:`w^* + s u` whose training loss is
  :math:`L^* + \Delta` (bracketing by doubling, then bisection), for each rise :math:`\Delta` of
  :data:`CALIBRATION_RISES`; the share of those points whose test metric stays in the relative band, and
  their mean test-loss rise. It says what a training-loss band of width :math:`\Delta` means for the metric.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.models.band import rel_in_band, window
from landscape.models.losses import NetLoss, NetMetric, test_data, train_data, values_along
from landscape.models.recovery import RunSpec, run_specs

__all__ = ["TAU_FLOOR", "CALIBRATION_RISES", "null_runs", "null_taus", "loss_metric_calibration"]

#: the narrowest band the calibration may set (nats): below it float32 noise of L decides
TAU_FLOOR = 0.01
#: the training-loss rises (nats) at which the loss-to-metric calibration is measured
CALIBRATION_RISES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2)


def null_runs(cfg, nets: dict, settings: list, run_kw: dict) -> list[dict]:
    """Full-precision continuation from w* per (setting, budget) on every network: tail rises, rel record.

    ``settings`` -- pairs (QATConfig, T): each tuned setting for the budget of the bit widths it serves.
    """
    keys = [(s, c, t) for c, t in settings for s in nets]
    # the rule deploys Q(w_t) on some grid; the null judges the latent w_t, so any grid of the network serves
    specs = [RunSpec(s, ("wstar", s), (s, cfg.bits[0], cfg.grids[0]), "fp", c, t) for s, c, t in keys]

    def reduce(spec, traj):
        net = nets[spec.net]
        ws = np.concatenate([np.asarray(traj.w_path), np.asarray(traj.final_w)[None]])
        idx = np.unique(
            np.concatenate([np.arange(0, spec.num_steps + 1, cfg.metric_every), [spec.num_steps]])
        )
        tail = idx[idx >= spec.num_steps - window(spec.num_steps)]
        train = values_along(NetLoss(net.task.apply), train_data(net.task), ws[tail])
        test = values_along(NetLoss(net.task.apply), test_data(net.task), ws[tail])
        met = values_along(NetMetric(net.task.apply, net.task.metric), test_data(net.task), ws[tail])
        return {
            "seed": net.seed,
            "config": spec.config.label,
            "num_steps": spec.num_steps,
            "tail_max_rise": float(np.max(train) - net.loss_star),
            "tail_max_test_rise": float(np.max(test) - net.test_loss_star),
            "rel_held": bool(np.all(rel_in_band(met, net.metric_star, net.task.metric))),
            "final_metric": float(met[-1]),
        }

    return run_specs(specs, paths=True, reduce=reduce, key=jax.random.PRNGKey(4), **run_kw)


def null_taus(records: list[dict], floor: float = TAU_FLOOR) -> dict:
    """tau and tau_test: the smallest band widths (at least ``floor``) that hold every null run's tail."""
    rise = max(r["tail_max_rise"] for r in records)
    test = max(r["tail_max_test_rise"] for r in records)
    return {
        "tau": max(floor, rise),
        "tau_test": max(floor, test),
        "null_max_rise": rise,
        "null_max_test_rise": test,
        "floor": floor,
        "n_runs": len(records),
        "rel_held": sum(r["rel_held"] for r in records),
    }


@partial(jax.jit, static_argnames=("net_loss", "doublings", "bisect"))
def _reach(net_loss, data, w, dirs, rises, s0, *, doublings, bisect):
    """Per (rise, direction): the first scale s along the unit direction with L(w + s u) - L(w) = rise."""
    base = net_loss(w, data)

    def one(u, rise):
        up = lambda s: net_loss(w + s * u, data) - base > rise  # noqa: E731

        def grow(_, lh):
            lo, hi = lh
            return jnp.where(up(hi), lo, hi), jnp.where(up(hi), hi, 2.0 * hi)

        lo, hi = jax.lax.fori_loop(0, doublings, grow, (jnp.zeros_like(s0), s0))

        def halve(_, lh):
            lo, hi = lh
            mid = 0.5 * (lo + hi)
            return jnp.where(up(mid), lo, mid), jnp.where(up(mid), mid, hi)

        lo, hi = jax.lax.fori_loop(0, bisect, halve, (lo, hi))
        return hi

    return jax.vmap(lambda r: jax.vmap(lambda u: one(u, r))(dirs))(rises)


def loss_metric_calibration(net, key, n_dirs: int = 16, rises=CALIBRATION_RISES) -> dict:
    """Share of random points at each training-loss rise whose test metric stays in the relative band."""
    loss = NetLoss(net.task.apply)
    tr, te = train_data(net.task), test_data(net.task)
    w = jnp.asarray(net.w_star)
    u = jax.random.normal(key, (n_dirs, w.shape[0]), w.dtype)
    u = u / jnp.linalg.norm(u, axis=1, keepdims=True)
    s0 = 1e-3 * jnp.linalg.norm(w)
    s = _reach(loss, tr, w, u, jnp.asarray(rises, w.dtype), s0, doublings=24, bisect=24)
    pts = (w[None, None] + s[..., None] * u[None]).reshape(-1, w.shape[0])
    train = values_along(loss, tr, pts).reshape(len(rises), n_dirs) - net.loss_star
    test = values_along(loss, te, pts).reshape(len(rises), n_dirs) - net.test_loss_star
    met = values_along(NetMetric(net.task.apply, net.task.metric), te, pts).reshape(len(rises), n_dirs)
    keep = rel_in_band(met, net.metric_star, net.task.metric)
    return {
        "seed": net.seed,
        "rises": list(rises),
        "n_dirs": n_dirs,
        "share_rel_in_band": keep.mean(1).tolist(),
        "mean_test_loss_rise": test.mean(1).tolist(),
        "reached_rise": train.mean(1).tolist(),
        "mean_distance": np.asarray(s, np.float64).mean(1).tolist(),
    }


def pool_calibration(records: list[dict]) -> dict:
    """The calibration pooled over networks: share of points in the relative band per rise (and per seed)."""
    rises = records[0]["rises"]
    n = sum(r["n_dirs"] for r in records)
    share = [sum(r["share_rel_in_band"][i] * r["n_dirs"] for r in records) / n for i in range(len(rises))]
    return {
        "rises": rises,
        "share_rel_in_band": share,
        "n_points_per_rise": n,
        "seeds": [r["seed"] for r in records],
        "per_seed": records,
        "definition": "isotropic random directions from w*; the first point on each with L - L* = rise "
        "(doubling, then 24 bisections); share of those points with the test metric in the relative band",
    }


__all__ += ["pool_calibration"]
