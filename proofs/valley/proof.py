r"""The proof steps of S2V and S2L: sympy identities and integrals, z3 certificates, an exact rational check.

Registered with the valley family (:mod:`proofs.valley`) via :func:`steps` and :func:`certificates`.

Notation of the planar valley (:mod:`landscape.laws.valley`): residual :math:`t \in [0,1]^2` of the cell,
corner bits :math:`\beta`, :math:`\sigma = \beta_1 + \beta_2 - t_1 - t_2`,
:math:`\tau = \beta_1 - \beta_2 - t_1 + t_2`, :math:`T = t_1 + t_2`, :math:`D = t_1 - t_2`,
:math:`\varrho = \sqrt2 r_b/\Delta`.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp
import z3

from landscape.laws.valley import exit_probability as law
from proofs.core import Step, prove

__all__ = ["steps", "certificates"]


def _step(name, ok, detail):
    return Step(name, bool(ok), detail)


def _zero(expr) -> bool:
    return sp.simplify(sp.expand(expr)) == 0


# --------------------------------------------------------------------------------------
# the monotone trade (S2L, and S2V's dominance of the exact proxy minimiser)
# --------------------------------------------------------------------------------------
def step_valley_trade_identity():
    """The sum of the two optimality inequalities is (b - a)(Y2 - Y1): an identity."""
    x1, x2, y1, y2, a, b = sp.symbols("X1 X2 Y1 Y2 a b", real=True)
    lhs = (x1 + a * y1 - x2 - a * y2) + (x2 + b * y2 - x1 - b * y1)
    return _step("valley_trade_identity", _zero(lhs - (b - a) * (y2 - y1)),
                 "q1 minimises X + a Y, q2 minimises X + b Y over one finite set: both inequalities <= 0, "
                 "their sum is (b - a)(Y2 - Y1)")


def cert_valley_trade():
    """0 <= a < b, X1 + a Y1 <= X2 + a Y2, X2 + b Y2 <= X1 + b Y1  =>  Y2 <= Y1 and X2 >= X1 (z3)."""
    x1, x2, y1, y2, a, b = z3.Reals("X1 X2 Y1 Y2 a b")
    hyps = [a >= 0, b > a, x1 + a * y1 <= x2 + a * y2, x2 + b * y2 <= x1 + b * y1]
    return prove("valley_trade", hyps, z3.And(y2 <= y1, x2 >= x1),
                 "all reals: 0 <= a < b; q1 optimal for X + a Y, q2 optimal for X + b Y",
                 "Y(q2) <= Y(q1) and X(q2) >= X(q1): more weight on the curved error, more normal error")


# --------------------------------------------------------------------------------------
# the planar valley: proxy, GPTQ's shift, dominance, laws
# --------------------------------------------------------------------------------------
def _planar_frame():
    r2 = sp.sqrt(2)
    n = sp.Matrix([1, 1, 0]) / r2
    e = sp.Matrix([-1, 1, 0]) / r2
    return n, e


def step_planar_proxy_form():
    """The planar damped proxy: Delta^2/2 [(mu + delta) sigma^2 + (lam + delta) tau^2] + delta Delta^2 r^2."""
    n, e = _planar_frame()
    mu, lam, dl, dt = sp.symbols("mu lam delta Delta", positive=True)
    a, c, r = sp.symbols("a c r", real=True)  # eps = Delta (a, c, r): a = beta_1 - t_1, c = beta_2 - t_2
    eps = dt * sp.Matrix([a, c, r])
    h = mu * n * n.T + lam * e * e.T + dl * sp.eye(3)
    lhs = (eps.T * h * eps)[0]
    sigma, tau = a + c, c - a
    rhs = dt**2 / 2 * ((mu + dl) * sigma**2 + (lam + dl) * tau**2) + dl * dt**2 * r**2
    ok = _zero(lhs - rhs)
    ok &= _zero((mu * n * n.T + lam * e * e.T).trace() - (mu + lam))  # delta = damp (mu + lam) / 3
    ok &= _zero(sp.sqrt(2) * (n.T * eps)[0] / dt - sigma)  # sigma = sqrt2 n.eps / Delta
    # R = 1 (lam = mu): the plane's proxy is (mu + delta) ||eps||^2 there, whose corner minimiser is RTN
    ok &= _zero(rhs.subs(lam, mu) - (mu + dl) * dt**2 * (a**2 + c**2) - dl * dt**2 * r**2)
    # with delta = c (mu + lam), c = damp / 3: R = (lam + delta)/(mu + delta) increases with lam
    cc = sp.Symbol("c", positive=True)
    big_r = (lam + cc * (mu + lam)) / (mu + cc * (mu + lam))
    ok &= _zero(sp.diff(big_r, lam) * (mu + cc * (mu + lam)) ** 2 - mu * (1 + 2 * cc))
    return _step("planar_proxy_form", ok, "symbolic mu, lambda, delta, Delta; river coordinate decoupled; "
                 "dR/dlambda = mu (1 + 2c) / (mu + delta)^2 > 0")


def step_planar_gptq_shift():
    """GPTQ/OBQ's update of coordinate 2 after 1: w2 += gamma (q1 - w1), gamma = (R - 1)/(R + 1)."""
    n, e = _planar_frame()
    mu, lam, dl = sp.symbols("mu lam delta", positive=True)
    a = mu * n * n.T + lam * e * e.T + dl * sp.eye(3)
    hinv = a.inv()
    coef = sp.simplify(hinv[1, 0] / hinv[0, 0])  # w_F -= (w1 - q1) Hinv[:, 1] / Hinv_11
    big_r = (lam + dl) / (mu + dl)
    ok = _zero(coef - (big_r - 1) / (big_r + 1))
    ok &= sp.simplify(hinv[2, 0]) == 0  # the river coordinate is not moved
    return _step("planar_gptq_shift", ok, "(H + delta I)^-1 of the planar valley, symbolic mu, lambda, delta")


def cert_planar_gptq_dominance():
    """For t in [0, 1]^2, gamma in [0, 1]: |sigma_gptq| >= |sigma_rtn| (coordinate 1 rounded, 2 shifted)."""
    t1, t2, g = z3.Reals("t1 t2 gamma")
    half = z3.RealVal(1) / 2
    b1 = z3.If(t1 > half, z3.RealVal(1), z3.RealVal(0))
    b2r = z3.If(t2 > half, z3.RealVal(1), z3.RealVal(0))
    b2g = z3.If(t2 + g * (b1 - t1) > half, z3.RealVal(1), z3.RealVal(0))
    sr = b1 + b2r - t1 - t2
    sg = b1 + b2g - t1 - t2
    hyps = [t1 >= 0, t1 <= 1, t2 >= 0, t2 <= 1, g >= 0, g <= 1]
    return prove("planar_gptq_dominance", hyps, sg * sg >= sr * sr,
                 "all reals t1, t2 in [0, 1], gamma in [0, 1] (R >= 1); by the symmetry t1 <-> t2 also OBQ's "
                 "order (the smaller rounding error first)",
                 "GPTQ's and OBQ's normal error |sigma| is never below RTN's on the planar valley")


def step_planar_rtn_law():
    """sigma_rtn = X1 + X2, X_j ~ U[-1/2, 1/2]: density 1 - |s| on [-1, 1], P(|sigma| > rho) = (1 - rho)^2."""
    s, x, rho = sp.symbols("s x rho", real=True)
    # convolution of two U[-1/2, 1/2] densities at s in [0, 1]: length of [-1/2, 1/2] cap [s - 1/2, s + 1/2]
    sp_ = sp.Symbol("sp", nonnegative=True)
    dens = sp.integrate(1, (x, sp_ - sp.Rational(1, 2), sp.Rational(1, 2)))
    ok = _zero(dens - (1 - sp_))
    r = sp.Symbol("r", nonnegative=True)
    tail = 2 * sp.integrate(1 - s, (s, r, 1))
    ok &= _zero(tail - (1 - r) ** 2)
    ok &= _zero(2 * sp.integrate(1 - s, (s, 0, 1)) - 1)  # a density
    return _step("planar_rtn_law", ok, "triangular density on [0, 1] (symmetric), tail for 0 <= rho <= 1")


def step_planar_proxy_limit_law():
    """R -> inf: the least-tau^2 corner (then sigma^2) has |sigma| ~ U[0, 1], exit law (1 - rho)_+."""
    t = sp.Symbol("T", real=True)
    h = sp.Rational(1, 2)
    ok = True
    # the winner: tau^2 = D^2 (corners 00, 11) against (1 - |D|)^2 (10, 01); D^2 < (1 - D)^2 iff D < 1/2
    dd = sp.Symbol("dd", nonnegative=True)
    wins = sp.solve_univariate_inequality(dd**2 < (1 - dd) ** 2, dd, relational=False)
    ok &= wins.intersect(sp.Interval(0, sp.oo)) == sp.Interval.Ropen(0, h)
    # then sigma^2 between 00 (T^2) and 11 ((2 - T)^2): |sigma| = min(T, 2 - T); else |sigma| = |1 - T|
    # by the symmetry T <-> 2 - T: P = 2 int_0^1 [min(1/2, T) 1{T > rho} + (T - 1/2)_+ 1{T < 1 - rho}] dT
    r = sp.Symbol("r", nonnegative=True)
    low = 2 * (sp.integrate(t, (t, r, h)) + sp.integrate(h, (t, h, 1)) + sp.integrate(t - h, (t, h, 1 - r)))
    ok &= _zero(low - (1 - r))  # 0 <= rho <= 1/2
    high = 2 * sp.integrate(h, (t, r, 1))
    ok &= _zero(high - (1 - r))  # 1/2 <= rho <= 1
    # the region weights: the square is |D| <= min(T, 2 - T) with dt1 dt2 = dT dD / 2; the total mass is 1
    ok &= _zero(2 * (sp.integrate(sp.Min(h, t), (t, 0, 1)) + sp.integrate(sp.Max(0, t - h), (t, 0, 1))) - 1)
    return _step("planar_proxy_limit_law", ok, "the limit corner by cases of D and T; both pieces integrated")


def step_planar_gptq_limit_law():
    """R -> inf (gamma -> 1): GPTQ's exit probability is (3/2 - rho)^2/2 for 1/2 <= rho <= 3/2."""
    t1, r = sp.symbols("t1 r", real=True)
    h = sp.Rational(1, 2)
    # t1 < 1/2 (the other half by symmetry): region t2 < t1 + 1/2, |sigma| = t1 + t2 (exit: t2 > rho - t1);
    # region t2 > t1 + 1/2: |sigma| = |1 - t1 - t2| <= 1/2 <= rho, no exit
    lo = (r - h) / 2  # below it, the whole strip t2 < t1 + 1/2 lies under t1 + t2 = rho
    part = sp.integrate(2 * t1 + h - r, (t1, lo, h))
    ok = _zero(2 * part - (sp.Rational(3, 2) - r) ** 2 / 2)
    ok &= _zero(2 * sp.integrate(t1 + h, (t1, 0, h)) - sp.Rational(3, 4))  # mass of the two strips A
    return _step("planar_gptq_limit_law", ok, "the gamma = 1 regions of GPTQ's rounding; integral for "
                 "1/2 <= rho <= 3/2")


def step_planar_law_exact():
    """landscape.laws.valley in exact rationals: RTN = (1 - rho)^2, R = 1 gives RTN for every rule, least-rho
    corner = (1 - 2 rho)_+, large R approaches both limits, and P is non-decreasing in R on a grid."""
    ok = True
    rhos = [Fraction(i, 8) for i in range(0, 11)]
    for rho in rhos:
        ok &= law(rho, "rtn") == max(Fraction(0), 1 - rho) ** 2
        ok &= law(rho, "min_corner") == max(Fraction(0), 1 - 2 * rho)
        for m in ("proxy_min", "gptq", "obq"):
            ok &= law(rho, m, Fraction(1)) == law(rho, "rtn")
        big = Fraction(10**9)
        ok &= abs(law(rho, "proxy_min", big) - max(Fraction(0), 1 - rho)) < Fraction(1, 10**6)
        if Fraction(1, 2) <= rho <= Fraction(3, 2):
            ok &= abs(law(rho, "gptq", big) - (Fraction(3, 2) - rho) ** 2 / 2) < Fraction(1, 10**6)
        prev = {m: Fraction(-1) for m in ("proxy_min", "gptq", "obq")}
        for big_r in (Fraction(1), Fraction(3, 2), Fraction(3), Fraction(10), Fraction(100), Fraction(10**4)):
            for m in prev:
                val = law(rho, m, big_r)
                ok &= val >= prev[m] and val >= law(rho, "rtn")
                prev[m] = val
    return _step("planar_law_exact", ok, "exact rational polygon areas at rho in {0, 1/8, ..., 5/4}, "
                 "R in {1, 3/2, 3, 10, 100, 10^4, 10^9}")


def cert_planar_min_corner():
    """For t in [0, 1]^2: min over the four corners of |sigma| <= 1/2 (sigma in {-T, 2 - T, 1 - T})."""
    t1, t2 = z3.Reals("t1 t2")
    tt = t1 + t2
    half = z3.RealVal(1) / 2
    hyps = [t1 >= 0, t1 <= 1, t2 >= 0, t2 <= 1]
    claim = z3.Or(tt <= half, 2 - tt <= half, z3.And(1 - tt <= half, tt - 1 <= half))
    return prove("planar_min_corner", hyps, claim, "all reals t1, t2 in [0, 1]",
                 "some corner of the cell has |sigma| <= 1/2: in the basin whenever rho >= 1/2")


def cert_planar_limit_above_rtn():
    """0 <= rho <= 1  =>  1 - rho >= (1 - rho)^2, strictly for 0 < rho < 1."""
    r = z3.Real("rho")
    claim = z3.And(1 - r >= (1 - r) * (1 - r), z3.Implies(z3.And(r > 0, r < 1), 1 - r > (1 - r) * (1 - r)))
    return prove("planar_limit_above_rtn", [r >= 0, r <= 1], claim, "all reals rho in [0, 1]",
                 "the proxy minimiser's limit law lies above RTN's")


def steps() -> dict:
    """name -> sympy / exact step of the valley statements (for proofs.symbolic.STEPS)."""
    return {
        "valley_trade_identity": step_valley_trade_identity,
        "planar_proxy_form": step_planar_proxy_form,
        "planar_gptq_shift": step_planar_gptq_shift,
        "planar_rtn_law": step_planar_rtn_law,
        "planar_proxy_limit_law": step_planar_proxy_limit_law,
        "planar_gptq_limit_law": step_planar_gptq_limit_law,
        "planar_law_exact": step_planar_law_exact,
    }


def certificates() -> dict:
    """name -> z3 certificate of the valley statements (for proofs.certify.CERTIFICATES)."""
    return {
        "valley_trade": cert_valley_trade,
        "planar_gptq_dominance": cert_planar_gptq_dominance,
        "planar_min_corner": cert_planar_min_corner,
        "planar_limit_above_rtn": cert_planar_limit_above_rtn,
    }
