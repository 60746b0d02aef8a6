"""The machine-checked steps of K2S: the coupled 1-D reductions (sympy) and the in-band step (z3)."""

from __future__ import annotations

import sympy as sp
import z3

from proofs.core import Certificate, Step, prove

__all__ = ["STEPS", "CERTIFICATES"]


def step_separable_offsets() -> Step:
    """Disjoint supports: N N^T = I, coordinate group i moves with lambda_i only, and n_i.(N^T y) = y_i."""
    a1, a2, b1, b2 = sp.symbols("a1 a2 b1 b2", real=True, nonzero=True)
    n1 = sp.Matrix([[a1, a2, 0, 0, 0]]) / sp.sqrt(a1**2 + a2**2)
    n2 = sp.Matrix([[0, 0, b1, b2, 0]]) / sp.sqrt(b1**2 + b2**2)
    big_n = sp.Matrix.vstack(n1, n2)
    lam1, lam2, y1, y2 = sp.symbols("lambda1 lambda2 y1 y2", real=True)
    w0 = sp.Matrix(sp.symbols("w1:6", real=True))
    w = w0 + lam1 * n1.T + lam2 * n2.T
    ok = (big_n * big_n.T).applyfunc(sp.simplify) == sp.eye(2)
    ok &= all(sp.diff(w[j], lam2) == 0 for j in (0, 1)) and all(sp.diff(w[j], lam1) == 0 for j in (2, 3))
    step = big_n.T * sp.Matrix([y1, y2])  # the wall term of the STE gradient is h N^T y
    ok &= sp.simplify((n1 * step)[0] - y1) == 0 and sp.simplify((n2 * step)[0] - y2) == 0
    return Step("separable_offsets", bool(ok), "two groups of two coordinates, symbolic entries: N N^T = I, "
                "w's group i depends on lambda_i only, the step along n_i is h y_i")


def cert_step_within_band() -> Certificate:
    """x in I = [a, b] on the side g > 0 (x >= a + room), 0 < s < room: x - s stays in (a, b]."""
    a, b, x, s, room = z3.Reals("a b x s room")
    hyps = [a < b, room > 0, x >= a + room, x <= b, s > 0, s < room]
    claim = z3.And(x - s > a, x - s <= b)
    return prove("step_within_band", hyps, claim, "all reals a < b, a + room <= x <= b, 0 < s < room",
                 "an in-band coordinate whose step is shorter than its room stays in I_i")


STEPS = {"separable_offsets": step_separable_offsets}
CERTIFICATES = {"step_within_band": cert_step_within_band}
