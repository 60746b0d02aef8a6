r"""The normal frame of the river along one recorded STE-QAT run (definitions: :mod:`landscape.models.river`).

At ``n_probe`` steps (0 and a geometric ladder to T - 1, :func:`probe_steps`) and at the end: the foot
:math:`P(q_t)`, the normal distance :math:`\rho`, the inward cosine of the STE gradient, the cosine towards
:math:`w^*`, the realised deployed step on the normal; the width along the normal at the PTQ point; the
straight-path barriers from the feet to the river's anchors; and the **barrier from the QAT endpoint to
the river**: the maximum of :math:`L` on the segment from :math:`q_T` to the nearest anchor (``w*``,
``late_90``, ``late_75``), above the higher of its two ends (``barrier_end_river``) and above
:math:`L^*` (``barrier_end_river_gap``).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from landscape.models.losses import NetLoss, grads_along, stack, train_data, values_along
from landscape.models.river import barrier, cosine, project, width_along

__all__ = ["probe_steps", "normal_frame"]


def probe_steps(num_steps: int, n_probe: int) -> np.ndarray:
    """Steps where the normal frame is measured: 0 and a geometric ladder to T-1 (early steps densest)."""
    ladder = np.unique(np.round(np.geomspace(1, num_steps - 1, max(n_probe - 1, 1))).astype(int))
    return np.unique(np.concatenate([[0], ladder]))[:n_probe]


def normal_frame(cfg, net, qs: np.ndarray, num_steps: int, tau: float) -> dict:
    """The normal frame along one recorded run: feet, normal distances, inward cosines, realised steps."""
    net_loss = NetLoss(net.task.apply)
    tr = train_data(net.task)
    t_probe = probe_steps(num_steps, cfg.n_probe)
    pts = np.concatenate([qs[t_probe], qs[-1:]])  # the probes and the final point
    n = pts.shape[0]
    data = stack([tr] * n)
    foot = project(net_loss, jnp.asarray(pts), data, net.loss_star, tau, eta0=net.eta0, steps=cfg.foot_steps)
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
            net_loss, jnp.asarray(feet[:1]), jnp.asarray(nrm[None]), stack([tr]), tau, 4.0 * rho[0]
        )
        width, censored = float(r[0]), bool(cens[0])
    anchors = np.stack([np.asarray(a) for a in net.anchors.values()])
    ends = feet[[0, -1]]
    nearest = anchors[np.argmin(np.linalg.norm(ends[:, None] - anchors[None], axis=-1), axis=1)]
    bar = barrier(net_loss, jnp.asarray(ends), jnp.asarray(nearest), stack([tr, tr])) - net.loss_star
    # the straight path from the QAT endpoint q_T itself to the nearest point of the river (an anchor)
    end_anchor = anchors[np.argmin(np.linalg.norm(pts[-1][None] - anchors, axis=1))]
    end_bar = float(barrier(net_loss, jnp.asarray(pts[-1:]), jnp.asarray(end_anchor[None]), stack([tr]))[0])
    end_losses = values_along(net_loss, tr, np.stack([pts[-1], end_anchor]))
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
        "barrier_end_river": end_bar - float(np.max(end_losses)),
        "barrier_end_river_gap": end_bar - net.loss_star,
        "dist_wstar_start": float(np.linalg.norm(pts[0] - w)),
        "dist_wstar_end": float(np.linalg.norm(pts[-1] - w)),
    }
