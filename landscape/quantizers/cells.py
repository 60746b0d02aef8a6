r"""The geometry of a grid's cells relative to the sharp directions: ``delta_perp``, ``flip_size`` and the
cell corners (one home for corner enumeration).

* :func:`delta_perp` -- :math:`\delta_\perp = \max_{e \in \text{cell}} \lVert N e\rVert`;
* :func:`flip_size` -- :math:`f_j = \Delta_j \lVert N_{:,j}\rVert`;
* :func:`corner_bits` / :func:`cell_corners` -- the :math:`2^d` corners of a box, chunked (NumPy; rows in
  lexicographic order, coordinate 0 most significant: the order of ``itertools.product``);
* :func:`corner_code_bits` -- the corner of an integer code inside a jitted scan (bit ``j`` of the code
  picks ``up_j``, coordinate 0 least significant: the order of :func:`landscape.ptq.oracle`, whose first
  minimiser among tied corners the figures report, so its order is kept).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_orthonormal_rows

__all__ = ["DeltaPerp", "delta_perp", "flip_size", "corner_bits", "cell_corners", "corner_code_bits",
           "MAX_ENUMERATE"]

MAX_ENUMERATE = 20


class DeltaPerp(NamedTuple):
    """delta_perp with how it was obtained: exact (closed form or enumeration) or a bound.

    ``value`` is exact or an upper bound; ``lower`` is a value reached at a corner of the cell (equal to
    ``value`` when exact), so the true delta_perp lies in [lower, value].
    """

    value: float
    exact: bool
    method: str
    lower: float | None = None


def corner_bits(d: int, chunk_bits: int = 12):
    """Yield boolean arrays (m, d) whose rows run over all 2^d corner choices (True = upper), in chunks."""
    if d < 0:
        raise LandscapeError(f"d must be >= 0; got {d}.")
    lo = min(d, chunk_bits)
    sub = np.array(list(itertools.product([False, True], repeat=lo)), dtype=bool).reshape(-1, lo)
    for head in itertools.product([False, True], repeat=d - lo):
        yield np.concatenate([np.broadcast_to(np.array(head, bool), (sub.shape[0], d - lo)), sub], 1)


def cell_corners(down, up, chunk_bits: int = 12):
    """Yield the corners (m, d) of the box [down, up] (per coordinate: down_j or up_j), in chunks."""
    down, up = np.asarray(down), np.asarray(up)
    for bits in corner_bits(down.shape[-1], chunk_bits):
        yield np.where(bits, up, down)


def corner_code_bits(codes, d: int, dtype=bool):
    """Bits (..., d) of integer corner codes (bit j of a code = coordinate j picks up_j); jit-safe."""
    codes = jnp.asarray(codes)
    return ((codes[..., None] >> jnp.arange(d, dtype=codes.dtype)) & 1).astype(dtype)


def _normals(normals, dim_hint=None):
    n = np.asarray(normals, dtype=np.float64)
    if n.ndim != 2:
        raise LandscapeError(f"normals must be 2-D (k x d); got shape {n.shape}.")
    check_orthonormal_rows("normals", n)
    return n


def delta_perp(quantizer, normals, w=None, *, max_enumerate: int = MAX_ENUMERATE) -> DeltaPerp:
    r"""delta_perp = max over e in the rounding cell of ||N e||.

    The cell of the residual is a box [a, b]; ||N e|| is convex, so the maximum sits at a corner, and the
    corner that maximises z . N e for a unit z in R^k takes b_j where (N^T z)_j > 0 and a_j elsewhere.
    Exact for k = 1 (sum_j max(|n_j a_j|, |n_j b_j|)), for k = 2 (one corner per arc between the 2d
    angles where a (N^T z)_j changes sign) and for d <= ``max_enumerate`` (all 2^d corners). Otherwise
    ``value`` is the bound min(||(sum_j |N_ij| h_j)_i||, ||h||), h_j = max(|a_j|, |b_j|), and ``lower``
    the best corner found by ascent (z <- N e / ||N e||, e <- the corner of z, from +-each axis of R^k):
    the true value lies in [lower, value], and ``method`` says both. A cell that is unbounded (clipping)
    gives inf. ``normals`` must have orthonormal rows; ``w`` (flat, or in the quantizer's layout) is
    needed when the cell depends on the point (codebooks, clipped grids).
    """
    n = _normals(normals)
    k, d = n.shape
    quantizer.check_dim(d, "normals")
    a, b = quantizer.residual_box(d, None if w is None else np.asarray(w).reshape(-1))
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return DeltaPerp(float("inf"), True, "unbounded cell (clipped range)", float("inf"))
    if k == 1:
        val = float(np.sum(np.maximum(np.abs(n[0] * a), np.abs(n[0] * b))))
        return DeltaPerp(val, True, "closed form (k = 1)", val)
    if d <= max_enumerate:
        best = 0.0
        for corner in cell_corners(a, b, chunk_bits=10):
            v = corner @ n.T
            best = max(best, float(np.max(np.sum(v * v, -1))))
        val = float(np.sqrt(best))
        return DeltaPerp(val, True, f"enumeration of 2^{d} corners", val)
    if k == 2:
        val = _planar_max(n, a, b)
        return DeltaPerp(val, True, f"exact for k = 2 ({2 * d} arcs of directions z)", val)
    h = np.maximum(np.abs(a), np.abs(b))
    upper = min(float(np.linalg.norm(np.abs(n) @ h)), float(np.linalg.norm(h)))
    lower = _corner_ascent(n, a, b)
    return DeltaPerp(
        upper,
        False,
        f"upper bound min(||(|N| h)||, ||h||) = {upper:.4g}; a cell corner reaches {lower:.4g}, so the "
        f"true value lies in [{lower:.4g}, {upper:.4g}]",
        lower,
    )


def _corner_of(n, a, b, z):
    """The corner of the box [a, b] that maximises z . N e (rows of z: several directions at once)."""
    return np.where(z @ n > 0, b, a)


def _planar_max(n, a, b) -> float:
    """max over the corners of ||N e|| for k = 2: one corner per arc between the sign changes of N^T z."""
    crit = np.mod(np.arctan2(-n[0], n[1]), np.pi)  # (N^T z)_j = 0 at these angles and at + pi
    angles = np.sort(np.concatenate([crit, crit + np.pi, [0.0, 2 * np.pi]]))
    mids = 0.5 * (angles[:-1] + angles[1:])
    z = np.stack([np.cos(mids), np.sin(mids)], axis=-1)
    v = _corner_of(n, a, b, z) @ n.T
    return float(np.sqrt(np.max(np.sum(v * v, -1))))


def _corner_ascent(n, a, b, iters: int = 50) -> float:
    """A lower bound on delta_perp: ||N e|| at the corner reached by z <- N e / ||N e|| from +-each axis."""
    k = n.shape[0]
    z = np.concatenate([np.eye(k), -np.eye(k)])
    best = 0.0
    for _ in range(iters):
        v = _corner_of(n, a, b, z) @ n.T
        norms = np.linalg.norm(v, axis=-1)
        new_best = float(np.max(norms))
        if new_best <= best * (1 + 1e-12):
            best = max(best, new_best)
            break
        best = new_best
        z = v / np.where(norms > 0, norms, 1.0)[:, None]
    return best


def flip_size(quantizer, normals, w=None):
    """f_j = Delta_j ||N[:, j]||: how far one flip of coordinate j moves Q(w) in sharp coordinates.

    For a codebook (or with ``w`` given) Delta_j is the local gap between the points bracketing w_j.
    """
    n = _normals(normals)
    d = n.shape[-1]
    quantizer.check_dim(d, "normals")
    steps = quantizer.local_steps(d, None if w is None else np.asarray(w).reshape(-1))
    return steps * np.linalg.norm(n, axis=0)
