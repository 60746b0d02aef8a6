r"""The Hessian a PTQ method sees, and the per-coordinate view of a quantizer.

A PTQ ``source`` is either a :class:`~landscape.geometry.Landscape` or a user-supplied
``(d, d)`` array ``H`` (e.g. a calibration Hessian :math:`X^\top X`).

* **Landscape source**: the loss depends on ``w`` only through :math:`z = Pw`, where
  :math:`P = [N; u]` (``(k+1) x d``, orthonormal rows), or :math:`P = [N; u; E]` for a landscape
  with valley curvature (its ``reduced()`` method). Hence the exact Hessian is
  :math:`H = P^\top C P` with :math:`C = \nabla^2_z g(Pw^*)` (``r x r``, r = rows of P), ``g`` the
  landscape restricted to those coordinates. :func:`hessian_factors` returns
  ``(P, C)``; nothing of size ``d x d`` is formed, so batches of trained points are cheap.
* **Array source**: ``H`` is symmetrised and checked (symmetric, finite, positive
  semi-definite within a tolerance) before any tracing; see :func:`check_hessian`.

GPTQ dampening (Frantar et al., 2023): :math:`H + \lambda I`,
:math:`\lambda = \mathrm{damp}\cdot\mathrm{mean}(\mathrm{diag}\,H)`; when
:math:`\mathrm{mean}(\mathrm{diag}\,H) \le 0` (a Hessian that is zero, as in a perfectly flat
basin) :math:`\lambda = \mathrm{damp}`, which makes every Hessian-based method equal RTN.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_finite, check_positive, is_concrete
from landscape.geometry import Landscape

__all__ = [
    "is_landscape_source",
    "reduced_landscape",
    "hessian_factors",
    "dense_hessian",
    "check_hessian",
    "damping",
    "quadratic_proxy",
    "map_rows",
]


# --------------------------------------------------------------------------------------
# Landscape sources: H = P^T C P
# --------------------------------------------------------------------------------------
def is_landscape_source(source) -> bool:
    """Whether a PTQ source is a landscape (exact Hessian from its reduction) rather than a user array H."""
    return isinstance(source, Landscape) or callable(getattr(source, "reduced", None))


def reduced_landscape(landscape):
    """(L_red, P): L(w) = L_red(P w), P with orthonormal rows, L_red the same landscape in R^(rows of P).

    A landscape that knows its reduction says so through ``landscape.reduced()`` (e.g. a
    :class:`~landscape.geometry.valley.ValleyLandscape`: P = [N; u; E]); a base :class:`Landscape` has
    P = [N; u] and L_red in R^(k+1).
    """
    own = getattr(landscape, "reduced", None)
    if callable(own):
        return own()
    k = landscape.k
    dt = landscape.normals.dtype
    eye = jnp.eye(k + 1, dtype=dt)
    red = landscape.replace(normals=eye[:k], river_dir=eye[k])
    proj = jnp.concatenate([landscape.normals, landscape.river_dir[None, :]], axis=0)
    return red, proj


def hessian_factors(landscape, w_star) -> tuple[jax.Array, jax.Array]:
    """(P, C) with Hess L(w*) = P^T C P exactly; C = Hess of L_red at z = P w* (batched over rows of w*)."""
    return _hessian_factors(landscape, jnp.asarray(w_star))


@jax.jit
def _hessian_factors(landscape, w_star):
    red, proj = reduced_landscape(landscape)
    z = w_star @ proj.T
    hz = jax.hessian(red.loss)
    c = hz(z) if z.ndim == 1 else jax.vmap(hz)(z)
    c = 0.5 * (c + jnp.swapaxes(c, -1, -2))
    return proj, c


def psd_part(c):
    """The positive semi-definite part of a symmetric matrix C (negative eigenvalues set to 0)."""
    evals, evecs = jnp.linalg.eigh(c)
    return (evecs * jnp.maximum(evals, 0.0)[..., None, :]) @ jnp.swapaxes(evecs, -1, -2)


def dense_hessian(source, w_star) -> jax.Array:
    """Hess L(w*) as a dense (d, d) array: P^T C P for a Landscape (one point), H itself for an array."""
    if is_landscape_source(source):
        proj, c = hessian_factors(source, w_star)
        if c.ndim != 2:
            raise LandscapeError("dense_hessian needs a single point w_star of shape (d,).")
        return proj.T @ c @ proj
    return jnp.asarray(source)


# --------------------------------------------------------------------------------------
# Array sources
# --------------------------------------------------------------------------------------
def check_hessian(h, dim: int, *, psd_tol: float = 1e-5, on_indefinite: str = "raise"):
    """Validate a user Hessian: (dim, dim), finite, symmetric; PSD within psd_tol * max|eig| (or shifted)."""
    if on_indefinite not in ("raise", "shift"):
        raise LandscapeError(f"on_indefinite must be 'raise' or 'shift'; got {on_indefinite!r}.")
    h = jnp.asarray(h, dtype=jnp.result_type(float))
    if h.shape != (dim, dim):
        raise LandscapeError(f"H must have shape ({dim}, {dim}) to match w_star; got shape {h.shape}.")
    if not is_concrete(h):
        # traced: no Python-side check possible; symmetrise and (documented) shift so the
        # Cholesky factorisation cannot produce NaN.
        h = 0.5 * (h + h.T)
        lam_min = jnp.linalg.eigvalsh(h)[0]
        return h + jnp.maximum(-lam_min, 0.0) * jnp.eye(dim, dtype=h.dtype)
    hn = np.asarray(h, dtype=np.float64)
    check_finite("H", hn)
    scale = max(float(np.max(np.abs(hn))), 1e-30)
    asym = float(np.max(np.abs(hn - hn.T)))
    if asym > 1e-5 * scale:
        raise LandscapeError(
            f"H must be symmetric (max |H - H^T| <= 1e-5 max|H|); got max |H - H^T| = {asym:.3g} "
            f"with max|H| = {scale:.3g}. Pass (H + H^T) / 2 if the asymmetry is rounding noise."
        )
    hn = 0.5 * (hn + hn.T)
    evals = np.linalg.eigvalsh(hn)
    lam_min, lam_max = float(evals[0]), float(np.max(np.abs(evals)))
    if lam_min < -psd_tol * max(lam_max, 1e-30):
        if on_indefinite == "raise":
            raise LandscapeError(
                f"H must be positive semi-definite (min eigenvalue >= -{psd_tol:g} max|eig|); its min "
                f"eigenvalue is {lam_min:.4g} (max |eig| {lam_max:.4g}). Pass a PSD Hessian such as "
                f"X^T X, or on_indefinite='shift' to add |min eig| I before dampening."
            )
        hn = hn + (-lam_min) * np.eye(dim)
    return jnp.asarray(hn, dtype=h.dtype)


def damping(trace, dim: int, damp):
    """lambda = damp * mean(diag H) = damp * tr(H) / d, or damp when tr(H) <= 0 (GPTQ dampening)."""
    mean_diag = trace / dim
    return jnp.where(mean_diag > 0, damp * mean_diag, damp)


def check_damp(damp) -> None:
    """Raise unless damp > 0."""
    check_positive("damp", damp)


# --------------------------------------------------------------------------------------
# shapes and the per-coordinate quantizer
# --------------------------------------------------------------------------------------
def check_w_star(w_star, dim: int | None = None):
    """w* as a float array of shape (d,) or (rows, d); checked finite."""
    w = jnp.asarray(w_star, dtype=jnp.result_type(float))
    if w.ndim not in (1, 2):
        raise LandscapeError(f"w_star must have shape (d,) or (rows, d); got shape {w.shape}.")
    if dim is not None and w.shape[-1] != dim:
        raise LandscapeError(f"w_star has last axis {w.shape[-1]}, but the source has dim = {dim}.")
    check_finite("w_star", w)
    return w


def broadcast_quantizer(quantizer, shape):
    """The quantizer with every per-coordinate leaf broadcast to ``shape`` (w*'s shape).

    A weight matrix ``W`` in the quantizer's own layout (the layer setting: ``per_channel_grid(steps,
    W.shape, axis=...)`` or ``per_group_grid(steps, W.shape, ...)``) keeps the layout's steps per entry;
    otherwise each row of ``w*`` is a flat point and the layout is flattened first.
    """
    shape = tuple(shape)
    layout = quantizer.shape
    if layout is not None and len(layout) > 1 and tuple(layout) == shape[-len(layout):]:
        return dataclasses.replace(quantizer, shape=None).broadcast_to(shape)
    return quantizer.as_flat().broadcast_to(shape)


def take_coord(qb, j):
    """The quantizer of coordinate j (last axis) of a broadcast quantizer (j may be traced)."""
    return qb.take(j, axis=-1)


def take_row(qb, i):
    """Row i (axis 0) of a quantizer broadcast to (rows, d)."""
    return qb.take(i, axis=0)


def map_rows(f, xs, batch_size: int = 256):
    """vmap f over the leading axis of the pytree xs, in chunks of batch_size rows (cache-sized)."""
    n = jax.tree_util.tree_leaves(xs)[0].shape[0]
    if n <= batch_size:
        return jax.vmap(f)(*xs)
    return jax.lax.map(lambda a: f(*a), xs, batch_size=batch_size)


def quadratic_proxy(source, w_star, q):
    """(q - w*)^T H (q - w*), the second-order proxy of L(q) - L(w*) (per row for a 2-D w*)."""
    w_star = jnp.asarray(w_star)
    e = jnp.asarray(q) - w_star
    if is_landscape_source(source):
        proj, c = hessian_factors(source, w_star)
        ze = e @ proj.T
        return jnp.einsum("...i,...ij,...j->...", ze, c, ze)
    h = jnp.asarray(source)
    return jnp.einsum("...i,ij,...j->...", e, h, e)
