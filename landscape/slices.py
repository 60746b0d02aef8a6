r"""The slice :math:`w_0 + \mathrm{row}(N)` that STE's latent cannot leave without drift (``docs/theory.md``, K2).

Without drift every STE step :math:`-\eta\,\phi'(\rho_q)\,N^\top v_q/\rho_q` lies in the row space of
:math:`N`, so the latent stays on the k-dimensional affine slice :math:`A = \{w_0 + N^\top y\}`. The
deployed points it can ever see are the grid points whose rounding cell meets :math:`A`.

* :func:`slice_cells_in_band` -- the in-band grid points (:math:`\lVert Nq - c_0\rVert \le r_b`) whose
  cell meets the slice: if there is none, no step size, wall or schedule lets STE enter the basin
  (theorem K2R);
* :func:`cell_graph` -- the cell graph of the slice reachable from :math:`Q(w_0)`: an over-approximation
  of the dynamics (each cell maps to every cell its translate meets). Acyclic outside the basin ⇒ STE
  enters the basin, within the longest weighted path (theorem K2G).

Plain NumPy in float64, one start at a time (the graph search is not jittable); cells are tested for
meeting the slice exactly up to a tolerance that only ever *adds* cells (so emptiness and acyclicity
claims stay conservative).
"""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

__all__ = ["polytope_vertices", "slice_meets_boxes", "slice_cells_in_band", "cell_graph", "CellGraph",
           "MAX_CANDIDATES"]

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


def slice_cells_in_band(normals, c0, w0, step, offset, r_b, tol=1e-9):
    """In-band grid points whose cell meets the slice w0 + row(N): (points (m, d), exhaustive flag).

    Only offsets ||x|| <= r_b + delta_perp can be in band (||N q - c0|| >= ||x|| - delta_perp), so the
    candidates are the grid points near the slice's ball of that radius around the river. ``exhaustive``
    is False when the candidates would exceed :data:`MAX_CANDIDATES` (then nothing is claimed).
    """
    n = np.asarray(normals, np.float64)
    k, d = n.shape
    w0 = np.asarray(w0, np.float64)
    c0 = np.asarray(c0, np.float64).reshape(k)
    step, offset = np.asarray(step, np.float64), np.asarray(offset, np.float64)
    x0 = n @ w0 - c0
    dp = _delta_perp_bound(n, step)
    rad = r_b + dp
    centre = w0 - n.T @ x0  # the slice point on the river (offset 0)
    half = rad * np.linalg.norm(n, axis=0) + step / 2  # reach of the ball along each coordinate
    lo_idx = np.ceil((centre - half - offset) / step - 0.5 - 1e-12)
    hi_idx = np.floor((centre + half - offset) / step + 0.5 + 1e-12)
    counts = (hi_idx - lo_idx + 1).astype(int)
    if np.prod(counts.astype(float)) > MAX_CANDIDATES:
        return np.zeros((0, d)), False
    axes = [offset[j] + step[j] * np.arange(lo_idx[j], hi_idx[j] + 1) for j in range(d)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, d)
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
        for bits in itertools.product((-1.0, 1.0), repeat=d):
            e = np.asarray(bits) * h
            best = max(best, float(np.sum((n @ e) ** 2)))
        return float(np.sqrt(best))
    return float(min(np.linalg.norm(np.abs(n) @ h), np.linalg.norm(h)))


class CellGraph(NamedTuple):
    """Outcome of :func:`cell_graph`: acyclic outside the basin?, its T bound, sizes, and why not."""

    acyclic: bool
    t_bound: int
    nodes: int
    in_band_reached: bool
    reason: str


def cell_graph(normals, c0, w0, step, offset, r_b, move, *, max_nodes=3000, tol=1e-9) -> CellGraph:
    """The reachable cell graph of the slice from Q(w0) under STE (no drift), and its longest path.

    ``move(G) -> (k,)`` is the STE step of the offset, -eta phi'(||G||) G / ||G||, at a deployed offset G.
    A node is an out-of-band grid point q whose cell meets the slice; its successors are the cells that
    the translate (cell of q on the slice) + move(G_q) meets. A node is left after at most
    n_q = floor(extent / |move|) + 1 steps (extent: the width of its slice polygon along the move). If
    no cycle of out-of-band nodes is reachable (self-loops aside), STE enters the basin within the
    largest sum of n_q along a path (the start node counted from w0 exactly).
    """
    n = np.asarray(normals, np.float64)
    k, d = n.shape
    a = n.T
    w0 = np.asarray(w0, np.float64)
    c0 = np.asarray(c0, np.float64).reshape(k)
    step, offset = np.asarray(step, np.float64), np.asarray(offset, np.float64)

    def quantize(w):
        return offset + step * np.round((w - offset) / step)

    q0 = quantize(w0)
    key0 = tuple(np.round((q0 - offset) / step).astype(np.int64))
    succ: dict = {}
    weight: dict = {}
    order: list = []
    stack = [key0]
    seen = {key0}
    while stack:
        key = stack.pop()
        q = offset + step * np.asarray(key, np.float64)
        g = n @ q - c0
        if np.sum(g * g) <= r_b * r_b:
            succ[key] = None  # in band: terminal
            continue
        if len(seen) > max_nodes:
            return CellGraph(False, -1, len(seen), False, f"more than {max_nodes} cells reachable")
        mv = np.asarray(move(g), np.float64)
        shift = a @ mv  # the latent's displacement in w
        lo, hi = q - step / 2 - w0, q + step / 2 - w0
        pts, ok = polytope_vertices(a, lo, hi, tol)
        if not ok.any():
            if key == key0:
                ok = np.ones(pts.shape[0], bool)
            else:
                succ[key] = ()
                continue
        norm_mv = float(np.linalg.norm(mv))
        if norm_mv <= 0:
            return CellGraph(False, -1, len(seen), False, "zero step outside the basin")
        along = pts[ok] @ mv / norm_mv
        if key == key0:  # from w0 itself (y = 0): exact count of steps inside the start cell
            ts = _steps_inside(a, lo, hi, mv, tol)
            weight[key] = ts
        else:
            weight[key] = int(np.floor((along.max() - along.min()) / norm_mv * (1 + 1e-9) + 1e-9)) + 1
        # candidate successors: per coordinate the (at most 2) cells the shifted interval overlaps
        slo, shi = q - step / 2 + shift, q + step / 2 + shift
        i_lo = np.floor((slo - offset) / step + 0.5 - tol)
        i_hi = np.floor((shi - offset) / step + 0.5 + tol)
        choices = [np.arange(i_lo[j], i_hi[j] + 1) for j in range(d)]
        cand = np.stack(np.meshgrid(*choices, indexing="ij"), -1).reshape(-1, d)
        cq = offset + step * cand
        blo = np.maximum(cq - step / 2, slo) - w0
        bhi = np.minimum(cq + step / 2, shi) - w0
        good = np.all(blo <= bhi + tol, -1)
        _, okc = polytope_vertices(a, blo, bhi, tol)
        hit = good & np.any(okc, -1)
        nxt = [tuple(c.astype(np.int64)) for c in cand[hit]]
        nxt = [c for c in nxt if c != key]
        succ[key] = tuple(nxt)
        order.append(key)
        for c in nxt:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    # longest weighted path over out-of-band nodes (DFS with colours: a back edge is a cycle)
    best: dict = {}
    colour: dict = {}
    reached_band = any(v is None for v in succ.values())

    def visit(node):
        it = [(node, iter(succ[node] or ()))]
        colour[node] = 1
        while it:
            cur, children = it[-1]
            advanced = False
            for ch in children:
                if succ.get(ch, ()) is None:
                    continue  # in band: ends the path
                c = colour.get(ch, 0)
                if c == 1:
                    return False
                if c == 0:
                    colour[ch] = 1
                    it.append((ch, iter(succ[ch] or ())))
                    advanced = True
                    break
            if not advanced:
                it.pop()
                kids = [best[ch] for ch in (succ[cur] or ()) if succ.get(ch, ()) is not None]
                best[cur] = weight.get(cur, 1) + (max(kids) if kids else 0)
                colour[cur] = 2
        return True

    if succ.get(key0, ()) is None:
        return CellGraph(True, 0, len(seen), True, "start in the basin")
    if not visit(key0):
        return CellGraph(False, -1, len(seen), reached_band, "a cycle of cells outside the basin is reachable")
    dead = [kk for kk, v in succ.items() if v == () and kk in colour]
    if dead:
        return CellGraph(False, -1, len(seen), reached_band, "a reachable cell has no successor (numerics)")
    return CellGraph(True, int(best[key0]), len(seen), reached_band, "acyclic cell graph")


def _steps_inside(a, lo, hi, mv, tol):
    """Number of t >= 0 with t * (a mv) in [lo, hi] (the latent's consecutive steps in its start cell)."""
    sh = a @ mv
    t_max = np.inf
    for j in range(sh.shape[0]):
        if sh[j] > 0:
            t_max = min(t_max, (hi[j] + tol) / sh[j])
        elif sh[j] < 0:
            t_max = min(t_max, (lo[j] - tol) / sh[j])
    return int(np.floor(t_max)) + 1 if np.isfinite(t_max) else 10**9
