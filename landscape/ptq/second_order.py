r"""What the second-order PTQ methods share (OBQ, GPTQ, AdaRound, the proxy minimiser).

Each maps ``(source, quantizer, w_star)`` to ``q`` using the Hessian ``H`` of the source
(:mod:`landscape.ptq.hessian`):

* :func:`second_order_inputs` -- the checks and setup before any work: ``w*`` against the source,
  a user ``H`` (shape, finite, symmetric, PSD), and the quantizer broadcast to ``w*``'s shape;
* :func:`damped_inverse` -- :math:`(H + \lambda I)^{-1}` of a dense ``H`` with GPTQ's dampening
  :math:`\lambda = \mathrm{damp}\cdot\mathrm{mean}(\mathrm{diag}\,H)`;
* :func:`woodbury_start` -- the start of the low-rank recursions for :math:`H = P^\top C P`:
  :math:`G_0 = (\lambda I + C P P^\top)^{-1}`, so that :math:`(H + \lambda I)^{-1} =
  \lambda^{-1}(I - P^\top G_0 C P)`;
* :func:`landscape_rows` -- a one-point method run at every row of ``w*``, each row with its own
  Hessian factors.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from landscape.ptq.hessian import (
    broadcast_quantizer,
    check_hessian,
    check_w_star,
    damping,
    hessian_factors,
    is_landscape_source,
    map_rows,
    psd_part,
    take_row,
)

__all__ = ["SecondOrderInputs", "second_order_inputs", "damped_inverse", "woodbury_start", "landscape_rows"]


class SecondOrderInputs(NamedTuple):
    """Checked inputs of a second-order method: the source, ``w*`` and the quantizer broadcast to it."""

    land: bool  # the source is a landscape (H = P^T C P at each row of w*), not a user array
    source: Any  # the landscape, or the checked (d, d) array H
    w: jax.Array  # w*: (d,) or (rows, d); (rows, d) for an array source with rows=True
    qb: Any  # the quantizer broadcast to w's shape
    shape: tuple  # the shape of w_star as given (the shape of q)


def second_order_inputs(source, quantizer, w_star, *, on_indefinite="raise", rows=False, check_dim=None):
    """Check ``w_star`` against the source and a user H; broadcast the quantizer to w*'s shape.

    ``rows``: with an array source, ``w*`` is reshaped to (rows, d) (the layer setting of OBQ and GPTQ).
    ``check_dim(d)``: a method's own limit on d, called after w* and before H is checked.
    """
    land = is_landscape_source(source)
    w = check_w_star(w_star, source.dim if land else None)
    shape = w.shape
    if check_dim is not None:
        check_dim(shape[-1])
    if not land:
        source = check_hessian(source, shape[-1], on_indefinite=on_indefinite)
        if rows:
            w = w.reshape(-1, shape[-1])
    return SecondOrderInputs(land, source, w, broadcast_quantizer(quantizer, w.shape), shape)


def damped_inverse(h, damp):
    """(H + lambda I)^{-1} (symmetrised), lambda = damp * mean(diag H), by a Cholesky solve."""
    d = h.shape[0]
    lam = damping(jnp.trace(h), d, damp)
    eye = jnp.eye(d, dtype=h.dtype)
    low = jnp.linalg.cholesky(h + lam * eye)
    hinv = jax.scipy.linalg.cho_solve((low, True), eye)
    return 0.5 * (hinv + hinv.T)


def woodbury_start(proj, c, damp, dtype):
    """(C+, lambda, G_0): C's PSD part, lambda = damp mean(diag P^T C+ P), G_0 = (lambda I + C+ P P^T)^-1."""
    r, d = proj.shape
    c = psd_part(c)
    lam = damping(jnp.trace(c), d, damp)
    g0 = jnp.linalg.inv(lam * jnp.eye(r, dtype=dtype) + c @ (proj @ proj.T))
    return c, lam, g0


def landscape_rows(one, source, qb, w, batch_size: int):
    """q = one(P, C, quantizer row, w*_row) at each row of w* (d,) or (rows, d), C the row's own factor."""
    proj, c = hessian_factors(source, w)
    if w.ndim == 1:
        return one(proj, c, qb, w)
    f = lambda i, cc, wr: one(proj, cc, take_row(qb, i), wr)  # noqa: E731
    return map_rows(f, (jnp.arange(w.shape[0]), c, w), batch_size)
