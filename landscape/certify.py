r"""Recovery certificates: does STE bring ``Q(w_t)`` into the basin, and by when? Decided from the theorems.

:func:`certify_recovery` answers, for each start :math:`w_0`, before any d-dimensional simulation:

* ``"certified"`` with ``t_bound``: :math:`T \le` ``t_bound`` for the exact (real-arithmetic) STE dynamics;
* ``"refuted"``: :math:`q_t` never enters the basin (``reason`` says why: the reachable set has no
  in-band cell, or an exact cycle verified in rational arithmetic);
* ``"unknown"``: no theorem applies.

What is covered (``docs/theory.md``): a straight isotropic river, an unbounded uniform grid, one of the
four walls, STE with plain SGD at a constant learning rate.

* **k = 1, no drift** (or a drift that touches no sharp coordinate, theorem D0): the exact 1-D reduction
  (:mod:`landscape.reduction`): the in-band interval ``I`` empty ⇒ refuted (K1R); the no-overshoot
  conditions ⇒ certified with the bound ``T_int`` (K1: ``eta phi'(|y_0|) < |I|``; K1P: piece by piece);
  otherwise the orbit of the scalar map on the pieces decides (hit: certified with the exact ``T``;
  a repeated state, re-checked in rational arithmetic: refuted; else unknown).
* **any k** with ``2 delta_perp < r_b`` and S5's step-size condition (drift allowed): certified with S5's
  ``T_max``.
* **k >= 2, no drift**: the slice ``w0 + row(N)`` meets no in-band cell ⇒ refuted (K2R,
  :mod:`landscape.slices`). No sufficient condition for k >= 2 from a PTQ-failed start is proved:
  ``"unknown"``.
* anything else (k = 1 with a drift that moves the residual, other rules or quantizers): ``"unknown"``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape import reduction, slices
from landscape._checks import LandscapeError

__all__ = ["RecoveryCertificate", "certify_recovery", "line_analysis", "VERDICTS"]

VERDICTS = ("certified", "refuted", "unknown")
TOL = 1e-9  # relative slack of every inequality the certificate tests (conservative side)


class RecoveryCertificate(NamedTuple):
    """Per start: verdict ("certified" | "refuted" | "unknown"), t_bound (-1 unless certified), theorem, reason."""

    verdict: np.ndarray
    t_bound: np.ndarray
    theorem: np.ndarray
    reason: np.ndarray

    def counts(self) -> dict:
        """How many starts got each verdict."""
        return {v: int(np.sum(np.asarray(self.verdict) == v)) for v in VERDICTS}


# --------------------------------------------------------------------------------------
# what is covered
# --------------------------------------------------------------------------------------
def _learning_rate(rule):
    from landscape.qat import STE, BinaryConnect
    from landscape.qat.optim import Optimizer

    if type(rule) not in (STE, BinaryConnect):
        return None, f"rule {type(rule).__name__}: the theorems cover STE (and BinaryConnect) only"
    opt = rule.optimizer
    import optax

    if not isinstance(opt, Optimizer) or opt.factory is not optax.sgd:
        return None, "optimizer: the theorems cover plain SGD"
    extra = {k: v for k, v in opt.hyper if k != "learning_rate" and v not in (None, 0.0, False)}
    lr = opt.get("learning_rate")
    if extra or not isinstance(lr, float):
        return None, "optimizer: the theorems cover plain SGD with a constant learning rate"
    return lr, ""


def _landscape_case(landscape, quantizer):
    """(normals, c0, step, offset, drift slope, river_dir) of a covered case, or a reason it is not covered."""
    from landscape import walls
    from landscape.geometry import Landscape
    from landscape.quantizers.uniform import UniformGrid
    from landscape.river import ConstantCenter, LinearDrift, ZeroDrift

    if not isinstance(landscape, Landscape) or not isinstance(landscape.center, ConstantCenter):
        return None, "landscape: the theorems cover straight rivers (constant centre)"
    if not np.all(np.asarray(landscape.aniso) == 1.0):
        return None, "landscape: the theorems cover isotropic basins"
    if not isinstance(landscape.wall, (walls.QuadraticWall, walls.SoftplusWall, walls.PowerWall, walls.ExpWall)):
        return None, "wall: the theorems cover the quadratic, softplus, power and exp walls"
    if isinstance(landscape.river_loss, ZeroDrift):
        drift = 0.0
    elif isinstance(landscape.river_loss, LinearDrift):
        drift = float(np.asarray(landscape.river_loss.rate))
    else:
        return None, "river loss: the theorems cover no drift or a linear drift"
    if not isinstance(quantizer, UniformGrid) or quantizer.bounded:
        return None, "quantizer: the theorems cover unbounded uniform grids"
    n = np.asarray(landscape.normals, np.float64)
    d = n.shape[1]
    quantizer.check_dim(d, "w0")
    step = np.broadcast_to(np.asarray(quantizer.step, np.float64).reshape(-1), (d,)).copy()
    off = np.broadcast_to(np.asarray(quantizer.offset, np.float64).reshape(-1), (d,)).copy()
    c0 = np.asarray(landscape.center.c0, np.float64).reshape(-1)
    return (n, c0, step, off, drift, np.asarray(landscape.river_dir, np.float64)), ""


def _starts(w0, d):
    w = np.asarray(w0, np.float64)
    if w.ndim not in (1, 2) or w.shape[-1] != d:
        raise LandscapeError(f"w0 must have shape ({d},) or (B, {d}); got {w.shape}.")
    if not np.all(np.isfinite(w)):
        raise LandscapeError("w0 must be finite; it holds NaN or inf.")
    return w.reshape(-1, d), w.ndim == 1


# --------------------------------------------------------------------------------------
# k = 1: the 1-D reduction
# --------------------------------------------------------------------------------------
def _k1_theorems(red, moves, tol):
    """The quantities of theorems K1 and K1P per start, from the pieces (vectorised, jittable).

    For a start right of I (y0 > r_b) the pieces kb < k <= k0 move the latent left; for a start left of I
    the pieces k0 <= k < ka move it right. ``room`` is the distance from a piece's near end to the far end
    of I (a step shorter than it cannot jump over I); ``integral`` is int dx / (eta phi'(g(x))) from the
    start to I (the T bound of K1/K1P is 1 + floor(integral)).
    """
    z, v = red.z, red.values
    p1 = v.shape[-1]
    rows = jnp.arange(v.shape[0])
    idx = jnp.arange(p1)[None, :]
    starts = jnp.minimum(jnp.concatenate([red.lam_lo[:, None], z], 1), red.lam_hi[:, None])
    ends = jnp.minimum(jnp.concatenate([z, red.lam_hi[:, None]], 1), red.lam_hi[:, None])
    k0, ka, kb = red.k0[:, None], red.ka[:, None], red.kb[:, None]
    right = red.y0 > 0
    a, b = red.a[:, None], red.b[:, None]
    size = jnp.abs(moves)
    on = jnp.where(right[:, None], (idx > kb) & (idx <= k0), (idx >= k0) & (idx < ka))
    room = jnp.where(right[:, None], starts - a, b - ends)
    slack = jnp.min(jnp.where(on, room - size, jnp.inf), 1)  # > 0: no step can jump over I
    slack_half = jnp.min(jnp.where(on, room - size / 2, jnp.inf), 1)
    positive = jnp.all(jnp.where(on, size > 0, True), 1)
    length = jnp.where(right[:, None], jnp.where(idx == k0, 0.0 - starts, ends - starts),
                       jnp.where(idx == k0, ends - 0.0, ends - starts))
    integral = jnp.sum(jnp.where(on, length / jnp.where(size > 0, size, 1.0), 0.0), 1)
    s0 = size[rows, red.k0]
    edge = jnp.where(right, red.kb + 1, red.ka - 1)
    s_edge = size[rows, jnp.clip(edge, 0, p1 - 1)]
    dist = jnp.where(right, 0.0 - red.b, red.a - 0.0)
    i_len = red.b - red.a
    k1p = positive & (slack > tol)
    k1 = positive & (s0 < i_len - tol) & k1p
    t_int = 1 + jnp.floor(integral * (1 + 1e-12) + 1e-9)
    t_k1 = 1 + jnp.floor(dist / jnp.where(s_edge > 0, s_edge, 1.0) * (1 + 1e-12) + 1e-9)
    g_right = v[rows, jnp.clip(red.kb + 1, 0, p1 - 1)]  # the first value beyond I on each side
    g_left = v[rows, jnp.clip(red.ka - 1, 0, p1 - 1)]
    return dict(g_right=g_right, g_left=g_left, k1=k1, k1p=k1p, t_int=t_int.astype(jnp.int64), t_k1=t_k1.astype(jnp.int64), slack=slack,
                slack_half=slack_half, integral=integral, s0=s0, s_edge=s_edge, dist=dist, i_len=i_len,
                on=on, room=room, size=size, starts=starts, ends=ends)


def _k1_analysis(n, c0, step, off, wall, eta, w, budget, pieces=False):
    """Everything the k = 1 theorems need, per start (numpy float64 arrays); ``pieces``: also per piece."""
    b_n = w.shape[0]
    nb = np.broadcast_to(n[0], (b_n, n.shape[1]))
    rb = float(np.asarray(wall.basin_radius))
    dp = 0.5 * float(np.sum(np.abs(n[0]) * step))
    scale = rb + dp
    with jax.enable_x64(True):
        x_far = max(float(np.max(np.abs(w @ n[0] - c0[0]))), rb + dp) + 2 * dp
        s_max = eta * float(wall.deriv(jnp.asarray(x_far)))
        extra = min(2.0 * s_max + rb, 4.0 * (rb + dp))  # orbits that go farther: 'left the window'
        args = (jnp.asarray(nb), jnp.full((b_n,), c0[0]), jnp.asarray(w), jnp.asarray(np.broadcast_to(step, w.shape)))
        lo, hi = reduction.line_window(*args, rb, extra)
        m = reduction.max_breaks(nb, np.broadcast_to(step, w.shape), lo, hi)
        tol = jnp.full((b_n,), TOL * scale)
        r_cert = jnp.full((b_n,), rb - TOL * scale)
        red = reduction.line_pieces(*args, jnp.asarray(np.broadcast_to(off, w.shape)), r_cert, lo, hi, m)
        vals = red.values
        moves = eta * wall.deriv(jnp.abs(vals)) * jnp.sign(vals)
        th = _k1_theorems(red, moves, tol)
        if not pieces:
            th = {k: v for k, v in th.items() if k not in ("on", "room", "size", "starts", "ends")}
        else:
            th["values"] = vals
        far = jnp.min(jnp.abs(vals), 1) > rb + TOL * scale  # robustly empty I
        orbit = reduction.line_orbit(red, moves, r_cert, budget, tol)
        out = {k: np.asarray(x) for k, x in dict(
            **th, far=far, nonempty=red.nonempty, clipped=red.clipped, a=red.a, b=red.b, ka=red.ka, kb=red.kb,
            y0=red.y0, code=orbit.code, t_orb=orbit.hit_time).items()}
    out["dp"], out["scale"] = dp, scale
    return out


def line_analysis(landscape, quantizer, w0, learning_rate, *, budget: int = 4096, pieces: bool = False) -> dict:
    """The 1-D reduction's numbers for k = 1 starts w0 ((B, d)): I, |I|, the K1/K1P quantities, the orbit.

    Keys (arrays over starts): ``y0`` (RTN offset), ``a``, ``b``, ``i_len`` (|I|), ``nonempty``, ``far``
    (robustly empty I), ``dist`` (start to I), ``s0`` (eta phi'(|y0|)), ``s_edge`` (the step on the
    piece next to I), ``slack`` (min over the pieces of room - step: > 0 is K1P), ``integral``,
    ``t_int``, ``t_k1``, ``k1``, ``k1p``, ``code``/``t_orb`` (the orbit, :func:`landscape.reduction.line_orbit`);
    with ``pieces``: per-piece ``values``, ``starts``, ``ends``, ``on``, ``room``, ``size``; also ``ka``/``kb``.
    """
    case, why = _landscape_case(landscape, quantizer)
    if case is None:
        raise LandscapeError(why)
    n, c0, step, off, _, _ = case
    if n.shape[0] != 1:
        raise LandscapeError(f"line_analysis needs k = 1; the landscape has k = {n.shape[0]}.")
    w, _ = _starts(np.atleast_2d(w0), n.shape[1])
    return _k1_analysis(n, c0, step, off, landscape.wall, float(learning_rate), w, budget, pieces)


def _k1_batch(n, c0, step, off, wall, eta, w, budget, exact_cycles, max_exact):
    b_n = w.shape[0]
    rb = float(np.asarray(wall.basin_radius))
    out = _k1_analysis(n, c0, step, off, wall, eta, w, budget)
    scale = out["scale"]
    verdict = np.full(b_n, "unknown", dtype=object)
    theorem = np.full(b_n, "", dtype=object)
    reason = np.full(b_n, "no theorem applies", dtype=object)
    t_bound = np.full(b_n, -1, np.int64)
    inband0 = np.abs(out["y0"]) <= rb - TOL * scale
    verdict[inband0], t_bound[inband0], theorem[inband0] = "certified", 0, "T0"
    reason[inband0] = "Q(w0) is in the basin"
    todo = ~inband0
    emp = todo & out["far"]
    verdict[emp], theorem[emp] = "refuted", "K1R"
    reason[emp] = "empty reachable set: the line w0 + lambda n meets no in-band cell (K1R)"
    todo &= ~emp & out["nonempty"] & ~out["clipped"]
    for key, name, text in (("k1", "K1", "eta phi'(|y0|) < |I| (K1)"),
                            ("k1p", "K1P", "no step can jump over I (K1P)")):
        sel = todo & out[key]
        verdict[sel], theorem[sel], t_bound[sel] = "certified", name, out["t_int"][sel]
        reason[sel] = text + ": T <= 1 + int_I^x0 dx / (eta phi'(g(x)))"
        todo &= ~sel
    hit = todo & (out["code"] == 0)
    verdict[hit], theorem[hit], t_bound[hit] = "certified", "R1", out["t_orb"][hit]
    reason[hit] = "orbit of the exact 1-D reduction (R1) enters I at T"
    todo &= ~hit
    reason[todo & (out["code"] == 2)] = "the 1-D orbit left the window"
    reason[todo & (out["code"] == 3)] = "the 1-D orbit passed within float tolerance of a cell boundary"
    reason[todo & (out["code"] == 1)] = f"the 1-D orbit did not enter I within {budget} steps"
    cand = np.flatnonzero(todo & np.isin(out["code"], (1, 4)))
    slope = reduction.rational_slope(wall) if exact_cycles else None
    if slope is not None:
        for i in cand[:max_exact]:
            kind, info = reduction.exact_orbit(n[0], c0[0], w[i], step, off, rb, eta, slope, 4 * budget)
            if kind == "cycle":
                verdict[i], theorem[i] = "refuted", "cycle"
                reason[i] = (f"exact cycle of period {info[1]} from step {info[0]}, verified in rational "
                             "arithmetic: q_t never enters the basin")
            elif kind == "hit":
                verdict[i], theorem[i], t_bound[i] = "certified", "R1", info
                reason[i] = "orbit of the exact 1-D reduction, in rational arithmetic, enters I at T"
    elif cand.size:
        reason[cand[out["code"][cand] == 4]] = "float 2-cycle of the 1-D orbit (wall slope not rational: unverified)"
    return verdict, t_bound, theorem, reason


# --------------------------------------------------------------------------------------
# any k: S5 (2 delta_perp < r_b); no drift: the slice (K2R)
# --------------------------------------------------------------------------------------
def _s5_bound(n, c0, step, wall, eta, w, dp):
    """S5's T_max per start where its assumptions hold (else -1); valid with or without drift (gamma = 0)."""
    rb = float(np.asarray(wall.basin_radius))
    with jax.enable_x64(True):
        m = float(wall.wall_slope(jnp.asarray(rb)))
        rho0 = np.linalg.norm(w @ n.T - c0, axis=1)
        phi_max = np.asarray(wall.deriv(jnp.asarray(rho0 + dp)))
    ok = (2 * dp < rb * (1 - TOL)) & (m > 0)
    if not ok:
        return np.full(w.shape[0], -1, np.int64)
    ok_step = eta * phi_max <= np.sqrt(rb * (rb - 2 * dp)) * (1 - TOL)
    c = np.sqrt(1 - dp**2 / (rb - dp) ** 2)
    beta = eta * m * c / 2
    t_max = np.where(rho0 >= rb - dp, np.floor((rho0 - (rb - dp)) / beta * (1 + 1e-12) + 1e-9) + 1, 0)
    return np.where(ok_step, t_max, -1).astype(np.int64)


def _k2_batch(n, c0, step, off, wall, eta, w, drift):
    b_n = w.shape[0]
    rb = float(np.asarray(wall.basin_radius))
    verdict = np.full(b_n, "unknown", dtype=object)
    theorem = np.full(b_n, "", dtype=object)
    reason = np.full(b_n, "k >= 2 from a start with 2 delta_perp >= r_b: no sufficient condition is proved "
                           "(docs/theory.md, K2)", dtype=object)
    t_bound = np.full(b_n, -1, np.int64)
    dp = slices._delta_perp_bound(n, step)
    s5 = _s5_bound(n, c0, step, wall, eta, w, dp)
    for i in range(b_n):
        g0 = n @ (off + step * np.round((w[i] - off) / step)) - c0
        if np.sum(g0 * g0) <= rb * rb * (1 - 2 * TOL):
            verdict[i], t_bound[i], theorem[i], reason[i] = "certified", 0, "T0", "Q(w0) is in the basin"
            continue
        if s5[i] >= 0:
            verdict[i], t_bound[i], theorem[i] = "certified", s5[i], "S5"
            reason[i] = "2 delta_perp < r_b and the step-size condition: T <= T_max (S5)"
            continue
        if drift != 0.0:
            reason[i] = "drift moves the latent off the slice w0 + row(N) (and S5 does not apply)"
            continue
        cells, exhaustive = slices.slice_cells_in_band(n, c0, w[i], step, off, rb * (1 + TOL), TOL)
        if exhaustive and cells.shape[0] == 0:
            verdict[i], theorem[i] = "refuted", "K2R"
            reason[i] = "empty reachable set: the slice w0 + row(N) meets no in-band cell (K2R)"
    return verdict, t_bound, theorem, reason


CHUNK = 2048  # starts per vectorised k = 1 batch (bounds the memory of the pieces)


def _chunked(fn, w):
    """fn over row chunks of w (the last chunk padded to CHUNK rows, so one compiled shape serves all)."""
    if w.shape[0] <= CHUNK:
        return fn(w)
    parts = []
    for i in range(0, w.shape[0], CHUNK):
        blk = w[i:i + CHUNK]
        m = blk.shape[0]
        if m < CHUNK:
            blk = np.concatenate([blk, np.repeat(blk[-1:], CHUNK - m, 0)])
        parts.append([x[:m] for x in fn(blk)])
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(4))


def certify_recovery(landscape, quantizer, w0, rule, *, budget: int = 4096, exact_cycles: bool = True,
                     max_exact: int = 64) -> RecoveryCertificate:
    """Per start w0 ((d,) or (B, d)): verdict, t_bound, theorem and reason for STE entering the basin.

    ``budget``: steps of the 1-D orbit (k = 1) before giving up; ``exact_cycles``: re-run orbits that do not
    enter I within the budget in rational arithmetic to prove a cycle (at most ``max_exact`` starts, and
    only for walls with a rational slope).
    """
    for name, val, low in (("budget", budget, 1), ("max_exact", max_exact, 0)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
            raise LandscapeError(f"{name} must be an integer >= {low}; got {val!r}.")
    d = int(landscape.dim)
    w, single = _starts(w0, d)
    case, why = _landscape_case(landscape, quantizer)
    lr, why_rule = _learning_rate(rule)
    b_n = w.shape[0]
    if case is None or lr is None:
        out = (np.full(b_n, "unknown", dtype=object), np.full(b_n, -1, np.int64), np.full(b_n, "", dtype=object),
               np.full(b_n, why or why_rule, dtype=object))
    else:
        n, c0, step, off, drift, u = case
        k = n.shape[0]
        touches = bool(np.any((np.abs(u) > 0) & np.any(np.abs(n) > 0, 0)))
        if k == 1 and (drift == 0.0 or not touches):
            out = _chunked(lambda ww: _k1_batch(n, c0, step, off, landscape.wall, lr, ww, budget, exact_cycles,
                                                max_exact), w)
            if drift != 0.0:
                out[3][:] = [r + " (drift touches no sharp coordinate: D0)" for r in out[3]]
        else:
            out = _k2_batch(n, c0, step, off, landscape.wall, lr, w, drift)
    cert = RecoveryCertificate(*out)
    if single:
        cert = RecoveryCertificate(*(x[0] for x in cert))
    return cert
