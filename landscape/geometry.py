r"""River--valley--basin landscapes :math:`L(w) = \ell(s) + \phi(\rho(w))` in :math:`\mathbb{R}^d`.

Notation (DESIGN.md section 2): ``normals`` :math:`N` (k x d, orthonormal rows) are the
sharp directions, ``river_dir`` :math:`u \perp N` the direction of travel,
:math:`s = u\cdot w`, ``offset`` :math:`v(w) = Nw - c(s)`,
``rho`` :math:`\rho = \lVert \mathrm{diag}(1/a)\,v\rVert` (``a = 1`` unless the basin is
anisotropic), basin :math:`\rho \le r_b`.

A :class:`Landscape` is a pytree; its methods are pure JAX functions of ``w`` (shape
``(d,)``), so they can be ``jit``-ed, differentiated and ``vmap``-ed over points or over
batches of landscapes.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from landscape._checks import (
    LandscapeError,
    check_finite,
    check_int_at_least,
    check_orthonormal_rows,
    check_positive,
    check_shape,
)
from landscape.river import ArcCenter, ConstantCenter, Lake, LinearDrift, MeanderCenter, ZeroDrift
from landscape.walls import quadratic_wall

__all__ = [
    "Landscape",
    "straight_river",
    "random_river",
    "axis_aligned_river",
    "rotated_river_2d",
    "meander_river",
    "arc_river",
    "wsd_river_valley",
]


def _safe_norm(sq):
    """sqrt(sq) with a zero gradient (not NaN) at sq = 0."""
    pos = sq > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, sq, 1.0)), 0.0)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Landscape:
    """L(w) = ell(s) + phi(rho(w)): a river inside a valley with a basin of radius r_b."""

    normals: jax.Array  # (k, d) orthonormal rows: N
    river_dir: jax.Array  # (d,) unit, orthogonal to the rows of N: u
    center: Any  # c(s) -> (k,)
    wall: Any  # phi
    river_loss: Any  # ell(s)
    aniso: jax.Array  # (k,) relative radii a_i (basin radii r_b * a_i)

    # -- sizes ---------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """d, the parameter dimension."""
        return self.normals.shape[-1]

    @property
    def k(self) -> int:
        """k, the number of sharp directions."""
        return self.normals.shape[-2]

    @property
    def basin_radius(self):
        """r_b, the basin radius (in the rho metric)."""
        return self.wall.basin_radius

    @property
    def radii(self):
        """Basin radius along each sharp direction, r_b * a_i (Euclidean)."""
        return self.wall.basin_radius * self.aniso

    # -- geometry ------------------------------------------------------------------------
    def s(self, w):
        """s = u . w, the position along the river."""
        return jnp.dot(w, self.river_dir)

    def offset(self, w):
        """v(w) = N w - c(s), the normal offset from the river (k,)."""
        return self.normals @ w - self.center(self.s(w))

    def rho_sq(self, w):
        """rho(w)^2 = ||diag(1/a) v(w)||^2."""
        v = self.offset(w) / self.aniso
        return jnp.sum(v * v)

    def rho(self, w):
        """rho(w) = ||diag(1/a) v(w)||, the normal distance to the river."""
        return _safe_norm(self.rho_sq(w))

    def in_basin(self, w):
        """True iff rho(w) <= r_b."""
        return self.rho(w) <= self.basin_radius

    def inward_dir(self, w):
        """-N^T v / ||v||: the unit direction towards the river at w (zero on the river)."""
        v = self.offset(w)
        nv = _safe_norm(jnp.sum(v * v))
        return -(self.normals.T @ v) / jnp.where(nv > 0, nv, 1.0)

    def project_to_river(self, w):
        """w - N^T v(w): the river point reached by moving w along the sharp directions."""
        return w - self.normals.T @ self.offset(w)

    # -- loss ----------------------------------------------------------------------------
    def loss(self, w):
        """L(w) = ell(s) + phi(rho(w))."""
        sq = self.rho_sq(w)
        return self.river_loss(self.s(w)) + self.wall.value_from_sq(sq, _safe_norm(sq))

    def grad(self, w):
        """grad L(w), exact through JAX autodiff."""
        return jax.grad(self.loss)(w)

    def hessian(self, w):
        """Hess L(w) (d x d), exact through JAX autodiff (use only for small d)."""
        return jax.hessian(self.loss)(w)

    def hvp(self, w, x):
        """Hess L(w) @ x, by forward-over-reverse autodiff."""
        return jax.jvp(jax.grad(self.loss), (w,), (x,))[1]

    # -- sampling ------------------------------------------------------------------------
    def sample_river(self, key, n: int, s_range=(-50.0, 50.0), spread: float = 0.0):
        """n trained points on the river: s ~ U(s_range), rho = 0, flat directions ~ N(0, spread^2).

        Returns an array of shape (n, d). With ``spread > 0`` the points also move in
        the d - k - 1 flat directions orthogonal to N and u.
        """
        check_int_at_least("n", n, 1)
        lo, hi = s_range
        if not hi > lo:
            raise LandscapeError(f"s_range must satisfy low < high; got {s_range!r}.")
        check_positive("spread", spread, allow_zero=True)
        ks, kz = jax.random.split(key)
        s = jax.random.uniform(ks, (n,), minval=lo, maxval=hi)
        base = s[:, None] * self.river_dir + jax.vmap(self.center)(s) @ self.normals
        if spread > 0:
            z = spread * jax.random.normal(kz, (n, self.dim))
            z = z - (z @ self.normals.T) @ self.normals - jnp.outer(z @ self.river_dir, self.river_dir)
            base = base + z
        return base

    def replace(self, **changes) -> Landscape:
        """A copy with some fields replaced (e.g. another wall)."""
        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------------------
# constructors
# --------------------------------------------------------------------------------------
def _complement_dir(normals: np.ndarray) -> np.ndarray:
    """A unit vector orthogonal to the rows of ``normals`` (deterministic)."""
    k, d = normals.shape
    if k >= d:
        raise LandscapeError(f"normals has k = {k} rows in d = {d}: need k < d for a river direction.")
    q, _ = np.linalg.qr(np.concatenate([normals.T, np.eye(d)], axis=1))
    return q[:, k]


def straight_river(
    normals,
    river_dir=None,
    *,
    wall=None,
    river_loss=None,
    center=None,
    aniso=None,
) -> Landscape:
    """A straight river: N (k x d, orthonormal rows), u orthogonal to N, centre c0."""
    normals_np = np.asarray(normals, dtype=np.float64)
    check_orthonormal_rows("normals", normals_np)
    k, d = normals_np.shape
    if river_dir is None:
        river_dir_np = _complement_dir(normals_np)
    else:
        river_dir_np = np.asarray(river_dir, dtype=np.float64)
        check_shape("river_dir", river_dir_np, (d,))
        check_finite("river_dir", river_dir_np)
        nrm = np.linalg.norm(river_dir_np)
        if abs(nrm - 1) > 1e-4:
            raise LandscapeError(f"river_dir must be a unit vector; got norm {nrm:.6g}.")
        ortho = float(np.max(np.abs(normals_np @ river_dir_np)))
        if ortho > 1e-4:
            raise LandscapeError(
                f"river_dir must be orthogonal to every row of normals; max |N u| = {ortho:.3g}."
            )
    if center is None or not callable(center):
        center = ConstantCenter.make(k, center)
    return _assemble(normals_np, river_dir_np, center, wall, river_loss, aniso)


def _assemble(normals, river_dir, center, wall, river_loss, aniso) -> Landscape:
    k = normals.shape[0]
    wall = quadratic_wall() if wall is None else wall
    river_loss = ZeroDrift() if river_loss is None else river_loss
    if isinstance(river_loss, (int, float)):
        river_loss = LinearDrift(jnp.asarray(float(river_loss)))
    if aniso is None:
        aniso = np.ones(k)
    aniso = np.asarray(aniso, dtype=np.float64)
    check_shape("aniso", aniso, (k,))
    check_positive("aniso", aniso)
    dt = jnp.result_type(float)
    return Landscape(
        normals=jnp.asarray(normals, dt),
        river_dir=jnp.asarray(river_dir, dt),
        center=center,
        wall=wall,
        river_loss=river_loss,
        aniso=jnp.asarray(aniso, dt),
    )


def random_river(key, dim: int, k: int, **kwargs) -> Landscape:
    """Straight river with random orthonormal N and u (QR of a Gaussian d x (k+1) matrix)."""
    check_int_at_least("dim", dim, 2)
    check_int_at_least("k", k, 1)
    if k >= dim:
        raise LandscapeError(f"k must lie in [1, dim - 1] = [1, {dim - 1}]; got {k}.")
    g = np.asarray(jax.random.normal(key, (dim, k + 1), dtype=jnp.float32), dtype=np.float64)
    q, _ = np.linalg.qr(g)
    return straight_river(q[:, :k].T, q[:, k], **kwargs)


def axis_aligned_river(dim: int, k: int, **kwargs) -> Landscape:
    """Straight river with N = (e_1, ..., e_k) and u = e_{k+1}."""
    check_int_at_least("dim", dim, 2)
    check_int_at_least("k", k, 1)
    if k >= dim:
        raise LandscapeError(f"k must lie in [1, dim - 1] = [1, {dim - 1}]; got {k}.")
    eye = np.eye(dim)
    return straight_river(eye[:k], eye[k], **kwargs)


def rotated_river_2d(theta: float, **kwargs) -> Landscape:
    """2-D straight river at angle theta: u = (cos t, sin t), n = (-sin t, cos t)."""
    check_finite("theta", theta)
    t = float(theta)
    u = np.array([np.cos(t), np.sin(t)])
    n = np.array([[-np.sin(t), np.cos(t)]])
    return straight_river(n, u, **kwargs)


def meander_river(normals, river_dir=None, *, amplitude, omega, phase=0.0, **kwargs) -> Landscape:
    """Curved river with c(s) = amplitude * sin(omega s + phase)."""
    normals = np.asarray(normals, dtype=np.float64)
    center = MeanderCenter.make(np.broadcast_to(amplitude, (normals.shape[0],)), omega, phase)
    return straight_river(normals, river_dir, center=center, **kwargs)


def arc_river(normals, river_dir=None, *, radius, direction=None, **kwargs) -> Landscape:
    """Curved river along a circular arc of the given radius (bending along ``direction``)."""
    normals = np.asarray(normals, dtype=np.float64)
    k = normals.shape[0]
    direction = np.eye(k)[0] if direction is None else direction
    return straight_river(normals, river_dir, center=ArcCenter.make(radius, direction), **kwargs)


def wsd_river_valley(
    valley_width=0.25, kappa=10.0, amplitude=0.5, omega=0.5, drift=0.1, lake_at=None
) -> Landscape:
    """The 2-D river-valley toy in the spirit of Wen et al. (2024), WSD learning rates.

    L(x, y) = ell(x) + phi(|y - A sin(omega x)|): a meandering river along x (the slow,
    flat direction) with loss ell descending at rate ``drift`` (ending in a lake at
    ``lake_at`` if given) inside a valley whose sharp direction is y. The exact
    functional form of the paper's toy is not reproduced; this keeps its structure
    (a sharp "hill" direction and a slowly descending "river" direction).
    """
    river_loss = LinearDrift(jnp.asarray(float(drift))) if lake_at is None else Lake.make(drift, lake_at, 1.0)
    return meander_river(
        np.array([[0.0, 1.0]]),
        np.array([1.0, 0.0]),
        amplitude=amplitude,
        omega=omega,
        wall=quadratic_wall(valley_width, kappa),
        river_loss=river_loss,
    )
