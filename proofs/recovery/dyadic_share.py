r"""The dyadic share of the k = 1 attacks (K1R, K1, K1P, K1D, A1, A2, D0): exact binary cases, judged exactly.

A case drawn with ``dyadic`` set (one case in three: :data:`DYADIC_SHARE`) takes its river, grid and
trained point from :func:`landscape.testing.dyadic.dyadic_case` (its ``seed``): power-of-two steps,
offsets at 0, 1/4 or 1/2 step, exact unit normals with entries m/8, a bf16 start with 40 % of the
coordinates exactly on a rounding tie, and the river's centre ``c0 = N w*`` (the start is on the river).
:func:`dyadic_start` then moves the start along the river (steps of ``5/8`` of the smallest grid step,
along ``u`` or between two sharp coordinates: exact binary numbers again) until its RTN point is outside
the basin, with ``r_b`` chosen as the generic
cases choose it and rounded to a multiple of ``2^-10``. The wall is one the exact judge carries
(quadratic, or power 4 for "power"; softplus and exp become quadratic), and every time the statement
speaks of (``T``, ``T_settle``, never entering) is measured by the exact rational orbit
(:func:`landscape.testing.dyadic.exact_judge`, :func:`~landscape.testing.dyadic.exact_settle`: round half
to even, no float anywhere), not by the float64 engine.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

import landscape as L
from landscape.testing.dyadic import dyadic_case, exact_judge, exact_settle

__all__ = [
    "DYADIC_SHARE",
    "exact_kind",
    "dyadic_start",
    "river_points",
    "judge_case",
    "inverse_time_exact",
    "exact_hit",
    "exact_settled",
]

#: one case in three is dyadic
DYADIC_SHARE = st.sampled_from((False, False, True))


def exact_kind(kind: str) -> str:
    """The wall family of a dyadic case: quadratic or power (power 4); softplus and exp become quadratic."""
    return kind if kind in ("quadratic", "power") else "quadratic"


def _dyadic(x: float, bits: int = 10) -> float:
    """x rounded to a multiple of 2^-bits (at least 2^-bits)."""
    return max(float(np.round(x * 2**bits)) / 2**bits, 2.0**-bits)


def dyadic_start(case, k=1, small_rb=False, reach=0.7):
    """(normals, u, grid, RTN-failed start, r_b, rho(Q(w*)), delta_perp, c0) of a dyadic case; r_b as in
    :func:`proofs.recovery.scenarios_line._common` (between max f / 2 and delta_perp, or below max f / 2
    with ``small_rb``), rounded to a multiple of 2^-10."""
    dc = dyadic_case(case["seed"], k=k, dims=(5, 8), rtn_failed=False)  # d >= 5: normals on 4+ coordinates
    n, u = np.asarray(dc["normals"]), np.asarray(dc["river_dir"])
    step, off, c0 = (np.asarray(dc[x]) for x in ("step", "offset", "c0"))
    grid = L.uniform_grid(step, offset=off)
    dp = float(L.delta_perp(grid, n).value)
    half_flip = 0.5 * float(np.max(L.flip_size(grid, n)))
    if small_rb or half_flip >= dp:
        rb = min(half_flip, dp) * case["u_rb"]
    else:
        rb = half_flip + (dp - half_flip) * reach * case["u_rb"]
    rb = _dyadic(rb)
    cand = river_points(np.asarray(dc["w0"]), n, u, 0.625 * float(np.min(step)), case["seed"])
    q = off + step * np.round((cand - off) / step)  # exact: every number here is a short binary fraction
    rho = np.linalg.norm(q @ n.T - c0, axis=1)
    pick = int(np.argmax(rho > rb)) if np.any(rho > rb) else 0
    return n, u, grid, cand[pick], rb, float(rho[pick]), dp, c0


def river_points(w0, n, u, h, seed, count=256):
    """``count`` trained points on the river from ``w0``: each moves the last along ``u`` or along
    ``h r (n_j e_i - n_i e_j)`` for two coordinates of one row's support (r in -3..3, kept only when it is
    exactly orthogonal to every row), so the sharp coordinates move too and every number stays dyadic."""
    rng = np.random.default_rng(seed)
    pts, w = [w0], w0.copy()
    while len(pts) < count:
        row = n[rng.integers(n.shape[0])]
        sup = np.flatnonzero(row)
        t = u.copy()
        if sup.size >= 2 and rng.random() < 0.8:
            i, j = rng.choice(sup, 2, replace=False)
            t = np.zeros_like(w0)
            t[i], t[j] = row[j], -row[i]
            if np.any(n @ t != 0):
                t = u.copy()
        w = w + h * float(rng.choice([-3, -2, -1, 1, 2, 3])) * t
        pts.append(w.copy())
    return np.asarray(pts)


def judge_case(ls, grid, w, eta, rate=0.0) -> dict:
    """The exact judge's dict of a built case (the numbers the engine holds, taken as exact rationals)."""
    wall = ls.wall
    name = type(wall).__name__
    kind = "quadratic" if name == "QuadraticWall" else f"power{int(float(np.asarray(wall.power)))}"
    d = int(np.asarray(ls.normals).shape[-1])
    return {
        "normals": np.asarray(ls.normals, np.float64).tolist(),
        "river_dir": np.asarray(ls.river_dir, np.float64).tolist(),
        "c0": np.asarray(ls.center.c0, np.float64).reshape(-1).tolist(),
        "step": np.broadcast_to(np.asarray(grid.step, np.float64), (d,)).tolist(),
        "offset": np.broadcast_to(np.asarray(grid.offset, np.float64), (d,)).tolist(),
        "w0": np.asarray(w, np.float64).tolist(),
        "wall": kind,
        "rb": float(np.asarray(wall.basin_radius)),
        "kappa": float(np.asarray(wall.kappa)),
        "mu": float(np.asarray(wall.mu)),
        "eta": float(eta),
        "rate": float(rate),
    }


def inverse_time_exact(eta0, t_c):
    """eta_t = eta0 / (1 + t / t_c) in exact rationals (the schedule of K1D)."""
    e0, tc = Fraction(float(eta0)), Fraction(float(t_c))
    return lambda t: e0 / (1 + Fraction(t) / tc)


def exact_hit(jc, nsteps, eta_at=None) -> dict:
    """``T``, ``censored`` and ``never_hit`` from the exact orbit: a proved cycle is ``T = inf`` (never),
    the horizon or an undecided (diverging) orbit is censored at ``nsteps``."""
    res = exact_judge(jc, nsteps, eta_at=eta_at)
    if res[0] == "hit":
        return {"T": float(res[1]), "censored": 0.0, "never_hit": 0.0}
    if res[0] == "cycle":
        return {"T": float("inf"), "censored": 0.0, "never_hit": 1.0}
    return {"T": float(nsteps), "censored": 1.0, "never_hit": 1.0}


def exact_settled(jc, nsteps) -> dict:
    """``T`` (-1 if never within ``nsteps``), ``T_settle`` and ``censored`` from the exact orbit."""
    res = exact_settle(jc, nsteps)
    if res[0] != "run":
        return {"T": -1.0, "T_settle": -1.0, "censored": 1.0}  # not judged (inconclusive)
    t, ts = res[1]
    return {"T": float(t), "T_settle": float(ts), "censored": float(t < 0)}
