r"""Curvature of a real loss without a dense Hessian: Hessian-vector products and the top eigenvalue.

* :func:`hvp` -- :math:`H v = \nabla^2 L(w)\, v` by forward-over-reverse differentiation
  (``jax.jvp`` of ``jax.grad``), never forming :math:`H`;
* :func:`top_eigenvalue` -- :math:`\lambda_{\max}` by power iteration on HVPs (the foot's step
  :math:`\eta_0 = 1/\lambda_{\max}`);
* :func:`dense_hessian` -- the full :math:`d \times d` matrix (for checks on small models);
* :func:`lanczos_top` -- the top eigenpairs by Lanczos on HVPs (``matfree``, full reorthogonalisation);
  :func:`dense_eigenvalues` -- every eigenvalue of the dense Hessian assembled from :math:`d` HVPs (the
  check of Lanczos where :math:`d` is small); :func:`eigen_residuals` -- :math:`\lVert Hv - \lambda v\rVert
  / |\lambda|` of a computed pair.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import check_int_at_least

__all__ = ["hvp", "dense_hessian", "top_eigenvalue"]


def hvp(loss_fn, w, v):
    """H v = d/de grad L(w + e v) at e = 0 (forward-over-reverse)."""
    return jax.jvp(jax.grad(loss_fn), (w,), (v,))[1]


def dense_hessian(loss_fn, w):
    """The full Hessian nabla^2 L(w), shape (d, d) (small d only)."""
    return jax.hessian(loss_fn)(w)


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


@partial(jax.jit, static_argnames=("net_loss", "num_matvecs"))
def _lanczos(net_loss, data, w, v0, *, num_matvecs):
    from matfree import decomp, eig

    loss = lambda v: net_loss(v, data)  # noqa: E731
    eigh = eig.eigh_partial(decomp.tridiag_sym(num_matvecs, reortho="full"))
    return eigh(lambda v: hvp(loss, w, v), v0)


def lanczos_top(net_loss, data, w, key, k: int = 10, num_matvecs: int = 40):
    """The top-k eigenpairs of the Hessian at w by Lanczos on HVPs (matfree, full reorthogonalisation).

    Returns (values (k,) descending, vectors (k, d) orthonormal rows), float64 numpy arrays.
    """
    check_int_at_least("k", k, 1)
    check_int_at_least("num_matvecs", num_matvecs, k)
    w = jnp.asarray(w)
    v0 = jax.random.normal(key, w.shape, w.dtype)
    vals, vecs = _lanczos(net_loss, data, w, v0 / jnp.linalg.norm(v0), num_matvecs=int(num_matvecs))
    order = np.argsort(np.asarray(vals))[::-1][:k]
    return np.asarray(vals, np.float64)[order], np.asarray(vecs, np.float64)[order]


@partial(jax.jit, static_argnames=("net_loss",))
def _hessian_rows(net_loss, data, w):
    loss = lambda v: net_loss(v, data)  # noqa: E731
    eye = jnp.eye(w.shape[0], dtype=w.dtype)
    return jax.lax.map(lambda e: hvp(loss, w, e), eye)


def dense_eigenvalues(net_loss, data, w):
    """All eigenvalues (descending) of the symmetrised dense Hessian, float64 ``eigvalsh``.

    The Hessian is assembled row by row from d HVPs (no d x d autodiff intermediate); small d only.
    """
    h = np.asarray(_hessian_rows(net_loss, data, jnp.asarray(w)), np.float64)
    return np.linalg.eigvalsh(0.5 * (h + h.T))[::-1]


def eigen_residuals(net_loss, data, w, vals, vecs):
    """||H v_i - lambda_i v_i|| / |lambda_i| per eigenpair (HVPs; 0 for an exact pair)."""
    loss = lambda v: net_loss(v, data)  # noqa: E731
    w = jnp.asarray(w)
    hv = np.asarray(jax.lax.map(lambda v: hvp(loss, w, v), jnp.asarray(vecs, w.dtype)), np.float64)
    return np.linalg.norm(hv - np.asarray(vals)[:, None] * np.asarray(vecs), axis=1) / np.abs(vals)


__all__ += ["lanczos_top", "dense_eigenvalues", "eigen_residuals"]
