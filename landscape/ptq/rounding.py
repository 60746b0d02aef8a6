r"""Rounding rules that ignore the loss: round-to-nearest and stochastic rounding.

* :func:`rtn` -- :math:`q = Q(w^*)`, the nearest grid point; it minimises
  :math:`\lVert q - w^*\rVert_2` (coordinate-wise) over the grid.
* :func:`stochastic_rounding` -- each coordinate goes to the grid point just above
  :math:`w^*_j` with probability :math:`(w^*_j - q^-_j)/(q^+_j - q^-_j)`, else to the one just
  below; hence :math:`\mathbb{E}[q] = w^*` inside the representable range (outside it both
  neighbours coincide with the clipped end point).

Both accept ``w_star`` of shape ``(d,)`` or ``(rows, d)``; ``source`` is accepted for the
common PTQ signature and not used.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from landscape.ptq.hessian import broadcast_quantizer, check_w_star

__all__ = ["rtn", "stochastic_rounding"]


def rtn(source, quantizer, w_star, key=None):
    """q = Q(w*): round to nearest (minimises ||q - w*|| over the grid, ignoring the loss)."""
    del source, key
    w = check_w_star(w_star)
    return broadcast_quantizer(quantizer, w.shape).quantize(w)


def stochastic_rounding(source, quantizer, w_star, key):
    """q_j = q_j^+ with probability (w*_j - q_j^-)/(q_j^+ - q_j^-), else q_j^- (unbiased: E[q] = w*)."""
    del source
    if key is None:
        raise ValueError("stochastic_rounding needs a PRNG key (jax.random.key); got key=None.")
    w = check_w_star(w_star)
    down, up = broadcast_quantizer(quantizer, w.shape).neighbors(w)
    gap = up - down
    p_up = jnp.where(gap > 0, (w - down) / jnp.where(gap > 0, gap, 1.0), 0.0)
    u = jax.random.uniform(key, w.shape, dtype=w.dtype)
    return jnp.where(u < p_up, up, down)
