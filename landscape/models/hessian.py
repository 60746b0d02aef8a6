r"""Curvature of a real loss without a dense Hessian: Hessian-vector products and the top eigenvalue.

* :func:`hvp` -- :math:`H v = \nabla^2 L(w)\, v` by forward-over-reverse differentiation
  (``jax.jvp`` of ``jax.grad``), never forming :math:`H`;
* :func:`top_eigenvalue` -- :math:`\lambda_{\max}` by power iteration on HVPs (the foot's step
  :math:`\eta_0 = 1/\lambda_{\max}`);
* :func:`dense_hessian` -- the full :math:`d \times d` matrix (for checks on small models).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

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
