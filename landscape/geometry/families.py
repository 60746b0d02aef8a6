r"""Landscape families: straight, random, axis-aligned, rotated, meander, arc and WSD rivers.

Each constructor returns a :class:`~landscape.geometry.landscape.Landscape` (DESIGN.md section 2): the
sharp directions ``normals`` N, the river direction u, the centre c(s), the wall phi and the drift ell(s).

Constructors are traceable: given concrete numbers they validate them (float64 NumPy, then cast); given
traced ones (inside ``jax.vmap``, ``jax.jit`` or ``jax.grad``) they build the same landscape in JAX
arithmetic, unchecked, so ``jax.vmap(rotated_river_2d)(thetas)`` is a batch of landscapes.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from landscape._errors import (
    LandscapeError,
    check_finite,
    check_int_at_least,
    check_orthonormal_rows,
    check_positive,
    check_shape,
    is_concrete,
)
from landscape._typing import ArrayLike
from landscape.geometry.draws import normal_matrix
from landscape.geometry.landscape import Landscape
from landscape.geometry.river import ArcCenter, ConstantCenter, Lake, LinearDrift, MeanderCenter, ZeroDrift
from landscape.geometry.walls import quadratic_wall

__all__ = [
    "straight_river",
    "random_river",
    "axis_aligned_river",
    "rotated_river_2d",
    "meander_river",
    "arc_river",
    "wsd_river_valley",
]


def _complement_dir(normals, xp=np):
    """A unit vector orthogonal to the rows of ``normals`` (deterministic; xp = jnp for traced ones)."""
    k, d = normals.shape
    if k >= d:
        raise LandscapeError(f"normals has k = {k} rows in d = {d}: need k < d for a river direction.")
    q, _ = xp.linalg.qr(xp.concatenate([normals.T, xp.eye(d, dtype=normals.dtype)], axis=1))
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
    if not is_concrete(normals) or (river_dir is not None and not is_concrete(river_dir)):
        normals = jnp.asarray(normals, jnp.result_type(float))  # traced: built in JAX, not validated
        check_shape("normals", normals, (None, None))
        river_dir = _complement_dir(normals, jnp) if river_dir is None else jnp.asarray(river_dir)
        if center is None or not callable(center):
            center = ConstantCenter.make(normals.shape[0], center)
        return _assemble(normals, river_dir, center, wall, river_loss, aniso)
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
    if is_concrete(aniso):
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
    g = np.asarray(normal_matrix(key, (dim, k + 1), jnp.float32), dtype=np.float64)
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


def rotated_river_2d(theta: ArrayLike, **kwargs) -> Landscape:
    """2-D straight river at angle theta: u = (cos t, sin t), n = (-sin t, cos t) (traceable in theta)."""
    check_finite("theta", theta)
    if not is_concrete(theta):
        t = jnp.asarray(theta, jnp.result_type(float))
        c, s = jnp.cos(t), jnp.sin(t)
        return straight_river(jnp.stack([-s, c])[None, :], jnp.stack([c, s]), **kwargs)
    t = float(theta)
    u = np.array([np.cos(t), np.sin(t)])
    n = np.array([[-np.sin(t), np.cos(t)]])
    return straight_river(n, u, **kwargs)


def meander_river(normals, river_dir=None, *, amplitude, omega, phase=0.0, **kwargs) -> Landscape:
    """Curved river with c(s) = amplitude * sin(omega s + phase)."""
    normals = np.asarray(normals, dtype=np.float64) if is_concrete(normals) else jnp.asarray(normals)
    bcast = np.broadcast_to if is_concrete(amplitude) else jnp.broadcast_to
    center = MeanderCenter.make(bcast(amplitude, (normals.shape[0],)), omega, phase)
    return straight_river(normals, river_dir, center=center, **kwargs)


def arc_river(normals, river_dir=None, *, radius, direction=None, **kwargs) -> Landscape:
    """Curved river along a circular arc of the given radius (bending along ``direction``)."""
    normals = np.asarray(normals, dtype=np.float64) if is_concrete(normals) else jnp.asarray(normals)
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
    drift = float(drift) if is_concrete(drift) else drift
    river_loss = LinearDrift(jnp.asarray(drift)) if lake_at is None else Lake.make(drift, lake_at, 1.0)
    return meander_river(
        np.array([[0.0, 1.0]]),
        np.array([1.0, 0.0]),
        amplitude=amplitude,
        omega=omega,
        wall=quadratic_wall(valley_width, kappa),
        river_loss=river_loss,
    )
