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

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape import reduction, slices
from landscape._checks import LandscapeError

__all__ = ["RecoveryCertificate", "certify_recovery", "line_analysis", "VERDICTS"]

VERDICTS = ("certified", "refuted", "unknown")
TOL = 1e-9  # relative slack of every inequality the certificate tests (conservative side)
EXACT_STEPS = 2000  # steps of an orbit re-run in rational arithmetic (a cycle must show within them)
EXACT_LONG = 8  # orbits without a float 2-cycle re-run in rationals per call (they are the slow ones)


class RecoveryCertificate(NamedTuple):
    """Per start: verdict ("certified" | "refuted" | "unknown"), t_bound (-1 unless certified), theorem,
    reason."""

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


def _landscape_case(landscape, quantizer, b_n=1, landscape_axis=None, quantizer_axis=None):
    """Per-row arrays of a covered case, or (None, why): normals (B, k, d), c0 (B, k), step and offset
    (B, d), drift slope (B,), river_dir (B, d); the wall (one, shared by the rows)."""
    from landscape import walls
    from landscape.geometry import Landscape
    from landscape.quantizers.uniform import UniformGrid
    from landscape.river import ConstantCenter, LinearDrift, ZeroDrift

    if not isinstance(landscape, Landscape) or not isinstance(landscape.center, ConstantCenter):
        return None, "landscape: the theorems cover straight rivers (constant centre)"
    if not np.all(np.asarray(landscape.aniso) == 1.0):
        return None, "landscape: the theorems cover isotropic basins"
    if not isinstance(
        landscape.wall, (walls.QuadraticWall, walls.SoftplusWall, walls.PowerWall, walls.ExpWall)
    ):
        return None, "wall: the theorems cover the quadratic, softplus, power and exp walls"
    if not isinstance(landscape.river_loss, (ZeroDrift, LinearDrift)):
        return None, "river loss: the theorems cover no drift or a linear drift"
    if not isinstance(quantizer, UniformGrid) or quantizer.bounded:
        return None, "quantizer: the theorems cover unbounded uniform grids"
    la, qa = landscape_axis is not None, quantizer_axis is not None

    n = np.asarray(landscape.normals, np.float64)
    k, d = n.shape[-2:]
    n = np.broadcast_to(n, (b_n, k, d)) if not la else n.reshape(b_n, k, d)
    c0 = np.asarray(landscape.center.c0, np.float64)
    c0 = np.broadcast_to(c0, (b_n, k)) if not la else c0.reshape(b_n, k)
    u = np.asarray(landscape.river_dir, np.float64)
    u = np.broadcast_to(u, (b_n, d)) if not la else u.reshape(b_n, d)
    drift = (
        np.zeros(b_n)
        if isinstance(landscape.river_loss, ZeroDrift)
        else np.broadcast_to(np.asarray(landscape.river_loss.rate, np.float64).reshape(-1), (b_n,))
    )
    wall = landscape.wall
    if la:
        leaves = [np.asarray(x) for x in jax.tree.leaves(wall)]
        if any(
            x.ndim and not np.all(x == x.reshape(x.shape[0], -1)[:1].reshape(x.shape[1:])) for x in leaves
        ):
            raise LandscapeError(
                "certify_recovery with landscape_axis needs one wall shared by the batch "
                "(the rows may differ in normals, centre and drift)."
            )
        wall = jax.tree.map(lambda x: jnp.asarray(np.asarray(x).reshape(-1)[0]), wall)
    if not qa:
        quantizer.check_dim(d, "w0")
    step, off = (np.asarray(x, np.float64) for x in (quantizer.step, quantizer.offset))
    if qa:
        step, off = (x.reshape(b_n, -1) for x in (step, off))
    step = np.broadcast_to(step.reshape(-1) if not qa else step, (b_n, d) if qa else (d,))
    off = np.broadcast_to(off.reshape(-1) if not qa else off, (b_n, d) if qa else (d,))
    step, off = np.broadcast_to(step, (b_n, d)).copy(), np.broadcast_to(off, (b_n, d)).copy()
    return (n.copy(), c0.copy(), step, off, np.asarray(drift, np.float64).copy(), u.copy(), wall), ""


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
def _k1_theorems(red, moves, tol, xp=jnp):
    """The quantities of theorems K1 and K1P per start, from the pieces (vectorised, jittable).

    For a start right of I (y0 > r_b) the pieces kb < k <= k0 move the latent left; for a start left of I
    the pieces k0 <= k < ka move it right. ``room`` is the distance from a piece's near end to the far end
    of I (a step shorter than it cannot jump over I); ``integral`` is int dx / (eta phi'(g(x))) from the
    start to I (the T bound of K1/K1P is 1 + floor(integral)). ``xp``: jax.numpy (jittable) or numpy.
    """
    z, v = red.z, red.values
    p1 = v.shape[-1]
    rows = xp.arange(v.shape[0])
    idx = xp.arange(p1)[None, :]
    starts = xp.minimum(xp.concatenate([red.lam_lo[:, None], z], 1), red.lam_hi[:, None])
    ends = xp.minimum(xp.concatenate([z, red.lam_hi[:, None]], 1), red.lam_hi[:, None])
    k0, ka, kb = red.k0[:, None], red.ka[:, None], red.kb[:, None]
    right = red.y0 > 0
    a, b = red.a[:, None], red.b[:, None]
    size = xp.abs(moves)
    on = xp.where(right[:, None], (idx > kb) & (idx <= k0), (idx >= k0) & (idx < ka))
    room = xp.where(right[:, None], starts - a, b - ends)
    slack = xp.min(xp.where(on, room - size, xp.inf), 1)  # > 0: no step can jump over I
    slack_half = xp.min(xp.where(on, room - size / 2, xp.inf), 1)
    positive = xp.all(xp.where(on, size > 0, True), 1)
    length = xp.where(
        right[:, None],
        xp.where(idx == k0, 0.0 - starts, ends - starts),
        xp.where(idx == k0, ends - 0.0, ends - starts),
    )
    integral = xp.sum(xp.where(on, length / xp.where(size > 0, size, 1.0), 0.0), 1)
    s0 = size[rows, red.k0]
    edge = xp.where(right, red.kb + 1, red.ka - 1)
    s_edge = size[rows, xp.clip(edge, 0, p1 - 1)]
    dist = xp.where(right, 0.0 - red.b, red.a - 0.0)
    i_len = red.b - red.a
    k1p = positive & (slack > tol)
    k1 = positive & (s0 < i_len - tol) & k1p
    t_int = 1 + xp.floor(integral * (1 + 1e-12) + 1e-9)
    t_k1 = 1 + xp.floor(dist / xp.where(s_edge > 0, s_edge, 1.0) * (1 + 1e-12) + 1e-9)
    good = red.nonempty & positive & (s_edge > 0)  # the bounds mean something only here (-1 elsewhere)
    t_int = xp.where(good & xp.isfinite(t_int), t_int, -1)
    t_k1 = xp.where(good & xp.isfinite(t_k1), t_k1, -1)
    g_right = v[rows, xp.clip(red.kb + 1, 0, p1 - 1)]  # the first value beyond I on each side
    g_left = v[rows, xp.clip(red.ka - 1, 0, p1 - 1)]
    return dict(
        g_right=g_right,
        g_left=g_left,
        k1=k1,
        k1p=k1p,
        t_int=t_int.astype(np.int64),
        t_k1=t_k1.astype(np.int64),
        slack=slack,
        slack_half=slack_half,
        integral=integral,
        s0=s0,
        s_edge=s_edge,
        dist=dist,
        i_len=i_len,
        on=on,
        room=room,
        size=size,
        starts=starts,
        ends=ends,
    )


@partial(jax.jit, static_argnames=("m", "pieces"))
def _k1_core(nb, c0, w, step, off, lo, hi, wall, eta, rb, tol, budget, *, m, pieces):
    """One compiled pass: the pieces, the K1/K1P quantities and the orbit (per start, batched)."""
    r_cert = rb - tol
    red = reduction.line_pieces_traced(nb, c0, w, step, off, r_cert, lo, hi, m)
    vals = red.values
    moves = eta * wall.deriv(jnp.abs(vals)) * jnp.sign(vals)
    orbit = reduction.line_orbit_traced(red, moves, r_cert, budget, tol)
    return _k1_record(red, moves, rb, tol, pieces, orbit.code, orbit.hit_time, jnp)


def _k1_record(red, moves, rb, tol, pieces, code, t_orb, xp):
    """The per-start record of the k = 1 analysis (``xp``: jnp when traced, np otherwise)."""
    vals = red.values
    th = _k1_theorems(red, moves, tol, xp=xp)
    if not pieces:
        th = {k: v for k, v in th.items() if k not in ("on", "room", "size", "starts", "ends")}
    else:
        th["values"] = vals
    return dict(
        **th,
        far=xp.min(xp.abs(vals), 1) > rb + tol,  # robustly empty I
        nonempty=red.nonempty,
        clipped=red.clipped,
        a=red.a,
        b=red.b,
        ka=red.ka,
        kb=red.kb,
        y0=red.y0,
        code=code,
        t_orb=t_orb,
    )


def _k1_analysis(n, c0, step, off, wall, eta, w, budget, pieces=False, orbit=True):
    """Everything the k = 1 theorems need, per start (numpy float64 arrays); ``pieces``: also per piece.

    ``n``, ``step``, ``off`` are (B, d) and ``c0`` (B,) -- one line per start (a shared wall and learning
    rate); ``orbit=False`` skips the orbit and evaluates the theorems in NumPy (a lighter compile, for
    one-off calls such as the proof layer's cases).
    """
    b_n = w.shape[0]
    rb = float(np.asarray(wall.basin_radius))
    dp = 0.5 * np.sum(np.abs(n) * step, 1)
    scale = rb + dp
    tol = TOL * scale
    with jax.enable_x64(True):
        wall64 = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), wall)
        x0 = np.sum(w * n, 1) - c0
        x_far = float(np.max(np.maximum(np.abs(x0), rb + dp) + 2 * dp))
        s_max = eta * float(wall64.deriv(jnp.asarray(x_far)))
        extra = np.minimum(2.0 * s_max + rb, 4.0 * (rb + dp))  # orbits that go farther: 'left the window'
        nn = np.sum(n * n, 1)
        half = np.maximum(np.abs(x0), rb + dp) + 2 * dp + extra
        lo, hi = (-half - x0) / nn, (half - x0) / nn
        m = reduction.max_breaks(n, step, lo, hi)
        args = [jnp.asarray(x) for x in (n, c0, w, step, off)]
        if not orbit:
            red = reduction.line_pieces(*args, jnp.asarray(rb - tol), jnp.asarray(lo), jnp.asarray(hi), m)
            red = reduction.LineReduction(*(np.asarray(x) for x in red))
            vals = red.values
            moves = eta * np.asarray(wall64.deriv(jnp.asarray(np.abs(vals)))) * np.sign(vals)
            out = _k1_record(red, moves, rb, tol, pieces, np.full(b_n, -1), np.full(b_n, -1), np)
        else:
            out = _k1_core(
                *args,
                jnp.asarray(lo),
                jnp.asarray(hi),
                wall64,
                jnp.asarray(float(eta)),
                jnp.asarray(rb),
                jnp.asarray(tol),
                jnp.asarray(budget),
                m=m,
                pieces=pieces,
            )
        out = {k: np.asarray(x) for k, x in out.items()}
    out["dp"], out["scale"] = dp, scale
    return out


def line_analysis(
    landscape, quantizer, w0, learning_rate, *, budget: int = 4096, pieces: bool = False, orbit: bool = True
) -> dict:
    """The 1-D reduction's numbers for k = 1 starts w0 ((B, d)): I, |I|, the K1/K1P quantities, the orbit.

    Keys (arrays over starts): ``y0`` (RTN offset), ``a``, ``b``, ``i_len`` (|I|), ``nonempty``, ``far``
    (robustly empty I), ``dist`` (start to I), ``s0`` (eta phi'(|y0|)), ``s_edge`` (the step on the
    piece next to I), ``slack`` (min over the pieces of room - step: > 0 is K1P), ``integral``,
    ``t_int``, ``t_k1``, ``k1``, ``k1p``, ``code``/``t_orb`` (the orbit,
    :func:`landscape.reduction.line_orbit`); with ``pieces``: per-piece ``values``, ``starts``, ``ends``,
    ``on``, ``room``, ``size``; also ``ka``/``kb``;
    ``orbit=False``: no orbit (``code`` = -1), the theorems evaluated in NumPy.
    """
    w, _ = _starts(np.atleast_2d(w0), int(landscape.normals.shape[-1]))
    case, why = _landscape_case(landscape, quantizer, w.shape[0])
    if case is None:
        raise LandscapeError(why)
    n, c0, step, off, _, _, wall = case
    if n.shape[1] != 1:
        raise LandscapeError(f"line_analysis needs k = 1; the landscape has k = {n.shape[1]}.")
    return _k1_analysis(n[:, 0], c0[:, 0], step, off, wall, float(learning_rate), w, budget, pieces, orbit)


def _k1_batch(n, c0, step, off, w, wall, eta, budget, exact_cycles, max_exact):
    """Verdicts for k = 1 starts; ``n``, ``step``, ``off`` (B, d) and ``c0`` (B,) give each start's line."""
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
    for key, name, text in (
        ("k1", "K1", "eta phi'(|y0|) < |I| (K1)"),
        ("k1p", "K1P", "no step can jump over I (K1P)"),
    ):
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
    # candidates for an exact cycle: every float 2-cycle, and a few orbits that ran out of budget
    two = np.flatnonzero(todo & (out["code"] == 4))
    cand = np.concatenate([two, np.flatnonzero(todo & (out["code"] == 1))[:EXACT_LONG]])
    slope = reduction.rational_slope(wall) if exact_cycles else None
    if slope is not None:
        chosen = cand[: max_exact[0]]
        max_exact[0] -= chosen.size  # a budget shared by all chunks of one certify_recovery call
        for i in chosen:
            kind, info = reduction.exact_orbit(
                n[i], c0[i], w[i], step[i], off[i], rb, eta, slope, min(4 * budget, EXACT_STEPS)
            )
            if kind == "cycle":
                verdict[i], theorem[i] = "refuted", "cycle"
                reason[i] = (
                    f"exact cycle of period {info[1]} from step {info[0]}, verified in rational "
                    "arithmetic: q_t never enters the basin"
                )
            elif kind == "hit":
                verdict[i], theorem[i], t_bound[i] = "certified", "R1", info
                reason[i] = "orbit of the exact 1-D reduction, in rational arithmetic, enters I at T"
    elif cand.size:
        reason[cand[out["code"][cand] == 4]] = (
            "float 2-cycle of the 1-D orbit (wall slope not rational: unverified)"
        )
    return verdict, t_bound, theorem, reason


# --------------------------------------------------------------------------------------
# any k: S5 (2 delta_perp < r_b); no drift: the slice (K2R)
# --------------------------------------------------------------------------------------
def _s5_bound(n, c0, wall, eta, w, dp):
    """S5's T_max for one start where its assumptions hold (else -1); valid with or without drift."""
    rb = float(np.asarray(wall.basin_radius))
    with jax.enable_x64(True):
        m = float(wall.wall_slope(jnp.asarray(rb)))
        rho0 = float(np.linalg.norm(n @ w - c0))
        phi_max = float(wall.deriv(jnp.asarray(rho0 + dp)))
    if not (2 * dp < rb * (1 - TOL) and m > 0) or eta * phi_max > np.sqrt(rb * (rb - 2 * dp)) * (1 - TOL):
        return -1
    c = np.sqrt(1 - dp**2 / (rb - dp) ** 2)
    beta = eta * m * c / 2
    return int(np.floor((rho0 - (rb - dp)) / beta * (1 + 1e-12) + 1e-9) + 1) if rho0 >= rb - dp else 0


def _row_verdict(n, c0, step, off, wall, eta, w, drift):
    """One start, any k: T0, S5, or (no drift) K2R; else unknown: (verdict, t_bound, theorem, reason)."""
    rb = float(np.asarray(wall.basin_radius))
    g0 = n @ (off + step * np.round((w - off) / step)) - c0
    if np.sum(g0 * g0) <= rb * rb * (1 - 2 * TOL):
        return "certified", 0, "T0", "Q(w0) is in the basin"
    t5 = _s5_bound(n, c0, wall, eta, w, slices._delta_perp_bound(n, step))
    if t5 >= 0:
        return "certified", t5, "S5", "2 delta_perp < r_b and the step-size condition: T <= T_max (S5)"
    if drift != 0.0:
        return (
            "unknown",
            -1,
            "",
            "drift moves the latent off the slice w0 + row(N) and changes the residual "
            "(and S5 does not apply): no theorem",
        )
    cells, exhaustive = slices.slice_cells_in_band(n, c0, w, step, off, rb * (1 + TOL), TOL)
    if exhaustive and cells.shape[0] == 0:
        return "refuted", -1, "K2R", "empty reachable set: the slice w0 + row(N) meets no in-band cell (K2R)"
    return (
        "unknown",
        -1,
        "",
        "k >= 2 from a start with 2 delta_perp >= r_b: no sufficient condition is proved "
        "(docs/theory.md, K2R)",
    )


CHUNK = 2048  # starts per vectorised k = 1 batch (bounds the memory of the pieces)


def _chunked(fn, *arrays):
    """fn over row chunks of the arrays (the last chunk padded to CHUNK rows: one compiled shape for all)."""
    b_n = arrays[0].shape[0]
    if b_n <= CHUNK:  # pad to a power of two (>= 8): few distinct compiled shapes across calls
        size = max(8, 1 << (b_n - 1).bit_length())
        blk = [np.concatenate([x, np.repeat(x[-1:], size - b_n, 0)]) for x in arrays]
        return tuple(np.asarray(x)[:b_n] for x in fn(*blk))
    parts = []
    for i in range(0, b_n, CHUNK):
        blk = [x[i : i + CHUNK] for x in arrays]
        m = blk[0].shape[0]
        if m < CHUNK:
            blk = [np.concatenate([x, np.repeat(x[-1:], CHUNK - m, 0)]) for x in blk]
        parts.append([x[:m] for x in fn(*blk)])
    return tuple(np.concatenate([p[j] for p in parts]) for j in range(4))


def certify_recovery(
    landscape,
    quantizer,
    w0,
    rule,
    *,
    budget: int = 4096,
    exact_cycles: bool = True,
    max_exact: int = 64,
    landscape_axis=None,
    quantizer_axis=None,
) -> RecoveryCertificate:
    """Per start w0 ((d,) or (B, d)): verdict, t_bound, theorem and reason for STE entering the basin.

    ``budget``: steps of the 1-D orbit (k = 1) before giving up; ``exact_cycles``: re-run orbits that do not
    enter I within the budget in rational arithmetic to prove a cycle (at most ``max_exact`` starts, and
    only for walls with a rational slope). ``landscape_axis=0`` / ``quantizer_axis=0``: one landscape /
    grid per start (leaves with a leading batch axis, as for :func:`landscape.run_batch`); the wall must be
    shared.
    """
    for name, val, low in (("budget", budget, 1), ("max_exact", max_exact, 0)):
        if isinstance(val, bool) or not isinstance(val, (int, np.integer)) or val < low:
            raise LandscapeError(f"{name} must be an integer >= {low}; got {val!r}.")
    for name, val in (("landscape_axis", landscape_axis), ("quantizer_axis", quantizer_axis)):
        if val not in (None, 0):
            raise LandscapeError(f"{name} must be None or 0; got {val!r}.")
    d = int(landscape.normals.shape[-1])
    w, single = _starts(w0, d)
    b_n = w.shape[0]
    case, why = _landscape_case(landscape, quantizer, b_n, landscape_axis, quantizer_axis)
    lr, why_rule = _learning_rate(rule)
    verdict = np.full(b_n, "unknown", dtype=object)
    t_bound = np.full(b_n, -1, np.int64)
    theorem = np.full(b_n, "", dtype=object)
    reason = np.full(b_n, why or why_rule, dtype=object)
    if case is not None and lr is not None:
        n, c0, step, off, drift, u, wall = case
        k = n.shape[1]
        touches = np.any((np.abs(u) > 0) & np.any(np.abs(n) > 0, 1), 1)
        line = (k == 1) & ((drift == 0.0) | ~touches)
        idx = np.flatnonzero(line)
        if idx.size:
            left = [max_exact]
            out = _chunked(
                lambda *a: _k1_batch(*a, wall, lr, budget, exact_cycles, left),
                n[idx, 0],
                c0[idx, 0],
                step[idx],
                off[idx],
                w[idx],
            )
            for arr, val in zip((verdict, t_bound, theorem, reason), out, strict=True):
                arr[idx] = val
            d0 = idx[drift[idx] != 0.0]
            reason[d0] = [r + " (drift touches no sharp coordinate: D0)" for r in reason[d0]]
        for i in np.flatnonzero(~line):
            verdict[i], t_bound[i], theorem[i], reason[i] = _row_verdict(
                n[i], c0[i], step[i], off[i], wall, lr, w[i], float(drift[i])
            )
    cert = RecoveryCertificate(verdict, t_bound, theorem, reason)
    if single:
        cert = RecoveryCertificate(*(x[0] for x in cert))
    return cert
