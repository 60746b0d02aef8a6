r"""Plane coordinates for drawing any landscape: the weights themselves (d = 2) or the river frame.

A *frame* maps a point :math:`w \in \mathbb{R}^d` to two plot coordinates, and a plane of the plot
back to points :math:`w`, so that contours of :math:`L` and projected points agree:

* ``"weights"`` -- :math:`(w_1, w_2)` (d = 2 only): the grid is drawn as it is;
* ``"river"`` -- :math:`(s, v)` for k = 1 (signed offset :math:`v/a`), :math:`(s, \rho)` for k >= 2.
  :math:`L(w) = \ell(s) + \phi(\rho(w))` depends on :math:`w` only through :math:`(s, \rho)` (and the
  sign of :math:`v` through nothing), so the contour value at a projected point *is* its loss, in any d;
* ``"normal"`` -- :math:`(v_1, v_2)`, the first two normal offsets (k >= 2), on the slice
  :math:`s = s_{\rm ref}` with the other offsets zero (exact for k = 2 and a straight, drift-free river).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError

__all__ = ["Frame", "frame_for", "FRAMES"]

FRAMES = ("weights", "river", "normal")


@jax.jit
def _eval(landscape, pts):
    """(L, rho) at every row of pts (one compiled call per landscape structure)."""
    loss = jax.vmap(landscape.loss)(pts)
    rho = jax.vmap(landscape.rho)(pts) if hasattr(landscape, "rho") else jnp.full_like(loss, jnp.nan)
    return loss, rho


@jax.jit
def _coords(landscape, pts):
    """(s, v (k,), rho) of every row of pts."""
    return (
        jax.vmap(landscape.s)(pts),
        jax.vmap(landscape.offset)(pts) / landscape.aniso,
        jax.vmap(landscape.rho)(pts),
    )


@jax.jit
def _river_points(landscape, s):
    """The river points s u + N^T c(s), for every s."""
    return jax.vmap(lambda t: t * landscape.river_dir + landscape.center(t) @ landscape.normals)(s)


def _has_river(landscape) -> bool:
    return all(hasattr(landscape, a) for a in ("normals", "river_dir", "center", "offset", "s"))


@dataclasses.dataclass(frozen=True)
class Frame:
    """A plane frame: name, axis labels, and the reference point w_ref whose flat part fixes the slice."""

    name: str
    xlabel: str
    ylabel: str
    w_ref: np.ndarray

    def project(self, landscape, w) -> np.ndarray:
        """Plot coordinates (n, 2) of points w (n, d) (or (d,): one row)."""
        w = np.atleast_2d(np.asarray(w, np.float64))
        if self.name == "weights":
            return w[:, :2].copy()
        s, v, rho = (np.asarray(a, np.float64) for a in _coords(landscape, jnp.asarray(w, _dtype())))
        if self.name == "river":
            y = v[:, 0] if v.shape[1] == 1 else rho
            return np.stack([s, y], -1)
        return v[:, :2].copy()

    def lift(self, landscape, x, y) -> np.ndarray:
        """Points w (n, d) of the plane at plot coordinates (x, y) (1-D arrays of equal length)."""
        x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
        if self.name == "weights":
            return np.stack([x, y], -1)
        n = np.asarray(landscape.normals, np.float64)
        u = np.asarray(landscape.river_dir, np.float64)
        a = np.asarray(landscape.aniso, np.float64)
        flat = self.w_ref - u * (u @ self.w_ref) - n.T @ (n @ self.w_ref)
        k = n.shape[0]
        if self.name == "river":
            s = x
            v = np.zeros((x.size, k))
            v[:, 0] = y * a[0]  # signed offset (k = 1) or rho along the first sharp direction (k >= 2)
        else:
            s = np.full(x.size, float(u @ self.w_ref))
            v = np.zeros((x.size, k))
            v[:, 0], v[:, 1] = x * a[0], y * a[1]
        c = np.asarray(jax.vmap(landscape.center)(jnp.asarray(s, _dtype())), np.float64)
        return flat[None] + s[:, None] * u[None] + (c + v) @ n

    def river_curve(self, landscape, xlim, ylim, n: int = 201) -> np.ndarray:
        """The river {rho = 0} in plot coordinates (m, 2) over the plot's extent (empty if not drawable)."""
        if not _has_river(landscape):
            return np.zeros((0, 2))
        if self.name == "river":
            return np.stack([np.linspace(*xlim, n), np.zeros(n)], -1)
        if self.name == "normal":
            return np.zeros((1, 2))  # the river crosses the slice at v = 0
        corners = np.array([[xlim[0], ylim[0]], [xlim[0], ylim[1]], [xlim[1], ylim[0]], [xlim[1], ylim[1]]])
        u = np.asarray(landscape.river_dir, np.float64)
        s = corners @ u
        span = float(np.ptp(s)) or 1.0
        ss = np.linspace(s.min() - span, s.max() + span, 4 * n)
        pts = np.asarray(_river_points(landscape, jnp.asarray(ss, _dtype())), np.float64)
        inside = (
            (pts[:, 0] >= xlim[0] - span)
            & (pts[:, 0] <= xlim[1] + span)
            & (pts[:, 1] >= ylim[0] - span)
            & (pts[:, 1] <= ylim[1] + span)
        )
        return pts[inside]

    def grid_points(self, quantizer, xlim, ylim, max_points: int = 4000) -> np.ndarray:
        """The grid points of ``quantizer`` inside the extent (weights frame; per-coordinate quantizers)."""
        if self.name != "weights" or quantizer is None:
            return np.zeros((0, 2))
        axes = []
        for j, lim in enumerate((xlim, ylim)):
            t = np.linspace(lim[0], lim[1], 4001)
            w = np.zeros((t.size, 2))
            w[:, j] = t
            w[:, 1 - j] = self.w_ref[1 - j] if self.w_ref.size > 1 else 0.0
            q = np.asarray(quantizer.quantize(jnp.asarray(w, _dtype())), np.float64)[:, j]
            vals = np.unique(np.round(q, 9))
            axes.append(vals[(vals >= lim[0]) & (vals <= lim[1])])
        if axes[0].size * axes[1].size > max_points:
            return np.zeros((0, 2))  # too dense to draw as points
        gx, gy = np.meshgrid(*axes)
        return np.stack([gx.ravel(), gy.ravel()], -1)


def _dtype():
    return jnp.result_type(float)


def frame_for(landscape, frame: str | None = None, w_ref=None) -> Frame:
    """The frame to draw ``landscape`` in: ``frame`` if given, else weights (d = 2) or the river frame."""
    dim = int(landscape.dim)
    if frame is None:
        frame = "weights" if dim == 2 else "river"
    if frame not in FRAMES:
        raise LandscapeError(f"frame must be one of {', '.join(FRAMES)}; got {frame!r}.")
    if frame == "weights" and dim != 2:
        raise LandscapeError(
            f"frame='weights' draws the weights themselves and needs d = 2; this landscape has d = {dim}. "
            "Use frame='river' (s, v) or frame='normal' (v_1, v_2)."
        )
    if frame != "weights" and not _has_river(landscape):
        raise LandscapeError(
            f"frame={frame!r} needs a landscape with a river (normals, river_dir, center); "
            f"{type(landscape).__name__} has none. A d = 2 surface can be drawn with frame='weights'."
        )
    k = int(landscape.normals.shape[0]) if _has_river(landscape) else 0
    if frame == "normal" and k < 2:
        raise LandscapeError(
            f"frame='normal' draws (v_1, v_2) and needs k >= 2 sharp directions; got k = {k}."
        )
    w_ref = np.zeros(dim) if w_ref is None else np.asarray(w_ref, np.float64).reshape(-1)
    if frame == "weights":
        return Frame(frame, r"weight $w_1$", r"weight $w_2$", w_ref)
    if frame == "river":
        y = r"normal offset $v$" if k == 1 else r"normal distance $\rho$"
        return Frame(frame, r"position along the river $s = u \cdot w$", y, w_ref)
    rest = "" if k == 2 else rf" ($v_3, \ldots, v_{{{k}}} = 0$)"
    return Frame(frame, r"normal offset $v_1$", r"normal offset $v_2$" + rest, w_ref)


def evaluate(landscape, pts):
    """(L, rho) at the rows of pts, as float64 NumPy arrays."""
    loss, rho = _eval(landscape, jnp.asarray(pts, _dtype()))
    return np.asarray(loss, np.float64), np.asarray(rho, np.float64)
