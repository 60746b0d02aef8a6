r"""Valley curvature: :math:`L(w) = \ell(s) + \phi(\rho(w)) + \tfrac12\sum_i \lambda_i (e_i\cdot w - b_i)^2`.

A :class:`ValleyLandscape` holds a base :class:`~landscape.geometry.Landscape` (river, walls,
basin) and ``m`` wall-free curved directions: ``valley_dirs`` :math:`E` (m x d, orthonormal rows,
orthogonal to :math:`N` and :math:`u`), ``valley_curvature`` :math:`\lambda` (m,) and
``valley_offset`` :math:`b` (m,), the valley floor :math:`Ew = b`. The basin is unchanged
(:math:`\rho \le r_b`, :math:`\rho` the normal distance of the base), and so is everything the wall
decides; the Hessian at a trained point gains :math:`E^\top \mathrm{diag}(\lambda) E`, curvature the
second-order PTQ proxy sees although no wall lies along it (DESIGN.md section 2).

The landscape depends on ``w`` only through :math:`z = Pw`, :math:`P = [N; u; E]` ((k+1+m) x d,
orthonormal rows); :meth:`ValleyLandscape.reduced` returns the same landscape in
:math:`\mathbb{R}^{k+1+m}` and :math:`P`, which the PTQ methods use for their low-rank Hessian
factors (:mod:`landscape.ptq.hessian`), so nothing of size d x d is formed.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import (
    LandscapeError,
    check_finite,
    check_int_at_least,
    check_point,
    check_positive,
    check_shape,
)
from landscape._typing import Normals, Value, Vectors
from landscape.geometry.draws import normal_matrix
from landscape.geometry.families import straight_river
from landscape.geometry.landscape import Landscape, matvec, rmatvec
from landscape.geometry.probe import Probe

__all__ = [
    "ValleyLandscape",
    "with_valley",
    "valley_landscape",
    "axis_aligned_valley",
    "valley_landscape_3d",
]


class ValleyLandscape(Value):
    """L(w) = base L(w) + 1/2 sum_i lambda_i (e_i . w - b_i)^2: wall-free curvature along E."""

    base: Landscape
    valley_dirs: Normals  # (m, d) orthonormal rows, orthogonal to N and u: E
    valley_curvature: Vectors  # (m,) lambda_i >= 0
    valley_offset: Vectors  # (m,) b_i: the valley floor E w = b

    # -- sizes and the base's geometry (delegated) ---------------------------------------
    @property
    def dim(self) -> int:
        """d, the parameter dimension."""
        return self.base.dim

    @property
    def k(self) -> int:
        """k, the number of sharp (walled) directions."""
        return self.base.k

    @property
    def m(self) -> int:
        """m, the number of wall-free curved directions."""
        return self.valley_dirs.shape[-2]

    normals = property(lambda self: self.base.normals, doc="N (k, d), the walled directions.")
    river_dir = property(lambda self: self.base.river_dir, doc="u (d,), the river direction.")
    center = property(lambda self: self.base.center, doc="c(s), the river's centre.")
    wall = property(lambda self: self.base.wall, doc="phi, the valley profile across the river.")
    river_loss = property(lambda self: self.base.river_loss, doc="ell(s), the loss along the river.")
    aniso = property(lambda self: self.base.aniso, doc="a (k,), relative basin radii.")
    basin_radius = property(lambda self: self.base.basin_radius, doc="r_b, the basin radius.")
    radii = property(lambda self: self.base.radii, doc="r_b a_i, the basin radius per sharp direction.")

    def s(self, w):
        """s = u . w, the position along the river."""
        return self.base.s(w)

    def offset(self, w):
        """v(w) = N w - c(s), the normal offset from the river (k,)."""
        return self.base.offset(w)

    def rho_sq(self, w):
        """rho(w)^2 (the base's normal distance, squared)."""
        return self.base.rho_sq(w)

    def rho(self, w):
        """rho(w), the normal distance to the river (the valley term does not change it)."""
        return self.base.rho(w)

    def in_basin(self, w):
        """True iff rho(w) <= r_b."""
        return self.base.in_basin(w)

    def inward_dir(self, w):
        """-N^T v / ||v||: the unit direction towards the river at w."""
        return self.base.inward_dir(w)

    def project_to_river(self, w):
        """w - N^T v(w): the river point reached along the sharp directions (E w unchanged)."""
        return self.base.project_to_river(w)

    # -- the valley term -------------------------------------------------------------------
    def valley_residual(self, w):
        """E w - b (m,): how far w sits from the valley floor along each curved direction."""
        check_point("w", w, self.dim)
        return matvec(self.valley_dirs, w) - self.valley_offset

    def project_to_floor(self, w):
        """w - E^T (E w - b): the point of the valley floor reached along the curved directions."""
        return w - rmatvec(self.valley_dirs, self.valley_residual(w))

    def valley_term(self, w):
        """1/2 sum_i lambda_i (e_i . w - b_i)^2."""
        r = self.valley_residual(w)
        return 0.5 * jnp.sum(self.valley_curvature * r * r, axis=-1)

    def loss(self, w):
        """L(w) = ell(s) + phi(rho(w)) + 1/2 sum_i lambda_i (e_i . w - b_i)^2."""
        return self.base.loss(w) + self.valley_term(w)

    def probe(self, w):
        """(L(w), grad L(w), rho(w), rho(w) <= r_b); closed-form gradient: base + E^T (lambda (E w - b))."""
        p = self.base.probe(w)
        r = self.valley_residual(w)
        lr = self.valley_curvature * r
        loss = p.loss + 0.5 * jnp.sum(lr * r, axis=-1)
        return Probe(loss, p.grad + rmatvec(self.valley_dirs, lr), p.rho, p.in_basin)

    def grad(self, w):
        """grad L(w), in closed form (see :meth:`probe`); :meth:`grad_autodiff` is the reference."""
        return self.probe(w).grad

    def grad_autodiff(self, w):
        """grad L(w) through JAX autodiff of :meth:`loss`."""
        return jax.grad(self.loss)(w)

    def hessian(self, w):
        """Hess L(w) (d x d): the base's (autodiff) plus E^T diag(lambda) E exactly (small d only)."""
        e = self.valley_dirs
        return self.base.hessian(w) + (e.T * self.valley_curvature) @ e

    def hvp(self, w, x):
        """Hess L(w) @ x: the base's (forward-over-reverse) plus E^T (lambda * E x)."""
        e = self.valley_dirs
        return self.base.hvp(w, x) + rmatvec(e, self.valley_curvature * matvec(e, x))

    def reduced(self):
        """(L_red, P): L(w) = L_red(P w), P = [N; u; E] ((k+1+m) x d), L_red this landscape in R^(k+1+m)."""
        k, m = self.k, self.m
        dt = self.base.normals.dtype
        eye = jnp.eye(k + 1 + m, dtype=dt)
        red_base = self.base.replace(normals=eye[:k], river_dir=eye[k])
        red = dataclasses.replace(self, base=red_base, valley_dirs=eye[k + 1:])
        proj = jnp.concatenate([self.base.normals, self.base.river_dir[None, :], self.valley_dirs], axis=0)
        return red, proj

    # -- sampling ------------------------------------------------------------------------
    def sample_river(self, key, n: int, s_range=(-50.0, 50.0), spread: float = 0.0):
        """n trained points on the river and on the valley floor (rho = 0, E w = b), flat spread ~ N(0, s^2).

        The spread moves the points only in the d - k - 1 - m flat directions orthogonal to N, u and E.
        """
        check_positive("spread", spread, allow_zero=True)
        ks, kz = jax.random.split(key)
        w = self.base.sample_river(ks, n, s_range=s_range, spread=0.0)
        if spread > 0:
            proj = jnp.concatenate([self.normals, self.river_dir[None, :], self.valley_dirs], axis=0)
            z = spread * normal_matrix(kz, (n, self.dim), w.dtype)
            w = w + z - (z @ proj.T) @ proj
        return w + self.valley_offset @ self.valley_dirs

    def replace(self, **changes) -> ValleyLandscape:
        """A copy with fields replaced: valley fields directly, any other (e.g. wall=) on the base."""
        own = {f.name for f in dataclasses.fields(self)}
        mine = {k: v for k, v in changes.items() if k in own}
        rest = {k: v for k, v in changes.items() if k not in own}
        out = dataclasses.replace(self, **mine) if mine else self
        return dataclasses.replace(out, base=out.base.replace(**rest)) if rest else out

    def __repr__(self):
        try:
            lam = np.asarray(self.valley_curvature)
            curv = f"{float(lam[0]):g}" if np.all(lam == lam[0]) else f"[{lam.min():g}, {lam.max():g}]"
        except Exception:  # traced
            curv = "traced"
        return f"ValleyLandscape(m={self.m}, curvature={curv}, base={self.base!r})"

    def _repr_html_(self):  # Jupyter
        """The base landscape's table, then m and the wall-free curvatures lambda_i."""
        from landscape._html import number  # noqa: PLC0415

        extra = (f"<div>+ valley term: m = {self.m} wall-free curved directions E, curvature lambda = "
                 f"{number(self.valley_curvature)}</div>")
        return self.base._repr_html_() + extra


# --------------------------------------------------------------------------------------
# constructors
# --------------------------------------------------------------------------------------
def _per_direction(name, value, m):
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (m,)) if np.ndim(value) == 0 else \
        np.asarray(value, dtype=np.float64)
    check_shape(name, arr, (m,))
    check_finite(name, arr)
    return arr


def with_valley(base: Landscape, valley_dirs, curvature=1.0, offset=0.0) -> ValleyLandscape:
    """A ValleyLandscape from a base landscape and E (m x d), lambda (scalar or (m,)), b (scalar or (m,))."""
    e = np.asarray(valley_dirs, dtype=np.float64)
    if e.ndim != 2 or e.shape[-1] != base.dim:
        raise LandscapeError(f"valley_dirs must have shape (m, {base.dim}); got shape {e.shape}.")
    m = e.shape[0]
    if m < 1:
        raise LandscapeError("valley_dirs must have at least one row (m >= 1); m = 0 is the base landscape.")
    full = np.concatenate([np.asarray(base.normals, np.float64), np.asarray(base.river_dir, np.float64)[None],
                           e], axis=0)
    err = float(np.max(np.abs(full @ full.T - np.eye(full.shape[0]))))
    if err > 1e-4:
        raise LandscapeError(
            "valley_dirs must have orthonormal rows orthogonal to the normals N and the river direction u "
            f"(max |P P^T - I| <= 1e-4 for P = [N; u; E]); got {err:.3g}."
        )
    lam = _per_direction("curvature", curvature, m)
    check_positive("curvature", lam, allow_zero=True)
    b = _per_direction("offset", offset, m)
    dt = base.normals.dtype
    return ValleyLandscape(base, jnp.asarray(e, dt), jnp.asarray(lam, dt), jnp.asarray(b, dt))


def _check_sizes(dim, k, m):
    check_int_at_least("dim", dim, 3)
    check_int_at_least("k", k, 1)
    check_int_at_least("m", m, 1)
    if k + 1 + m > dim:
        raise LandscapeError(
            f"k + 1 + m must be <= dim (N, u and E are orthonormal); got k = {k}, m = {m}, dim = {dim}: "
            f"m must lie in [1, {dim - k - 1}]."
        )


def valley_landscape(key, dim: int, k: int, m: int, wall=None, curvature=1.0, *, offset=0.0,
                     river_loss=None, center=None) -> ValleyLandscape:
    """Random orthonormal N (k x d), u, E (m x d) (QR of a Gaussian d x (k+1+m)); lambda = curvature."""
    _check_sizes(dim, k, m)
    g = np.asarray(normal_matrix(key, (dim, k + 1 + m), jnp.float32), dtype=np.float64)
    q, _ = np.linalg.qr(g)
    base = straight_river(q[:, :k].T, q[:, k], wall=wall, river_loss=river_loss, center=center)
    return with_valley(base, q[:, k + 1:].T, curvature, offset)


def axis_aligned_valley(dim: int, k: int, m: int, wall=None, curvature=1.0, *, offset=0.0,
                        river_loss=None, center=None) -> ValleyLandscape:
    """N = (e_1..e_k), u = e_{k+1}, E = (e_{k+2}..e_{k+1+m}): the valley along coordinate axes."""
    _check_sizes(dim, k, m)
    eye = np.eye(dim)
    base = straight_river(eye[:k], eye[k], wall=wall, river_loss=river_loss, center=center)
    return with_valley(base, eye[k + 1:k + 1 + m], curvature, offset)


def valley_landscape_3d(theta: float = np.pi / 4, wall=None, curvature=1.0, *, offset=0.0, center=None,
                        river_loss=None) -> ValleyLandscape:
    """d = 3: walled n = (cos t, sin t, 0), curved e = (-sin t, cos t, 0), u = e_3 (picture: the w1-w2 plane).

    At theta = pi/4 this is the planar valley of :mod:`landscape.laws.valley` (n and e along the diagonals of
    the grid's cells in the (w1, w2) plane).
    """
    check_finite("theta", theta)
    t = float(theta)
    n = np.array([[np.cos(t), np.sin(t), 0.0]])
    e = np.array([[-np.sin(t), np.cos(t), 0.0]])
    base = straight_river(n, np.array([0.0, 0.0, 1.0]), wall=wall, river_loss=river_loss, center=center)
    return with_valley(base, e, curvature, offset)
