r"""Scenarios: hypothesis strategies for cases, and how each case is built, prepared and simulated.

Every scenario draws *raw* parameters broadly (so that a statement whose assumption is
dropped sees cases outside it), builds a landscape (:func:`landscape.geometry.random_river`
or :func:`rotated_river_2d`), an unbounded uniform grid and a start, computes the
geometric quantities (``prepare``: delta_perp, rho, phi', ...) and measures what the
conclusion needs (``simulate``), always with the engine in float64.

Shapes (d, k), wall families and learning rates come from small fixed sets, so the
jitted driver compiles a bounded number of times.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

from landscape import geometry, laws, quantizers, testing
from landscape.geometry import walls
from proofs.core import Scenario, statement_constant, wall_of

__all__ = ["Scenario", "SCENARIOS", "NSTEPS", "ETAS"]

NSTEPS = 400  # horizon of every STE run (hit times beyond it are censored)
ETAS = (0.1, 0.5)  # learning rates drawn by the STE attacks
SHAPES = ((2, 1), (3, 2), (4, 1))
WALLS = testing.WALL_FAMILIES


_GEOM = testing.case_fields(SHAPES, step=(0.05, 1.0), size=12)


def _geometry(case, rb, wall_kind="quadratic", kappa=1.0, mu=0.0, drift=0.0):
    """Landscape, grid, normals, the sharp unit direction and the trained point of a case (float64)."""
    ls = testing.case_landscape(case, wall=wall_of(wall_kind, rb, kappa, mu), drift=drift)
    grid = testing.case_grid(case)
    base, direc = testing.case_start(case, ls, direction=True)
    return ls, grid, np.asarray(ls.normals), direc, base


def _dp(grid, n) -> float:
    return quantizers.delta_perp(grid, n).value


# --------------------------------------------------------------------------------------
# S1: the exit law (k = 1), S1W worst case, S1G Gaussian limit
# --------------------------------------------------------------------------------------
def _rtn_cases(shapes):
    return st.fixed_dictionaries({**_GEOM, "shape": st.sampled_from(shapes), "rb_ratio": st.floats(0.05, 1.0),
                                  "sample_seed": st.integers(0, 2**16)})


def _rtn_prepare(case, stmt):
    d, k = case["shape"]
    ls, grid, n, _, _ = _geometry(case, 1.0)
    dp = _dp(grid, n)
    rb = case["rb_ratio"] * dp
    hw = statement_constant(stmt, "hw", 0.5)
    a = hw * np.abs(n[0]) * np.asarray(grid.step) if k == 1 else np.zeros(d)
    values = {"k": float(k), "d": float(d), "n": 4000.0, "z": 5.0, "r_b": rb, "dp": dp}
    if k == 1:
        values["P_exit"] = laws.rtn_exit_probability(a, rb)
        values["sigma_x"] = float(np.sqrt(np.sum(a**2) / 3))
        values["be_sum"] = laws.berry_esseen_sum(a)
    return (ls, grid), values


def _rtn_simulate(ctx, values, sim, stmt):
    ls, grid = ctx
    step = float(np.max(np.asarray(grid.step)))
    key = jax.random.PRNGKey(int(values.get("sample_seed", 0)))
    w = ls.sample_river(key, int(values["n"]), s_range=(-200.0 * step, 200.0 * step), spread=20.0 * step)
    q = jax.vmap(lambda x: sim.rtn(grid, x))(w)
    rho_q = np.asarray(jax.vmap(ls.rho)(q))
    rho_w = np.asarray(jax.vmap(ls.rho)(w))
    return {"p_hat": float(np.mean(rho_q > values["r_b"])), "max_rho_q": float(np.max(rho_q - rho_w)),
            "rho_w": float(np.max(rho_w))}


def _rtn_prepare_seeded(case, stmt):
    ctx, values = _rtn_prepare(case, stmt)
    values["sample_seed"] = float(case["sample_seed"])
    return ctx, values


# --------------------------------------------------------------------------------------
# S2: Hessian blindness; S2E: an in-basin corner
# --------------------------------------------------------------------------------------
_BLIND = st.fixed_dictionaries({
    **_GEOM, "shape": st.sampled_from(((3, 1), (4, 2))),
    **testing.wall_fields(basin_radius=(0.1, 1.0), kappa=(0.5, 20.0), mu=(0.0, 0.1, 1.0)),
    "drift": st.sampled_from((0.0, 0.3)), "rho_ratio": st.floats(0.0, 1.5),
})


def _point(base, n, direc, rho):
    return base + n.T @ (rho * direc)


def _second_order_q(w, g, h, grid, lam=1e-3):
    """argmin over the 2^d floor/ceil roundings of g.e + e^T (H + lam I) e / 2: a second-order rule."""
    w = np.asarray(w)
    down, up = (np.asarray(x) for x in grid.neighbors(jnp.asarray(w)))
    best, best_q = np.inf, None
    for q in np.concatenate(list(quantizers.cell_corners(down, up))):  # itertools.product order
        e = q - w
        val = g @ e + 0.5 * e @ (h + lam * np.eye(w.shape[0])) @ e
        if val < best - 1e-15:
            best, best_q = val, q
    return best_q


@jax.jit
def _second_order_model(land, w):
    """(L(w), grad L(w), Hess L(w)) through the engine's autodiff, jitted."""
    return land.loss(w), land.grad(w), land.hessian(w)


def _blind_prepare(case, stmt):
    ls, grid, n, direc, base = _geometry(case, case["rb"], case["wall"], case["kappa"], case["mu"],
                                         case["drift"])
    w = _point(base, n, direc, case["rho_ratio"] * case["rb"])
    values = {"rho_w": float(ls.rho(jnp.asarray(w))), "r_b": case["rb"],
              "flat_bottom": 0.0 if case["wall"] == "softplus" else 1.0}
    return (ls, grid, w), values


def _blind_simulate(ctx, values, sim, stmt):
    ls, grid, w = ctx
    twin = ls.replace(wall=walls.quadratic_wall(float(ls.basin_radius), 0.0, float(ls.wall.mu)))
    w = jnp.asarray(w)
    out = {}
    ev = []
    for land in (ls, twin):
        val, grad, hess = _second_order_model(land, w)
        ev.append((float(val), np.asarray(grad), np.asarray(hess)))
    out["d_loss"] = abs(ev[0][0] - ev[1][0])
    out["d_grad"] = float(np.max(np.abs(ev[0][1] - ev[1][1])))
    out["d_hess"] = float(np.max(np.abs(ev[0][2] - ev[1][2])))
    q0 = _second_order_q(w, ev[0][1], ev[0][2], grid)
    q1 = _second_order_q(w, ev[1][1], ev[1][2], grid)
    out["same_q"] = float(np.array_equal(q0, q1))
    return out


_CORNER = st.fixed_dictionaries({
    **testing.case_fields(((2, 1), (3, 1), (4, 2), (6, 3), (8, 2)), step=(0.05, 1.0), size=12, ties=True),
    "rho_ratio": st.floats(0.0, 1.0),
    "axis": st.booleans(),
})


def _corner_prepare(case, stmt):
    ls, grid, n, direc, base = _geometry(case, 1.0)
    w = _point(base, n, direc, case["rho_ratio"] * case["step"])
    d, k = case["shape"]
    values = {"rho_w": float(ls.rho(jnp.asarray(w))), "k": float(k),
              "max_f": float(np.max(quantizers.flip_size(grid, n)))}
    return (ls, grid, w), values


def _corner_simulate(ctx, values, sim, stmt):
    ls, grid, w = ctx
    down, up = (np.asarray(x) for x in grid.neighbors(jnp.asarray(w)))
    qs = np.concatenate(list(quantizers.cell_corners(down, up)))
    rho = np.asarray(jax.vmap(ls.rho)(jnp.asarray(qs)))
    return {"min_rho_corner": float(np.min(rho))}


# --------------------------------------------------------------------------------------
# S3, S4, S5, S5C: STE dynamics
# --------------------------------------------------------------------------------------
_U = st.floats(0.0, 1.0)
_STE = st.fixed_dictionaries({
    **_GEOM, **testing.wall_fields(mu=(0.0, 0.1)),
    "drift": st.sampled_from((0.0, 0.3)), "eta": st.sampled_from(ETAS),
    "u_rb": _U, "u_rho": _U, "u_kappa": _U, "u_sigma": _U, "gamma_frac": st.sampled_from((0.0, 0.1, 0.4)),
    "breach": st.sampled_from(("none", "rb", "rho", "kappa")),
})


def _split(u, out, inside, outside):
    """u in [0, 1] mapped onto ``inside`` or, if ``out``, onto ``outside``.

    ``inside`` is where the statement's assumption usually holds, ``outside`` where it
    fails, so a mutant that drops the assumption meets such cases. A case breaches at
    most one knob (``case["breach"]``); hypothesis shrinks it towards "none".
    """
    lo, hi = outside if out else inside
    return lo + (hi - lo) * u


def _unit_slope(kind, rb, mu, rho):
    """(phi'(rho) at kappa = 1, mu = 0; mu rho): phi' = mu rho + kappa psi_1'(rho) for every wall here."""
    return float(wall_of(kind, rb, 1.0, 0.0).deriv(rho)), float(mu * rho)


def _ste_prepare(case, stmt, mode):
    # geometry first (delta_perp does not depend on the wall)
    _, grid0, n0, _, _ = _geometry(case, 1.0)
    dp = _dp(grid0, n0)
    gamma_frac = case["gamma_frac"]
    # kappa as a fraction of the largest one the step-size assumption allows (> 1 breaks it)
    kappa_frac = _split(case["u_kappa"], case["breach"] == "kappa", (0.2, 1.0), (3.0, 100.0))
    if mode == "one_step":
        rho0 = _split(case["u_rho"], case["breach"] == "rho", (1.05, 4.0), (0.0, 1.0)) * dp
        rb = (0.05 + 0.9 * case["u_rb"]) * max(rho0 - dp, 0.3 * dp)  # so rho_q >= rho_w - dp > r_b
        gamma_frac = 0.0
        limit = np.inf
    elif mode == "latent":
        sigma = (0.05 + 2.95 * case["u_sigma"]) * dp
        rb = (0.3 + 5.7 * case["u_rb"]) * dp
        rho0 = dp + sigma + (0.5 + 7.5 * case["u_rho"]) * dp
        limit = np.sqrt(sigma * (2 * dp + sigma))
    elif mode == "recovery":
        rb = _split(case["u_rb"], case["breach"] == "rb", (2.05, 6.0), (0.3, 2.0)) * dp  # 2 dp < r_b inside
        r_g = rb * (1 + gamma_frac)
        rho0 = max(r_g - dp, 0.0) + (0.3 + 7.7 * case["u_rho"]) * rb
        limit = np.sqrt(max(r_g * (r_g - 2 * dp), 0.0))
    else:  # conjecture: r_b from the flips
        maxf = float(np.max(quantizers.flip_size(grid0, n0)))
        rb = maxf / 2 * (1.05 + 2 * case["u_rb"])
        gamma_frac = 0.0
        rho0 = rb * (1.3 + 7 * case["u_rho"])
        limit = rb
    gamma = gamma_frac * rb
    r_g = rb + gamma
    slope1, slope_mu = _unit_slope(case["wall"], rb, case["mu"], rho0 + dp)
    eta = case["eta"]
    if np.isfinite(limit):
        kmax = (limit / eta - slope_mu) / slope1 if slope1 > 0 else 1.0
        kappa = float(np.clip(kappa_frac * kmax, 1e-3, 1e4)) if kmax > 0 else 1e-3
    else:
        kappa = 0.5 + 19.5 * case["u_kappa"]
    ls, grid, n, direc, base = _geometry(case, rb, case["wall"], kappa, case["mu"], case["drift"])
    w0 = _point(base, n, direc, rho0)
    q0 = grid.quantize(jnp.asarray(w0))
    rho_q = float(ls.rho(q0))
    values = {
        "d": float(case["shape"][0]), "k": float(case["shape"][1]), "eta": eta, "kappa": kappa,
        "r_b": rb, "gamma": gamma, "dp": dp, "rho_w": float(ls.rho(jnp.asarray(w0))), "rho_0": rho0,
        "rho_q": rho_q, "phi_q": float(ls.wall.deriv(rho_q)),
        "phi_max": float(ls.wall.deriv(rho0 + dp)), "m_slope": float(ls.wall.wall_slope(r_g)),
        "max_f": float(np.max(quantizers.flip_size(grid, n))),
    }
    if mode == "latent":
        values["sigma"] = sigma
    return (ls, grid, w0), values


def _ste_run(ctx, values, sim):
    ls, grid, w0 = ctx
    rule = sim.rule(float(values["eta"]))
    return sim.run(ls, grid, rule, jnp.asarray(w0), NSTEPS)


def _first(mask):
    idx = np.flatnonzero(mask)
    return int(idx[0]) if idx.size else -1


def _sim_one_step(ctx, values, sim, stmt):
    traj = _ste_run(ctx, values, sim)
    return {"inward": float(traj.inward[0])}


def _sim_latent(ctx, values, sim, stmt):
    traj = _ste_run(ctx, values, sim)
    rho_w, rho_q = np.asarray(traj.rho_w), np.asarray(traj.rho_q)
    r_g, dp, sigma = values["r_b"] + values["gamma"], values["dp"], values["sigma"]
    tau = _first((rho_q <= r_g) | (rho_w < dp + sigma))
    censored = tau < 0
    tau = NSTEPS if censored else tau
    upto = min(tau, NSTEPS - 1)
    dec = rho_w[:upto] - rho_w[1:upto + 1]
    min_dec = float(np.min(dec)) if dec.size else 1e300  # no step before tau: vacuous
    return {"tau": float(tau), "censored": float(censored), "min_dec": min_dec}


def _sim_recovery(ctx, values, sim, stmt):
    traj = _ste_run(ctx, values, sim)
    rho_q = np.asarray(traj.rho_q)
    t_hit = _first(rho_q <= values["r_b"] + values["gamma"])
    censored = t_hit < 0
    return {"T": float(NSTEPS if censored else t_hit), "censored": float(censored)}


# --------------------------------------------------------------------------------------
# S6: the 2-cycle
# --------------------------------------------------------------------------------------
_CYCLE = st.fixed_dictionaries({
    "theta": st.floats(0.05, 1.5), "u_rb": _U, "u_alpha": _U,
    "breach": st.sampled_from(("none", "rb", "alpha")),
    "eta": st.sampled_from(ETAS),
    "mu": st.sampled_from((0.0, 0.0, 0.1, 0.5)),
})


def _cycle_prepare(case, stmt):
    th = case["theta"]
    cs, sn = np.cos(th), np.sin(th)
    rb = _split(case["u_rb"], case["breach"] == "rb", (0.05, 0.95), (1.0, 1.3)) * cs / 2  # cos > 2 r_b inside
    eta = case["eta"]
    amax = min(2 / cs, 1 / sn)
    gap = cs / 2 - rb
    afrac = _split(case["u_alpha"], case["breach"] == "alpha", (0.05, 0.95), (1.05, 3.0))
    mu = case.get("mu", 0.0)  # cases saved before mu was drawn replay with mu = 0
    # alpha = eta phi'(cos t / 2) = eta (mu cos t / 2 + kappa gap): kappa sets alpha at the drawn fraction
    kappa = max((afrac * amax / eta - mu * cs / 2) / gap, 1e-3) if gap > 0 else 5.0
    alpha = eta * (mu * cs / 2 + kappa * gap)
    values = {"theta": th, "r_b": rb, "eta": eta, "kappa": kappa, "mu": mu, "alpha": alpha}
    return None, values


def _cycle_simulate(ctx, values, sim, stmt):
    th, alpha = values["theta"], values["alpha"]
    wall = walls.quadratic_wall(values["r_b"], values["kappa"], values["mu"])
    ls = geometry.rotated_river_2d(th, wall=wall, center=[-np.cos(th) / 2], river_loss=0.0)
    grid = quantizers.uniform_grid(np.ones(2), offset=np.zeros(2))
    w0 = np.array([-alpha * np.sin(th) / 2, -0.5 + alpha * np.cos(th) / 2])
    rule = sim.rule(float(values["eta"]))
    traj = sim.run(ls, grid, rule, jnp.asarray(w0), NSTEPS, record_path=True)
    qs = np.asarray(traj.q_path)
    period2 = bool(np.all(qs[2:] == qs[:-2]) and np.any(qs[0] != qs[1]))
    never = bool(int(traj.hit_time) < 0)
    return {"never_hit": float(never), "period2": float(period2)}


SCENARIOS = {
    "rtn_law": Scenario(_rtn_cases(((3, 1), (4, 1), (5, 1))), _rtn_prepare_seeded, _rtn_simulate),
    "rtn_worst": Scenario(_rtn_cases(((2, 1), (3, 1), (3, 2), (4, 2), (6, 3))), _rtn_prepare_seeded,
                          _rtn_simulate),
    "rtn_gauss": Scenario(_rtn_cases(((6, 1), (8, 1), (10, 1))), _rtn_prepare_seeded, _rtn_simulate),
    "hessian_blind": Scenario(_BLIND, _blind_prepare, _blind_simulate),
    "corner_exists": Scenario(_CORNER, _corner_prepare, _corner_simulate),
    "ste_one_step": Scenario(_STE, lambda c, s: _ste_prepare(c, s, "one_step"), _sim_one_step),
    "ste_latent": Scenario(_STE, lambda c, s: _ste_prepare(c, s, "latent"), _sim_latent),
    "ste_recovery": Scenario(_STE, lambda c, s: _ste_prepare(c, s, "recovery"), _sim_recovery),
    "two_cycle": Scenario(_CYCLE, _cycle_prepare, _cycle_simulate),
}
