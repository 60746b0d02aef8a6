r"""The exact 1-D reduction of STE for k = 1, a straight river and no drift (``docs/theory.md``, R1).

With one sharp direction :math:`n` and no drift, every STE step is parallel to :math:`n`
(``grad L(q) = phi'(|y|) sign(y) n``), so the latent stays on the line :math:`w_0 + \lambda n` and the
whole dynamics is the scalar map

.. math:: \lambda_{t+1} = \lambda_t - \eta\,\phi'(|g(\lambda_t)|)\,\mathrm{sign}\,g(\lambda_t),
          \qquad g(\lambda) = n\cdot Q(w_0 + \lambda n) - c_0 .

``g`` (the deployed offset ``y``) is a non-decreasing step function of :math:`\lambda` whose jumps are the
flip sizes :math:`f_j = |n_j|\Delta_j`, and :math:`|g(\lambda) - v(w_0 + \lambda n)| \le \delta_\perp`.
:func:`line_pieces` computes its breakpoints and values on a window, the in-band interval
:math:`I = \{\lambda : |g(\lambda)| \le r_b\}` (an interval, since ``g`` is monotone), and the piece of the
start; :func:`line_orbit` iterates the scalar map on those pieces (no d-dimensional step, no quantizer
call). Everything is batched over starts (leading axis) and jittable; call it under ``jax.enable_x64``.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape.simulate.chatter import Recurrence

__all__ = [
    "LineReduction",
    "line_pieces",
    "line_pieces_traced",
    "line_window",
    "max_breaks",
    "line_orbit",
    "line_orbit_traced",
    "OrbitResult",
    "ORBIT_CODES",
    "rational_slope",
    "exact_orbit",
]

#: outcome codes of :func:`line_orbit`
ORBIT_CODES = {"hit": 0, "budget": 1, "left_window": 2, "near_boundary": 3, "two_cycle": 4}


class LineReduction(NamedTuple):
    """The step function g on a window of the line w0 + lambda n (batched over starts, leading axis)."""

    z: jax.Array  # (B, P) sorted breakpoints in lambda (+inf padding at the end)
    values: jax.Array  # (B, P + 1) value of g on piece k = [z_{k-1}, z_k) (z_{-1} = lam_lo)
    lam_lo: jax.Array  # (B,) window
    lam_hi: jax.Array
    ka: jax.Array  # (B,) first in-band piece
    kb: jax.Array  # (B,) last in-band piece
    nonempty: jax.Array  # (B,) I is not empty (within the window)
    a: jax.Array  # (B,) inf I
    b: jax.Array  # (B,) sup I
    k0: jax.Array  # (B,) piece of the start lambda = 0
    y0: jax.Array  # (B,) g(0) = n.Q(w0) - c0, the RTN offset
    clipped: jax.Array  # (B,) I touches the window's edge (the window was too small: do not trust I)
    tie_gap: jax.Array  # (B,) min distance between two breakpoints, or a breakpoint and the start 0
    edge_gap: jax.Array  # (B,) min distance of a coordinate's boundary to the window's edges


def line_window(n, c0, w0, step, r_b, extra):
    """Window [lam_lo, lam_hi] of the line: |x| <= max(|x0|, r_b + dp) + 2 dp + extra (x = x0 + lambda)."""
    n, w0, step = jnp.asarray(n), jnp.asarray(w0), jnp.asarray(step)
    x0 = jnp.sum(n * w0, -1) - c0
    dp = 0.5 * jnp.sum(jnp.abs(n) * step, -1)
    half = jnp.maximum(jnp.abs(x0), r_b + dp) + 2 * dp + extra
    nn = jnp.sum(n * n, -1)
    return (-half - x0) / nn, (half - x0) / nn


def max_breaks(n, step, lam_lo, lam_hi) -> int:
    """Static bound on the number of breakpoints of one coordinate in the window (concrete inputs)."""
    n, step = np.asarray(n, np.float64), np.asarray(step, np.float64)
    width = np.asarray(lam_hi, np.float64) - np.asarray(lam_lo, np.float64)
    per = np.abs(n) * width[..., None] / step
    m = max(int(np.max(np.floor(per))) + 2, 16)
    return 1 << (m - 1).bit_length()  # a power of two (at least 16): few distinct compiled shapes


def _round(x):
    return jnp.round(x)  # half to even, as the grid's quantize


@jax.jit
def _deployed_offset(n, c0, w, step, offset):
    return jnp.sum(n * (offset + step * _round((w - offset) / step)), -1) - c0


def _pieces_one(n, c0, w0, step, offset, r_b, lam_lo, lam_hi, m_max: int):
    d = n.shape[-1]
    safe = jnp.where(n == 0, 1.0, n)
    # coordinate j crosses a rounding boundary at u_j(lambda) = (w0_j + lambda n_j - o_j)/step_j = m + 1/2
    u_lo = (w0 + lam_lo * n - offset) / step - 0.5
    u_hi = (w0 + lam_hi * n - offset) / step - 0.5
    m_first = jnp.ceil(jnp.minimum(u_lo, u_hi))
    ms = m_first[:, None] + jnp.arange(m_max)[None, :]  # (d, M)
    lam = ((ms + 0.5) * step[:, None] + offset[:, None] - w0[:, None]) / safe[:, None]
    inside = (n[:, None] != 0) & (lam > lam_lo) & (lam < lam_hi)
    valid = n[:, None] != 0
    edge_gap = jnp.min(
        jnp.where(valid, jnp.minimum(jnp.abs(lam - lam_lo), jnp.abs(lam - lam_hi)), jnp.inf)
    )
    lam = jnp.where(inside, lam, jnp.inf).reshape(-1)
    jump = jnp.where(inside, (jnp.abs(n) * step)[:, None], 0.0).reshape(-1)
    order = jnp.argsort(lam)
    z, jump = lam[order], jump[order]
    g_lo = _deployed_offset(n, c0, w0 + lam_lo * n, step, offset)
    values = jnp.concatenate([g_lo[None], g_lo + jnp.cumsum(jump)])
    inband = jnp.abs(values) <= r_b
    p1 = values.shape[0]
    idx = jnp.arange(p1)
    ka = jnp.min(jnp.where(inband, idx, p1))
    kb = jnp.max(jnp.where(inband, idx, -1))
    nonempty = ka <= kb
    starts = jnp.concatenate([lam_lo[None], z])
    ends = jnp.concatenate([z, lam_hi[None]])
    a = jnp.where(nonempty, starts[jnp.clip(ka, 0, p1 - 1)], jnp.nan)
    b = jnp.where(nonempty, jnp.minimum(ends[jnp.clip(kb, 0, p1 - 1)], lam_hi), jnp.nan)
    k0 = jnp.searchsorted(z, 0.0, side="right")
    y0 = _deployed_offset(n, c0, w0, step, offset)
    clipped = nonempty & ((ka == 0) | (ends[jnp.clip(kb, 0, p1 - 1)] >= lam_hi))
    # ties of R1: two coordinates crossing at one lambda, or the start on a boundary (round half to even
    # then picks a value the pieces do not hold): the certificate hands such lines to the exact orbit
    fin = jnp.isfinite(z)
    diffs = jnp.where(fin[1:] & fin[:-1], z[1:] - z[:-1], jnp.inf)
    tie_gap = jnp.minimum(jnp.min(diffs, initial=jnp.inf), jnp.min(jnp.where(fin, jnp.abs(z), jnp.inf)))
    del d
    return LineReduction(
        z, values, lam_lo, lam_hi, ka, kb, nonempty, a, b, k0, y0, clipped, tie_gap, edge_gap
    )


def line_pieces_traced(n, c0, w0, step, offset, r_b, lam_lo, lam_hi, m_max: int) -> LineReduction:
    """:func:`line_pieces` without its own jit (to be traced inside a larger jitted function)."""
    return jax.vmap(_pieces_one, in_axes=(0, 0, 0, 0, 0, 0, 0, 0, None))(
        n, c0, w0, step, offset, r_b, lam_lo, lam_hi, m_max
    )


@partial(jax.jit, static_argnames=("m_max",))
def line_pieces(n, c0, w0, step, offset, r_b, lam_lo, lam_hi, m_max: int) -> LineReduction:
    """The pieces of g on [lam_lo, lam_hi] for a batch of lines (all inputs with a leading batch axis)."""
    return line_pieces_traced(n, c0, w0, step, offset, r_b, lam_lo, lam_hi, m_max)


class OrbitResult(NamedTuple):
    """The scalar orbit on the pieces: outcome code (ORBIT_CODES), hit time, final lambda, closest gap."""

    code: jax.Array
    hit_time: jax.Array
    lam: jax.Array
    min_gap: jax.Array  # smallest distance of a visited lambda to a breakpoint (small: float-fragile)


def _orbit_one(red: LineReduction, moves, r_b, budget, tol):
    z, values = red.z, red.values

    def gap(lam, k):
        left = jnp.where(k > 0, lam - z[jnp.clip(k - 1, 0, z.shape[0] - 1)], jnp.inf)
        right = jnp.where(k < z.shape[0], z[jnp.clip(k, 0, z.shape[0] - 1)] - lam, jnp.inf)
        return jnp.minimum(left, right)

    def cond(c):
        return (c[4] < 0) & (c[0] < budget)

    def body(c):
        t, lam, lam_prev2, lam_prev, code, mg = c
        k = jnp.searchsorted(z, lam, side="right")
        mg = jnp.minimum(mg, gap(lam, k))
        hit = jnp.abs(values[k]) <= r_b
        out = (lam <= red.lam_lo) | (lam >= red.lam_hi)
        # a float 2-cycle: a candidate only (O(1) state in a traced loop); exact_orbit decides it with
        # landscape.simulate.chatter.Recurrence in rational arithmetic
        cyc = (t >= 2) & (lam == lam_prev2) & (lam != lam_prev)
        code = jnp.where(hit, 0, jnp.where(out, 2, jnp.where(cyc, 4, code)))
        stop = code >= 0
        return (jnp.where(stop, t, t + 1), jnp.where(stop, lam, lam - moves[k]), lam_prev, lam, code, mg)

    zero = jnp.zeros((), z.dtype)
    init = (jnp.array(0), zero, zero + jnp.nan, zero + jnp.nan, jnp.array(-1), zero + jnp.inf)
    t, lam, _, _, code, mg = jax.lax.while_loop(cond, body, init)
    code = jnp.where(code < 0, 1, code)
    code = jnp.where((code == 0) & (mg < tol), 3, code)
    return OrbitResult(code, jnp.where(code == 0, t, -1), lam, mg)


def line_orbit_traced(red, moves, r_b, budget, tol) -> OrbitResult:
    """:func:`line_orbit` without its own jit (to be traced inside a larger jitted function)."""
    return jax.vmap(_orbit_one, in_axes=(0, 0, 0, None, 0))(red, moves, r_b, budget, tol)


_orbit_batch = jax.jit(line_orbit_traced)


def line_orbit(red: LineReduction, moves, r_b, budget: int, tol) -> OrbitResult:
    """Iterate lambda <- lambda - moves[piece(lambda)] until |g| <= r_b (a batch of orbits on the pieces).

    ``moves`` (B, P + 1) is eta phi'(|g|) sign(g) on each piece. Codes: 0 hit (``hit_time`` = T), 1 budget
    spent, 2 left the window, 3 hit but some visited lambda lay within ``tol`` of a breakpoint (the float
    orbit may differ from the exact one there), 4 an exact 2-cycle in float arithmetic (a candidate;
    :mod:`landscape.certify` verifies it in rational arithmetic).
    """
    return _orbit_batch(red, moves, r_b, jnp.asarray(budget), tol)


# --------------------------------------------------------------------------------------
# the same orbit in exact rational arithmetic (one start)
# --------------------------------------------------------------------------------------
def rational_slope(wall):
    """phi'(r) as a function of a Fraction r, exactly (the wall's own ``rational_slope()``), or None.

    None for walls whose slope is transcendental (softplus, exp): their orbits cannot be verified in
    rational arithmetic.
    """
    method = getattr(wall, "rational_slope", None)
    return None if method is None else method()


def _round_half_even(x):
    from fractions import Fraction

    fl = x.numerator // x.denominator
    rem = x - fl
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2 == 1):
        return fl + 1
    return fl


def exact_orbit(n, c0, w0, step, offset, r_b, eta, slope, max_steps: int):
    """The STE orbit of the 1-D reduction in exact rationals: ("hit", T), ("cycle", (t0, period)) or
    ("budget", steps).

    All inputs are floats (exact binary rationals); ``slope`` is :func:`rational_slope`'s phi'. The state
    is lambda (w = w0 + lambda n exactly); a repeated lambda without a hit in between is an exact cycle:
    the deployed point never enters the basin.
    """
    from fractions import Fraction as F

    n = [F(float(x)) for x in np.asarray(n).reshape(-1)]
    w0 = [F(float(x)) for x in np.asarray(w0).reshape(-1)]
    st = [F(float(x)) for x in np.broadcast_to(np.asarray(step, np.float64).reshape(-1), (len(n),))]
    of = [F(float(x)) for x in np.broadcast_to(np.asarray(offset, np.float64).reshape(-1), (len(n),))]
    c0, rb, eta = F(float(c0)), F(float(r_b)), F(float(eta))
    live = [j for j in range(len(n)) if n[j] != 0]  # coordinates off the support of n never matter
    lam = F(0)
    recurrence = Recurrence()
    for t in range(max_steps + 1):
        y = -c0
        for j in live:
            wj = w0[j] + lam * n[j]
            y += n[j] * (of[j] + st[j] * _round_half_even((wj - of[j]) / st[j]))
        if abs(y) <= rb:
            return "hit", t
        cycle = recurrence.visit(lam, t)
        if cycle is not None:
            return "cycle", cycle
        sgn = 1 if y > 0 else -1
        lam = lam - eta * slope(abs(y)) * sgn
    return "budget", max_steps
