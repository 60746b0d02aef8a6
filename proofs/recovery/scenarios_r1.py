r"""The scenarios of R1 (the exact 1-D reduction, ties included): ``line_reduction``; and K1R's dyadic
attack ``line_empty_dyadic`` (below), judged by the exact rational orbit.

A third of the cases are dyadic (:func:`landscape.testing.dyadic.dyadic_case`: power-of-two steps,
offsets at 0, 1/4 or 1/2 step, exact unit dyadic normals, bf16 starts with coordinates on a tie), where
simultaneous crossings and starts on a boundary really happen; the rest are the generic k = 1 cases of
:mod:`proofs.recovery.scenarios_line`. Measured:

* on 4096 sampled points of the line: ``mono_viol``, ``jump_err`` (each change of g against the flips of
  the coordinates that changed), ``gap_max`` (``max |g - x|``);
* at every breakpoint of the window, in exact rationals (:func:`landscape.certify.exact_line.exact_line`):
  ``tie_err`` (``g(z)`` against the tie rule, half to even), ``sim_jump_err`` (``g(z+) - g(z-)`` against
  the sum of the crossing flips); for the mutants, ``tie_up_err`` (``g(z)`` against ``g(z+)``: ties that
  always go right) and ``max_jump_err`` (a simultaneous crossing against its largest flip only);
* a 400-step engine run (float64): ``line_dev`` and ``offset_dev`` (its deployed offsets against the
  float pieces of :func:`landscape.certify.line_analysis`; at a latent within ``1e-9`` of a breakpoint,
  against ``g(z)`` when it is exactly on it, else the nearer of ``g(z-)``, ``g(z)``, ``g(z+)``).
"""

from __future__ import annotations

from fractions import Fraction

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

import landscape as L
from landscape.certify import line_analysis
from landscape.certify.exact_line import exact_line
from landscape.testing.dyadic import dyadic_case, exact_judge
from proofs.core import Scenario, wall_of
from proofs.recovery import dyadic_share as dy
from proofs.recovery.scenarios_line import _BASE, NSTEPS, _common, _values, build

__all__ = ["R1_SCENARIOS"]

_R1 = st.fixed_dictionaries(
    {
        **_BASE,
        "shape": st.sampled_from(((2, 1), (4, 1), (8, 1))),
        "wall": st.sampled_from(("quadratic", "exp")),
        "rho_ratio": st.floats(-3.0, 3.0),
        "drift": st.just(0.0),
        "dyadic": st.sampled_from((False, False, True)),
    }
)


def _prepare_r1(case, stmt):
    kappa = 1.0 + 19 * case["u_kappa"]
    if case["dyadic"]:
        dc = dyadic_case(case["seed"], k=1, rtn_failed=False)
        n, u = np.asarray(dc["normals"]), np.asarray(dc["river_dir"])
        grid = L.uniform_grid(np.asarray(dc["step"]), offset=np.asarray(dc["offset"]))
        w = np.asarray(dc["w0"])  # exact binary numbers, some coordinates on a tie: no shift
        dp = float(L.delta_perp(grid, n).value)
        rb = dp * (0.1 + 0.8 * case["u_rb"])
        rho_q = float(abs(n[0] @ np.asarray(grid.quantize(jnp.asarray(w)))))
    else:
        n, u, grid, w, rb, rho_q, dp = _common(case)
        w = w + case["rho_ratio"] * dp * n[0]
    ls = build(n, u, grid, wall_of(case["wall"], rb, kappa, case["mu"]), 0.0)
    vals = _values(case, n, grid, rb, rho_q, dp, kappa)
    return (ls, grid, w), vals


def _exact_errors(ex, n, step):
    """The tie measurements of R1 at the exact breakpoints (floats of exact differences)."""
    flip = [abs(Fraction(float(a))) * Fraction(float(b)) for a, b in zip(n, step, strict=True)]
    errs = {"tie_err": 0.0, "sim_jump_err": 0.0, "tie_up_err": 0.0, "max_jump_err": 0.0}
    for i, cr in enumerate(ex["crossing"]):
        left, point, right = ex["left"][i], ex["point"][i], ex["right"][i]
        errs["tie_err"] = max(errs["tie_err"], float(abs(point - ex["tie_rule"][i])))
        errs["sim_jump_err"] = max(errs["sim_jump_err"], float(abs(right - left - ex["flips"][i])))
        errs["tie_up_err"] = max(errs["tie_up_err"], float(abs(point - right)))
        if len(cr) > 1:
            big = max(flip[j] for j in cr)
            errs["max_jump_err"] = max(errs["max_jump_err"], float(abs(right - left - big)))
    return errs


def _near_ties_dev(y, w, n, step, off, coords):
    """``min |y - g|`` over the deployed offsets a float run may give at a latent within 1e-9 of several
    breakpoints at once: each crossing coordinate at either grid point of its tie, the others rounded.

    Near ``m`` ties in one latent the float quotient ``(w_j - o_j) / s_j`` may round onto each tie (at
    |w_j - tie| ~ 1e-303 it does: the run then meets one m-fold tie where exact arithmetic sees m
    breakpoints); which side each coordinate takes is below the float's resolution, so every one of the
    2^m choices is accepted (m <= 12), and nothing else.
    """
    coords = sorted(set(coords))[:12]
    q = off + step * np.round((w - off) / step)
    base = float(np.delete(q, coords) @ np.delete(n, coords))
    tie = off[coords] + step[coords] * (np.round((w[coords] - off[coords]) / step[coords] - 0.5) + 0.5)
    lo, hi = (tie - step[coords] / 2) * n[coords], (tie + step[coords] / 2) * n[coords]
    choice = np.array(np.meshgrid(*[[0, 1]] * len(coords), indexing="ij")).reshape(len(coords), -1)
    vals_ = base + (np.where(choice == 1, hi[:, None], lo[:, None])).sum(0)
    return float(np.min(np.abs(y - vals_)))


def _sim_r1(ctx, vals, sim, stmt):
    ls, grid, w = ctx
    n = np.asarray(ls.normals[0], np.float64)
    step = np.broadcast_to(np.asarray(grid.step, np.float64), n.shape)
    off = np.broadcast_to(np.asarray(grid.offset, np.float64), n.shape)
    dp = vals["dp"]
    x0 = float(n @ w)
    half = abs(x0) + 3 * dp + vals["r_b"]
    lam = np.linspace(-half - x0, half - x0, 4096)  # one shape: one compiled quantize per d
    pts = w[None] + lam[:, None] * n[None]
    q = off + step * np.round((pts - off) / step)  # UniformGrid's formula (half to even); the engine's
    # own quantize is what the 400-step run below uses, and its deployed offsets are compared with g
    g = q @ n
    dg = np.diff(g)
    flips = np.abs(np.diff(q, axis=0)) @ np.abs(n)  # each coordinate's change times |n_j| (= its flips)
    ex = exact_line(n, 0.0, w, step, off, lam[0], lam[-1])
    an = line_analysis(ls, grid, w[None], vals["eta"], pieces=True, orbit=False)
    tr = sim.run(ls, grid, sim.rule(float(vals["eta"])), jnp.asarray(w), NSTEPS, record_path=True)
    wp, qp = np.asarray(tr.w_path, np.float64), np.asarray(tr.q_path, np.float64)
    keep = np.all(np.isfinite(wp), 1) & np.all(np.isfinite(qp), 1) & (np.abs((wp - w) @ n) < 1e6)
    wp, qp = wp[keep], qp[keep]  # a run whose wall blows up (exp wall) is judged on its finite part
    lam_t = (wp - w) @ n / (n @ n)
    perp = (wp - w) - lam_t[:, None] * n[None]
    starts, ends = an["starts"][0], an["ends"][0]
    inside = (lam_t > starts[0]) & (lam_t < ends[-1])  # the pieces cover the window only
    k = np.clip(np.searchsorted(ends, lam_t, side="right"), 0, len(starts) - 1)
    dev = np.abs(qp @ n - np.where(inside, an["values"][0][k], qp @ n))
    zf = np.asarray([float(z) for z in ex["z"]])
    for t in range(lam_t.size):  # a latent on (or within 1e-9 of) a breakpoint: R1's tie rule decides
        if zf.size == 0:
            break
        tol = 1e-9 * (1 + abs(lam_t[t]))
        near = np.flatnonzero(np.abs(zf - lam_t[t]) <= tol)
        if near.size == 0:
            continue
        y = float(qp[t] @ n)
        if near.size == 1:
            i = int(near[0])
            exact = Fraction(float(lam_t[t])) == ex["z"][i]
            cands = [ex["point"][i]] if exact else [ex["left"][i], ex["point"][i], ex["right"][i]]
            dev[t] = min(abs(y - float(c)) for c in cands)
        else:  # several breakpoints within the float's resolution: each of their coordinates may round
            dev[t] = _near_ties_dev(y, wp[t], n, step, off, [j for i in near for j in ex["crossing"][i]])
    out = {
        "mono_viol": float(np.max(-dg)) if dg.size else 0.0,
        "jump_err": float(np.max(np.abs(dg - flips))) if dg.size else 0.0,
        "gap_max": float(np.max(np.abs(g - (x0 + lam * (n @ n))))),
        "line_dev": float(np.max(np.linalg.norm(perp, axis=1) / (1 + np.abs(lam_t)), initial=0.0)),
        "offset_dev": float(np.max(dev, initial=0.0)),
    }
    out.update(_exact_errors(ex, n, step))
    return out


def _dyadic_line(case):
    """(n (1, d), u, grid, w0) of the dyadic case drawn from the case's seed (ties at 40 % of coordinates)."""
    dc = dyadic_case(case["seed"], k=1, rtn_failed=False)
    n, u = np.asarray(dc["normals"]), np.asarray(dc["river_dir"])
    return n, u, L.uniform_grid(np.asarray(dc["step"]), offset=np.asarray(dc["offset"])), np.asarray(dc["w0"])


def _prepare_empty_dyadic(case, stmt):
    """K1R on dyadic lines: ``band_empty`` from the exact in-band set (pieces and tie-rule point values)."""
    n, u, grid, w = _dyadic_line(case)
    step, off = (np.broadcast_to(np.asarray(x, np.float64), w.shape) for x in (grid.step, grid.offset))
    dp = float(L.delta_perp(grid, n).value)
    rb = 0.5 * float(np.max(L.flip_size(grid, n))) * (0.2 + 1.2 * case["u_rb"])
    x0 = float(n[0] @ w)
    half = max(abs(x0), rb + dp) + 2 * dp  # beyond it |g| >= |x| - dp > r_b
    ex = exact_line(n[0], 0.0, w, step, off, -half - x0, half - x0)
    rbq = Fraction(rb)
    inband = any(abs(v) <= rbq for v in ex["pieces"]) or any(abs(v) <= rbq for v in ex["point"])
    kappa = 0.5 + 19.5 * case["u_kappa"]
    case = {**case, "wall": dy.exact_kind(case["wall"])}  # a wall the exact judge carries
    ls = build(n, u, grid, wall_of(case["wall"], rb, kappa, case["mu"]), 0.0)
    rho_q = float(abs(n[0] @ np.asarray(grid.quantize(jnp.asarray(w)))))
    vals = _values(case, n, grid, rb, rho_q, dp, kappa)
    vals["band_empty"] = float(not inband and not ex["truncated"])
    return (ls, grid, w), vals


def _sim_never_exact(ctx, vals, sim, stmt):
    """``never_hit`` from the exact rational orbit (:func:`landscape.testing.dyadic.exact_judge`, 400 steps):
    a cycle or the horizon without entry is 1, an entry 0; an undecided (diverging) orbit is censored."""
    res = exact_judge(dy.judge_case(*ctx, vals["eta"]), NSTEPS)
    return {"never_hit": float(res[0] != "hit"), "censored": float(res[0] == "undecided")}


_EMPTY = st.fixed_dictionaries({**_BASE, "drift": st.just(0.0), "u_rb": st.floats(0.0, 1.0)})
R1_SCENARIOS = {
    "line_reduction": Scenario(_R1, _prepare_r1, _sim_r1),
    "line_empty_dyadic": Scenario(_EMPTY, _prepare_empty_dyadic, _sim_never_exact),
}
