"""The machine-checked steps of the in-basin statements (S1B): the exit law of trained points on the floor."""

from __future__ import annotations

import mpmath
import sympy as sp

from landscape import laws
from proofs.core import Step

__all__ = ["STEPS"]


def step_in_basin_exit_integral() -> Step:
    """P(|x + X| > r), x ~ U[-r, r], is (1/r) int_0^2r P(X > t) dt; laws.rtn_exit_in_basin evaluates it.

    Symbolic for one summand (sympy integrates the piecewise tail, both a <= r and a > r); for two and
    three summands the closed form is compared with mpmath quadrature of S1's proved law P(|X| > t) / 2.
    """
    x, t = sp.symbols("x t", real=True)
    ok = True
    for a, r in ((sp.Rational(3, 10), sp.Rational(1, 2)), (sp.Rational(1, 1), sp.Rational(1, 4))):
        tail = sp.Piecewise((0, t >= a), ((a - t) / (2 * a), t >= -a), (1, True))  # P(X > t), X ~ U[-a, a]
        direct = sp.integrate(tail.subs(t, r - x) + tail.subs(t, r + x), (x, -r, r)) / (2 * r)
        via_t = sp.integrate(tail, (t, 0, 2 * r)) / r
        ok &= sp.simplify(direct - via_t) == 0
        ok &= abs(float(via_t) - laws.rtn_exit_in_basin([float(a)], float(r))) < 1e-12
    for a, r in (([0.2, 0.35], 0.3), ([0.2, 0.35, 0.1], 0.25), ([0.5, 0.5, 0.5], 1.2)):
        knots = sorted({0.0, 2 * r, *[abs(s) for s in _corner_sums(a)]})
        knots = [k for k in knots if k <= 2 * r] + [2 * r]
        quad = mpmath.quad(lambda u, a=a: laws.rtn_exit_probability(a, u) / 2, sorted(set(knots))) / r
        ok &= abs(float(quad) - laws.rtn_exit_in_basin(a, r)) < 1e-9
    return Step("in_basin_exit_integral", bool(ok), "sympy for m = 1 (a <= r and a > r); mpmath quadrature "
                "of S1's law for m = 2, 3 against the closed form 2 - (G(A + 2r) - G(A))/r")


def _corner_sums(a):
    out = [0.0]
    for x in a:
        out = [s + x for s in out] + [s - x for s in out]
    return out


STEPS = {"in_basin_exit_integral": step_in_basin_exit_integral}
