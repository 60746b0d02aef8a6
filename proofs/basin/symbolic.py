r"""The symbolic steps of the proofs, each verified by sympy.

Every function here returns a :class:`Step` (name, ok, what was verified). ``STEPS`` maps
the names used in :mod:`proofs.statements` (``Statement.proof``) to these functions, and
``docs/theory.md`` cites each step by its name. Inequalities over the reals live in
:mod:`proofs.certify` (z3); here are the identities, derivatives and integrals.

The closed form of statement 1 is derived here (:func:`irwin_hall_cdf`, sympy); the functions the
engine, the figures and the attacks evaluate live once in :mod:`landscape.laws`
(``rtn_exit_probability``, ``rtn_exit_probability_2d``, ``gaussian_exit``, ``berry_esseen_sum``), and
the steps ``irwin_hall_exit_prob`` and ``uniform_moments`` compare those very functions with the
derivation, so a wrong law there fails ``landscape check``.
"""

from __future__ import annotations

import itertools

import sympy as sp

from landscape import laws
from proofs.core import Step

__all__ = ["Step", "STEPS", "irwin_hall_cdf"]


def _zero(expr) -> bool:
    return sp.simplify(sp.expand(expr)) == 0


# --------------------------------------------------------------------------------------
# statement 1: the weighted Irwin-Hall law
# --------------------------------------------------------------------------------------
def _tp(x, m):
    """Truncated power (x)_+^m."""
    return sp.Max(0, x) ** m


def irwin_hall_cdf(b, y):
    r"""F(y) = P(sum_j U_j <= y), U_j ~ U[0, b_j]: (1/(m! prod b)) sum_S (-1)^|S| (y - b_S)_+^m."""
    m = len(b)
    total = 0
    for subset in itertools.product([0, 1], repeat=m):  # subsets S of inclusion-exclusion (symbolic)
        bs = sum(bj for bj, take in zip(b, subset, strict=False) if take)
        total += (-1) ** sum(subset) * _tp(y - bs, m)
    return total / (sp.factorial(m) * sp.prod(b))


def step_irwin_hall_lemma() -> Step:
    """int_0^b (z - t)_+^(m-1) dt = ((z)_+^m - (z - b)_+^m) / m, on the three regions of z."""
    m = sp.Symbol("m", integer=True, positive=True)
    b, h, t = sp.symbols("b h t", positive=True)
    ok = True
    # z > b: z = b + h
    z = b + h
    lhs = sp.integrate((z - t) ** (m - 1), (t, 0, b))
    ok &= _zero(sp.simplify(lhs - (z**m - h**m) / m))
    # 0 < z < b: the integrand vanishes for t > z
    z2 = sp.Symbol("z", positive=True)
    lhs2 = sp.integrate((z2 - t) ** (m - 1), (t, 0, z2))
    ok &= _zero(sp.simplify(lhs2 - z2**m / m))
    # z <= 0: integrand is 0 and both truncated powers are 0
    ok &= sp.Max(0, -h) == 0 and sp.Max(0, -h - b) == 0
    return Step("irwin_hall_lemma", bool(ok), "convolution of a truncated power with U[0,b], symbolic m")


def step_irwin_hall_base() -> Step:
    """F_1(y) = ((y)_+ - (y - b)_+)/b is the CDF of U[0, b] on each region of y."""
    b, h = sp.symbols("b h", positive=True)
    f1 = lambda y: irwin_hall_cdf([b], y)  # noqa: E731
    ok = f1(-h) == 0 and _zero(f1(b + h) - 1)
    x = sp.Symbol("x", positive=True)
    ok = ok and _zero(f1(b * x / (1 + x)) - x / (1 + x))  # y in (0, b)
    return Step("irwin_hall_base", bool(ok), "m = 1: CDF of U[0, b] on y < 0, 0 < y < b, y > b")


def step_irwin_hall_reindex() -> Step:
    """(1/b_m) sum_S (-1)^|S| [P(y-b_S) - P(y-b_S-b_m)] reindexes to the m-term formula, m = 1..4."""
    ok = True
    y = sp.Symbol("y")
    P = sp.Function("P")
    for m in range(1, 5):
        b = sp.symbols(f"b1:{m + 1}", positive=True)
        lhs = 0
        for subset in itertools.product([0, 1], repeat=m - 1):
            bs = sum(bj for bj, take in zip(b[:-1], subset, strict=False) if take)
            lhs += (-1) ** sum(subset) * (P(y - bs) - P(y - bs - b[-1]))
        rhs = 0
        for subset in itertools.product([0, 1], repeat=m):
            bs = sum(bj for bj, take in zip(b, subset, strict=False) if take)
            rhs += (-1) ** sum(subset) * P(y - bs)
        ok &= _zero(lhs - rhs)
    return Step("irwin_hall_reindex", bool(ok), "induction step's sum over subsets, m = 1..4")


def step_irwin_hall_exit_prob() -> Step:
    """The closed form integrates to 1, is symmetric, and matches exact convolution for m = 2 (rationals)."""
    ok = True
    b1, b2 = sp.Rational(1, 3), sp.Rational(3, 4)
    y, t = sp.symbols("y t", real=True)
    f2 = irwin_hall_cdf([b1, b2], y)
    # exact convolution P(U1 + U2 <= y0) = (1/b2) int_0^b2 F1(y0 - t) dt at rational points of every piece
    for y0 in [sp.Rational(k, 24) for k in range(-3, 30)]:
        f1 = irwin_hall_cdf([b1], y0 - t)
        conv = sp.integrate(sp.Piecewise((0, y0 - t <= 0), (f1, True)), (t, 0, b2)) / b2
        ok &= sp.nsimplify(conv - f2.subs(y, y0)) == 0
    # symmetry of X = Y - A: F(A + r) + F(A - r) = 1 on a rational grid (m = 3)
    b = [sp.Rational(1, 5), sp.Rational(1, 2), sp.Rational(2, 3)]
    f3 = irwin_hall_cdf(b, y)
    big_a = sum(b) / 2
    for r0 in [sp.Rational(k, 17) for k in range(0, 12)]:
        ok &= sp.simplify(f3.subs(y, big_a + r0) + f3.subs(y, big_a - r0) - 1) == 0
    n_law = _laws_match_derivation()
    ok &= n_law > 0
    return Step("irwin_hall_exit_prob", bool(ok),
                "m = 2 closed form equals the exact convolution at 33 rational points (3+ per piece, "
                "degree 2: identity); m = 3 symmetry F(A+r) + F(A-r) = 1; landscape.laws."
                f"rtn_exit_probability (m = 1..4) and rtn_exit_probability_2d equal 1 - F(A+r) + F(A-r) "
                f"at {n_law} rational points of every piece to 1e-12")


def _exact_exit(a, r):
    """1 - F(A + r) + F(A - r) from the derived closed form, exactly (rational half-widths a, radius r)."""
    b = [2 * x for x in a]
    y = sp.Symbol("y", real=True)
    f = irwin_hall_cdf(b, y)
    big_a = sum(a)
    return sp.Max(0, sp.Min(1, 1 - f.subs(y, big_a + r) + f.subs(y, big_a - r)))


def _laws_match_derivation(tol: float = 1e-12) -> int:
    """Points where landscape.laws' exit laws equal the derivation (0 if one differs by more than tol)."""
    q = sp.Rational
    cases = [[q(2, 5)], [q(1, 3), q(3, 4)], [q(1, 5), q(1, 2), q(2, 3)], [q(1, 7), q(1, 4), q(1, 3), q(2, 5)]]
    count = 0
    for a in cases:
        top = sum(a)
        for r in [top * q(j, 9) for j in range(0, 11)]:  # every piece, and beyond the support
            exact = float(_exact_exit(a, r))
            if abs(laws.rtn_exit_probability([float(x) for x in a], float(r)) - exact) > tol:
                return 0
            count += 1
    # 2-D: n = (-sin theta, cos theta) with rational sin, cos (Pythagorean triples) and theta = 0
    for sn, cs in ((q(3, 5), q(4, 5)), (q(5, 13), q(12, 13)), (q(0), q(1))):
        theta = float(sp.atan2(sn, cs))
        step = q(1, 2)
        a = [x * step / 2 for x in (sn, cs) if x != 0]
        for r in [sum(a) * q(j, 9) for j in range(1, 11)]:
            exact = float(_exact_exit(a, r))
            if abs(laws.rtn_exit_probability_2d(theta, float(step), float(r)) - exact) > tol:
                return 0
            count += 1
    return count


def step_uniform_moments() -> Step:
    """For X ~ U[-a, a]: E X = 0, E X^2 = a^2/3, E|X|^3 = a^3/4."""
    a, x = sp.symbols("a x", positive=True)
    ok = sp.integrate(x / (2 * a), (x, -a, a)) == 0
    ok &= _zero(sp.integrate(x**2 / (2 * a), (x, -a, a)) - a**2 / 3)
    third = 2 * sp.integrate(x**3 / (2 * a), (x, 0, a))
    ok &= _zero(third - a**3 / 4)
    # landscape.laws evaluates these moments: berry_esseen_sum = sum E|X_j|^3 and gaussian_exit =
    # erfc(r / (sqrt 2 sigma)), sigma^2 = sum E X_j^2, compared with the derived moments at rational points
    second = sp.integrate(x**2 / (2 * a), (x, -a, a))
    q = sp.Rational
    for hw in ([q(1, 3)], [q(1, 5), q(1, 2), q(2, 3)], [q(1, 10)] * 6 + [q(3, 7)]):
        be = sum(third.subs(a, h) for h in hw)
        ok &= abs(laws.berry_esseen_sum([float(h) for h in hw]) - float(be)) <= 1e-12 * float(be)
        sigma = sp.sqrt(sum(second.subs(a, h) for h in hw))
        for r in (q(0), q(1, 8), q(1, 2), q(3, 2)):
            gauss = sp.erfc(r / (sp.sqrt(2) * sigma)).evalf(30)
            ok &= abs(laws.gaussian_exit([float(h) for h in hw], float(r)) - float(gauss)) <= 1e-12
    return Step("uniform_moments", bool(ok), "moments of U[-a, a]; landscape.laws.berry_esseen_sum and "
                "gaussian_exit equal the derived sum E|X_j|^3 and erfc(r/(sqrt2 sigma)) at rational points")


def step_berry_esseen_cited() -> Step:
    """Not verified here: the Berry-Esseen constant 0.56 is cited (Shevtsova 2010); status 'cited'."""
    return Step("berry_esseen_cited", False,
                "cited, not derived: sup|F - Phi| <= 0.56 sum E|X_j|^3 / sigma^3 "
                "(I. G. Shevtsova, Doklady Mathematics 82 (2010) 862-864)", cited=True)


# --------------------------------------------------------------------------------------
# statements 3-5: gradient, inward identity, one-step algebra
# --------------------------------------------------------------------------------------
def step_grad_formula() -> Step:
    """grad_w [ell(u.w) + phi(||N w - c||)] = ell'(s) u + phi'(rho) N^T v / rho (k = 2, d = 3, generic N)."""
    w = sp.Matrix(sp.symbols("w1:4", real=True))
    n = sp.Matrix(2, 3, sp.symbols("n1:7", real=True))
    u = sp.Matrix(sp.symbols("u1:4", real=True))
    c = sp.Matrix(sp.symbols("c1:3", real=True))
    phi, ell = sp.Function("phi"), sp.Function("ell")
    v = n * w - c
    rho = sp.sqrt((v.T * v)[0])
    s = (u.T * w)[0]
    loss = ell(s) + phi(rho)
    grad = sp.Matrix([sp.diff(loss, wi) for wi in w])
    rr = sp.Symbol("rr", positive=True)
    dphi = sp.Derivative(phi(rr), rr).subs(rr, rho)
    dell = sp.Subs(sp.Derivative(ell(rr), rr), rr, s).doit()
    claim = dell * u + dphi * n.T * v / rho
    diff = (grad - claim).applyfunc(lambda e: sp.simplify(e.doit()))
    return Step("grad_formula", diff == sp.zeros(3, 1), "chain rule, generic 2x3 N, generic phi and ell")


def _cayley_frame():
    p, q, r = sp.symbols("p q r", real=True)
    kmat = sp.Matrix([[0, -p, -q], [p, 0, -r], [q, r, 0]])
    eye = sp.eye(3)
    rot = ((eye - kmat) * (eye + kmat).inv()).applyfunc(sp.cancel)
    return rot


def step_inward_identity() -> Step:
    """<phi' N^T a / |a| + l u, -N^T b/|b|> = -phi' <a, b>/(|a||b|) when N N^T = I, N u = 0 (Cayley frame)."""
    rot = _cayley_frame()
    ok = (rot * rot.T).applyfunc(sp.cancel) == sp.eye(3)
    n, u = rot[:2, :], rot[2, :].T
    a = sp.Matrix(sp.symbols("a1:3", real=True))
    b = sp.Matrix(sp.symbols("b1:3", real=True))
    lam, dphi, na, nb = sp.symbols("lam dphi na nb", positive=True)
    g = dphi * n.T * a / na + lam * u
    lhs = (g.T * (-n.T * b / nb))[0]
    rhs = -dphi * (a.T * b)[0] / (na * nb)
    ok &= sp.cancel(lhs - rhs) == 0
    return Step("inward_identity", bool(ok),
                "orthonormal frame from the Cayley transform of a symbolic skew matrix (rows 1-2 = N, 3 = u)")


def step_norm_expansion() -> Step:
    """||v - alpha y||^2 = rho^2 - 2 alpha <y, v> + alpha^2 for a unit y (k = 3, symbolic)."""
    v = sp.Matrix(sp.symbols("v1:4", real=True))
    y = sp.Matrix(sp.symbols("y1:4", real=True))
    alpha = sp.Symbol("alpha", real=True)
    lhs = ((v - alpha * y).T * (v - alpha * y))[0]
    rhs = (v.T * v)[0] - 2 * alpha * (y.T * v)[0] + alpha**2 * (y.T * y)[0]
    return Step("norm_expansion", _zero(lhs - rhs), "expansion; ||y|| = 1 then gives alpha^2")


def step_sigma_choice() -> Step:
    """sigma = r - 2 delta: delta + sigma = r - delta and sigma (2 delta + sigma) = r (r - 2 delta)."""
    r, dl = sp.symbols("r delta", positive=True)
    sig = r - 2 * dl
    ok = _zero(dl + sig - (r - dl)) and _zero(sig * (2 * dl + sig) - r * (r - 2 * dl))
    return Step("sigma_choice", bool(ok), "the slack of S4 that S5 uses")


def step_walls_monotone() -> Step:
    """phi'' >= 0 beyond r_b for the four walls (x = rho - r_b > 0), so phi' is non-decreasing."""
    x, kap, mu, tau, rb, p1 = sp.symbols("x kappa mu tau r_b p1", positive=True)
    rho = rb + x
    quad = mu * rho**2 / 2 + kap * x**2 / 2
    power = mu * rho**2 / 2 + kap / (p1 + 1) * x ** (p1 + 1)  # p = p1 + 1 >= 2 -> p1 >= 1
    expw = mu * rho**2 / 2 + kap * tau * (sp.exp(x / tau) - 1 - x / tau)
    sg = lambda z: 1 / (1 + sp.exp(-z))  # noqa: E731
    dsoft = mu * rho + kap * (sg((rho - rb) / tau) - sg((-rho - rb) / tau))
    ok = True
    for phi in (quad, power, expw):
        ok &= bool(sp.simplify(sp.diff(phi, x, 2)).is_nonnegative)
    # softplus: phi'' = mu + kappa/tau [sigma'(.) + sigma'(.)] with sigma' = sigma (1 - sigma) > 0
    d2 = sp.simplify(sp.diff(dsoft, x))
    ok &= bool(d2.is_positive)
    return Step("walls_monotone", bool(ok), "second derivatives of quadratic, power, exp, softplus walls")


def step_softplus_slope_bound() -> Step:
    """Softplus: phi'(rho) >= mu rho + kappa (1/2 - sigma(-2 r_b/tau)) for rho >= r_b (its wall_slope)."""
    x, rb, tau = sp.symbols("x r_b tau", positive=True)  # rho = r_b + x
    sg = lambda z: 1 / (1 + sp.exp(-z))  # noqa: E731
    rho = rb + x
    gap = sg((rho - rb) / tau) - sg((-rho - rb) / tau) - (sp.Rational(1, 2) - sg(-2 * rb / tau))
    ok = sp.simplify(gap.subs(x, 0)) == 0  # equality at the basin edge
    ok &= bool(sp.simplify(sp.diff(gap, x)).is_positive)  # and increasing beyond it
    return Step("softplus_slope_bound", bool(ok), "(phi' - mu rho)/kappa - (1/2 - sigma(-2 r_b/tau)) is 0 at "
                "r_b and increasing")


def step_flat_bottom_walls() -> Step:
    """psi, psi', psi'' = 0 at rho = r_b - h, h > 0 (quadratic, power, exp walls); psi, psi' -> 0 at r_b+."""
    h, kap, tau, rb = sp.symbols("h kappa tau r_b", positive=True)
    q = sp.Symbol("q", nonnegative=True)  # power p = q + 2 >= 2
    rho = sp.Symbol("rho", real=True)
    x = rho - rb
    outside = [kap / 2 * x**2, kap / (q + 2) * x ** (q + 2), kap * tau * (sp.exp(x / tau) - 1 - x / tau)]
    ok = True
    for expr in outside:
        psi = sp.Piecewise((0, rho <= rb), (expr, True))
        for order in range(3):
            ok &= sp.simplify(sp.diff(psi, rho, order).subs(rho, rb - h)) == 0
        for order in range(2):  # C^1 at the edge: the gradient does not jump
            ok &= sp.simplify(sp.limit(sp.diff(expr, rho, order), rho, rb, "+")) == 0
    return Step("flat_bottom_walls", bool(ok),
                "psi, psi', psi'' = 0 inside; psi, psi' -> 0 at r_b+ (psi'' may jump: strict rho < r_b)")


def step_triangle_offset() -> Step:
    """v(Q(w)) = v(w) + N e for a straight river (the centre does not move): an identity."""
    w = sp.Matrix(sp.symbols("w1:4", real=True))
    e = sp.Matrix(sp.symbols("e1:4", real=True))
    n = sp.Matrix(2, 3, sp.symbols("n1:7", real=True))
    c = sp.Matrix(sp.symbols("c1:3", real=True))
    ok = (n * (w + e) - c - (n * w - c + n * e)).applyfunc(sp.expand) == sp.zeros(2, 1)
    return Step("triangle_offset", bool(ok), "v(w + e) = v(w) + N e; then ||N e|| <= delta_perp")


def step_random_rounding_variance() -> Step:
    """E||sum_j a_j (eps_j - y_j)||^2 = sum_j ||a_j||^2 y_j (1 - y_j), eps_j ~ Bernoulli(y_j), 3 terms."""
    y = sp.symbols("y1:4", positive=True)
    a = [sp.Matrix(sp.symbols(f"a{j}1:{j}3", real=True)) for j in range(1, 4)]
    total = 0
    for eps in itertools.product([0, 1], repeat=3):  # Bernoulli outcomes of an expectation (symbolic)
        prob = sp.prod([yj if ej else 1 - yj for yj, ej in zip(y, eps, strict=False)])
        vec = sum((aj * (ej - yj) for aj, ej, yj in zip(a, eps, y, strict=False)), sp.zeros(2, 1))
        total += prob * (vec.T * vec)[0]
    rhs = sum((aj.T * aj)[0] * yj * (1 - yj) for aj, yj in zip(a, y, strict=False))
    yy = sp.Symbol("yy", real=True)
    ok = _zero(total - rhs) and sp.maximum(yy * (1 - yy), yy, sp.Interval(0, 1)) == sp.Rational(1, 4)
    return Step("random_rounding_variance", bool(ok), "variance of randomized rounding; y(1-y) <= 1/4")


# --------------------------------------------------------------------------------------
# statement 6: the exact 2-cycle
# --------------------------------------------------------------------------------------
def two_cycle_points(theta, alpha):
    """(w0, w1, g1, g2, c0): the 2-cycle of statement 6 (sympy or float inputs)."""
    sn, cs = sp.sin(theta), sp.cos(theta)
    w0 = sp.Matrix([-alpha * sn / 2, sp.Rational(-1, 2) + alpha * cs / 2])
    n = sp.Matrix([-sn, cs])
    w1 = w0 - alpha * n
    return w0, w1, sp.Matrix([0, 0]), sp.Matrix([0, -1]), -cs / 2


def step_two_cycle_closes() -> Step:
    """w1 = w0 - a n, w2 = w1 + a n = w0 and rho(g1) = rho(g2) = cos(t)/2 (equal slopes)."""
    theta = sp.Symbol("theta", positive=True)
    alpha = sp.Symbol("alpha", positive=True)
    w0, w1, g1, g2, c0 = two_cycle_points(theta, alpha)
    n = sp.Matrix([-sp.sin(theta), sp.cos(theta)])
    v1, v2 = (n.T * g1)[0] - c0, (n.T * g2)[0] - c0
    ok = sp.simplify(v1 - sp.cos(theta) / 2) == 0 and sp.simplify(v2 + sp.cos(theta) / 2) == 0
    # step at q = g1 (v1 > 0): -a n ; step at q = g2 (v2 < 0): +a n (same a since |v1| = |v2|)
    w2 = w1 + alpha * n
    ok &= (w2 - w0).applyfunc(sp.simplify) == sp.zeros(2, 1)
    return Step("two_cycle_closes", bool(ok), "symbolic theta, alpha")


STEPS = {
    f.__name__.removeprefix("step_"): f
    for f in (
        step_irwin_hall_lemma, step_irwin_hall_base, step_irwin_hall_reindex, step_irwin_hall_exit_prob,
        step_uniform_moments, step_berry_esseen_cited, step_grad_formula, step_inward_identity,
        step_norm_expansion, step_sigma_choice, step_walls_monotone, step_softplus_slope_bound,
        step_flat_bottom_walls,
        step_triangle_offset, step_random_rounding_variance, step_two_cycle_closes,
    )
}

