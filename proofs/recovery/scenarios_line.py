r"""Scenarios of the k = 1 statements where PTQ fails (K1R, K1, K1P, K1D, A1, A2; R1 in
:mod:`proofs.recovery.scenarios_r1`).

A case draws a straight river (``random_river``, k = 1, or k = 2 for A1), a grid with per-coordinate
steps and offsets, a trained point on the river and the basin radius as a fraction of that point's RTN
offset, so the start is RTN-failed (``rho(Q(w*)) > r_b``, hence ``delta_perp > r_b``). The 1-D
reduction (:func:`landscape.certify.line_analysis`) gives the geometric inputs; the wall's slope is set
against them so that the step-size assumption holds in most cases and fails (``breach``) in about one
in five. The engine (float64) measures ``T`` and ``T_settle``; a third of the cases of K1, K1P, K1D, A1
and A2 are dyadic (exact binary inputs with rounding ties), measured by the exact rational orbit
(:mod:`proofs.recovery.dyadic_share`).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
from hypothesis import strategies as st

import landscape as L
from landscape import testing
from landscape.certify import line_analysis
from proofs.core import Scenario, log_uniform, wall_of
from proofs.recovery import dyadic_share as dy

__all__ = ["LINE_SCENARIOS", "inverse_time"]

NSTEPS = 400
ETAS = (0.1, 0.5)
FLAT = {"quadratic": 1.0, "power": 1.0, "exp": 1.0, "softplus": 0.0}
_U = st.floats(0.0, 1.0)


def inverse_time(init_value, t_c):
    """The schedule eta_t = init_value / (1 + t / t_c) (eta_t -> 0, sum eta_t = inf)."""
    return lambda count: init_value / (1.0 + count / t_c)


def _split(u, out, inside, outside):
    lo, hi = outside if out else inside
    return lo + (hi - lo) * u


_BASE = {
    **testing.case_fields(((2, 1), (4, 1)), step=(0.1, 1.0), size=8),
    "u_rb": st.floats(0.05, 0.95),
    **testing.wall_fields(mu=(0.0, 0.1)),
    "drift": st.sampled_from((0.0, 0.0, 0.3)),
    "eta": st.sampled_from(ETAS),
    "u_kappa": _U,
    "breach": st.sampled_from(("none", "none", "none", "none", "step")),
}


def river_start(case, k=1):
    """(normals, river_dir, grid, trained point w* on the river) of a case."""
    ls = testing.case_landscape(case, k=k)
    n, u = np.asarray(ls.normals, np.float64), np.asarray(ls.river_dir, np.float64)
    return n, u, testing.case_grid(case), testing.case_start(case, ls)[0]


def build(n, u, grid, wall, drift, center=None):
    """The landscape of a case (float64 inside enable_x64)."""
    return L.straight_river(n, u, wall=wall, river_loss=float(drift), center=center)


def _start(case, k=1, small_rb=False, reach=0.7):
    """(case, normals, u, grid, start, r_b, rho(Q(w*)), delta_perp, c0): :func:`_common`, or for a dyadic
    case :func:`proofs.recovery.dyadic_share.dyadic_start` (its wall one that the exact judge carries)."""
    if case.get("dyadic"):
        return ({**case, "wall": dy.exact_kind(case["wall"])}, *dy.dyadic_start(case, k, small_rb, reach))
    return (case, *_common(case, k, small_rb, reach), np.zeros(k))


def _unit_slope(kind, rb, r):
    """phi'(r) of the wall with kappa = 1, mu = 0 (phi' = mu r + kappa psi_1'(r) for every wall here)."""
    return float(wall_of(kind, rb, 1.0, 0.0).deriv(r))


def _kappa_for(case, rb, targets, radii):
    """The largest kappa with eta (mu r + kappa psi_1'(r)) <= target for all (target, r), times a fraction."""
    eta, mu = case["eta"], case["mu"]
    caps = []
    for tgt, r in zip(targets, radii, strict=True):
        unit = _unit_slope(case["wall"], rb, r)
        if unit > 0:
            caps.append((tgt / eta - mu * r) / unit)
    cap = min(caps) if caps else 1.0
    frac = _split(case["u_kappa"], case["breach"] == "step", (0.05, 0.95), (1.02, 2.0))
    return float(np.clip(frac * cap, 1e-3, 1e4)) if cap > 0 else 1e-3


def _common(case, k=1, small_rb=False, reach=0.7):
    """(normals, u, grid, RTN-failed start, r_b, rho(Q(w*)), delta_perp) of a case.

    r_b lies between max_j f_j / 2 and delta_perp (so I is rarely empty and RTN can fail), or below
    max_j f_j / 2 with ``small_rb`` (K1R looks for empty bands); the start is the first of 64 trained
    points along the river (from the drawn one) whose RTN point is outside the basin.
    """
    n, u, grid, w = river_start(case, k)
    dp = float(L.delta_perp(grid, n).value)
    half_flip = 0.5 * float(np.max(L.flip_size(grid, n)))
    if small_rb or half_flip >= dp:
        rb = max(min(half_flip, dp) * case["u_rb"], 1e-6)
    else:
        rb = half_flip + (dp - half_flip) * reach * case["u_rb"]
    cand = w[None] + (0.618 * case["step"] * np.arange(64))[:, None] * u[None]
    gs, go = (np.broadcast_to(np.asarray(x, np.float64), cand.shape[1:]) for x in (grid.step, grid.offset))
    off = (go + gs * np.round((cand - go) / gs)) @ n.T  # RTN of the candidates (UniformGrid's formula)
    rho = np.linalg.norm(off, axis=1)
    pick = int(np.argmax(rho > rb)) if np.any(rho > rb) else 0
    return n, u, grid, cand[pick], rb, float(rho[pick]), dp


def _values(case, n, grid, rb, rho_q, dp, kappa, an=None):
    vals = {
        "k": float(n.shape[0]),
        "d": float(n.shape[1]),
        "eta": case["eta"],
        "kappa": kappa,
        "mu": case["mu"],
        "r_b": rb,
        "rho_q": rho_q,
        "dp": dp,
        "drift": case["drift"],
        "flat_bottom": FLAT[case["wall"]],
        "max_f": float(np.max(L.flip_size(grid, n))),
        "dyadic": float(bool(case.get("dyadic"))),
    }
    if an is not None:
        vals.update(
            {
                "I_len": float(an["i_len"][0]) if an["nonempty"][0] else 0.0,
                "D_I": float(an["dist"][0]),
                "J_int": float(an["integral"][0]),
                "slack": float(an["slack"][0]),
                "slack_half": float(an["slack_half"][0]),
                "band_empty": float(bool(an["far"][0])),
            }
        )
    return vals


def _prepare_k1(case, stmt, mode):
    case, n, u, grid, w, rb, rho_q, dp, c0 = _start(case, small_rb=mode == "broad")
    unit = build(n, u, grid, wall_of(case["wall"], rb, 1.0, 0.0), 0.0, c0)
    an = line_analysis(unit, grid, w[None], case["eta"], pieces=True, orbit=False)
    y0 = abs(float(an["y0"][0]))
    if mode == "uniform":  # eta phi'(|y0|) = frac |I|
        kappa = _kappa_for(case, rb, [max(float(an["i_len"][0]), 1e-12)], [y0])
    elif mode == "piecewise":  # every piece's step = frac room
        on = an["on"][0]
        kappa = _kappa_for(
            case, rb, list(np.maximum(an["room"][0][on], 1e-12)), list(np.abs(an["values"][0][on]))
        )
    else:
        kappa = 0.5 + 19.5 * case["u_kappa"]
    wall = wall_of(case["wall"], rb, kappa, case["mu"])
    ls = build(n, u, grid, wall, case["drift"], c0)
    an = line_analysis(ls, grid, w[None], case["eta"], pieces=True, orbit=False)
    vals = _values(case, n, grid, rb, rho_q, dp, kappa, an)
    vals["phi_0"] = float(wall.deriv(y0))
    right = an["y0"][0] > 0
    g_edge = an["g_right"][0] if right else an["g_left"][0]
    vals["phi_edge"] = float(wall.deriv(abs(float(g_edge)))) if an["nonempty"][0] else 0.0
    return (ls, grid, w, an), vals


def _run(ctx, vals, sim, rule=None):
    ls, grid, w = ctx[:3]
    rule = sim.rule(float(vals["eta"])) if rule is None else rule
    return sim.run(ls, grid, rule, jnp.asarray(w), NSTEPS)


def _float_tie(grid, w) -> bool:
    """Whether a coordinate of w lies within float64 resolution of a rounding tie (the float quotient
    ``(w_j - o_j) / s_j`` is within 1e-12 of a half-integer): there the float run may round the other way
    from exact arithmetic (a start 1e-303 from a tie rounds as if on it), so a generic case cannot be
    judged by it; ties are attacked by the dyadic share, judged by the exact orbit."""
    w = np.asarray(w, np.float64)
    x = (w - np.asarray(grid.offset, np.float64)) / np.asarray(grid.step, np.float64)
    return bool(np.any(np.abs(np.abs(x - np.floor(x)) - 0.5) < 1e-12))


def _sim_hit(ctx, vals, sim, stmt):
    if vals.get("dyadic"):  # judged by the exact rational orbit
        return dy.exact_hit(dy.judge_case(*ctx[:3], vals["eta"], vals["drift"]), NSTEPS)
    if _float_tie(ctx[1], ctx[2]):
        return {"float_unresolved": 1.0}
    tr = _run(ctx, vals, sim)
    t = int(tr.hit_time)
    return {
        "T": float(NSTEPS if t < 0 else t),
        "censored": float(t < 0),
        "T_settle": float(tr.settle_time),
        "never_hit": float(t < 0),
    }  # a diverged run never enters the basin either


def _sim_never(ctx, vals, sim, stmt):
    out = _sim_hit(ctx, vals, sim, stmt)
    out.pop("censored", None)  # never entering is what K1R claims: not a censored measurement
    return out


def _sim_settle(ctx, vals, sim, stmt):
    if vals.get("dyadic"):  # judged by the exact rational orbit
        return dy.exact_settled(dy.judge_case(*ctx[:3], vals["eta"], vals["drift"]), NSTEPS)
    out = _sim_hit(ctx, vals, sim, stmt)
    if out.get("censored"):
        out["T"] = -1.0
    return out


# --------------------------------------------------------------------------------------
# K1D: decaying steps
# --------------------------------------------------------------------------------------
_DECAY = st.fixed_dictionaries(
    {
        **_BASE,
        "shape": st.sampled_from(((2, 1), (4, 1))),
        "wall": st.sampled_from(("quadratic", "softplus", "quadratic", "exp")),
        "drift": st.just(0.0),
        "t_c": log_uniform(5.0, 200.0),
        "u_frac": st.floats(-2.5, 1.5),
        "dyadic": dy.DYADIC_SHARE,
    }
)


def _prepare_decay(case, stmt):
    case, n, u, grid, w, rb, rho_q, dp, c0 = _start(case)
    unit = build(n, u, grid, wall_of(case["wall"], rb, 1.0, 0.0), 0.0, c0)
    an = line_analysis(unit, grid, w[None], case["eta"], pieces=True, orbit=False)
    y0 = abs(float(an["y0"][0]))
    eta0, tc, mu = case["eta"], case["t_c"], case["mu"]
    if case.get("dyadic"):
        tc = max(float(np.round(tc * 8)) / 8, 5.0)  # a short binary fraction: the exact schedule stays small
    i_len = float(an["i_len"][0]) if an["nonempty"][0] else 0.0  # an empty I: the case is inapplicable
    target = 10 ** case["u_frac"] * max(i_len, 1e-9)  # eta0 phi'(|y0|), often > |I|: t0 > 0
    kappa = float(
        np.clip((target / eta0 - mu * y0) / max(_unit_slope(case["wall"], rb, y0), 1e-12), 1e-3, 1e3)
    )
    wall = wall_of(case["wall"], rb, kappa, mu)
    ls = build(n, u, grid, wall, 0.0, c0)
    an = line_analysis(ls, grid, w[None], eta0, pieces=True, orbit=False)
    # phi'(r) <= L r for r >= r_b: quadratic L = mu + kappa, softplus L = mu + kappa / r_b; exp: none (L = 0)
    lin = {"quadratic": mu + kappa, "softplus": mu + kappa / rb}.get(case["wall"], 0.0)
    t1 = max(0, int(np.ceil(tc * (eta0 * lin - 1))))
    etas = eta0 / (1 + np.arange(t1) / tc)
    x_abs = abs(float(n[0] @ w - c0[0]))
    r_trap = max((x_abs + dp) * float(np.prod(1 + etas * lin)) - dp, 3 * dp)
    vals = _values(case, n, grid, rb, rho_q, dp, kappa, an)
    edges = [abs(float(an["g_right"][0])), abs(float(an["g_left"][0]))]
    vals.update(
        {
            "eta0": eta0,
            "t_c": tc,
            "L_lin": lin,
            "R_trap": r_trap,
            "phi_R": float(wall.deriv(r_trap + dp)),
            "phi_0": float(wall.deriv(y0)),
            "m_edge": min(float(wall.deriv(e)) for e in edges) if an["nonempty"][0] else 0.0,
        }
    )
    return (ls, grid, w, an), vals


def _sim_decay(ctx, vals, sim, stmt):
    if vals.get("dyadic"):  # judged by the exact rational orbit, on the exact schedule
        jc = dy.judge_case(*ctx[:3], vals["eta0"])
        return dy.exact_hit(jc, NSTEPS, dy.inverse_time_exact(vals["eta0"], vals["t_c"]))
    rule = L.ste(
        optimizer=L.sgd(L.schedule(inverse_time, init_value=float(vals["eta0"]), t_c=float(vals["t_c"])))
    )
    tr = _run(ctx, vals, sim, rule)
    t = int(tr.hit_time)
    return {"T": float(NSTEPS if t < 0 else t), "censored": float(t < 0)}


# --------------------------------------------------------------------------------------
# A1 (any k) and A2 (k = 1, mu > 0): absorption
# --------------------------------------------------------------------------------------
_ABS = st.fixed_dictionaries(
    {
        **_BASE,
        "shape": st.sampled_from(((2, 1), (3, 2), (4, 1))),
        "mu": st.sampled_from((0.0, 0.0, 0.1, 1.0)),
        "dyadic": dy.DYADIC_SHARE,
    }
)
_ABS1 = st.fixed_dictionaries(
    {
        **_BASE,
        "wall": st.sampled_from(("quadratic", "power", "exp")),
        "drift": st.just(0.0),
        "u_mu": _U,
        "x_off": st.floats(-3.0, 3.0),
        "dyadic": dy.DYADIC_SHARE,
    }
)


def _prepare_abs(case, stmt):
    k = case["shape"][1]
    case, n, u, grid, w, rb, rho_q, dp, c0 = _start(case, k)
    kappa = 0.5 + 19.5 * case["u_kappa"]
    ls = build(n, u, grid, wall_of(case["wall"], rb, kappa, case["mu"]), case["drift"], c0)
    return (ls, grid, w), _values(case, n, grid, rb, rho_q, dp, kappa)


def _room_abs(an):
    v, st_, en = an["values"][0], an["starts"][0], an["ends"][0]
    ka, kb = int(an["ka"][0]), int(an["kb"][0])
    a, b = float(an["a"][0]), float(an["b"][0])
    band = np.arange(ka, kb + 1)
    pos, neg = band[v[band] > 0], band[v[band] < 0]
    room_p = st_[pos[0]] - a if pos.size else np.inf
    room_n = b - en[neg[-1]] if neg.size else np.inf
    return float(min(room_p, room_n))


def _prepare_abs1(case, stmt):
    case, n, u, grid, w, rb, rho_q, dp, c0 = _start(case, reach=0.98)
    shift = case["x_off"] * dp
    if case.get("dyadic"):
        shift = float(np.round(shift * 64)) / 64  # keeps the start an exact binary number
    w = w + shift * n[0]  # A2 speaks of any start: off the river, so that T > 0
    rho_q = float(abs(n[0] @ np.asarray(grid.quantize(jnp.asarray(w))) - c0[0]))
    kappa = 0.5 + 19.5 * case["u_kappa"]
    unit = build(n, u, grid, wall_of(case["wall"], rb, kappa, 0.0), 0.0, c0)
    an = line_analysis(unit, grid, w[None], case["eta"], pieces=True, orbit=False)
    room = _room_abs(an) if an["nonempty"][0] else 0.0
    frac = _split(case["u_mu"], case["breach"] == "step", (0.05, 0.95), (1.1, 4.0))
    mu = (
        float(np.clip(frac * room / (case["eta"] * rb), 1e-4, 50.0))
        if np.isfinite(room) and room > 0
        else 0.5
    )
    ls = build(n, u, grid, wall_of(case["wall"], rb, kappa, mu), 0.0, c0)
    vals = _values({**case, "mu": mu}, n, grid, rb, rho_q, dp, kappa)
    vals["room_abs"] = room if np.isfinite(room) else 1e300
    return (ls, grid, w), vals


_K1_CASES = st.fixed_dictionaries({**_BASE, "drift": st.just(0.0), "dyadic": dy.DYADIC_SHARE})
LINE_SCENARIOS = {
    "line_empty": Scenario(
        st.fixed_dictionaries({**_BASE, "u_rb": st.floats(0.05, 0.95)}),
        lambda c, s: _prepare_k1(c, s, "broad"),
        _sim_never,
    ),
    "k1_uniform": Scenario(_K1_CASES, lambda c, s: _prepare_k1(c, s, "uniform"), _sim_hit),
    "k1_piecewise": Scenario(_K1_CASES, lambda c, s: _prepare_k1(c, s, "piecewise"), _sim_hit),
    "k1_decaying": Scenario(_DECAY, _prepare_decay, _sim_decay),
    "absorption": Scenario(_ABS, _prepare_abs, _sim_settle),
    "absorption_k1": Scenario(_ABS1, _prepare_abs1, _sim_settle),
}
_ = optax  # schedules are optax-compatible callables
