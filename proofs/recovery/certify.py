r"""z3 certificates of the theorems where PTQ fails (R1, K1, K1P, K1D, A2): real (and mixed integer)
inequalities, each proved for every point of its stated set. Registered in
:data:`proofs.certify.CERTIFICATES` through :data:`RECOVERY_CERTIFICATES`.
"""

from __future__ import annotations

import z3

from proofs.core import Certificate, prove

__all__ = ["RECOVERY_CERTIFICATES"]


def _prove_lira(name, hyps, claim, box, text) -> Certificate:
    """Like :func:`proofs.core.prove`, with z3's default (integer-real) solver for ToInt (floor)."""
    solver = z3.Solver()
    solver.set("timeout", 20000)
    solver.add(*hyps)
    solver.add(z3.Not(claim))
    res = solver.check()
    return Certificate(
        name, res == z3.unsat, str(res), box, text, str(solver.model()) if res == z3.sat else ""
    )


def cert_rounding_monotone() -> Certificate:
    """u <= v => round(u) <= round(v); v - u < 1 => round(v) - round(u) <= 1 (round(x) = floor(x + 1/2))."""
    u, v = z3.Reals("u v")
    ru, rv = z3.ToInt(u + z3.RealVal(1) / 2), z3.ToInt(v + z3.RealVal(1) / 2)
    claim = z3.And(rv >= ru, z3.Implies(v - u < 1, rv - ru <= 1))
    return _prove_lira(
        "rounding_monotone",
        [u <= v],
        claim,
        "all reals u <= v",
        "rounding is non-decreasing and a move shorter than one step crosses one boundary at "
        "most: g jumps by f_j = |n_j| Delta_j at a simple crossing",
    )


def cert_monotone_sign() -> Certificate:
    """n_j (Q_j(w_j + lam2 n_j) - Q_j(w_j + lam1 n_j)) >= 0 for lam2 >= lam1: the sign of n_j carries over."""
    n, dl, dq = z3.Reals("n dlam dq")
    # dq = Q_j(t2) - Q_j(t1) with t2 - t1 = n dlam; Q_j non-decreasing: dq has the sign of n dlam (or is 0)
    hyps = [
        dl >= 0,
        z3.Implies(n * dl > 0, dq >= 0),
        z3.Implies(n * dl < 0, dq <= 0),
        z3.Implies(n * dl == 0, dq == 0),
    ]
    return prove(
        "monotone_sign",
        hyps,
        n * dq >= 0,
        "all reals n, dlam >= 0, dq (the rounding's change)",
        "each term n_j Q_j(w0_j + lambda n_j) is non-decreasing in lambda, so g is",
    )


def cert_no_jump_over() -> Certificate:
    """From x >= p > ... with 0 < s < p - a (the piece's room) the latent lands in (a, x): never beyond I."""
    a, b, p, x, s = z3.Reals("a b p x s")
    hyps = [a < b, p >= b, x >= p, s > 0, s < p - a]
    claim = z3.And(x - s > a, x - s < x)
    return prove(
        "no_jump_over",
        hyps,
        claim,
        "all reals a < b <= p <= x, 0 < s < p - a",
        "a step shorter than the room of its piece cannot jump over I = [a, b]",
    )


def cert_integral_step() -> Certificate:
    """h non-decreasing (two pieces h1 <= h2 on [x', p], [p, x]): int_{x'}^x dy/h >= (x - x')/h(x)."""
    x1, p, x, h1, h2 = z3.Reals("x1 p x h1 h2")
    hyps = [h1 > 0, h2 >= h1, x1 <= p, p <= x]
    lhs = (p - x1) * h2 + (x - p) * h1  # (p - x1)/h1 + (x - p)/h2 >= (x - x1)/h2, times h1 h2 > 0
    return prove(
        "integral_step",
        hyps,
        lhs >= (x - x1) * h1,
        "all reals h2 >= h1 > 0, x' <= p <= x",
        "each step x_t -> x_t - h(x_t) covers at least 1 of int dx / h (h = eta phi'(g) non-decreasing)",
    )


def cert_trap_invariant() -> Certificate:
    """eta L <= 1, R >= 3 dp, |x| <= R, step sigma <= eta L (|x| + dp) toward sign(g): |x'| <= R."""
    x, r, dp, sg, eps, xn = z3.Reals("x R dp sigma eps xnew")
    base = [x >= 0, x <= r, dp >= 0, r >= 3 * dp, eps >= 0, eps <= 1, sg >= 0, sg <= eps * (x + dp)]
    far = prove("trap_far", base + [x > dp, xn == x - sg], z3.And(xn <= r, xn >= -r), "", "")
    near = prove(
        "trap_near", base + [x <= dp, z3.Or(xn == x - sg, xn == x + sg)], z3.And(xn <= r, xn >= -r), "", ""
    )
    ok = far.ok and near.ok
    return Certificate(
        "trap_invariant",
        ok,
        "unsat" if ok else f"{far.status}/{near.status}",
        "all reals 0 <= x <= R, dp >= 0, R >= 3 dp, 0 <= eps <= 1, 0 <= sigma <= eps (x + dp) "
        "(x >= 0 by symmetry; |x| > dp: the step is toward the river; |x| <= dp: either way)",
        "|x_t| <= R for all t once eta_t L <= 1 (phi'(r) <= L r beyond r_b)",
        "",
    )


def cert_growth_product() -> Certificate:
    """|x'| <= |x| + sigma, sigma <= eta L (|x| + dp) => |x'| + dp <= (|x| + dp)(1 + eta L)."""
    x, xn, dp, sg, el = z3.Reals("x xnew dp sigma etaL")
    hyps = [x >= 0, dp >= 0, el >= 0, sg >= 0, sg <= el * (x + dp), xn >= 0, xn <= x + sg]
    return prove(
        "growth_product",
        hyps,
        xn + dp <= (x + dp) * (1 + el),
        "all reals x, x' >= 0 (absolute offsets), dp, sigma, eta L >= 0",
        "before eta_t L <= 1 the offset grows at most by the factor (1 + eta_t L) (plus dp)",
    )


def cert_absorption_band() -> Certificate:
    """In I with 0 < g <= r_b, x >= p_+ >= a + room, eta mu r_b < room: x - eta mu g in (a, x]."""
    a, b, pp, x, g, rb, em, room = z3.Reals("a b p_plus x g r_b eta_mu room")
    hyps = [a < b, pp >= a + room, room > 0, x >= pp, x <= b, g > 0, g <= rb, em >= 0, em * rb < room]
    claim = z3.And(x - em * g > a, x - em * g <= b)
    return prove(
        "absorption_band",
        hyps,
        claim,
        "all reals a < b, p_+ >= a + room, p_+ <= x <= b, 0 < g <= r_b, eta mu >= 0, eta mu r_b < room",
        "the in-basin step eta mu |g| cannot leave I (mu > 0, k = 1, no drift)",
    )


RECOVERY_CERTIFICATES = {
    "rounding_monotone": cert_rounding_monotone,
    "monotone_sign": cert_monotone_sign,
    "no_jump_over": cert_no_jump_over,
    "integral_step": cert_integral_step,
    "trap_invariant": cert_trap_invariant,
    "growth_product": cert_growth_product,
    "absorption_band": cert_absorption_band,
}
