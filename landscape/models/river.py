r"""The river of a trained network and the normal frame of a point: foot, normal distance, width, cosine.

* **River** -- the connected low-loss set around :math:`w^*`: points :math:`p` with
  :math:`L(p) - L^* \le \varepsilon_R` (the river level, :math:`\varepsilon_R = \tau/4`) joined to the
  late full-precision checkpoints (the anchors :math:`a_j`, taken from the same training run) by a path
  that stays below :math:`L^* + \tau`. The path tried is the straight segment to the nearest anchor
  (:func:`barrier`): a certificate of connectivity when low, no proof of disconnection when high.
* **Foot** :math:`P(q)` (:func:`project`) -- the end of a short full-precision descent from :math:`q`:
  gradient descent with a safeguarded step (a step that does not lower :math:`L` is rejected and the step
  size cut by 0.3; an accepted one grows it by 1.5, capped at ``100 eta0``), stopped at the first iterate
  on the river level (``reached``), or after ``steps`` steps (``reached`` false: no foot found).
* **Normal distance** :math:`\rho(q) = \lVert q - P(q)\rVert`, **normal** :math:`n = (q - P(q))/\rho`, and
  the **basin width along that normal** :math:`r_b(q)`: the first :math:`t > 0` with
  :math:`L(P(q) + t\,n) - L(P(q)) > \tau` (:func:`width_along`). In the basin, geometrically:
  :math:`\rho \le r_b`.
* **Inward component of the STE step** :math:`c_t = \cos(-\nabla L(q_t),\ P(q_t) - q_t)`, and the realised
  deployed step on the normal :math:`(q_{t+1} - q_t)\cdot(P(q_t) - q_t)/\rho(q_t)` (positive: inward).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Foot", "project", "width_along", "barrier", "cosine", "RIVER_LEVEL_FRACTION"]

#: river level as a fraction of tau: on the river when L(p) - L* <= tau / 4
RIVER_LEVEL_FRACTION = 0.25


class Foot(NamedTuple):
    """P(q), L(P(q)), the descent steps used, and whether the river level was reached."""

    point: jax.Array
    loss: jax.Array
    steps: jax.Array
    reached: jax.Array


def _descent(net_loss, q, data, level, eta0, steps: int, momentum: float):
    """Safeguarded heavy-ball descent from q until L <= level (one value-and-grad per step).

    A step that does not lower L is rejected: the step size is cut by 0.3 and the momentum reset.
    """
    vg = jax.value_and_grad(lambda w: net_loss(w, data))
    l0, g0 = vg(q)

    def step(c, _):
        p, lp, gp, v, eta, used, done = c
        v_new = momentum * v - eta * gp
        cand = p + v_new
        lc, gc = vg(cand)
        ok = (lc < lp) & jnp.isfinite(lc) & ~done
        p = jnp.where(ok, cand, p)
        lp, gp = jnp.where(ok, lc, lp), jnp.where(ok, gc, gp)
        v = jnp.where(ok, v_new, 0.0)
        eta = jnp.where(done, eta, jnp.where(ok, jnp.minimum(1.5 * eta, 100.0 * eta0), 0.3 * eta))
        used = used + (~done).astype(jnp.int32)
        done = done | (lp <= level)
        return (p, lp, gp, v, eta, used, done), None

    init = (q, l0, g0, jnp.zeros_like(q), jnp.asarray(eta0, q.dtype), jnp.array(0, jnp.int32), l0 <= level)
    (p, lp, _, _, _, used, done), _ = jax.lax.scan(step, init, None, length=steps)
    return Foot(p, lp, used, done)


@partial(jax.jit, static_argnames=("net_loss", "steps", "momentum"))
def _project(net_loss, q, data, level, eta0, *, steps, momentum):
    return jax.vmap(lambda qq, dd, lv, e: _descent(net_loss, qq, dd, lv, e, steps, momentum))(
        q, data, level, eta0
    )


def project(net_loss, q, data, loss_star, tau, *, eta0, steps: int = 40, momentum: float = 0.0) -> Foot:
    """P(q) for points q (B, d), each with its network's data (leaves (B, ...)): descent to L* + tau/4."""
    b = q.shape[0]
    level = jnp.broadcast_to(jnp.asarray(loss_star) + RIVER_LEVEL_FRACTION * jnp.asarray(tau), (b,))
    return _project(
        net_loss,
        q,
        data,
        level,
        jnp.broadcast_to(jnp.asarray(eta0, q.dtype), (b,)),
        steps=int(steps),
        momentum=float(momentum),
    )


def cosine(a, b):
    """cos(a, b) row-wise (NaN where either vector is 0)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    na, nb = np.linalg.norm(a, axis=-1), np.linalg.norm(b, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((na > 0) & (nb > 0), np.sum(a * b, -1) / (na * nb), np.nan)


@partial(jax.jit, static_argnames=("net_loss", "num", "bisect"))
def _widths(net_loss, feet, normals, data, tau, t_max, *, num, bisect):
    def one(p, n, d, tau, tm):
        base = net_loss(p, d)
        rise = lambda t: net_loss(p + t * n, d) - base  # noqa: E731
        ts = jnp.linspace(0.0, 1.0, num + 1, dtype=p.dtype)[1:] * tm
        above = jax.lax.map(rise, ts) > tau
        j = jnp.argmax(above)
        hi, lo = ts[j], jnp.where(j > 0, ts[jnp.maximum(j - 1, 0)], 0.0)

        def body(_, lh):
            lo, hi = lh
            mid = 0.5 * (lo + hi)
            up = rise(mid) > tau
            return jnp.where(up, lo, mid), jnp.where(up, mid, hi)

        lo, hi = jax.lax.fori_loop(0, bisect, body, (lo, hi))
        hit = jnp.any(above)
        return jnp.where(hit, 0.5 * (lo + hi), tm), ~hit

    return jax.vmap(one)(feet, normals, data, tau, t_max)


def width_along(net_loss, feet, normals, data, tau, t_max, *, num: int = 24, bisect: int = 20):
    """r_b (B,): first t > 0 with L(P + t n) - L(P) > tau along unit normals n: (widths, censored)."""
    b = feet.shape[0]
    tau = jnp.broadcast_to(jnp.asarray(tau, feet.dtype), (b,))
    t_max = jnp.broadcast_to(jnp.asarray(t_max, feet.dtype), (b,))
    r, cens = _widths(net_loss, feet, normals, data, tau, t_max, num=int(num), bisect=int(bisect))
    return np.asarray(r, np.float64), np.asarray(cens, bool)


@partial(jax.jit, static_argnames=("net_loss", "num"))
def _barriers(net_loss, a, b, data, *, num):
    s = jnp.linspace(0.0, 1.0, num, dtype=a.dtype)

    def one(a, b, d):
        return jnp.max(jax.lax.map(lambda t: net_loss(a * (1 - t) + b * t, d), s))

    return jax.vmap(one)(a, b, data)


def barrier(net_loss, a, b, data, num: int = 11):
    """max of L over each segment [a_i, b_i] (num points, ends included), (B,); minus L*: the barrier."""
    return np.asarray(_barriers(net_loss, a, b, data, num=int(num)), np.float64)
