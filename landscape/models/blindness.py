r"""Hessian blindness on a real network: what the second-order model at w* predicts for a PTQ error.

For the PTQ error :math:`e = q - w^*` (the same :math:`w^*` whose grid made :math:`q`):

* ``grad_term`` :math:`g\cdot e` with :math:`g = \nabla L(w^*)` (not 0 at an early-stopped :math:`w^*`);
* ``hess_term`` :math:`\tfrac12 e^\top H e` with :math:`H = \nabla^2 L(w^*)` by one Hessian-vector product
  (forward over reverse; no :math:`d \times d` matrix);
* ``quad_rise`` = ``grad_term + hess_term``, the quadratic model's rise, and ``actual_rise``
  :math:`L(w^* + e) - L(w^*)`; ``ratio`` = actual / quadratic (> 1: the loss rises faster than any
  second-order PTQ rule can see);
* the control: a random perturbation of the same norm -- ``random_sign`` keeps every :math:`|e_j|` and
  draws the signs, ``random_dir`` is an isotropic direction scaled to :math:`\lVert e\rVert` -- with its
  quadratic and actual rises.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape.models.hessian import hvp

__all__ = ["blindness_terms"]


def _terms(loss, w, e, grad):
    """(g.e, e^T H e / 2, L(w + e) - L(w)) for one perturbation e."""
    return jnp.dot(grad, e), 0.5 * jnp.dot(e, hvp(loss, w, e)), loss(w + e) - loss(w)


@partial(jax.jit, static_argnums=0)
def _batch(net_loss, data, w, errors, key):
    loss = lambda v: net_loss(v, data)  # noqa: E731
    grad = jax.grad(loss)(w)

    def one(e, k):
        k1, k2 = jax.random.split(k)
        e_sign = jnp.where(jax.random.bernoulli(k1, 0.5, e.shape), 1.0, -1.0).astype(e.dtype) * jnp.abs(e)
        u = jax.random.normal(k2, e.shape, e.dtype)
        e_dir = u * jnp.linalg.norm(e) / jnp.linalg.norm(u)
        return jnp.stack([jnp.stack(_terms(loss, w, x, grad)) for x in (e, e_sign, e_dir)])

    terms = jax.lax.map(lambda a: one(*a), (errors, jax.random.split(key, errors.shape[0])))
    return terms, jnp.linalg.norm(grad), jnp.linalg.norm(errors, axis=1)


def blindness_terms(net_loss, data, w_star, qs, key) -> list[dict]:
    """The blindness record of each PTQ error e = q - w* (qs: (n, d)) and of random errors of the same norm.

    ``net_loss(w, data)`` is the network's loss (hashable, e.g. :class:`~landscape.models.losses.NetLoss`).
    """
    w_star = jnp.asarray(w_star)
    errors = jnp.asarray(qs).reshape(-1, w_star.shape[0]) - w_star[None, :]
    terms, gnorm, enorm = _batch(net_loss, data, w_star, errors, key)
    terms, gnorm, enorm = np.asarray(terms, np.float64), float(gnorm), np.asarray(enorm, np.float64)
    out = []
    for i in range(errors.shape[0]):
        rec = {"error_norm": float(enorm[i]), "grad_norm": gnorm}
        for j, name in enumerate(("", "random_sign_", "random_dir_")):
            ge, he, act = terms[i, j]
            quad = ge + he
            rec[f"{name}grad_term"] = float(ge)
            rec[f"{name}hess_term"] = float(he)
            rec[f"{name}quad_rise"] = float(quad)
            rec[f"{name}actual_rise"] = float(act)
            rec[f"{name}ratio"] = float(act / quad) if quad > 0 else float("nan")
        out.append(rec)
    return out
