r"""Scenarios of the slice statements (K2E, K2R) and of the two refutations of S5C.

* ``s5c_thin_cell`` -- d = 2, k = 1. The searched family: dyadic steps and offsets, a river centre
  ``c0 = n.p/2`` at half a grid vector ``p = +-Delta_j e_j`` (so the grid's offsets are symmetric about the
  river, exactly in binary floating point), the latent's line passing at a drawn distance ``eps`` from a
  grid corner. For the drawn case a systematic scan over ``eps 2^-i`` and the start ``lambda_0`` looks for
  an orbit of the 1-D reduction that repeats; the first candidate is re-run in exact rational arithmetic
  (:func:`landscape.certify.reduction.exact_orbit`). ``proved_never = 1`` when an exact cycle is found.
* ``s5c_confined_slice`` -- d = k + 1 (k = 2, 3): the slice ``w0 + row(N)`` is the hyperplane
  ``u.w = s``; a scan along the river finds the largest gap between the ``s``-intervals of the in-band
  cells and starts at the trained point there; the exhaustive enumeration of
  :func:`landscape.certify.slices.slice_cells_in_band` then decides (``proved_never = 1``: no in-band cell).
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

import landscape as L
from landscape import testing
from landscape.certify import line_analysis, reduction, slices
from proofs.core import Scenario, wall_of

__all__ = ["SLICE_SCENARIOS", "slice_gap_start"]

NSTEPS = 400
_U = st.floats(0.0, 1.0)


def _split(u, out, inside, outside):
    lo, hi = outside if out else inside
    return lo + (hi - lo) * u


def _geometry(case):
    ls = testing.case_landscape(case)
    steps = testing.case_steps(case)[0]
    n, u = np.asarray(ls.normals, np.float64), np.asarray(ls.river_dir, np.float64)
    return n, u, testing.case_grid(case), steps


def _arrays(grid, d):
    return (
        np.broadcast_to(np.asarray(grid.step, np.float64), (d,)).copy(),
        np.broadcast_to(np.asarray(grid.offset, np.float64), (d,)).copy(),
    )


_SLICE = {
    **testing.river_fields(((3, 2), (4, 2), (4, 3), (5, 2))),
    **testing.grid_fields(step=(0.2, 1.0), size=6),
    "s0": testing.start_fields()["s0"],
    "x_frac": st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3),
}


# --------------------------------------------------------------------------------------
# K2E: what the slice can reach
# --------------------------------------------------------------------------------------
def _prepare_reach(case, stmt):
    n, u, grid, steps = _geometry(case)
    k = n.shape[0]
    w0 = case["s0"] * u + n.T @ (np.asarray(case["x_frac"][:k]) * case["step"])
    maxf = float(np.max(L.flip_size(grid, n)))
    return (n, grid, w0), {"k": float(k), "d": float(n.shape[1]), "max_f": maxf}


def _sim_reach(ctx, vals, sim, stmt):
    n, grid, w0 = ctx
    step, off = _arrays(grid, n.shape[1])
    reach = np.sqrt(vals["k"]) / 2 * vals["max_f"]
    cells, exhaustive = slices.slice_cells_in_band(n, np.zeros(n.shape[0]), w0, step, off, 2 * reach)
    if not exhaustive:
        return {"min_slice_off": float("nan")}
    off_q = np.linalg.norm(cells @ n.T, axis=1) if cells.size else np.array([np.inf])
    return {"min_slice_off": float(np.min(off_q))}


# --------------------------------------------------------------------------------------
# an empty slice (d = k + 1): the largest gap between in-band cells along the river
# --------------------------------------------------------------------------------------
def slice_gap_start(n, u, step, off, rb, span=25.0):
    """For d = k + 1: the river coordinate s of the middle of the largest gap of {s : the hyperplane u.w = s
    meets an in-band cell} in [-span, span], and the gap's length (0 if there is none)."""
    d = n.shape[1]
    h = 0.5 * float(np.min(step))
    ss = np.arange(-span - 2, span + 2, h)
    base = np.floor((ss[:, None] * u[None] - off) / step)  # (S, d)
    shifts = np.array(list(itertools.product(range(-2, 3), repeat=d)))
    idx = (base[:, None, :] + shifts[None]).reshape(-1, d)
    q = off + step * idx
    band = np.sum((q @ n.T) ** 2, 1) <= rb * rb  # in-band first, then de-duplicate (1-D integer keys)
    idx = idx[band].astype(np.int64)
    key = np.zeros(idx.shape[0], np.int64)
    for j in range(d):
        key = key * 4099 + (idx[:, j] - idx[:, j].min(initial=0))
    _, first = np.unique(key, return_index=True)
    centre = (off + step * idx[first]) @ u
    half = 0.5 * float(np.sum(np.abs(u) * step))
    # merge intervals, then gaps inside [-span, span]
    order = np.argsort(centre - half)
    lo, hi = (centre - half)[order], (centre + half)[order]
    best, where, cur = 0.0, 0.0, -np.inf
    for a, b in zip(lo, hi, strict=True):
        if a > cur and cur > -span and a < span and a - cur > best:
            best, where = a - cur, 0.5 * (a + cur)
        cur = max(cur, b)
    return where, best


_EMPTY = st.fixed_dictionaries(
    {
        **_SLICE,
        "shape": st.sampled_from(((3, 2), (4, 3))),
        "u_ratio": _U,
        "drift": st.sampled_from((0.0, 0.0, 0.3)),
        "wall": st.sampled_from(("quadratic", "softplus")),
        "mu": st.sampled_from((0.05, 0.2)),
        "eta": st.sampled_from((0.1, 0.5)),
        "u_kappa": _U,
    }
)


def _prepare_empty(case, stmt):
    n, u, grid, steps = _geometry(case)
    k, d = n.shape
    step, off = _arrays(grid, d)
    maxf = float(np.max(L.flip_size(grid, n)))
    rb = maxf * (
        0.5 + (np.sqrt(k) / 2 - 0.5) * (0.02 + 0.96 * case["u_ratio"])
    )  # max f < 2 r_b < sqrt(k) max f
    s0, gap = slice_gap_start(n, u, step, off, rb)
    w0 = s0 * u
    cells, exhaustive = slices.slice_cells_in_band(n, np.zeros(k), w0, step, off, rb)
    empty = float(exhaustive and cells.shape[0] == 0)
    dp = float(L.delta_perp(grid, n).value)
    unit = float(wall_of(case["wall"], rb, 1.0, 0.0).deriv(dp))
    mu = case["mu"]
    kappa = float(
        np.clip((0.9 * case["u_kappa"] + 0.05) * (rb / case["eta"] - mu * dp) / max(unit, 1e-12), 1e-3, 1e3)
    )
    wall = wall_of(case["wall"], rb, kappa, mu)
    ls = L.straight_river(n, u, wall=wall, river_loss=float(case["drift"]))
    vals = {
        "k": float(k),
        "d": float(d),
        "r_b": rb,
        "max_f": maxf,
        "drift": case["drift"],
        "slice_empty": empty,
        "eta": case["eta"],
        "phi_max": float(wall.deriv(dp)),
        "m_slope": float(wall.wall_slope(rb)),
        "dp": dp,
        "gap": gap,
        "s_start": s0,
        "proved_never": empty if case["drift"] == 0 else 0.0,
    }
    return (ls, grid, w0), vals


def _sim_never(ctx, vals, sim, stmt):
    ls, grid, w0 = ctx
    tr = sim.run(ls, grid, sim.rule(float(vals["eta"])), jnp.asarray(w0), NSTEPS)
    return {"never_hit": float(int(tr.hit_time) < 0), "engine_never_hit": float(int(tr.hit_time) < 0)}


# --------------------------------------------------------------------------------------
# S5C, mechanism 1: a thin in-basin cell stepped over (d = 2, k = 1), exact 2-cycle
# --------------------------------------------------------------------------------------
_THIN = st.fixed_dictionaries(
    {
        "theta": st.floats(0.05, 1.5),
        "steps": st.tuples(st.sampled_from((0.5, 1.0, 2.0)), st.sampled_from((0.5, 1.0, 2.0))),
        "half": st.tuples(st.booleans(), st.booleans()),
        "axis": st.sampled_from((0, 1)),
        "sign": st.sampled_from((-1, 1)),
        "u_rb": st.floats(0.0, 1.0),
        "mu": st.sampled_from((0.05, 0.2, 1.0)),
        "u_kappa": st.floats(0.05, 1.0),
        "eta": st.sampled_from((0.1, 0.5)),
        "lam0": st.floats(-4.0, 4.0),
        "eps_exp": st.floats(0.0, 4.0),
        "eps_sign": st.sampled_from((-1, 1)),
    }
)


def _thin_geometry(case, eps_exp, lam0):
    th = case["theta"]
    n = np.array([-np.sin(th), np.cos(th)])
    u = np.array([np.cos(th), np.sin(th)])
    step = np.asarray(case["steps"], np.float64)
    off = np.where(np.asarray(case["half"]), step / 2, 0.0)
    p = np.zeros(2)
    p[case["axis"]] = case["sign"] * step[case["axis"]]
    c0 = float(n[case["axis"]] * p[case["axis"]] / 2)  # exact: a product with a power of two, halved
    maxf = float(np.max(np.abs(n) * step))
    f_sum = float(np.sum(np.abs(n) * step))
    rb = maxf / 2 + (f_sum / 2 - maxf / 2) * (0.02 + 0.96 * case["u_rb"])  # max f < 2 r_b < f_1 + f_2
    eps = case["eps_sign"] * 10.0 ** (-eps_exp) * float(np.min(step))
    w0 = p / 2 + lam0 * rb * n + eps * u
    return n, u, step, off, c0, rb, w0


def _thin_wall(case, n, step, rb, rho0):
    dp = 0.5 * float(np.sum(np.abs(n) * step))
    mu = case["mu"]
    r = rho0 + dp
    kap_max = (rb / case["eta"] - mu * r) / max(r - rb, 1e-12)
    return L.quadratic_wall(rb, float(np.clip(case["u_kappa"] * kap_max, 1e-3, 1e3)), mu), dp


def _prepare_thin(case, stmt):
    # systematic scan of the line's distance to the corner and of the start, for a repeating 1-D orbit
    grid_eps = [case["eps_exp"] + 0.5 * i for i in range(8)]
    grid_lam = [case["lam0"], 0.0, case["lam0"] / 2, -case["lam0"]]
    starts, cfg = [], []
    for e in grid_eps:
        for lam in grid_lam:
            n, u, step, off, c0, rb, w0 = _thin_geometry(case, e, lam)
            starts.append(w0)
            cfg.append((e, lam))
    rho0 = np.abs(np.asarray(starts) @ n - c0)
    wall, dp = _thin_wall(case, n, step, rb, float(np.max(rho0)))
    ls = L.straight_river(n[None], u, wall=wall, center=[c0])
    grid = L.uniform_grid(step, offset=off)
    an = line_analysis(ls, grid, np.asarray(starts), case["eta"])
    cand = np.flatnonzero(np.isin(an["code"], (1, 4)) & an["nonempty"])
    pick = int(cand[0]) if cand.size else 0
    e, lam = cfg[pick]
    n, u, step, off, c0, rb, w0 = _thin_geometry(case, e, lam)
    vals = {
        "k": 1.0,
        "d": 2.0,
        "r_b": rb,
        "max_f": float(np.max(np.abs(n) * step)),
        "eta": case["eta"],
        "phi_max": float(wall.deriv(float(abs(n @ w0 - c0)) + dp)),
        "m_slope": float(wall.wall_slope(rb)),
        "rho_0": float(abs(n @ w0 - c0)),
        "dp": dp,
        "eps_exp": e,
        "lam0_used": lam,
        "band_length": float(an["i_len"][pick]),
        "candidate": float(cand.size > 0),
    }
    return (ls, grid, w0, (n, c0, step, off, rb, wall)), vals


def _sim_thin(ctx, vals, sim, stmt):
    ls, grid, w0, (n, c0, step, off, rb, wall) = ctx
    out = {"proved_never": 0.0, "cycle_period": 0.0}
    if vals.get("candidate"):
        slope = reduction.rational_slope(wall)
        kind, info = reduction.exact_orbit(n, c0, w0, step, off, rb, vals["eta"], slope, 2000)
        if kind == "cycle":
            out.update(proved_never=1.0, cycle_start=float(info[0]), cycle_period=float(info[1]))
    tr = sim.run(ls, grid, sim.rule(float(vals["eta"])), jnp.asarray(w0), NSTEPS)
    out["engine_never_hit"] = float(int(tr.hit_time) < 0)
    return out


SLICE_SCENARIOS = {
    "slice_reach": Scenario(st.fixed_dictionaries(_SLICE), _prepare_reach, _sim_reach),
    "slice_empty": Scenario(_EMPTY, _prepare_empty, _sim_never),
    "s5c_thin_cell": Scenario(_THIN, _prepare_thin, _sim_thin),
    "s5c_confined_slice": Scenario(_EMPTY.map(lambda c: {**c, "drift": 0.0}), _prepare_empty, _sim_never),
}
