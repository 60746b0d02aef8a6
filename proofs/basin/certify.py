r"""Certificates: real inequalities of the proofs, decided by z3 (nonlinear real arithmetic),
and one interval branch-and-bound check (mpmath) of the cited Berry-Esseen bound.

Each certificate states its hypotheses H and claim C over real variables and asks z3
whether H and not C is satisfiable: ``unsat`` proves C for *every* real point of the
set H (the "box" is H itself, stated in the certificate). ``sat`` returns a
counterexample model; ``unknown`` (or a timeout) is reported as not certified.
Square roots are encoded by a variable ``S`` with ``S >= 0, S^2 = x``.

``CERTIFICATES`` maps the names used in :mod:`proofs.statements` to these functions.
"""

from __future__ import annotations

import z3

from proofs.core import Certificate, prove

__all__ = ["Certificate", "CERTIFICATES", "prove"]


def cert_cos_bound() -> Certificate:
    """<v + x, v> >= ||v + x|| sqrt(rho^2 - delta^2) for ||x|| <= delta < rho (plane of v and x)."""
    rho, dl, a, b, r, s = z3.Reals("rho delta a b r S")
    hyps = [rho > 0, dl >= 0, dl < rho, a * a + b * b <= dl * dl,
            r > 0, r * r == (rho + a) ** 2 + b * b, s >= 0, s * s == rho * rho - dl * dl]
    claim = z3.And(rho * (rho + a) >= r * s, rho + a > 0)
    return prove("cos_bound", hyps, claim,
                 "all reals: rho > 0, 0 <= delta < rho, a^2 + b^2 <= delta^2 (v = (rho, 0), x = (a, b))",
                 "cos angle(v_q, v_w) >= sqrt(1 - delta^2/rho^2) and <v_q, v_w> > 0")


def cert_sqrt_vs_ratio() -> Certificate:
    """sqrt(1 - t^2) >= (1 - t)/(1 + t) for 0 <= t < 1 (the sharp bound implies the issue's)."""
    t, s = z3.Reals("t S")
    hyps = [t >= 0, t < 1, s >= 0, s * s == 1 - t * t]
    return prove("sqrt_vs_ratio", hyps, s * (1 + t) >= 1 - t, "all reals t in [0, 1)",
                 "sqrt(1 - t^2) >= (1 - t)/(1 + t)")


def cert_one_step_contraction() -> Certificate:
    """rho^2 - 2 a rho c + a^2 <= (rho - a c / 2)^2 and rho - a c/2 >= 0, for 0 < a <= rho c, 0 < c <= 1."""
    rho, a, c = z3.Reals("rho alpha c")
    hyps = [rho > 0, c > 0, c <= 1, a > 0, a <= rho * c]
    claim = z3.And(rho * rho - 2 * a * rho * c + a * a <= (rho - a * c / 2) ** 2, rho - a * c / 2 >= 0)
    return prove("one_step_contraction", hyps, claim, "all reals: rho > 0, 0 < c <= 1, 0 < alpha <= rho c",
                 "||v'|| <= rho - alpha c / 2")


def cert_cos_monotone() -> Certificate:
    """rho >= delta + sigma => rho^2 - delta^2 >= sigma (2 delta + sigma) and 1 - d^2/rho^2 >= c_sigma^2."""
    rho, dl, sg = z3.Reals("rho delta sigma")
    hyps = [dl >= 0, sg > 0, rho >= dl + sg]
    claim = z3.And(rho * rho - dl * dl >= sg * (2 * dl + sg),
                   (rho * rho - dl * dl) * (dl + sg) ** 2 >= ((dl + sg) ** 2 - dl * dl) * rho * rho)
    return prove("cos_monotone", hyps, claim, "all reals: delta >= 0, sigma > 0, rho >= delta + sigma",
                 "rho c(rho) >= sqrt(sigma (2 delta + sigma)) and c(rho) >= c_sigma")


def cert_two_cycle_cells() -> Certificate:
    """The 2-cycle's latents stay in the open cells of g1 = (0,0) and g2 = (0,-1)."""
    cs, sn, a = z3.Reals("cos sin alpha")
    hyps = [cs > 0, sn > 0, cs * cs + sn * sn == 1, a > 0, a * cs < 2, a * sn < 1]
    x0, y0 = -a * sn / 2, -z3.RealVal(1) / 2 + a * cs / 2
    x1, y1 = x0 + a * sn, y0 - a * cs
    half = z3.RealVal(1) / 2
    claim = z3.And(-half < x0, x0 < half, -half < y0, y0 < half,
                   -half < x1, x1 < half, -3 * half < y1, y1 < -half)
    return prove("two_cycle_cells", hyps, claim,
                 "all reals: 0 < theta < pi/2 (cos, sin > 0, cos^2 + sin^2 = 1), 0 < alpha, "
                 "alpha cos < 2, alpha sin < 1", "Q(w0) = (0, 0) and Q(w1) = (0, -1)")


def _be_branch_and_bound(m: int, c_be: float = 0.56, pad: float = 1e-30, max_boxes: int = 400):
    """Certify |P(|X| > r) - erfc(r/(sqrt2 sigma))| <= 2 C sum E|X_j|^3/sigma^3 for all r >= 0.

    X = sum of m i.i.d. U[-1, 1] (scale-free). Both exit probabilities decrease in r, so on
    [r0, r1] the difference is at most max(P(r0) - G(r1), G(r0) - P(r1)); boxes that fail
    are bisected (branch and bound); a midpoint that itself violates the bound refutes it.
    Endpoint values use 40-digit mpmath plus ``pad``. Beyond r = m the exact law is 0 and
    [m, inf) is one box. Returns (certified, boxes examined).
    """
    from mpmath import erfc, mp, mpf, sqrt

    from landscape.laws import rtn_exit_probability

    with mp.workdps(40):
        sigma = sqrt(mpf(m) / 3)
        bound = 2 * mpf(c_be) * (mpf(m) / 4) / sigma**3
        p = lambda r: mpf(rtn_exit_probability([1.0] * m, float(r), dps=40)) if r < m else mpf(0)  # noqa: E731
        g = lambda r: erfc(r / (sqrt(2) * sigma))  # noqa: E731
        if g(mpf(m)) + pad > bound:
            return False, 0
        stack, boxes = [(mpf(0), mpf(m))], 0
        while stack:
            r0, r1 = stack.pop()
            boxes += 1
            if boxes > max_boxes:
                return False, boxes
            worst = max(p(r0) - g(r1), g(r0) - p(r1)) + pad
            if worst > bound:
                mid = (r0 + r1) / 2
                if abs(p(mid) - g(mid)) > bound:  # a point where the bound fails: refuted
                    return False, boxes
                stack += [(r0, mid), (mid, r1)]
        return True, boxes


def cert_berry_esseen_small_m() -> Certificate:
    """Branch and bound on the cited Berry-Esseen bound (C = 0.56), m = 3, 4, 6, 8 (m <= 2: bound > 1)."""
    results = [_be_branch_and_bound(m) for m in (3, 4, 6, 8)]
    ok = all(r[0] for r in results)
    return Certificate("berry_esseen_small_m", ok, "bnb-ok" if ok else "bnb-failed",
                       "m in {3, 4, 6, 8} equal half-widths (scale-free), r in [0, inf); boxes: "
                       + ", ".join(str(r[1]) for r in results),
                       "|P(|X|>r) - erfc(r/(sqrt2 sigma))| <= 2 C sum E|X_j|^3/sigma^3", "")


CERTIFICATES = {
    "cos_bound": cert_cos_bound,
    "sqrt_vs_ratio": cert_sqrt_vs_ratio,
    "one_step_contraction": cert_one_step_contraction,
    "cos_monotone": cert_cos_monotone,
    "two_cycle_cells": cert_two_cycle_cells,
    "berry_esseen_small_m": cert_berry_esseen_small_m,
}

