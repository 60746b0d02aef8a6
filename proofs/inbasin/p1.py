r"""P1: S5 for any rule whose gradient is taken within a bounded normal distance ``delta`` of the latent.

The proof of S3-S5 uses the deployed point only as the point where the gradient is sampled, through
``||N (p_t - w_t)|| <= delta_perp``; with a sample point ``p_t`` within ``delta`` of the latent (noise
injection of relative width ``s``: ``delta = s delta_perp``; STE: ``delta = delta_perp``) the same
contraction holds with ``delta`` in its place, while the deployed point ``Q(w_t)`` still errs by up to
``delta_perp``. Attacked with :func:`landscape.noise_injection` from in-basin RTN-failed starts.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp
from hypothesis import strategies as st

import landscape as L
from landscape import laws
from proofs.basin import scenarios as basin
from proofs.core import Scenario, Statement, drop_assumption, reverse_conclusion, symbols

__all__ = ["P1", "P1_MUTANTS", "P1_SCENARIOS"]

S = symbols("eta r_b gamma dp delta rho_0 rho_w rho_q phi_max m_p T")
_rg = S["r_b"] + S["gamma"]
_sig = _rg - S["dp"] - S["delta"]

P1 = Statement(
    id="P1",
    short="recovery, gradient within delta of the latent",
    title="Any rule whose gradient is sampled within normal distance delta of the latent (noise injection, "
    "STE): if delta_perp + delta < r_g, phi'(r_g - delta_perp - delta) > 0 and the step is small, "
    "rho(Q(w_t)) <= r_g within T_P1 steps",
    family="as S5 (any k, isotropic basin, any of the four walls, any drift, SGD); the rule's sample point "
    "p_t satisfies ||N (p_t - w_t)|| <= delta (noise injection of width s: delta = s delta_perp)",
    assumptions={
        "compatible": S["dp"] + S["delta"] < _rg,
        "slope_positive": S["m_p"] > 0,  # phi'(r_g - dp - delta): the sample point may lie inside r_b
        "gamma_nonneg": S["gamma"] >= 0,
        "step_size": S["eta"] * S["phi_max"] <= sp.sqrt(_sig * (2 * S["delta"] + _sig)),
        "in_basin": S["rho_w"] <= S["r_b"],
        "rtn_failed": S["rho_q"] > _rg,
    },
    constants={
        "c_p": sp.sqrt(1 - S["delta"] ** 2 / (_rg - S["dp"]) ** 2),
        "beta": S["eta"] * S["m_p"] * sp.Symbol("c_p", real=True) / 2,
        "T_P1": sp.Piecewise(
            (sp.floor((S["rho_0"] - (_rg - S["dp"])) / sp.Symbol("beta", real=True)) + 1,
             S["rho_0"] >= _rg - S["dp"]),
            (0, True)),
    },
    conclusion={"recovered_in_time": S["T"] <= sp.Symbol("T_P1", real=True)},
    attack="noise_in_basin",
    proof=("grad_formula", "inward_identity", "cos_bound", "norm_expansion", "one_step_contraction",
           "cos_monotone", "walls_monotone", "triangle_offset"),
    tightness=S["T"] / sp.Symbol("T_P1", real=True),
    tightness_label="T/T_P1",
    regime="in_basin",
    paper=("S4's contraction with the sample point p_t for q_t: ||N(p_t - w_t)|| <= delta, "
           "phi'(rho(p_t)) >= phi'(rho(w_t) - delta) >= m_p while rho(w_t) >= r_g - delta_perp",
           "entry: rho(w_t) < r_g - delta_perp gives rho(Q(w_t)) < r_g by (O)"),
    doc="#p1-recovery-when-the-gradient-is-taken-near-the-latent",
)

P1_MUTANTS = {"P1": [lambda s: drop_assumption(s, "step_size"),
                     lambda s: reverse_conclusion(s, "recovered_in_time")]}

# S5's cases with a noise width and a floor slope mu > 0 (a flat floor stalls a sample point inside r_b)
_CASES = st.tuples(basin._STE, st.sampled_from((1.0, 0.5, 0.25)), st.sampled_from((0.5, 0.1, 2.0))).map(
    lambda t: {**t[0], "scale": t[1], "mu": t[2]})


def _prepare(case, stmt):
    _, grid0, n0, _, _ = basin._geometry(case, 1.0)
    dp = basin._dp(grid0, n0)
    delta = case["scale"] * dp  # noise of half-width scale * Delta_j / 2 moves N p by at most scale * dp
    gf = case["gamma_frac"]
    rb = basin._split(case["u_rb"], case["breach"] == "rb", (1.05, 4.0), (0.3, 1.0)) * (dp + delta) / (1 + gf)
    r_g = rb * (1 + gf)
    sig = r_g - dp - delta
    mu = case["mu"]
    # the in-basin start first (it does not depend on kappa), then kappa against the step-size bound
    ls, grid, n, _, base = basin._geometry(case, rb, case["wall"], 1.0, mu, case["drift"])
    v = laws.basin_floor_offsets(int(case["seed"]), 512, n.shape[0], rb)
    w = base[None] + v @ n
    rho_q = np.asarray(jax.vmap(ls.rho)(jax.vmap(grid.quantize)(jnp.asarray(w))))
    pick = int(np.argmax(rho_q > r_g)) if np.any(rho_q > r_g) else 0
    rho0 = float(np.linalg.norm(v[pick]))
    limit = np.sqrt(max(sig * (2 * delta + sig), 0.0))
    slope1, slope_mu = basin._unit_slope(case["wall"], rb, mu, rho0 + delta)
    frac = basin._split(case["u_kappa"], case["breach"] == "kappa", (0.2, 1.0), (3.0, 100.0))
    kmax = (limit / case["eta"] - slope_mu) / slope1 if slope1 > 0 else 1.0
    kappa = float(np.clip(frac * kmax, 1e-3, 1e4)) if kmax > 0 else 1e-3
    ls, grid, n, _, _ = basin._geometry(case, rb, case["wall"], kappa, mu, case["drift"])
    values = {"eta": case["eta"], "r_b": rb, "gamma": gf * rb, "dp": dp, "delta": delta, "rho_0": rho0,
              "rho_w": rho0, "rho_q": float(rho_q[pick]), "phi_max": float(ls.wall.deriv(rho0 + delta)),
              "m_p": float(ls.wall.deriv(max(sig, 0.0))) if sig > 0 else 0.0, "kappa": kappa,
              "scale": case["scale"], "k": float(n.shape[0]), "d": float(n.shape[1])}
    return (ls, grid, w[pick]), values


def _simulate(ctx, values, sim, stmt):
    ls, grid, w0 = ctx
    rule = L.noise_injection(learning_rate=float(values["eta"]), scale=float(values["scale"]))
    traj = sim.run(ls, grid, rule, jnp.asarray(w0), basin.NSTEPS, key=jax.random.PRNGKey(0))
    t_hit = basin._first(np.asarray(traj.rho_q) <= values["r_b"] + values["gamma"])
    return {"T": float(basin.NSTEPS if t_hit < 0 else t_hit), "censored": float(t_hit < 0)}


P1_SCENARIOS = {"noise_in_basin": Scenario(_CASES, _prepare, _simulate)}
