r"""River--valley--basin landscapes :math:`L(w) = \ell(s) + \phi(\rho(w))` in :math:`\mathbb{R}^d`.

Notation (DESIGN.md section 2): ``normals`` :math:`N` (k x d, orthonormal rows) are the
sharp directions, ``river_dir`` :math:`u \perp N` the direction of travel,
:math:`s = u\cdot w`, ``offset`` :math:`v(w) = Nw - c(s)`,
``rho`` :math:`\rho = \lVert \mathrm{diag}(1/a)\,v\rVert` (``a = 1`` unless the basin is
anisotropic), basin :math:`\rho \le r_b`.

A :class:`Landscape` is an equinox Module (a pytree); its methods are pure JAX functions of ``w`` (shape
``(d,)``), so they can be ``jit``-ed, differentiated and ``vmap``-ed over points or over
batches of landscapes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import (
    LandscapeError,
    check_int_at_least,
    check_point,
    check_positive,
    is_concrete,
)
from landscape._typing import Array, Flags, Normals, Points, Scalars, Value, Values, Vector, Vectors
from landscape.geometry.draws import normal_matrix
from landscape.geometry.probe import Probe
from landscape.geometry.walls import Wall

__all__ = ["Landscape", "Probe", "matvec", "rmatvec", "vdot", "sumsq", "SMALL_DIM"]


def _safe_norm(sq):
    """sqrt(sq) with a zero gradient (not NaN) at sq = 0; NaN stays NaN (a diverged point is never inside)."""
    pos = sq > 0
    return jnp.where(pos, jnp.sqrt(jnp.where(pos, sq, 1.0)), 0.0 * sq)


#: up to this many coordinates, N w is unrolled into element-wise multiply-adds (one fused kernel per
#: step under vmap, no tiny dot_general or size-2 reduction); above it, a dot product
SMALL_DIM = 16


def _small(normals) -> bool:
    return normals.shape[-1] <= SMALL_DIM


def matvec(normals, w):
    """N w (k,) for N (k, d): unrolled multiply-adds for small d, a dot product otherwise."""
    if _small(normals):
        d = normals.shape[-1]
        cols = [normals[:, j] * w[..., j, None] for j in range(d)]
        out = cols[0]
        for c in cols[1:]:
            out = out + c
        return out
    if w.ndim == 1:
        return normals @ w  # N as the left operand: XLA's matrix-vector product, no transpose of N
    return jnp.einsum("kd,...d->...k", normals, w)


#: up to this many sharp directions, N^T z is unrolled into k multiply-adds over d: one element-wise
#: expression that XLA fuses into the update w + (-eta) N^T z (one pass over N and w, no materialised N^T z)
SMALL_K = 8


def rmatvec(normals, z):
    """N^T z (d,) for N (k, d), z (k,): unrolled multiply-adds for k <= SMALL_K (or small d), else a dot."""
    k = normals.shape[-2]
    if _small(normals) or k <= SMALL_K:
        out = normals[0] * z[..., 0, None]
        for i in range(1, k):
            out = out + normals[i] * z[..., i, None]
        return out
    return z @ normals


def _unrolled_dot(a, b):
    """sum_j a_j b_j over the last axis as a chain of element-wise multiply-adds (a's last axis unrolled)."""
    out = a[..., 0] * b[..., 0]
    for j in range(1, a.shape[-1]):
        out = out + a[..., j] * b[..., j]
    return out


def vdot(w, u):
    """u . w over the last axis (unrolled for small d)."""
    return _unrolled_dot(w, u) if w.shape[-1] <= SMALL_DIM else w @ u


def sumsq(v):
    """sum(v * v) over the last axis (unrolled for small sizes)."""
    return _unrolled_dot(v, v) if v.shape[-1] <= SMALL_DIM else jnp.sum(v * v, axis=-1)


class Landscape(Value):
    """L(w) = ell(s) + phi(rho(w)): a river inside a valley with a basin of radius r_b (an equinox Module)."""

    normals: Normals  # (k, d) orthonormal rows: N
    river_dir: Vector  # (d,) unit, orthogonal to the rows of N: u
    center: Callable[[Scalars], Vectors]  # c(s) -> (k,)
    wall: Wall  # phi
    river_loss: Callable[[Scalars], Scalars]  # ell(s)
    aniso: Vectors  # (k,) relative radii a_i (basin radii r_b * a_i)

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
    def s(self, w: Points) -> Values:
        """s = u . w, the position along the river (every method of a point checks its shape here)."""
        check_point("w", w, self.dim)
        return vdot(w, self.river_dir)

    def offset(self, w: Points) -> Vectors:
        """v(w) = N w - c(s), the normal offset from the river (k,)."""
        s = self.s(w)  # checks the shape of w first
        return matvec(self.normals, w) - self.center(s)

    def rho_sq(self, w: Points) -> Values:
        """rho(w)^2 = ||diag(1/a) v(w)||^2."""
        v = self.offset(w) / self.aniso
        return sumsq(v)

    def rho(self, w: Points) -> Values:
        """rho(w) = ||diag(1/a) v(w)||, the normal distance to the river."""
        return _safe_norm(self.rho_sq(w))

    def in_basin(self, w: Points) -> Flags:
        """True iff rho(w) <= r_b."""
        return self.rho(w) <= self.basin_radius

    def inward_dir(self, w: Vector) -> Vector:
        """-N^T v / ||v||: the unit direction towards the river at w (zero on the river)."""
        v = self.offset(w)
        nv = _safe_norm(jnp.sum(v * v))
        return -(self.normals.T @ v) / jnp.where(nv > 0, nv, 1.0)

    def project_to_river(self, w: Vector) -> Vector:
        """w - N^T v(w): the river point reached by moving w along the sharp directions."""
        return w - self.normals.T @ self.offset(w)

    # -- loss ----------------------------------------------------------------------------
    def loss(self, w: Points) -> Values:
        """L(w) = ell(s) + phi(rho(w))."""
        sq = self.rho_sq(w)
        return self.river_loss(self.s(w)) + self.wall.value_from_sq(sq, _safe_norm(sq))

    def probe(self, w: Points) -> Probe:
        r"""(L(w), grad L(w), rho(w), rho(w) <= r_b) in one pass, with the closed-form gradient.

        :math:`\nabla L = \ell'(s)\,u + \tfrac{\phi'(\rho)}{\rho}\,[N^\top z - (c'(s)\cdot z)\,u]`,
        :math:`z = v / a^2`; the radial factor :math:`\phi'(\rho)/\rho` is finite on the river. For k = 1,
        :math:`\rho = |v|/a` and the factor is :math:`\phi'(\rho)\,\mathrm{sign}(v)/a` (no square root, no
        division). The curvature and drift terms are skipped (statically) for a straight river and a river
        without drift.
        """
        s = self.s(w)
        v = matvec(self.normals, w) - self.center(s)
        inv_a = 1.0 / self.aniso  # loop-invariant: hoisted out of the driver's scan
        if self.k == 1:
            x = v * inv_a  # (1,)
            rho = jnp.abs(x[..., 0])
            sq = x[..., 0] * x[..., 0]
            coeff = (self.wall.deriv(rho) * jnp.sign(x[..., 0]))[..., None] * inv_a
        else:
            x = v * inv_a
            z = x * inv_a
            sq = sumsq(x)
            rho = _safe_norm(sq)
            coeff = self.wall.deriv_over_rho(rho)[..., None] * z
        g = rmatvec(self.normals, coeff)
        if not getattr(self.center, "constant", False):
            dc = _center_deriv(self.center, s)
            g = g - vdot(dc, coeff)[..., None] * self.river_dir
        if not getattr(self.river_loss, "zero", False):
            g = g + _loss_deriv(self.river_loss, s)[..., None] * self.river_dir
        loss = self.river_loss(s) + self.wall.value_from_sq(sq, rho)
        return Probe(loss, g, rho, rho <= self.basin_radius)

    def grad(self, w: Points) -> Points:
        """grad L(w), in closed form (see :meth:`probe`); :meth:`grad_autodiff` is the reference."""
        return self.probe(w).grad

    def grad_autodiff(self, w: Vector) -> Vector:
        """grad L(w) through JAX autodiff of :meth:`loss` (the reference for the closed form)."""
        return jax.grad(self.loss)(w)

    def hessian(self, w):
        """Hess L(w) (d x d), exact through JAX autodiff (use only for small d)."""
        return jax.hessian(self.loss)(w)

    def hvp(self, w, x):
        """Hess L(w) @ x, by forward-over-reverse autodiff."""
        return jax.jvp(jax.grad(self.loss), (w,), (x,))[1]

    # -- sampling ------------------------------------------------------------------------
    def sample_river(self, key: Array, n: int, s_range=(-50.0, 50.0), spread: float = 0.0) -> Points:
        """n trained points on the river: s ~ U(s_range), rho = 0, flat directions ~ N(0, spread^2).

        Returns an array of shape (n, d). With ``spread > 0`` the points also move in
        the d - k - 1 flat directions orthogonal to N and u; ``spread`` may be traced (data, not static).
        """
        check_int_at_least("n", n, 1)
        lo, hi = s_range
        if not hi > lo:
            raise LandscapeError(f"s_range must satisfy low < high; got {s_range!r}.")
        check_positive("spread", spread, allow_zero=True)
        ks, kz = jax.random.split(key)
        s = jax.random.uniform(ks, (n,), minval=lo, maxval=hi)
        base = s[:, None] * self.river_dir + jax.vmap(self.center)(s) @ self.normals
        if not is_concrete(spread) or spread > 0:
            z = spread * normal_matrix(kz, (n, self.dim))
            z = z - (z @ self.normals.T) @ self.normals - jnp.outer(z @ self.river_dir, self.river_dir)
            base = base + z
        return base

    def replace(self, **changes) -> Landscape:
        """A copy with some fields replaced (e.g. another wall)."""
        return dataclasses.replace(self, **changes)

    def __repr__(self):
        try:
            iso = bool(np.all(np.asarray(self.aniso) == 1.0))
        except Exception:  # traced
            iso = True
        river = type(self.center).__name__.removesuffix("Center").lower()
        river = "straight" if river == "constant" else river
        return (f"Landscape(dim={self.dim}, k={self.k}, river={river}, wall={_short_wall(self.wall)}, "
                f"river_loss={type(self.river_loss).__name__}{'' if iso else ', anisotropic'})")


    def _repr_html_(self):  # Jupyter
        """The landscape's symbols (d, k, river, wall, r_b, ell) as an HTML table."""
        from landscape._html import landscape_html  # noqa: PLC0415

        return landscape_html(self, _short_wall(self.wall))


def _short_wall(wall) -> str:
    parts = []
    for f in dataclasses.fields(wall):
        v = getattr(wall, f.name)
        try:
            parts.append(f"{f.name}={float(v):g}")
        except Exception:
            parts.append(f"{f.name}={getattr(v, 'shape', '?')}")
    return f"{type(wall).__name__}({', '.join(parts)})"


def _center_deriv(center, s):
    if hasattr(center, "deriv"):
        return center.deriv(s)
    return jax.jacfwd(center)(s)


def _loss_deriv(river_loss, s):
    if hasattr(river_loss, "deriv"):
        return river_loss.deriv(s)
    return jax.grad(river_loss)(s)
