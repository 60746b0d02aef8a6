r"""The coupled 1-D reductions of K2S: k sharp directions on disjoint coordinate groups (numpy, float64).

When the rows of ``N`` have pairwise disjoint supports, ``n_i . Q(w0 + sum_l lambda_l n_l)`` depends on
``lambda_i`` only: the deployed offset is ``y = (g_1(lambda_1), ..., g_k(lambda_k))`` with each ``g_i`` the
step function of R1 (:func:`landscape.certify.reduction.line_pieces`), and the STE step is
``lambda <- lambda - h(||y||) y`` with the common factor ``h(rho) = eta phi'(rho) / rho``. :func:`line_band`
gives one line's in-band interval ``I_i = {|g_i| <= r_i}`` and room (pieces from :func:`line_steps`),
:func:`zero_radius` the smallest band radius holding both signs of ``g_i``; :func:`separable_bounds`
evaluates K2S's step ratios and time bound over the product of the reachable pieces.
"""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from landscape.certify import reduction

__all__ = ["line_steps", "zero_radius", "line_band", "separable_bounds", "disjoint_supports"]


def disjoint_supports(normals, tol=0.0) -> bool:
    """True when no coordinate carries two rows of ``normals`` (sharp directions on disjoint groups)."""
    on = np.abs(np.asarray(normals, np.float64)) > tol
    return bool(np.all(on.sum(0) <= 1))


def line_steps(n, w0, step, offset, reach, *, c0=0.0):
    """The pieces (starts, ends, values, start piece k0, y0) of g on the lines w0_b + lambda n_b, on windows
    of half-width ~ reach: ``n``, ``w0`` (B, d), one jitted call for the batch; a list of B dicts."""
    n, w0 = np.atleast_2d(np.asarray(n, np.float64)), np.atleast_2d(np.asarray(w0, np.float64))
    b, d = n.shape
    step = np.broadcast_to(np.asarray(step, np.float64), n.shape)
    offset = np.broadcast_to(np.asarray(offset, np.float64), n.shape)
    # padded to a few fixed shapes (rows and coordinates: powers of two; a zero normal entry never breaks)
    bp, dp_ = (1 << max(int(x) - 1, 0).bit_length() for x in (b, d))
    n = np.pad(n, ((0, bp - b), (0, dp_ - d)))
    w0, offset = (np.pad(x, ((0, bp - b), (0, dp_ - d))) for x in (w0, offset))
    step = np.pad(step, ((0, bp - b), (0, dp_ - d)), constant_values=1.0)
    n[b:, 0] = 1.0  # padding rows: a harmless line
    c0 = np.broadcast_to(np.asarray(c0, np.float64), (bp,))
    r = np.full(bp, float(reach))
    with jax.enable_x64(True):
        lo, hi = (np.asarray(x) for x in reduction.line_window(n, c0, w0, step, r, r))
        m = max(reduction.max_breaks(n, step, lo, hi), 64)
        red = reduction.line_pieces(*(jnp.asarray(x) for x in (n, c0, w0, step, offset, r, lo, hi)), m)
        red = reduction.LineReduction(*(np.asarray(x) for x in red))
    out = []
    for i in range(b):
        edges = np.concatenate([[lo[i]], red.z[i]])
        keep = np.isfinite(edges)
        ends = np.minimum(np.concatenate([red.z[i], [hi[i]]]), hi[i])[keep]
        out.append({"starts": edges[keep], "ends": ends, "values": red.values[i][keep], "k0": int(red.k0[i]),
                    "y0": float(red.y0[i])})
    return out


def zero_radius(line) -> float:
    """zeta: the smallest r whose band {|g| <= r} holds both signs of g (or a zero of g), on the window."""
    v = line["values"]
    if np.any(v == 0):
        return 0.0
    up = np.nonzero((v[:-1] < 0) & (v[1:] > 0))[0]
    return float(max(-v[up[0]], v[up[0] + 1])) if up.size else np.inf


def line_band(line, r_i):
    """The band I = [a, b] of |g| <= r_i on a line (``line_steps``), its room, the reachable pieces, D.

    ``room = min(p_+ - a, b - p_-)`` (A2): p_+ the first point of I with g > 0, p_- the last with g < 0; a
    sign absent from I contributes inf. ``reach``: the pieces from the start's to the far end of I.
    """
    starts, ends, values, k0 = line["starts"], line["ends"], line["values"], line["k0"]
    inb = np.nonzero(np.abs(values) <= r_i)[0]
    out = {**line, "r_i": r_i, "nonempty": bool(inb.size) and 0 < inb[0] and inb[-1] < values.size - 1}
    if not out["nonempty"]:
        return out
    ka, kb = int(inb[0]), int(inb[-1])
    a, b = float(starts[ka]), float(ends[kb])
    band = values[ka:kb + 1]
    pos, neg = np.nonzero(band > 0)[0], np.nonzero(band < 0)[0]
    room_p = float(starts[ka + pos[0]] - a) if pos.size else np.inf
    room_n = float(b - ends[ka + neg[-1]]) if neg.size else np.inf
    if k0 > kb:  # start right of I: pieces kb+1..k0 move it left
        reach, dist = np.arange(ka, k0 + 1), -b
    elif k0 < ka:
        reach, dist = np.arange(k0, kb + 1), a
    else:
        reach, dist = np.arange(ka, kb + 1), 0.0
    out.update({"a": a, "b": b, "i_len": b - a, "room": min(room_p, room_n), "reach": reach,
                "dist": max(float(dist), 0.0), "outside": not ka <= k0 <= kb})
    return out


def separable_bounds(lines, r_b, eta, deriv):
    """K2S's measured ratios over the product of the reachable pieces of the lines (``line_band`` records).

    For every reachable deployed offset y with ||y|| > r_b the coordinate step is
    ``s_i(y) = eta phi'(||y||) |y_i| / ||y||`` (``deriv`` is phi'). Returns ``jump_ratio`` (max over y and
    i with y_i out of band of s_i / |I_i|), ``absorb_ratio`` (max over y_i in band, y_i != 0, of
    s_i / room_i) and ``time_ratio`` (max over the lines that start outside I_i of D_i / min s_i);
    K2S's bound is ``T_sep = floor(time_ratio) + 1``.
    """
    sets = [ln["values"][ln["reach"]] for ln in lines]
    inband = [np.abs(v) <= ln["r_i"] for v, ln in zip(sets, lines, strict=True)]
    ys = np.array(list(itertools.product(*sets)))  # (P, k)
    ins = np.array(list(itertools.product(*inband)))
    rho = np.linalg.norm(ys, axis=1)
    out_ball = rho > r_b
    h = np.where(out_ball, eta * np.asarray(deriv(np.where(out_ball, rho, r_b + 1.0))) / np.where(
        out_ball, rho, 1.0), 0.0)
    step = h[:, None] * np.abs(ys)  # (P, k)
    jump = absorb = 0.0
    time_ratio = 0.0
    for i, ln in enumerate(lines):
        o = out_ball & ~ins[:, i]
        if o.any():
            jump = max(jump, float(np.max(step[o, i])) / ln["i_len"])
            if ln["outside"]:
                s_min = float(np.min(step[o, i]))
                time_ratio = max(time_ratio, ln["dist"] / s_min if s_min > 0 else np.inf)
        a_ = out_ball & ins[:, i] & (ys[:, i] != 0)
        if a_.any():
            absorb = max(absorb, float(np.max(step[a_, i])) / ln["room"] if ln["room"] > 0 else np.inf)
    return {"jump_ratio": jump, "absorb_ratio": absorb, "time_ratio": time_ratio}
