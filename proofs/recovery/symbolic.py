r"""The symbolic steps (sympy) of the theorems where PTQ fails: R1, K1D, A1, K2R (``docs/theory.md``).

Registered in :data:`proofs.symbolic.STEPS` through :data:`RECOVERY_STEPS`.
"""

from __future__ import annotations

import sympy as sp

from proofs.core import Step

__all__ = ["RECOVERY_STEPS"]


def _zero(expr) -> bool:
    return sp.simplify(sp.expand(expr)) == 0


def _cayley_frame():
    p, q, r = sp.symbols("p q r", real=True)
    kmat = sp.Matrix([[0, -p, -q], [p, 0, -r], [q, r, 0]])
    eye = sp.eye(3)
    return ((eye - kmat) * (eye + kmat).inv()).applyfunc(sp.cancel)


def step_ste_step_k1() -> Step:
    """k = 1, no drift: grad L(q) = phi'(|y|) sign(y) n (parallel to n); v(w0 + lam n) = x0 + lam |n|^2."""
    n = sp.Matrix(sp.symbols("n1:4", real=True))
    y = sp.Symbol("y", real=True, nonzero=True)
    dphi = sp.Symbol("dphi", positive=True)
    # (G) with k = 1: phi'(rho) N^T v / rho, N^T = n, v = y, rho = |y|
    grad = dphi * n * y / sp.Abs(y)
    ok = (grad - dphi * sp.sign(y) * n).applyfunc(sp.simplify) == sp.zeros(3, 1)
    w0 = sp.Matrix(sp.symbols("w1:4", real=True))
    lam, c0 = sp.symbols("lambda c0", real=True)
    v = (n.T * (w0 + lam * n))[0] - c0
    ok &= _zero(v - ((n.T * w0)[0] - c0 + lam * (n.T * n)[0]))
    return Step(
        "ste_step_k1",
        bool(ok),
        "k = 1: the STE step is -eta phi'(|y|) sign(y) n; the latent stays on "
        "w0 + lambda n with offset x0 + lambda |n|^2",
    )


def step_slice_invariance() -> Step:
    """(I - N^T N) grad L = ell' u: without drift the step lies in row(N); drift adds exactly ell' u."""
    rot = _cayley_frame()
    n, u = rot[:2, :], rot[2, :].T
    v = sp.Matrix(sp.symbols("v1:3", real=True))
    dphi, rho, dell = sp.symbols("dphi rho dell", positive=True)
    grad = dphi * n.T * v / rho + dell * u
    proj = (sp.eye(3) - n.T * n).applyfunc(sp.cancel)
    ok = (proj * grad - dell * u).applyfunc(sp.cancel) == sp.zeros(3, 1)
    ok &= (proj * (dphi * n.T * v / rho)).applyfunc(sp.cancel) == sp.zeros(3, 1)
    return Step(
        "slice_invariance",
        bool(ok),
        "orthonormal Cayley frame (rows 1-2 = N, 3 = u), symbolic v, "
        "phi', ell': the wall term lies in row(N), the drift term is ell' u",
    )


def step_zero_gradient_in_basin() -> Step:
    """mu = 0, psi' = 0 on [0, r_b], ell' = 0: grad L(q) = (mu + psi'/rho) N^T v + ell' u = 0 in the basin."""
    n = sp.Matrix(2, 3, sp.symbols("n1:7", real=True))
    v = sp.Matrix(sp.symbols("v1:3", real=True))
    u = sp.Matrix(sp.symbols("u1:4", real=True))
    rho, rb, h, kap, mu = sp.symbols("rho r_b h kappa mu", positive=True)
    r = sp.Symbol("r", real=True)
    psi = sp.Piecewise((0, r <= rb), (kap / 2 * (r - rb) ** 2, True))
    dpsi_inside = sp.diff(psi, r).subs(r, rb - h)
    grad = (0 * mu + dpsi_inside / rho) * n.T * v + 0 * u
    ok = grad.applyfunc(sp.simplify) == sp.zeros(3, 1)
    return Step(
        "zero_gradient_in_basin",
        bool(ok),
        "quadratic wall, mu = 0, no drift: psi'(r_b - h) = 0, so the "
        "STE step vanishes once q_t is in the basin (the other flat-bottom walls: flat_bottom_walls)",
    )


def step_log_bound() -> Step:
    """ln(1 + u) <= u (u >= 0), hence int_t^{t+1} ds / (1 + s/t_c) <= 1/(1 + t/t_c)."""
    u = sp.Symbol("u", nonnegative=True)
    f = u - sp.log(1 + u)
    ok = f.subs(u, 0) == 0 and bool(sp.simplify(sp.diff(f, u) - u / (1 + u)) == 0)
    t, tc, s = sp.symbols("t t_c s", positive=True)
    integral = sp.integrate(1 / (1 + s / tc), (s, t, t + 1))
    # integral = t_c ln(1 + 1/(t_c + t)) and 1/(1 + t/t_c) = t_c/(t_c + t): the claim is ln(1 + x) <= x
    x = 1 / (tc + t)
    ok &= _zero(sp.expand_log(integral - tc * sp.log(1 + x), force=True))
    ok &= _zero(1 / (1 + t / tc) - tc * x)
    return Step(
        "log_bound",
        bool(ok),
        "u - ln(1+u) is 0 at 0 with derivative u/(1+u) >= 0; the step integral "
        "of 1/(1 + s/t_c) over [t, t+1] is t_c ln(1 + 1/(t_c + t))",
    )


def step_decay_partial_sum() -> Step:
    """Telescoping: sum_{t=t0}^{tau-1} t_c ln((t_c+t+1)/(t_c+t)) = t_c ln((t_c+tau)/(t_c+t0))."""
    tc, t0 = sp.symbols("t_c t0", positive=True)
    ok = True
    for m in range(1, 6):
        total = sum(tc * sp.log((tc + t0 + i + 1) / (tc + t0 + i)) for i in range(m))
        ok &= _zero(sp.expand_log(total - tc * sp.log((tc + t0 + m) / (tc + t0)), force=True))
    return Step(
        "decay_partial_sum",
        bool(ok),
        "telescoping for tau - t0 = 1..5 (symbolic t_c, t0): with "
        "log_bound, sum eta_t >= eta0 t_c ln((t_c + tau)/(t_c + t0))",
    )


RECOVERY_STEPS = {
    f.__name__.removeprefix("step_"): f
    for f in (
        step_ste_step_k1,
        step_slice_invariance,
        step_zero_gradient_in_basin,
        step_log_bound,
        step_decay_partial_sum,
    )
}
