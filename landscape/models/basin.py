r"""The basin of a trained network, measured along its sharp directions.

For a trained point :math:`w^*` with loss :math:`L^* = L(w^*)`, sharp directions
:math:`n_i` (rows of ``normals``) and a stated loss-rise threshold :math:`\tau`:

* :func:`profiles` -- the 1-D loss profiles :math:`t \mapsto L(w^* + t\,n_i) - L^*`;
* :func:`basin_widths` -- :math:`r_i^{\pm}`: the first :math:`t > 0` at which
  :math:`L(w^* \pm t\,n_i) - L^* > \tau` (located on the profile grid, then refined by
  bisection); censored at ``t_max`` when the loss never rises that far;
* :func:`sharp_offset` -- :math:`v = N(q - w^*)`, the offset of a point in the sharp
  subspace (``offset`` of the DESIGN notation with centre :math:`c = N w^*`);
* :func:`basin_rho` -- :math:`\rho = \lVert (v_i / r_i^{\mathrm{sign}(v_i)})_i \rVert`, the
  anisotropic normal distance in units of the measured widths (:math:`\rho \le 1`: inside
  the box-ellipsoid spanned by the widths);
* :func:`in_basin` -- the bridge's definition of "in the basin", used for PTQ and QAT alike:
  :math:`L(q) - L^* \le \tau` (the same :math:`\tau` that defines the widths).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscape._checks import LandscapeError, check_int_at_least, check_positive

__all__ = ["profiles", "basin_widths", "Widths", "sharp_offset", "basin_rho", "in_basin"]


def profiles(loss_fn, w_star, normals, t_max, num: int = 81):
    """(t, rise): t (k, num) uniform on [-t_max_i, t_max_i]; rise = L(w* + t n_i) - L(w*)."""
    check_int_at_least("num", num, 3)
    normals = jnp.asarray(normals)
    t_max = jnp.broadcast_to(jnp.asarray(t_max, normals.dtype), (normals.shape[0],))
    check_positive("t_max", t_max)
    t = jnp.linspace(-1.0, 1.0, num, dtype=normals.dtype)[None, :] * t_max[:, None]
    base = loss_fn(w_star)
    # vmap over directions, lax.map over points: memory k x (one forward pass), not k x num x ...
    along = jax.jit(jax.vmap(lambda w, n, ts: jax.lax.map(lambda s: loss_fn(w + s * n), ts), (None, 0, 0)))
    return t, along(w_star, normals, t) - base


class Widths(NamedTuple):
    """r_i^- and r_i^+ (k,), and whether each was censored at t_max (no rise > tau found)."""

    minus: jax.Array
    plus: jax.Array
    censored_minus: jax.Array
    censored_plus: jax.Array


def _first_crossing(rise_fn, ts, rise, tau, bisect):
    """First t on the grid ts (ascending, > 0) with rise > tau, refined by bisection."""
    above = rise > tau
    hit = jnp.any(above)
    j = jnp.argmax(above)
    hi = ts[j]
    lo = jnp.where(j > 0, ts[jnp.maximum(j - 1, 0)], 0.0)

    def body(_, lh):
        lo, hi = lh
        mid = 0.5 * (lo + hi)
        up = rise_fn(mid) > tau
        return jnp.where(up, lo, mid), jnp.where(up, mid, hi)

    lo, hi = jax.lax.fori_loop(0, bisect, body, (lo, hi))
    return jnp.where(hit, 0.5 * (lo + hi), ts[-1]), ~hit


def basin_widths(loss_fn, w_star, normals, tau, t_max, num: int = 32, bisect: int = 24) -> Widths:
    """r_i^{+-} = first t > 0 with L(w* +- t n_i) - L* > tau (grid of ``num`` points, then bisection)."""
    check_positive("tau", tau)
    check_int_at_least("num", num, 2)
    normals = jnp.asarray(normals)
    if normals.ndim != 2 or normals.shape[1] != w_star.shape[0]:
        raise LandscapeError(f"normals must have shape (k, {w_star.shape[0]}); got {normals.shape}.")
    t_max = jnp.broadcast_to(jnp.asarray(t_max, normals.dtype), (normals.shape[0],))
    check_positive("t_max", t_max)
    base = loss_fn(w_star)
    tau = jnp.asarray(tau, normals.dtype)

    def one(w, base, n, tm, sign):
        ts = jnp.linspace(0.0, 1.0, num + 1, dtype=normals.dtype)[1:] * tm
        rise_fn = lambda s: loss_fn(w + sign * s * n) - base  # noqa: E731
        rise = jax.lax.map(rise_fn, ts)
        return _first_crossing(rise_fn, ts, rise, tau, bisect)

    run = jax.jit(jax.vmap(one, (None, None, 0, 0, None)))
    plus, cp = run(w_star, base, normals, t_max, 1.0)
    minus, cm = run(w_star, base, normals, t_max, -1.0)
    return Widths(minus, plus, cm, cp)


def sharp_offset(normals, q, w_star):
    """v = N (q - w*), the offset of q in the sharp subspace; q may be batched (..., d)."""
    return (jnp.asarray(q) - w_star) @ jnp.asarray(normals).T


def basin_rho(v, widths: Widths):
    """rho = || v_i / r_i^{sign(v_i)} ||: the normal distance in units of the basin widths."""
    r = jnp.where(v >= 0, widths.plus, widths.minus)
    return jnp.linalg.norm(v / r, axis=-1)


def in_basin(loss_q, loss_star, tau):
    """In the basin: L(q) - L* <= tau (the bridge's one definition, for PTQ and QAT)."""
    return (loss_q - loss_star) <= tau
