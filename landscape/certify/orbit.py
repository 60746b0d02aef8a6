r"""The validated orbit: the exact STE orbit for any k, decided step by step (``docs/certificate.md``).

For a straight isotropic river, an unbounded uniform grid and STE with plain SGD, one step is

.. math:: w_{t+1} = w_t - \eta\,\big(\ell'\,u + h(\rho_t)\,N^\top v_t\big), \qquad
          v_t = N q_t - c_0,\ \rho_t = \lVert v_t\rVert,\ h(\rho) = \phi'(\rho)/\rho,\ q_t = Q(w_t),

and the gradient depends on ``w_t`` only through ``q_t``. Every input (a float) is an exact binary
rational, so ``q_t``, ``v_t`` and :math:`\rho_t^2` are exact rationals (python-flint ``fmpq``), and the
hit test :math:`\rho_t^2 \le r_b^2` is exact. The latent is kept as

.. math:: w_t = b_t - \eta \sum_g h(\rho_g)\, N^\top V_g ,

with ``b_t`` exact (the start, the drift and every step whose ``h`` is rational: ``rho`` rational and a
quadratic or integer-power wall) and one group per irrational :math:`\rho_g` (keyed by the exact
:math:`\rho_g^2`), ``V_g`` the exact sum of the offsets ``v`` seen with that :math:`\rho`. A coordinate's
rounding is decided exactly (half to even, as :meth:`UniformGrid.quantize`) when no open group moves it
(its exact coefficient ``sum_i N_ij V_g,i`` is 0 for every group: a coordinate on a tie stays decidable), else
by an arb ball (``prec`` bits) that must lie strictly inside one rounding cell; a ball that meets a cell
boundary stops the orbit with "unknown".

Verdicts: "certified" with the exact ``T`` (the orbit entered: every decision on the way was proved);
"refuted" when the state on the support of ``N`` repeats exactly (same ``b`` and same groups: the same
real point, so the orbit is periodic and never enters); else "unknown" (an undecided rounding, or the
budget). Nothing here is a float comparison.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from flint import arb, ctx, fmpq

__all__ = ["OrbitVerdict", "validated_orbit", "exact", "wall_slope_exact"]

PREC = 256  # bits of the arb balls


class OrbitVerdict(NamedTuple):
    """One start: verdict ("certified" | "refuted" | "unknown"), t_bound (T or -1), theorem, reason."""

    verdict: str
    t_bound: int
    theorem: str
    reason: str


def exact(x) -> fmpq:
    """The float x as the exact rational it is."""
    p, q = float(x).as_integer_ratio()
    return fmpq(p, q)


def _sqrt_exact(r: fmpq):
    """sqrt(r) as an fmpq when r is the square of a rational, else None."""
    sp, rp = r.p.sqrtrem()
    sq, rq = r.q.sqrtrem()
    return fmpq(sp, sq) if rp == 0 and rq == 0 else None


def wall_slope_exact(wall):
    """phi'(r) for r > r_b (outside the basin: the only place the orbit needs it), for an fmpq or arb r:
    the wall's :meth:`~landscape.geometry.walls.Wall.interval_slope` (an fmpq when r is rational and the
    slope is, as for the quadratic and integer-power walls; else an arb ball).

    Returns (slope, name), or (None, why) for a wall that has no interval slope.
    """
    name = type(wall).__name__
    slope = wall.interval_slope() if hasattr(wall, "interval_slope") else None
    return (slope, name) if slope is not None else (None, f"wall {name}: no exact slope")


def _decided(x):
    """The integer m with x strictly inside (m - 1/2, m + 1/2), for an arb ball x; None if undecided."""
    try:
        m0 = math.floor(float(x.mid()) + 0.5)
    except (OverflowError, ValueError):  # a ball beyond float range (a diverging orbit) or not finite
        return None
    for m in (m0, m0 - 1, m0 + 1):
        if (x - m + fmpq(1, 2)) > 0 and (m + fmpq(1, 2) - x) > 0:
            return m
    return None


def _round_half_even(x: fmpq) -> int:
    fl = int(x.floor())
    rem = x - fl
    return fl + 1 if rem > fmpq(1, 2) or (rem == fmpq(1, 2) and fl % 2 == 1) else fl


def validated_orbit(
    n, c0, w0, step, offset, wall, eta, *, drift_rate=0.0, river_dir=None, budget: int = 2000, prec=PREC
) -> OrbitVerdict:
    """The exact STE orbit from w0 (any k; drift ell(s) = -drift_rate s along river_dir), decided or unknown.

    ``n`` (k, d), ``c0`` (k,), ``w0``, ``step``, ``offset``, ``river_dir`` (d,) floats; ``wall`` a wall of
    :mod:`landscape.geometry.walls`; ``eta`` the SGD learning rate. See the module docstring for the method.
    """
    slope, why = wall_slope_exact(wall)
    if slope is None:
        return OrbitVerdict("unknown", -1, "", why)
    n = np.atleast_2d(np.asarray(n, np.float64))
    k, d = n.shape
    N = [[exact(x) for x in row] for row in n]
    C = [exact(x) for x in np.asarray(c0, np.float64).reshape(-1)]
    st = [exact(x) for x in np.broadcast_to(np.asarray(step, np.float64).reshape(-1), (d,))]
    of = [exact(x) for x in np.broadcast_to(np.asarray(offset, np.float64).reshape(-1), (d,))]
    E, rb = exact(eta), exact(np.asarray(wall.basin_radius).reshape(-1)[0])
    rb2 = rb * rb
    dp = sum(abs(exact(x)) for x in np.linalg.norm(n, axis=0) * np.asarray(step, np.float64)) / 2
    far = (10**6 * (rb + dp)) ** 2  # beyond: a diverging orbit (rationals grow without bound): stop
    support = [j for j in range(d) if any(N[i][j] != 0 for i in range(k))]
    base = [exact(x) for x in np.asarray(w0, np.float64).reshape(-1)]
    push = [fmpq(0)] * d
    if drift_rate != 0.0:
        u = np.asarray(river_dir, np.float64).reshape(-1)
        push = [E * exact(drift_rate) * exact(x) for x in u]  # -eta ell' u, exact
    groups: dict = {}  # rho^2 -> [V (k fmpq), h (arb)]
    seen: dict = {}
    old = ctx.prec
    ctx.prec = int(prec)
    try:
        for t in range(int(budget) + 1):
            live = [(g[0], g[1]) for g in groups.values() if any(x != 0 for x in g[0])]
            key = (
                tuple(base[j] for j in support),
                tuple(sorted((r2, tuple(g[0])) for r2, g in groups.items())),
            )
            if key in seen:
                t0 = seen[key]
                return OrbitVerdict(
                    "refuted",
                    -1,
                    "cycle",
                    f"exact cycle: the state repeats with period {t - t0} from step {t0}, every "
                    "rounding decided (half to even): q_t never enters the basin",
                )
            seen[key] = t
            q = {}
            for j in support:
                # the groups that move coordinate j (exactly: a group whose offsets cancel on j does not)
                coef = [(h, sum((N[i][j] * V[i] for i in range(k)), fmpq(0))) for V, h in live]
                terms = [(h, c) for h, c in coef if c != 0]
                if terms:
                    wj = arb(base[j]) - E * sum((h * c for h, c in terms), arb(0))
                    m = _decided((wj - of[j]) / st[j])
                    if m is None:
                        return OrbitVerdict(
                            "unknown",
                            -1,
                            "",
                            f"validated orbit: the rounding of coordinate {j} at step {t} is not decided "
                            f"at {prec} bits (a cell boundary inside the ball)",
                        )
                else:
                    m = _round_half_even((base[j] - of[j]) / st[j])
                q[j] = of[j] + st[j] * m
            v = [sum((N[i][j] * q[j] for j in support), fmpq(0)) - C[i] for i in range(k)]
            r2 = sum((x * x for x in v), fmpq(0))
            if r2 <= rb2:
                return OrbitVerdict(
                    "certified",
                    t,
                    "VO",
                    "validated orbit: every rounding decided (exactly or with an arb margin), "
                    "Q(w_t) enters the basin at T (exact rational test)",
                )
            if r2 > far:
                return OrbitVerdict(
                    "unknown",
                    -1,
                    "",
                    f"validated orbit: rho_t > 10^6 (r_b + delta_perp) at step {t} (diverging)",
                )
            rho = _sqrt_exact(r2)
            h = slope(rho) / rho if rho is not None else None
            if isinstance(h, fmpq):
                coef = E * h
                grad = [sum((N[i][j] * v[i] for i in range(k)), fmpq(0)) for j in range(d)]
                base = [base[j] + push[j] - coef * grad[j] for j in range(d)]
            else:
                base = [base[j] + push[j] for j in range(d)]
                if r2 not in groups:
                    rr = arb(r2).sqrt() if rho is None else arb(rho)
                    groups[r2] = [[fmpq(0)] * k, arb(slope(rr)) / rr]
                g = groups[r2]
                g[0] = [g[0][i] + v[i] for i in range(k)]
        return OrbitVerdict(
            "unknown", -1, "", f"validated orbit: no entry and no proved cycle within {budget} steps"
        )
    finally:
        ctx.prec = old
