r"""Which regime of the theory a real network is in, and in how many directions its PTQ failure lives.

At the trained point :math:`w^*` of a network, with the top Hessian eigenpairs
:math:`(\lambda_i, v_i)` (Lanczos on HVPs, :func:`~landscape.models.hessian.lanczos_top`; every pair's
residual :math:`\lVert Hv - \lambda v\rVert/|\lambda|` recorded, and on the first regime network the
eigenvalues checked against the dense float64 spectrum where :math:`d \le` :data:`DENSE_MAX`):

* **where** :math:`w^*` **sits in its band** along each of the top :data:`N_PROFILE` directions: the band
  :math:`\{t : L(w^* + t v_i) - L^* \le \tau\}` around 0 is :math:`[t_-, t_+]` (half-width
  :math:`h_i = (t_+ - t_-)/2`), the 1-D minimum :math:`t^{\min}_i` of the profile inside it;
  ``offset_min`` :math:`= |t^{\min}_i| / h_i` (0: :math:`w^*` at the 1-D minimum, i.e. on the river;
  1: at the band's edge) and ``offset_center`` :math:`= |t_+ + t_-| / (2 h_i)`;
* the **number of sharp directions** ``n_sharp``: eigenvalues at least :data:`SHARP_FRACTION` of
  :math:`\lambda_{\max}` (from the dense spectrum where there is one; from Lanczos otherwise, censored at
  the number of Ritz values computed);
* per PTQ error :math:`e = q - w^*`: the **share of the error** carried by the top :math:`k` directions
  :math:`\lVert V_k^\top e\rVert^2 / \lVert e\rVert^2` and the **share of the actual loss rise**
  :math:`(L(w^* + V_k V_k^\top e) - L^*)/(L(w^* + e) - L^*)`, for :math:`k` in :data:`TOP_K`; and the error
  over the band's width along its own direction, ``error_over_width`` :math:`= \lVert e\rVert / r(\hat e)`
  with :math:`r(\hat e)` the first :math:`t > 0` where :math:`L(w^* + t\hat e) - L^* > \tau`.

The regime of a (model, bit width) (:func:`regime_label`), from the runs whose PTQ point left the
training-loss band: ``ptq_failed`` (the aggressive regime: the error alone crosses the band from the
trained point, median ``error_over_width`` > 1) or ``in_basin`` (the paper's regime: the error is shorter
than the band's width along it, so the failure needs the trained point's offset; median <= 1); and,
separately, whether :math:`w^*` is **on the river** (median ``offset_min`` over the top directions
<= :data:`ON_RIVER`).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.models.hessian import dense_eigenvalues, eigen_residuals, lanczos_top
from landscape.models.losses import NetLoss, stack, train_data, values_along
from landscape.models.river import width_along

__all__ = [
    "DENSE_MAX",
    "SHARP_FRACTION",
    "TOP_K",
    "N_PROFILE",
    "ON_RIVER",
    "spectrum_record",
    "error_record",
    "regime_label",
]

#: dense Hessians are assembled and checked against Lanczos up to this dimension
DENSE_MAX = 6000
#: a direction is sharp when its eigenvalue is at least this fraction of the largest
SHARP_FRACTION = 0.01
#: the k of the top-k shares
TOP_K = (1, 3, 10)
#: the top directions along which the band and the 1-D minimum are located
N_PROFILE = 3
#: w* is on the river when its 1-D minima lie within this fraction of the half-width
ON_RIVER = 0.1


@partial(jax.jit, static_argnames=("net_loss", "num"))
def _profiles(net_loss, data, w, dirs, t_max, *, num):
    ts = jnp.linspace(-1.0, 1.0, 2 * num + 1)

    def one(v, tm):
        return jax.lax.map(lambda t: net_loss(w + t * tm * v, data), ts)

    return jax.vmap(one)(dirs, t_max), ts


def _band_along(prof, ts, loss_star, tau):
    """(t_lo, t_hi, t_min) of one sampled profile: the in-band run around t = 0 and its minimum."""
    inside = prof - loss_star <= tau
    c = len(ts) // 2
    lo = c
    while lo > 0 and inside[lo - 1]:
        lo -= 1
    hi = c
    while hi < len(ts) - 1 and inside[hi + 1]:
        hi += 1
    j = lo + int(np.argmin(prof[lo : hi + 1]))
    if 0 < j < len(ts) - 1:  # parabola through the three samples around the minimum
        y0, y1, y2 = prof[j - 1], prof[j], prof[j + 1]
        den = y0 - 2 * y1 + y2
        shift = 0.5 * (y0 - y2) / den if den > 0 else 0.0
        t_min = ts[j] + shift * (ts[1] - ts[0])
    else:
        t_min = ts[j]
    return ts[lo], ts[hi], t_min, lo == 0 or hi == len(ts) - 1


def spectrum_record(
    net, tau: float, key, k_lanczos: int = 10, num_matvecs: int = 40, dense: bool = False
) -> dict:
    """Top eigenpairs at w*, the band and 1-D minimum along the top directions, n_sharp (dense check)."""
    loss = NetLoss(net.task.apply)
    tr = train_data(net.task)
    w = np.asarray(net.w_star, np.float64)
    vals, vecs = lanczos_top(loss, tr, net.w_star, key, k_lanczos, num_matvecs)
    rec = {
        "seed": net.seed,
        "dim": int(w.shape[0]),
        "lanczos_top": vals.tolist(),
        "lambda_max": float(vals[0]),
        "n_sharp_lanczos": int(np.sum(vals >= SHARP_FRACTION * vals[0])),
        "n_sharp_censored": bool(np.all(vals >= SHARP_FRACTION * vals[0])),
    }
    rec["lanczos_residual"] = eigen_residuals(loss, tr, net.w_star, vals, vecs).tolist()
    if dense and w.shape[0] <= DENSE_MAX:
        dv = dense_eigenvalues(loss, tr, net.w_star)
        m = min(5, len(vals))
        rec["dense_top"] = dv[:k_lanczos].tolist()
        rec["n_sharp"] = int(np.sum(dv >= SHARP_FRACTION * dv[0]))
        rec["n_sharp_censored"] = False
        rec["lanczos_vs_dense_rel_err"] = float(np.max(np.abs(vals[:m] - dv[:m]) / np.abs(dv[:m])))
        rec["n_above_1e-3"] = int(np.sum(dv > 1e-3))
        rec["n_negative"] = int(np.sum(dv < -1e-6 * dv[0]))
    else:
        rec["n_sharp"] = rec["n_sharp_lanczos"]
    # the band and the 1-D minimum along the top directions (grid out to 4x the quadratic half-width)
    lam = np.maximum(vals[:N_PROFILE], 1e-12)
    t_max = 4.0 * np.sqrt(2.0 * tau / lam)
    prof, ts = _profiles(
        loss,
        tr,
        net.w_star,
        jnp.asarray(vecs[:N_PROFILE], jnp.float32),
        jnp.asarray(t_max, jnp.float32),
        num=200,
    )
    prof, ts = np.asarray(prof, np.float64), np.asarray(ts, np.float64)
    along = []
    for i in range(len(lam)):
        lo, hi, tmin, cut = _band_along(prof[i], ts * t_max[i], net.loss_star, tau)
        h = 0.5 * (hi - lo)
        along.append(
            {
                "eigenvalue": float(vals[i]),
                "half_width": float(h),
                "offset_min": float(abs(tmin) / h) if h > 0 else None,
                "offset_center": float(abs(hi + lo) / (2 * h)) if h > 0 else None,
                "censored": bool(cut),
            }
        )
    rec["along_top"] = along
    offs = [a["offset_min"] for a in along if a["offset_min"] is not None]
    rec["offset_min_max"] = float(max(offs)) if offs else None
    rec["_vecs"] = vecs  # dropped before JSON
    return rec


def error_record(net, spec: dict, qs: np.ndarray, tau: float) -> list[dict]:
    """Per PTQ point q (rows of qs): shares of the error and the loss rise in the top-k; error over width."""
    loss = NetLoss(net.task.apply)
    tr = train_data(net.task)
    w = np.asarray(net.w_star, np.float64)
    vecs = spec["_vecs"]
    e = np.asarray(qs, np.float64) - w[None]
    norm = np.linalg.norm(e, axis=1)
    proj = e @ vecs.T  # (n, k)
    pts = [w[None] + e]
    for k in TOP_K:
        pts.append(w[None] + proj[:, :k] @ vecs[:k])
    vals = (
        values_along(loss, tr, np.concatenate(pts).astype(np.float32)).reshape(len(pts), -1) - net.loss_star
    )
    unit = e / np.maximum(norm[:, None], 1e-30)
    n = e.shape[0]
    r, cens = width_along(
        loss,
        jnp.asarray(np.repeat(w[None], n, 0), jnp.float32),
        jnp.asarray(unit, jnp.float32),
        stack([tr] * n),
        tau,
        4.0 * norm,
    )
    out = []
    for i in range(n):
        rise = vals[0, i]
        out.append(
            {
                "error_norm": float(norm[i]),
                "rise": float(rise),
                "error_share": {str(k): float(np.sum(proj[i, :k] ** 2) / norm[i] ** 2) for k in TOP_K},
                "rise_share": {
                    str(k): float(vals[j + 1, i] / rise) if rise > 0 else None for j, k in enumerate(TOP_K)
                },
                "width_along_error": float(r[i]),
                "width_censored": bool(cens[i]),
                "error_over_width": float(norm[i] / r[i]) if r[i] > 0 else None,
            }
        )
    return out


def regime_label(failed: list[dict], offset_min: list[float]) -> dict:
    """The regime of one (model, bit width) from the records of its PTQ points that left the band."""
    on_river = bool(np.median(offset_min) <= ON_RIVER) if offset_min else None
    ratio = [r["error_over_width"] for r in failed if r.get("error_over_width") is not None]
    if not ratio:
        return {"regime": "ptq-inside", "on_river": on_river, "n_failed": 0}
    med = float(np.median(ratio))
    return {
        "regime": "ptq_failed" if med > 1.0 else "in_basin",
        "on_river": on_river,
        "n_failed": len(ratio),
        "error_over_width_median": med,
        "error_over_width_range": [float(np.min(ratio)), float(np.max(ratio))],
    }
