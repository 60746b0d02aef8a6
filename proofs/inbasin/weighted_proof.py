r"""The machine-checked steps of S5W (weighted basin) and C1 (loss at first entry): sympy identities and z3
certificates (``unsat`` of hypotheses and the negated claim over the reals).

Notation: weighted coordinates :math:`x = A^{-1} v`, :math:`z = A^{-1} x`, :math:`\zeta = A^{-1} x_q`;
:math:`y = \lVert\zeta\rVert`, :math:`R = \rho_q`, :math:`P = \phi'(\rho_q)`, :math:`m = P / R`.
"""

from __future__ import annotations

import sympy as sp
import z3

from proofs.core import Certificate, Step, prove

__all__ = ["STEPS", "CERTIFICATES"]


def _vec(name, k):
    return sp.Matrix(sp.symbols(f"{name}1:{k + 1}", real=True))


def step_weighted_step() -> Step:
    """x_{t+1} = x_t - eta (phi'(rho_q)/rho_q) A^-2 x_q for L = phi(||A^-1 v||) (k = 2, 3; symbolic phi)."""
    ok = True
    eta = sp.Symbol("eta", positive=True)
    phi = sp.Function("phi")
    for k in (2, 3):
        a = _vec("a", k).applyfunc(lambda s: sp.Symbol(s.name, positive=True))
        v, vq = _vec("v", k), _vec("p", k)
        loss = phi(sp.sqrt(sum(vq[i] ** 2 / a[i] ** 2 for i in range(k))))
        grad = sp.Matrix([sp.diff(loss, vq[i]) for i in range(k)])  # N grad L(q) = dL/dv at v_q
        x_new = sp.Matrix([(v[i] - eta * grad[i]) / a[i] for i in range(k)])
        r = sp.sqrt(sum(vq[i] ** 2 / a[i] ** 2 for i in range(k)))
        dphi = sp.Subs(sp.Derivative(phi(sp.Symbol("r_")), sp.Symbol("r_")), sp.Symbol("r_"), r).doit()
        claim = sp.Matrix([v[i] / a[i] - eta * dphi / r * (vq[i] / a[i]) / a[i] ** 2 for i in range(k)])
        ok &= all(sp.simplify(e) == 0 for e in (x_new - claim))
    return Step("weighted_step", bool(ok), "sympy: v' = v - eta dL/dv, L = phi(||A^-1 v_q||), k = 2, 3; "
                "x = A^-1 v gives x' = x - eta (phi'/rho_q) A^-2 x_q (N grad = dL/dv as in grad_formula)")


def step_weighted_expansion() -> Step:
    """||x - c A^-2 x_q||^2 = ||x||^2 - 2 c <A^-1 x, A^-1 x_q> + c^2 ||A^-2 x_q||^2 (k = 3, symbolic)."""
    k = 3
    a = _vec("a", k).applyfunc(lambda s: sp.Symbol(s.name, positive=True))
    x, xq = _vec("x", k), _vec("q", k)
    c = sp.Symbol("c", real=True)
    lhs = sum((x[i] - c * xq[i] / a[i] ** 2) ** 2 for i in range(k))
    z, zeta = [x[i] / a[i] for i in range(k)], [xq[i] / a[i] for i in range(k)]
    rhs = (sum(x[i] ** 2 for i in range(k)) - 2 * c * sum(z[i] * zeta[i] for i in range(k))
           + c ** 2 * sum((zeta[i] / a[i]) ** 2 for i in range(k)))
    ok = sp.simplify(sp.expand(lhs - rhs)) == 0
    return Step("weighted_expansion", bool(ok), "sympy identity, k = 3: the weighted squared distance after "
                "one step, with z = A^-1 x, zeta = A^-1 x_q")


def cert_weighted_norm_bounds() -> Certificate:
    """For b_i = 1/a_i in [1/a_max, 1/a_min]: sum b_i^2 x_i^2 >= sum x_i^2 / a_max^2 and
    sum b_i^4 x_i^2 <= (sum b_i^2 x_i^2) / a_min^2 (k = 3): ||zeta|| >= rho_q/a_max,
    ||A^-1 zeta|| <= ||zeta||/a_min, ||zeta|| <= rho_q / a_min."""
    x = z3.Reals("x1 x2 x3")
    b = z3.Reals("b1 b2 b3")
    lo, hi = z3.Reals("lo hi")  # lo = 1/a_max, hi = 1/a_min
    hyps = [lo > 0, hi >= lo] + [z3.And(bi >= lo, bi <= hi) for bi in b]
    s2 = sum(bi * bi * xi * xi for bi, xi in zip(b, x, strict=True))
    s0 = sum(xi * xi for xi in x)
    s4 = sum(bi ** 4 * xi * xi for bi, xi in zip(b, x, strict=True))
    claim = z3.And(s2 >= lo * lo * s0, s4 <= hi * hi * s2, s2 <= hi * hi * s0)
    return prove("weighted_norm_bounds", hyps, claim, "all reals, k = 3: 0 < 1/a_max <= b_i <= 1/a_min",
                 "||A^-1 x||^2 in [||x||^2/a_max^2, ||x||^2/a_min^2], ||A^-2 x||^2 <= ||A^-1 x||^2/a_min^2")


def cert_weighted_inner() -> Certificate:
    """<z, zeta> >= ||zeta||^2 - ||zeta|| dz when ||zeta - z|| <= dz (Cauchy-Schwarz, k = 3)."""
    zt = z3.Reals("c1 c2 c3")
    ee = z3.Reals("e1 e2 e3")  # e = zeta - z = A^-2 N (q - w)
    y, dz = z3.Reals("y dz")
    hyps = [y >= 0, y * y == sum(c * c for c in zt), dz >= 0, sum(e * e for e in ee) <= dz * dz]
    inner = sum(c * (c - e) for c, e in zip(zt, ee, strict=True))
    return prove("weighted_inner", hyps, inner >= y * y - y * dz, "all reals, k = 3",
                 "<z, zeta> >= ||zeta||^2 - ||zeta|| ||zeta - z||, ||zeta - z|| <= dz")


def _setting():
    eta, P, R, y, ip, amin, amax, dz, rg = z3.Reals("eta P R y ip a_min a_max dz r_g")
    hyps = [eta > 0, P > 0, R > rg, rg > 0, amin > 0, amax >= amin, dz >= 0, rg > dz * amax,
            y * amax >= R, y * amin <= R, ip >= y * y - y * dz]
    return (eta, P, R, y, ip, amin, amax, dz, rg), hyps


def cert_weighted_inward() -> Certificate:
    """eta (P/R) ip >= eta P (R/a_max - dz)/a_max: the step's inward component in weighted coordinates."""
    (eta, P, R, y, ip, amin, amax, dz, rg), hyps = _setting()
    claim = eta * P * ip * amax * amax >= eta * P * R * (R - dz * amax)  # both sides x R a_max^2 > 0
    return prove("weighted_inward", hyps, claim,
                 "all reals: R > r_g > dz a_max, y in [R/a_max, R/a_min], ip >= y^2 - y dz",
                 "<x, x - x'> = eta (P/R) <z, zeta> >= eta P (R/a_max - dz)/a_max")


def cert_weighted_decrease() -> Certificate:
    """2 eta m ip - eta^2 m^2 n2 >= eta m_w (r_g/a_max - dz)/a_max under the step size eta P <= a_min^3 g."""
    (eta, P, R, y, ip, amin, amax, dz, rg), hyps = _setting()
    n2, mw = z3.Reals("n2 m_w")  # n2 = ||A^-1 zeta||^2
    g = rg / amax - dz
    hyps = hyps + [n2 >= 0, n2 * amin * amin <= y * y, mw > 0, P >= mw, eta * P <= amin ** 3 * g]
    m = P / R
    claim = 2 * eta * m * ip - eta * eta * m * m * n2 >= eta * mw * g / amax
    return prove("weighted_decrease", hyps, claim,
                 "all reals: as weighted_inward, ||A^-1 zeta||^2 <= y^2/a_min^2, P >= m_w > 0, "
                 "eta P <= a_min^3 (r_g/a_max - dz)",
                 "rho(w_t)^2 - rho(w_{t+1})^2 >= beta_W = eta m_w (r_g/a_max - dz)/a_max", timeout_ms=60000)


def cert_weighted_entry() -> Certificate:
    """D_T <= D_0 - T beta and T beta >= D_0 - (r_g - dq)^2 => rho(w_T) <= r_g - dq => rho(q_T) <= r_g."""
    d0, dt, t, beta, rg, dq, rw, rq = z3.Reals("D0 DT T beta r_g dq rho_w rho_q")
    hyps = [beta > 0, dq >= 0, rg > dq, rw >= 0, rw * rw == dt, dt <= d0 - t * beta,
            t * beta >= d0 - (rg - dq) ** 2, rq <= rw + dq]
    return prove("weighted_entry", hyps, rq <= rg,
                 "all reals: dq < r_g, rho(q) <= rho(w) + dq (norm triangle)",
                 "after T_W = ceil((rho_0^2 - (r_g - dq)^2)/beta_W) decreasing steps, rho(q_T) <= r_g")


# --------------------------------------------------------------------------------------
# C1: the loss at first entry
# --------------------------------------------------------------------------------------
def step_loss_at_entry_identity() -> Step:
    """L(q_T) - L(w_0) = [ell(s_wT) - ell(s_w0)] + [ell(s_qT) - ell(s_wT)] + [phi(rho_qT) - phi(rho_0)]."""
    ell, phi = sp.Function("ell"), sp.Function("phi")
    s0, sw, sq, r0, rq = sp.symbols("s_0 s_w s_q rho_0 rho_q", real=True)
    lhs = (ell(sq) + phi(rq)) - (ell(s0) + phi(r0))
    rhs = (ell(sw) - ell(s0)) + (ell(sq) - ell(sw)) + (phi(rq) - phi(r0))
    return Step("loss_at_entry_identity", bool(sp.simplify(lhs - rhs) == 0),
                "sympy: L = ell(s) + phi(rho) split into river change, mismatch, wall change")


def step_river_lipschitz() -> Step:
    """|ell'| <= G = |rate| for the river losses: zero, linear drift -rate s, lake (slope rate tanh)."""
    s, rate, s0 = sp.symbols("s rate s_0", real=True)
    width = sp.Symbol("width", positive=True)
    lin_ok = sp.diff(-rate * s, s) == -rate
    t = (s - s0) / width  # the lake on s > s0 (even in s - s0): rate width (t + log(1 + e^-2t) - log 2)
    lake = rate * width * (t + sp.log(1 + sp.exp(-2 * t)) - sp.log(2))
    lake_ok = sp.simplify((sp.diff(lake, s) - rate * sp.tanh(t)).rewrite(sp.exp)) == 0
    logcosh = rate * width * sp.log(sp.cosh(t))
    lake_ok &= sp.simplify((sp.diff(logcosh, s) - rate * sp.tanh(t)).rewrite(sp.exp)) == 0
    # |tanh| <= 1: tanh(t)^2 = 1 - sech(t)^2 <= 1
    tanh_ok = sp.simplify((sp.tanh(t) ** 2 - (1 - 1 / sp.cosh(t) ** 2)).rewrite(sp.exp)) == 0
    return Step("river_lipschitz", bool(lin_ok and lake_ok and tanh_ok),
                "sympy: (-rate s)' = -rate; the lake's slope is rate tanh((s - s0)/width), |tanh| <= 1")


def cert_along_river_error() -> Certificate:
    """|u . e| <= sum_j |u_j| h_j for |e_j| <= h_j (d = 3): the along-river quantization error ds."""
    u, e, h = z3.Reals("u1 u2 u3"), z3.Reals("e1 e2 e3"), z3.Reals("h1 h2 h3")
    hyps = [z3.And(hj >= 0, ej <= hj, ej >= -hj) for ej, hj in zip(e, h, strict=True)]
    dot = sum(a * b for a, b in zip(u, e, strict=True))
    ds = sum(z3.If(a >= 0, a, -a) * hj for a, hj in zip(u, h, strict=True))
    return prove("along_river_error", hyps, z3.And(dot <= ds, -dot <= ds), "all reals, d = 3",
                 "|s(q) - s(w)| = |u . (Q(w) - w)| <= ds = sum_j |u_j| Delta_j / 2")


def cert_loss_at_entry_bound() -> Certificate:
    """The three terms: |mismatch| <= G ds, 0 <= phi(rho_0), phi(rho_qT) <= phi(r_g) => C1's bound."""
    dr, mm, g, ds, p0, pq, pg = z3.Reals("d_river mismatch G ds phi_0 phi_qT phi_g")
    hyps = [g >= 0, ds >= 0, mm <= g * ds, p0 >= 0, pq <= pg]  # phi(0) = 0, phi non-decreasing
    eps = pg / 2
    return prove("loss_at_entry_bound", hyps, dr + mm + pq - p0 <= dr + g * ds + 2 * eps,
                 "all reals: phi(0) = 0 <= phi(rho_0), rho(q_T) <= r_g, |ell(a) - ell(b)| <= G |a - b|",
                 "L(q_T) - L(w_0) <= d_river + G ds + 2 eps_flat, eps_flat = (phi(r_g) - phi(0))/2")


STEPS = {"weighted_step": step_weighted_step, "weighted_expansion": step_weighted_expansion,
         "loss_at_entry_identity": step_loss_at_entry_identity, "river_lipschitz": step_river_lipschitz}
CERTIFICATES = {"weighted_norm_bounds": cert_weighted_norm_bounds, "weighted_inner": cert_weighted_inner,
                "weighted_inward": cert_weighted_inward, "weighted_decrease": cert_weighted_decrease,
                "weighted_entry": cert_weighted_entry, "along_river_error": cert_along_river_error,
                "loss_at_entry_bound": cert_loss_at_entry_bound}
