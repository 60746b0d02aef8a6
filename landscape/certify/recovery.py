r"""Recovery certificates: does STE bring ``Q(w_t)`` into the basin, and by when? Decided from the theorems.

:func:`certify_recovery` answers, for each start :math:`w_0`, before any d-dimensional simulation:

* ``"certified"`` with ``t_bound``: :math:`T \le` ``t_bound`` for the exact (real-arithmetic) STE dynamics;
* ``"refuted"``: :math:`q_t` never enters the basin (``reason`` says why: the reachable set has no
  in-band cell, or an exact cycle verified in rational arithmetic);
* ``"unknown"``: nothing proved either way (never a guess).

What is covered (``docs/certificate.md``): a straight isotropic river, an unbounded uniform grid, one of
the four walls, STE with plain SGD at a constant learning rate. Rounding is the grid's: half to even.

* **k = 1, no drift** (or a drift that touches no sharp coordinate, theorem D0): the exact 1-D reduction
  (:mod:`landscape.certify.line`): the in-band set empty => refuted (K1R); the no-overshoot conditions =>
  certified with the bound ``T_int`` (K1, K1P); otherwise the orbit of the scalar map on the pieces (hit:
  the exact ``T``; a cycle re-checked in rational arithmetic: refuted). A line with a tie of R1 within float
  reach (two coordinates crossing at one lambda, the start or the window's edge on a boundary) is decided
  by the validated orbit instead.
* **every other case** (k >= 2 with or without drift, k = 1 with drift along sharp coordinates): the
  validated orbit (:mod:`landscape.certify.orbit`: exact rationals and arb balls; certified with the exact
  ``T``, or refuted by a proved cycle); where it says unknown, S5 (``2 delta_perp < r_b`` and its
  step-size condition: ``T <= T_max``) or, without drift, K2R (the slice ``w0 + row(N)`` meets no in-band
  cell, :mod:`landscape.certify.slices`).
* other rules, optimizers, quantizers or landscapes: ``"unknown"``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError
from landscape.certify import line, orbit, slices
from landscape.certify.cases import TOL, VERDICTS, landscape_case, learning_rate, starts

__all__ = ["RecoveryCertificate", "certify_recovery"]


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


def _row_verdict(n, c0, step, off, wall, eta, w, drift, u, budget):
    """One start, any k: the validated orbit; where it says "unknown", S5 or (no drift) K2R.

    Returns (verdict, t_bound, theorem, reason).
    """
    res = orbit.validated_orbit(n, c0, w, step, off, wall, eta, drift_rate=drift, river_dir=u, budget=budget)
    if res.verdict == "certified" and res.t_bound == 0:
        return "certified", 0, "T0", "Q(w0) is in the basin (exact rational test)"
    if res.verdict != "unknown":
        return tuple(res)
    t5 = _s5_bound(n, c0, wall, eta, w, slices._delta_perp_bound(n, step))
    if t5 >= 0:
        return "certified", t5, "S5", "2 delta_perp < r_b and the step-size condition: T <= T_max (S5)"
    if drift == 0.0:
        cells, exhaustive = slices.slice_cells_in_band(n, c0, w, step, off, rb_of(wall) * (1 + TOL), TOL)
        if exhaustive and cells.shape[0] == 0:
            why = "empty reachable set: the slice w0 + row(N) meets no in-band cell (K2R)"
            return "refuted", -1, "K2R", why
    return "unknown", -1, "", res.reason + "; S5 and K2R do not apply"


def rb_of(wall) -> float:
    """The basin radius r_b of a wall, as a float."""
    return float(np.asarray(wall.basin_radius))


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
    w, single = starts(w0, d)
    b_n = w.shape[0]
    case, why = landscape_case(landscape, quantizer, b_n, landscape_axis, quantizer_axis)
    lr, why_rule = learning_rate(rule)
    verdict = np.full(b_n, "unknown", dtype=object)
    t_bound = np.full(b_n, -1, np.int64)
    theorem = np.full(b_n, "", dtype=object)
    reason = np.full(b_n, why or why_rule, dtype=object)
    if case is not None and lr is not None:
        n, c0, step, off, drift, u, wall = case
        k = n.shape[1]
        touches = np.any((np.abs(u) > 0) & np.any(np.abs(n) > 0, 1), 1)
        on_line = (k == 1) & ((drift == 0.0) | ~touches)
        idx = np.flatnonzero(on_line)
        if idx.size:
            left = [max_exact]
            out = _chunked(
                lambda *a: line.k1_batch(*a, wall, lr, budget, exact_cycles, left),
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
        for i in np.flatnonzero(~on_line):
            verdict[i], t_bound[i], theorem[i], reason[i] = _row_verdict(
                n[i], c0[i], step[i], off[i], wall, lr, w[i], float(drift[i]), u[i], budget
            )
    cert = RecoveryCertificate(verdict, t_bound, theorem, reason)
    if single:
        cert = RecoveryCertificate(*(x[0] for x in cert))
    return cert
