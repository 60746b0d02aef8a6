r"""The slice :math:`w_0 + \mathrm{row}(N)` that STE's latent cannot leave without drift (``docs/theory.md``,
K2E and K2R).

Without drift every STE step :math:`-\eta\,\phi'(\rho_q)\,N^\top v_q/\rho_q` lies in the row space of
:math:`N`, so the latent stays on the k-dimensional affine slice :math:`A = \{w_0 + N^\top y\}`. The
deployed points it can ever see are the grid points whose rounding cell meets :math:`A`.

* :func:`slice_cells_in_band` -- the in-band grid points (:math:`\lVert Nq - c_0\rVert \le r_b`) whose
  cell meets the slice: if there is none, no step size, wall or schedule lets STE enter the basin
  (theorem K2R);
* :func:`slice_delta_perp` -- the largest normal rounding error :math:`\lVert N e\rVert` over the cells
  the slice meets near the river: the slice's own :math:`\delta_\perp`, which replaces the global one in
  S4/S5 (theorem K2S).

Plain NumPy in float64, one start at a time; cells are tested for meeting the slice exactly up to a
tolerance that only ever *adds* cells (so emptiness claims and the maximum stay conservative).
"""

from __future__ import annotations

import itertools

import numpy as np

from landscape.quantizers.cells import cell_corners

__all__ = [
    "polytope_vertices",
    "slice_meets_boxes",
    "slice_cells_in_band",
    "slice_delta_perp",
    "MAX_CANDIDATES",
]

#: largest number of candidate grid points enumerated around the slice
MAX_CANDIDATES = 400_000


def polytope_vertices(a, lo, hi, tol=1e-9):
    """Vertices of {y in R^k : lo <= a y <= hi} (a: (d, k) of rank k; lo, hi: (..., d)), batched.

    Returns (points (..., V, k), feasible (..., V)): every intersection of k constraint hyperplanes that
    satisfies all constraints up to ``tol``; the set is non-empty iff some vertex is feasible (it is
    bounded, since ``a`` has rank k).
    """
    a = np.asarray(a, np.float64)
    d, k = a.shape
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    rows, sides = [], []
    for js in itertools.combinations(range(d), k):
        sub = a[list(js)]
        if abs(np.linalg.det(sub)) < 1e-12:
            continue
        # lower or upper face of each of the k active constraints: a vertex of the slice polytope, not a
        # corner of a rounding cell (cells.cell_corners enumerates those)
        for side in itertools.product((0, 1), repeat=k):
            rows.append(js)
            sides.append(side)
    if not rows:
        shape = lo.shape[:-1]
        return np.zeros(shape + (0, k)), np.zeros(shape + (0,), bool)
    rows_a = np.array(rows)  # (V, k)
    sides_a = np.array(sides, bool)  # (V, k)
    mats = a[rows_a]  # (V, k, k)
    inv = np.linalg.inv(mats)
    rhs = np.where(sides_a, hi[..., rows_a], lo[..., rows_a])  # (..., V, k)
    pts = np.einsum("vij,...vj->...vi", inv, rhs)
    ay = np.einsum("dk,...vk->...vd", a, pts)
    scale = 1.0 + np.max(np.abs(np.stack([lo, hi])), axis=(0, -1))[..., None, None]
    ok = np.all((ay >= lo[..., None, :] - tol * scale) & (ay <= hi[..., None, :] + tol * scale), -1)
    return pts, ok


def slice_meets_boxes(normals, w0, box_lo, box_hi, tol=1e-9):
    """For boxes [box_lo, box_hi] (..., d): whether the slice w0 + N^T y meets each (up to ``tol``)."""
    a = np.asarray(normals, np.float64).T
    w0 = np.asarray(w0, np.float64)
    _, ok = polytope_vertices(a, np.asarray(box_lo) - w0, np.asarray(box_hi) - w0, tol)
    return np.any(ok, -1)


def _grid_arrays(quantizer, d):
    step = np.broadcast_to(np.asarray(quantizer.step, np.float64).reshape(-1), (d,)).copy()
    off = np.broadcast_to(np.asarray(quantizer.offset, np.float64).reshape(-1), (d,)).copy()
    return step, off


def _slice_arrays(normals, w0, c0, step, offset):
    """(N, w0, c0, step, offset) as float64 arrays, c0 of shape (k,)."""
    n = np.asarray(normals, np.float64)
    c0 = np.asarray(c0, np.float64).reshape(n.shape[0])
    return n, np.asarray(w0, np.float64), c0, np.asarray(step, np.float64), np.asarray(offset, np.float64)


def _grid_near_slice(n, w0, c0, step, offset, radius):
    """(centre, grid points (m, d)): the slice's river point and every grid point whose cell may meet the
    slice's ball of offsets ||x|| <= radius (grid None when they would exceed :data:`MAX_CANDIDATES`)."""
    d = n.shape[1]
    x0 = n @ w0 - c0
    centre = w0 - n.T @ x0  # the slice point on the river (offset 0)
    half = radius * np.linalg.norm(n, axis=0) + step / 2  # reach of the ball along each coordinate
    lo_idx = np.ceil((centre - half - offset) / step - 0.5 - 1e-12)
    hi_idx = np.floor((centre + half - offset) / step + 0.5 + 1e-12)
    counts = (hi_idx - lo_idx + 1).astype(int)
    if np.prod(counts.astype(float)) > MAX_CANDIDATES:
        return centre, None
    axes = [offset[j] + step[j] * np.arange(lo_idx[j], hi_idx[j] + 1) for j in range(d)]
    return centre, np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)


def slice_cells_in_band(normals, c0, w0, step, offset, r_b, tol=1e-9):
    """In-band grid points whose cell meets the slice w0 + row(N): (points (m, d), exhaustive flag).

    Only offsets ||x|| <= r_b + delta_perp can be in band (||N q - c0|| >= ||x|| - delta_perp), so the
    candidates are the grid points near the slice's ball of that radius around the river. ``exhaustive``
    is False when the candidates would exceed :data:`MAX_CANDIDATES` (then nothing is claimed).
    """
    n, w0, c0, step, offset = _slice_arrays(normals, w0, c0, step, offset)
    d = n.shape[1]
    _, grid = _grid_near_slice(n, w0, c0, step, offset, r_b + _delta_perp_bound(n, step))
    if grid is None:
        return np.zeros((0, d)), False
    off_q = grid @ n.T - c0
    band = np.sum(off_q * off_q, -1) <= r_b * r_b * (1 + 1e-12) + 1e-15
    cand = grid[band]
    if cand.shape[0] == 0:
        return cand, True
    meets = slice_meets_boxes(n, w0, cand - step / 2, cand + step / 2, tol)
    return cand[meets], True


def _delta_perp_bound(n, step):
    """delta_perp = max over the cell of ||N e|| (exact by corner enumeration for d <= 16, else a bound)."""
    k, d = n.shape
    h = step / 2
    if k == 1:
        return float(np.sum(np.abs(n[0]) * h))
    if d <= 16:
        best = 0.0
        for e in np.concatenate(list(cell_corners(-h, h))):
            best = max(best, float(np.sum((n @ e) ** 2)))
        return float(np.sqrt(best))
    return float(min(np.linalg.norm(np.abs(n) @ h), np.linalg.norm(h)))


def slice_delta_perp(normals, c0, w0, step, offset, radius, tol=1e-9):
    """delta_S = max ||N e|| over the cells meeting the slice within offset ``radius`` (an upper bound).

    On the slice, ``N e = (N q - c0) - x`` for w in the cell of q (x = v(w)); ||.|| is convex, so its
    maximum over the cell's slice polygon sits at a vertex. Cells are enumerated around the slice's ball
    ||x|| <= radius (every cell meeting the polygon of the ball is kept: an upper bound). Returns
    (delta_S, exhaustive); ``exhaustive`` is False when the candidates exceed :data:`MAX_CANDIDATES`.
    """
    n, w0, c0, step, offset = _slice_arrays(normals, w0, c0, step, offset)
    centre, cand = _grid_near_slice(n, w0, c0, step, offset, radius)
    if cand is None:
        return float("inf"), False
    pts, ok = polytope_vertices(n.T, cand - step / 2 - centre, cand + step / 2 - centre, tol)
    # pts are y with w = centre + N^T y, i.e. x = y (offsets); keep cells whose polygon meets the ball
    # a polygon with a vertex v meets the ball only if ||v|| - diam(P) <= radius (superset test)
    dist = np.where(ok, np.linalg.norm(pts, axis=-1), np.inf)
    first = pts[np.arange(pts.shape[0]), np.argmax(ok, -1)]
    diam = 2 * np.max(np.where(ok, np.linalg.norm(pts - first[:, None, :], axis=-1), 0.0), -1)
    near = np.min(dist, -1) - diam <= radius
    g = cand @ n.T - c0
    gap = np.linalg.norm(g[:, None, :] - pts, axis=-1)
    worst = np.max(np.where(ok, gap, -np.inf), -1)
    keep = near & np.any(ok, -1)
    return (float(np.max(worst[keep])) if keep.any() else 0.0), True
