"""K1D's stated bound (docs/theory.md, K1D) against the code's ``T_D`` and the dynamics, on held-out cases.

The cases are not the checker's (its attack draws from hypothesis, derandomized): they come from a fixed
NumPy stream, a third of them dyadic (exact binary inputs, judged by the exact rational orbit). For each
case in the ``t_0 = 0`` branch the test recomputes ``J = int d lambda / phi'(|g(lambda)|)`` from the start
to ``I`` independently -- the pieces of ``g`` in exact rationals (:func:`landscape.certify.exact_line.
exact_line`), not the certificate's float pieces -- and evaluates the documented bound
``floor(t_c exp(J / (eta_0 t_c)) - t_c) + 1``; it must equal the statement's ``T_D`` and bound ``T``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import jax
import numpy as np
import pytest

import proofs.catalog as C
from landscape.certify.exact_line import exact_line
from proofs.core.falsify import check_case

HELD_OUT = (5, 30, 41, 62)  # indices of the stream below that fall in the t_0 = 0 branch


def _stream(count=80, seed=20):
    rng = np.random.default_rng(seed)
    for i in range(count):
        yield i, {
            "shape": [(2, 1), (4, 1)][i % 2],
            "seed": int(rng.integers(70000, 2**16 + 70000)),
            "step": float(rng.uniform(0.1, 1)),
            "step_mult": list(rng.uniform(0.5, 2, 8)),
            "offset_frac": list(rng.uniform(0, 1, 8)),
            "s0": float(rng.uniform(-20, 20)),
            "dir_seed": int(rng.integers(2**16)),
            "flat": 0.0,
            "u_rb": float(rng.uniform(0.05, 0.95)),
            "wall": "quadratic",
            "mu": float(rng.choice([0.0, 0.1])),
            "drift": 0.0,
            "eta": float(rng.choice([0.1, 0.5])),
            "u_kappa": 0.5,
            "breach": "none",
            "t_c": float(np.exp(rng.uniform(np.log(5), np.log(200)))),
            "u_frac": float(rng.uniform(-3, -1)),
            "dyadic": bool(i % 3 == 0),
        }


CASES = {i: c for i, c in _stream() if i in HELD_OUT}


def _doc_bound(ls, grid, w, eta0, t_c):
    """The documented K1D bound (t_0 = 0) from exact pieces: (J, floor(t_c exp(J/(eta0 t_c)) - t_c) + 1)."""
    n = np.asarray(ls.normals, np.float64)[0]
    d = n.size
    step = np.broadcast_to(np.asarray(grid.step, np.float64), (d,))
    off = np.broadcast_to(np.asarray(grid.offset, np.float64), (d,))
    c0 = float(np.asarray(ls.center.c0).reshape(-1)[0])
    rb = Fraction(float(ls.wall.basin_radius))
    x0 = float(n @ w) - c0
    half = abs(x0) + 4 * float(np.sum(np.abs(n) * step)) + float(rb)
    ex = exact_line(n, c0, w, step, off, -half - x0, half - x0)
    edges = [Fraction(-half - x0)] + ex["z"] + [Fraction(half - x0)]
    vals = ex["pieces"]
    inside = [i for i, v in enumerate(vals) if abs(v) <= rb]
    y0 = vals[max(i for i in range(len(vals)) if edges[i] <= 0)]
    right = y0 > 0  # the start is right of I: integrate from I's right end b up to 0
    a, b = (edges[inside[0]], edges[inside[-1] + 1]) if inside else (None, None)
    lo, hi = (b, Fraction(0)) if right else (Fraction(0), a)
    total = 0.0
    for i, v in enumerate(vals):
        s, e = max(edges[i], lo), min(edges[i + 1], hi)
        if e > s:
            total += float(e - s) / float(ls.wall.deriv(abs(float(v))))
    return total, math.floor(t_c * math.exp(total / (eta0 * t_c)) - t_c) + 1


@pytest.mark.parametrize("index", HELD_OUT)
def test_k1d_documented_bound_equals_code_and_holds(index):
    stmt = C.by_id("K1D")
    case = CASES[index]
    res = check_case(stmt, case)
    assert res.applicable, f"held-out case {index} no longer satisfies K1D's assumptions"
    v = res.values
    assert v["t0"] == 0  # the branch the formula speaks of
    with jax.enable_x64(True):
        ctx, _ = C.SCENARIOS[stmt.attack].prepare(case, stmt)
        j, t_doc = _doc_bound(*ctx[:3], v["eta0"], v["t_c"])
    assert j == pytest.approx(v["J_int"] * v["eta0"], rel=1e-9)  # the code's J_int is J / eta_0
    assert t_doc == v["T_D"]
    assert v["T"] <= t_doc and res.holds


def test_k1d_held_out_case_with_t17():
    """The held-out dyadic case with T = 17: the bound without eta_0 (exp(J / t_c)) gives 2."""
    stmt = C.by_id("K1D")
    res = check_case(stmt, CASES[30])
    v = res.values
    assert CASES[30]["dyadic"] and v["T"] == 17 and v["T_D"] == 17
    wrong = math.floor(v["t_c"] * math.exp(v["J_int"] * v["eta0"] / v["t_c"]) - v["t_c"]) + 1
    assert wrong == 2
