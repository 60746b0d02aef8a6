r"""The k = 1 certificate: the 1-D reduction, theorems K1R, K1, K1P and its orbit (``docs/certificate.md``).

:func:`line_analysis` gives the numbers; :func:`k1_batch` the verdicts for a batch of starts (one line
per start). Every decision the float64 pieces take within ``TOL`` of a tie -- two breakpoints at the same
lambda (a simultaneous crossing), the start or the window's edge on a breakpoint, a step landing on a
breakpoint, a bound below 1 -- is handed to the validated orbit (:mod:`landscape.certify.orbit`), which
decides it under the grid's tie rule (half to even) in exact rational arithmetic, or says "unknown".
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError
from landscape.certify import orbit as _orbit
from landscape.certify import reduction
from landscape.certify.cases import TOL, landscape_case, starts

__all__ = ["line_analysis", "k1_batch"]

EXACT_STEPS = 2000  # steps of an orbit re-run in rational arithmetic (a cycle must show within them)
EXACT_LONG = 8  # orbits without a float 2-cycle re-run in rationals per call (they are the slow ones)


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
        fragile=(red.tie_gap <= 4 * tol) | (red.edge_gap <= 4 * tol),  # a tie of R1 within float reach
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
    :func:`landscape.certify.reduction.line_orbit`), ``fragile`` (a tie of R1 within float reach); with
    ``pieces``: per-piece ``values``, ``starts``, ``ends``, ``on``, ``room``, ``size``; also ``ka``/``kb``;
    ``orbit=False``: no orbit (``code`` = -1), the theorems evaluated in NumPy.
    """
    w, _ = starts(np.atleast_2d(w0), int(landscape.normals.shape[-1]))
    case, why = landscape_case(landscape, quantizer, w.shape[0])
    if case is None:
        raise LandscapeError(why)
    n, c0, step, off, _, _, wall = case
    if n.shape[1] != 1:
        raise LandscapeError(f"line_analysis needs k = 1; the landscape has k = {n.shape[1]}.")
    return _k1_analysis(n[:, 0], c0[:, 0], step, off, wall, float(learning_rate), w, budget, pieces, orbit)


def k1_batch(n, c0, step, off, w, wall, eta, budget, exact_cycles, max_exact):
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
    # candidates for an exact cycle: every float 2-cycle, and a few orbits that ran out of budget; the
    # validated orbit decides them (exact rationals, arb balls for the softplus and exp walls)
    two = np.flatnonzero(todo & (out["code"] == 4) & ~out["fragile"])
    cand = np.concatenate([two, np.flatnonzero(todo & (out["code"] == 1) & ~out["fragile"])[:EXACT_LONG]])
    chosen = cand[: max_exact[0]] if exact_cycles else cand[:0]
    max_exact[0] -= chosen.size  # a budget shared by all chunks of one certify_recovery call
    for i in chosen:
        res = _orbit.validated_orbit(
            n[i][None], [c0[i]], w[i], step[i], off[i], wall, eta, budget=min(4 * budget, EXACT_STEPS)
        )
        if res.verdict != "unknown":
            verdict[i], t_bound[i], theorem[i], reason[i] = res
    reason[np.setdiff1d(two, chosen)] = "float 2-cycle of the 1-D orbit (not verified: max_exact reached)"
    # ties of R1 (a simultaneous crossing, the start or the window's edge on a boundary) and bounds
    # below 1: the float pieces do not model half-to-even there; the exact orbit decides, or "unknown"
    redo = out["fragile"] | ((verdict == "certified") & (t_bound < 1) & (theorem != "T0"))
    for i in np.flatnonzero(redo):
        res = _orbit.validated_orbit(n[i][None], [c0[i]], w[i], step[i], off[i], wall, eta, budget=budget)
        verdict[i], t_bound[i], theorem[i] = res.verdict, res.t_bound, res.theorem
        reason[i] = res.reason + " (a tie of R1 within float tolerance: decided by the exact orbit)"
    return verdict, t_bound, theorem, reason
