r"""Sharp directions of a real loss: Hessian-vector products and Lanczos.

* :func:`hvp` -- :math:`H v = \nabla^2 L(w)\, v` by forward-over-reverse differentiation
  (``jax.jvp`` of ``jax.grad``), never forming :math:`H`.
* :func:`lanczos` -- the top-k eigenpairs of :math:`H` from ``num_iter`` Lanczos steps with
  full reorthogonalisation (two Gram-Schmidt passes against every earlier Lanczos vector),
  run in one ``lax.scan`` (PyHessian-style spectrum estimate). The rows of the returned
  ``normals`` are the Ritz vectors :math:`N` (k x d, orthonormal), the sharp directions of
  the DESIGN notation; ``residuals`` :math:`\lVert H n_i - \lambda_i n_i\rVert` say how
  well each pair has converged.
* :func:`dense_hessian` -- the full :math:`d \times d` matrix (for checks on small models).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape._checks import LandscapeError, check_int_at_least

__all__ = ["hvp", "lanczos", "Spectrum", "dense_hessian", "top_eigenvalue"]


def hvp(loss_fn, w, v):
    """H v = d/de grad L(w + e v) at e = 0 (forward-over-reverse)."""
    return jax.jvp(jax.grad(loss_fn), (w,), (v,))[1]


def dense_hessian(loss_fn, w):
    """The full Hessian nabla^2 L(w), shape (d, d) (small d only)."""
    return jax.hessian(loss_fn)(w)


class Spectrum(NamedTuple):
    """Top-k Ritz pairs: eigenvalues (k,) descending, normals (k, d), residuals (k,), tridiagonal."""

    eigenvalues: jax.Array
    normals: jax.Array
    residuals: jax.Array
    alphas: jax.Array
    betas: jax.Array


def _lanczos_basis(matvec, v0, num_iter: int, key):
    d = v0.shape[0]
    v0 = v0 / jnp.linalg.norm(v0)
    basis = jnp.zeros((num_iter + 1, d), v0.dtype).at[0].set(v0)
    tiny = jnp.asarray(1e3 * jnp.finfo(v0.dtype).eps, v0.dtype)

    def orth(x, basis):
        for _ in range(2):  # twice is enough (Kahan-Parlett)
            x = x - basis.T @ (basis @ x)
        return x

    def step(carry, inputs):
        basis, beta_prev = carry
        j, k = inputs
        v = basis[j]
        w = matvec(v)
        alpha = jnp.dot(w, v)
        w = orth(w, basis)  # removes alpha v_j, beta v_{j-1} and round-off drift
        beta = jnp.linalg.norm(w)
        scale = jnp.maximum(jnp.max(jnp.abs(w)), 1.0)
        broke = beta <= tiny * scale
        # invariant subspace found: restart with a random vector orthogonal to the basis
        r = orth(jax.random.normal(k, (d,), v0.dtype), basis)
        nxt = jnp.where(broke, r / jnp.linalg.norm(r), w / jnp.where(broke, 1.0, beta))
        beta = jnp.where(broke, 0.0, beta)
        basis = basis.at[j + 1].set(nxt)
        return (basis, beta), (alpha, beta)

    keys = jax.random.split(key, num_iter)
    (basis, _), (alphas, betas) = jax.lax.scan(
        step, (basis, jnp.zeros((), v0.dtype)), (jnp.arange(num_iter), keys)
    )
    return basis[:num_iter], alphas, betas


def lanczos(loss_fn, w, k: int = 8, num_iter: int = 48, key=None) -> Spectrum:
    """Top-k eigenpairs (lambda_i, n_i) of H = nabla^2 L(w) by Lanczos with full reorthogonalisation."""
    w = jnp.asarray(w)
    if w.ndim != 1:
        raise LandscapeError(f"w must be a flat vector (d,); got shape {w.shape}.")
    d = w.shape[0]
    check_int_at_least("k", k, 1)
    check_int_at_least("num_iter", num_iter, k)
    if num_iter > d:
        raise LandscapeError(f"num_iter must lie in [k, d] = [{k}, {d}]; got {num_iter}.")
    key = jax.random.PRNGKey(0) if key is None else key
    k0, k1 = jax.random.split(key)
    hv = jax.jit(lambda w, v: hvp(loss_fn, w, v))  # w traced, not a constant: no constant folding

    def basis_of(w, v0, key):
        return _lanczos_basis(lambda v: hv(w, v), v0, num_iter, key)

    basis, alphas, betas = jax.jit(basis_of)(w, jax.random.normal(k0, (d,), w.dtype), k1)
    # T = tridiag(betas[:-1], alphas, betas[:-1]); Ritz values and vectors in float64
    a = np.asarray(alphas, np.float64)
    b = np.asarray(betas, np.float64)
    t = np.diag(a) + np.diag(b[:-1], 1) + np.diag(b[:-1], -1)
    theta, y = np.linalg.eigh(t)
    order = np.argsort(theta)[::-1][:k]
    vecs = np.asarray(basis, np.float64).T @ y[:, order]  # (d, k)
    vecs, _ = np.linalg.qr(vecs)  # re-orthonormalise (round-off); keeps the span and signs up to +-1
    vecs = vecs * np.sign(np.sum(vecs * (np.asarray(basis, np.float64).T @ y[:, order]), 0))
    normals = jnp.asarray(vecs.T, w.dtype)
    hn = jax.vmap(lambda v: hv(w, v))(normals)
    lam = jnp.asarray(theta[order], w.dtype)
    res = jnp.linalg.norm(hn - lam[:, None] * normals, axis=1)
    return Spectrum(lam, normals, res, jnp.asarray(a, w.dtype), jnp.asarray(b, w.dtype))


@partial(jax.jit, static_argnames=("net_loss", "iters"))
def _power(net_loss, data, w, key, *, iters):
    loss = lambda v: net_loss(v, data)  # noqa: E731
    v = jax.random.normal(key, w.shape, w.dtype)
    v = v / jnp.linalg.norm(v)

    def body(v, _):
        hv = hvp(loss, w, v)
        return hv / jnp.maximum(jnp.linalg.norm(hv), 1e-30), None

    v, _ = jax.lax.scan(body, v, None, length=iters)
    return jnp.dot(v, hvp(loss, w, v))


def top_eigenvalue(net_loss, data, w, key, iters: int = 20) -> float:
    """lambda_max of the Hessian of net_loss(., data) at w: power iteration on HVPs (the Rayleigh quotient).

    ``net_loss`` is hashable (one compilation per network type); the largest-magnitude eigenvalue is what
    power iteration finds, which at a trained w* (nearly PSD Hessian) is the top one.
    """
    check_int_at_least("iters", iters, 1)
    return float(_power(net_loss, data, jnp.asarray(w), key, iters=int(iters)))
