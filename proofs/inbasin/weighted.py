r"""S5W: S3-S5 in an anisotropic (weighted) basin, from in-basin RTN-failed trained points.

The landscape's normal distance is the weighted one, :math:`\rho(w) = \lVert A^{-1} v(w)\rVert` with
:math:`A = \mathrm{diag}(a)` the relative radii (``Landscape.aniso``): the paper's
:math:`\lVert P_\perp(w - \text{river})\rVert_W` with :math:`W = N^\top A^{-2} N`. In weighted
coordinates :math:`x = A^{-1} v` one STE step of a straight river is
:math:`x_{t+1} = x_t - \eta\,\tfrac{\phi'(\rho_q)}{\rho_q} A^{-2} x_q` (the step is *not* along
:math:`x_q`: S3's isotropic cosine bound fails). With the two weighted quantization errors

* ``dq`` :math:`= \max_{e \in \text{cell}} \lVert A^{-1} N e\rVert` (:math:`\rho(Q(w)) \le \rho(w) + dq`),
* ``dz`` :math:`= \max_{e \in \text{cell}} \lVert A^{-2} N e\rVert`,

and :math:`g = r_g / a_{\max} - dz > 0`, each step taken while :math:`\rho(q_t) > r_g` has inward component
:math:`\langle x_t, x_t - x_{t+1}\rangle \ge \eta\,\phi'(\rho_q)(\rho_q/a_{\max} - dz)/a_{\max}` and, if
:math:`\eta \phi'(\rho_0 + dq) \le a_{\min}^3 g`, lowers :math:`\rho(w_t)^2` by at least
:math:`\beta_W = \eta\, m_W\, g / a_{\max}`; so :math:`\rho(Q(w_T)) \le r_g` at some
:math:`T \le T_W = \lceil(\rho_0^2 - (r_g - dq)^2)/\beta_W\rceil` when :math:`dq < r_g`.

Attack ``weighted_in_basin``: random and dyadic frames (:func:`landscape.testing.dyadic_case`: power-of-two
steps, bf16 starts with coordinates on rounding ties, normals m/8), relative radii from 1/2 to 4, the four
walls, linear or lake drift; the start is the first in-basin point (rho <= r_b) whose RTN point is outside
r_g. ``docs/theory.md``, section S5W.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from hypothesis import strategies as st

import landscape as L
from landscape import quantizers, testing
from landscape.testing import dyadic
from proofs.basin import scenarios as basin
from proofs.core import Scenario, Statement, drop_assumption, reverse_conclusion, scale_constant, symbols
from proofs.inbasin.statements import _c  # a constant's symbol

__all__ = ["S5W", "S5W_MUTANTS", "S5W_SCENARIOS", "weighted_errors", "weighted_case"]

S = symbols("eta r_b gamma dq dz a_min a_max rho_0 rho_w rho_q phi_q phi_max m_w T min_dec inward")
_rg = S["r_b"] + S["gamma"]
_g = _rg / S["a_max"] - S["dz"]


S5W = Statement(
    id="S5W",
    short="weighted basin: inward step, rho^2 drop, entry",
    title="Anisotropic basin rho = ||A^-1 v||: while rho(q_t) > r_g the STE step has inward component >= "
    "eta phi'(rho_q)(rho_q/a_max - dz)/a_max, rho(w_t)^2 drops by >= beta_W per step, and rho(Q(w_t)) <= r_g "
    "within T_W steps, if dq < r_g and eta phi'(rho_0 + dq) <= a_min^3 (r_g/a_max - dz)",
    family="straight river, any k, relative radii a_i (Landscape.aniso; W = N^T A^-2 N), any of the four "
    "walls, any river loss, unbounded uniform grid (round half to even), STE with plain SGD; dq, dz = max "
    "over the rounding cell of ||A^-1 N e||, ||A^-2 N e||; m_w = wall_slope(r_g)",
    assumptions={
        "compatible": S["dq"] < _rg,
        "inward_margin": S["dz"] * S["a_max"] < _rg,
        "slope_positive": S["m_w"] > 0,
        "gamma_nonneg": S["gamma"] >= 0,
        "step_size": S["eta"] * S["phi_max"] <= S["a_min"] ** 3 * _g,
        "in_basin": S["rho_w"] <= S["r_b"],
        "rtn_failed": S["rho_q"] > _rg,
    },
    constants={
        "inward_bound": S["eta"] * S["phi_q"] * (S["rho_q"] / S["a_max"] - S["dz"]) / S["a_max"],
        "beta_W": S["eta"] * S["m_w"] * _g / S["a_max"],
        "T_W": sp.Piecewise(
            (sp.ceiling((S["rho_0"] ** 2 - (_rg - S["dq"]) ** 2) / _c("beta_W")),
             S["rho_0"] >= _rg - S["dq"]),
            (0, True)),
    },
    conclusion={
        "inward": S["inward"] >= _c("inward_bound"),
        "decrease": S["min_dec"] >= _c("beta_W"),
        "recovered_in_time": S["T"] <= _c("T_W"),
    },
    attack="weighted_in_basin",
    extra_attacks=("weighted_tight",),
    proof=("weighted_step", "weighted_expansion", "weighted_norm_bounds", "weighted_inner", "weighted_inward",
           "weighted_decrease", "weighted_entry", "walls_monotone", "softplus_slope_bound"),
    tightness=_c("beta_W") / S["min_dec"],
    tightness_label="beta_W/min dec",
    regime="in_basin",
    paper=("Cauchy-Schwarz in R^k (z3 checks k = 2, 3)",
           "induction: rho(w_t) <= rho_0 while q_t is outside, so rho(q_t) <= rho_0 + dq and phi' <= phi_max",
           "max of the convex ||A^-p N e|| over the cell box at a corner (enumerated)"),
    doc="#s5w-recovery-in-a-weighted-anisotropic-basin",
)

S5W_MUTANTS = {"S5W": [lambda s: scale_constant(s, "beta_W", 2),
                       lambda s: scale_constant(s, "inward_bound", 2),
                       lambda s: scale_constant(s, "T_W", sp.Rational(1, 2)),
                       lambda s: drop_assumption(s, "step_size"),
                       lambda s: reverse_conclusion(s, "recovered_in_time")]}

#: horizon (the weighted step-size limit a_min^3 g makes steps short); hit times beyond it are censored
NSTEPS = 2000
_AN = (1.0, 0.5, 0.75, 1.5, 2.0, 4.0)  # relative radii (dyadic)
_U = st.floats(0.0, 1.0)
_CASES = st.fixed_dictionaries({
    "source": st.sampled_from(("random", "dyadic")),
    "seed": st.integers(0, 2**16),
    "shape": st.sampled_from(((3, 2), (3, 1), (4, 2), (5, 3))),
    "aniso": st.lists(st.sampled_from(_AN), min_size=3, max_size=3),
    **testing.wall_fields(mu=(0.0, 0.125)),
    "river": st.sampled_from(("none", "linear", "lake")),
    "eta": st.sampled_from((0.125, 0.5)),
    "u_rb": _U, "u_kappa": _U, "gamma_frac": st.sampled_from((0.125, 0.5, 0.0)),
    "breach": st.sampled_from(("none", "none", "none", "rb", "kappa")),
})


def weighted_errors(grid, n, aniso):
    """(dq, dz): max over the rounding cell's corners of ||A^-1 N e|| and ||A^-2 N e|| (float64, exact)."""
    a, b = grid.residual_box(n.shape[1])
    best = np.zeros(2)
    for corner in quantizers.cell_corners(a, b, chunk_bits=10):
        v = corner @ n.T
        for i, p in enumerate((1, 2)):
            best[i] = max(best[i], float(np.max(np.sum((v / aniso**p) ** 2, -1))))
    return float(np.sqrt(best[0])), float(np.sqrt(best[1]))


def _frame(case):
    """(N, u, steps, offsets, anchor): the frame, grid and a start anchor of a case (float64)."""
    d, k = case["shape"]
    if case["source"] == "dyadic":
        dc = dyadic.dyadic_case(int(case["seed"]), k=k, dims=(d, d), rtn_failed=False)
        return (np.asarray(dc["normals"]), np.asarray(dc["river_dir"]), np.asarray(dc["step"]),
                np.asarray(dc["offset"]), np.asarray(dc["w0"]))
    land = L.random_river(jax.random.PRNGKey(int(case["seed"])), d, k)
    n, u = np.asarray(land.normals, np.float64), np.asarray(land.river_dir, np.float64)
    rng = np.random.default_rng(int(case["seed"]))
    steps = float(np.exp(rng.uniform(np.log(0.05), np.log(1.0)))) * rng.uniform(0.5, 2.0, d)
    flat = rng.normal(size=d)
    flat = flat - n.T @ (n @ flat) - u * (u @ flat)
    return n, u, steps, steps * rng.uniform(0.0, 1.0, d), rng.uniform(-20, 20) * u + steps[0] * flat


def _candidates(rng, k, rb, e_dir, dyadic):
    """In-basin weighted offsets x (||x|| <= r_b): uniform on the ball, then along the RTN error direction."""
    g = rng.normal(size=(64, k))
    x = g / np.linalg.norm(g, axis=1, keepdims=True) * rb * rng.uniform(size=(64, 1)) ** (1.0 / k)
    x = np.concatenate([x, np.outer(rb * (1 - np.arange(16) / 32), e_dir)])
    if dyadic:  # short binary fractions (exact in every later product with the dyadic frame)
        x = np.trunc(x * 1024) / 1024
    return x[np.linalg.norm(x, axis=1) <= rb]


def _river_loss(case, anchor_s):
    if case["river"] == "linear":
        return 0.25, 0.25
    if case["river"] == "lake":
        return L.Lake.make(rate=0.25, s0=anchor_s + 0.1, width=0.5), 0.25
    return None, 0.0


def weighted_case(case):
    """Landscape (kappa = 1), grid, start and geometric numbers of a case, before kappa is chosen."""
    n, u, steps, offsets, anchor = _frame(case)
    a = np.asarray(case["aniso"][: n.shape[0]], np.float64)
    grid = L.uniform_grid(steps, offset=offsets)
    dq, dz = weighted_errors(grid, n, a)
    # r_g from the larger of the two margins; gamma < dq, so that an in-basin RTN failure is possible
    ratio = basin._split(case["u_rb"], case["breach"] == "rb", (1.2, 3.0), (0.3, 1.0))
    r_g = ratio * max(dq, dz * float(np.max(a)))
    rb = r_g - min(case["gamma_frac"] * dq, 0.5 * r_g)
    dyadic = case["source"] == "dyadic"
    q_anchor = np.asarray(grid.quantize(jnp.asarray(anchor)), np.float64)
    e = (n @ (q_anchor - anchor)) / a  # the anchor's weighted RTN error (the start of a dyadic case)
    e_dir = e / max(np.linalg.norm(e), 1e-300)
    rng = np.random.default_rng(int(case["seed"]) + 1)
    pick = None
    for x in _candidates(rng, n.shape[0], rb, e_dir, dyadic):
        if dyadic:  # the start keeps its ties: the river moves under it (c0 = N w0 - A x)
            w0, c0 = anchor, n @ anchor - a * x
        else:
            w0, c0 = anchor + n.T @ (a * x), n @ anchor
        q = np.asarray(grid.quantize(jnp.asarray(w0)), np.float64)
        rho_q = float(np.linalg.norm((n @ q - c0) / a))
        if pick is None or (pick[3] <= r_g < rho_q):
            pick = (w0, c0, x, rho_q)
        if rho_q > r_g:
            break
    w0, c0, x, rho_q = pick
    return {"n": n, "u": u, "a": a, "grid": grid, "w0": w0, "c0": c0, "dq": dq, "dz": dz, "r_b": rb,
            "gamma": r_g - rb, "rho_0": float(np.linalg.norm(x)), "rho_q": rho_q}


def _prepare(case, stmt):
    g = weighted_case(case)
    rb, r_g, a = g["r_b"], g["r_b"] + g["gamma"], g["a"]
    margin = r_g / float(np.max(a)) - g["dz"]
    limit = float(np.min(a)) ** 3 * margin / case["eta"]
    mu = max(0.0, min(case["mu"], 0.5 * limit / (g["rho_0"] + g["dq"])))  # the floor alone: half the limit
    slope1, slope_mu = basin._unit_slope(case["wall"], rb, mu, g["rho_0"] + g["dq"])
    frac = basin._split(case["u_kappa"], case["breach"] == "kappa", (0.2, 1.0), (3.0, 100.0))
    kmax = (limit - slope_mu) / slope1 if slope1 > 0 else 1.0
    kappa = float(np.clip(frac * kmax, 1e-3, 1e4)) if kmax > 0 else 1e-3
    wall = testing.wall_named(case["wall"], rb, kappa, mu)
    river_loss, lip = _river_loss(case, float(g["u"] @ g["w0"]))
    ls = L.straight_river(g["n"], g["u"], wall=wall, river_loss=river_loss, center=g["c0"], aniso=a)
    values = {"eta": case["eta"], "r_b": rb, "gamma": g["gamma"], "dq": g["dq"], "dz": g["dz"],
              "a_min": float(np.min(a)), "a_max": float(np.max(a)), "rho_0": g["rho_0"], "rho_w": g["rho_0"],
              "rho_q": g["rho_q"], "phi_q": float(wall.deriv(g["rho_q"])),
              "phi_max": float(wall.deriv(g["rho_0"] + g["dq"])), "m_w": float(wall.wall_slope(r_g)),
              "kappa": kappa, "mu": mu, "G": lip, "k": float(g["n"].shape[0]), "d": float(g["n"].shape[1])}
    return (ls, g["grid"], g["w0"]), values


def _simulate(ctx, values, sim, stmt):
    ls, grid, w0 = ctx
    traj = sim.run(ls, grid, sim.rule(float(values["eta"])), jnp.asarray(w0), NSTEPS, record_path=True)
    x = np.asarray(jax.vmap(ls.offset)(traj.w_path)) / np.asarray(ls.aniso)
    rho_q = np.asarray(traj.rho_q)
    t_hit = basin._first(rho_q <= values["r_b"] + values["gamma"])
    censored = t_hit < 0
    upto = NSTEPS - 1 if censored else t_hit
    dsq = np.sum(x * x, axis=1)
    dec = dsq[:upto] - dsq[1:upto + 1]
    return {"T": float(NSTEPS if censored else t_hit), "censored": float(censored),
            "min_dec": float(np.min(dec)) if dec.size else 1e300,
            "inward": float(x[0] @ (x[0] - x[1]))}


# near the bound: axis-aligned sharp directions, the a_max one with a full step and the others nearly
# continuous, the RTN error all along the a_max axis, q_0 just outside r_g, kappa at the step-size limit
_TIGHT = st.fixed_dictionaries({
    "k": st.sampled_from((1, 2)), "aniso": st.lists(st.sampled_from(_AN), min_size=2, max_size=2),
    "step": st.floats(0.05, 1.0), "eta": st.sampled_from((0.125, 0.5)), "u_rb": _U, "u_kappa": _U,
    "eps": st.floats(1e-6, 0.05), "breach": st.sampled_from(("none", "none", "none", "rb", "kappa")),
})


def _tight_prepare(case, stmt):
    k = case["k"]
    a = np.asarray(case["aniso"][:k], np.float64)
    top = int(np.argmax(a))
    n = np.eye(k + 1)[:k]
    steps = np.full(k + 1, case["step"])
    steps[:k] *= 1e-3
    steps[top] = case["step"]
    grid = L.uniform_grid(steps, offset=np.zeros(k + 1))
    dq, dz = weighted_errors(grid, n, a)
    ratio = basin._split(case["u_rb"], case["breach"] == "rb", (1.2, 3.0), (0.3, 1.0))
    r_g = ratio * max(dq, dz * float(np.max(a)))
    rb = r_g - min(0.5 * dq, 0.5 * r_g)
    eps = case["eps"]
    w0 = np.zeros(k + 1)
    w0[top] = -0.5 * case["step"] * (1 - eps)  # rounds to 0: the error +step/2 (1 - eps) along the axis
    c0 = np.zeros(k)
    c0[top] = -a[top] * r_g * (1 + eps)  # x_q = r_g (1 + eps) along the axis
    x0 = (n @ w0 - c0) / a
    rho0, rho_q = float(np.linalg.norm(x0)), r_g * (1 + eps)
    margin = r_g / float(np.max(a)) - dz
    frac = basin._split(case["u_kappa"], case["breach"] == "kappa", (0.98, 1.0), (3.0, 100.0))
    kappa = max(frac * float(np.min(a)) ** 3 * margin / case["eta"] / max(rho0 + dq - rb, 1e-12), 1e-3)
    wall = L.quadratic_wall(rb, kappa, 0.0)
    ls = L.straight_river(n, np.eye(k + 1)[k], wall=wall, center=c0, aniso=a)
    values = {"eta": case["eta"], "r_b": rb, "gamma": r_g - rb, "dq": dq, "dz": dz, "a_min": float(np.min(a)),
              "a_max": float(np.max(a)), "rho_0": rho0, "rho_w": rho0, "rho_q": rho_q,
              "phi_q": float(wall.deriv(rho_q)), "phi_max": float(wall.deriv(rho0 + dq)),
              "m_w": float(wall.wall_slope(r_g)), "kappa": kappa, "k": float(k), "d": float(k + 1)}
    return (ls, grid, w0), values


S5W_SCENARIOS = {"weighted_in_basin": Scenario(_CASES, _prepare, _simulate),
                 "weighted_tight": Scenario(_TIGHT, _tight_prepare, _simulate)}
