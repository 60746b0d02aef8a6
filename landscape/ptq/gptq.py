r"""GPTQ (Frantar et al., 2023): OBQ in a fixed column order, blocked, with a Cholesky factor.

GPTQ quantizes coordinates (columns of a weight matrix ``W`` whose rows share one Hessian)
in the order 0, 1, ..., d-1 and, after each, moves the not-yet-quantized ones to the
minimiser of the proxy :math:`(q - w^*)^\top H (q - w^*)` given the choices made. With
:math:`U` the upper Cholesky factor of :math:`(H + \lambda I)^{-1} = U^\top U`, the
update for column :math:`i` is

.. math::
    e_i = \frac{w_i - Q(w_i)}{U_{ii}}, \qquad w_{i:} \leftarrow w_{i:} - e_i\,U_{i, i:},

which equals the OBQ update of :mod:`landscape.ptq.obq` with ``order="sequential"``
(row :math:`i` of :math:`U` is :math:`H_F^{-1}[i, :]/\sqrt{[H_F^{-1}]_{ii}}` for
:math:`F = \{i, \dots, d-1\}`). The blocked ("lazy batch") form applies the updates inside a
block of ``block_size`` columns at once and propagates the block's errors to later columns
with one matrix product, ``W[:, i2:] -= E U[i1:i2, i2:]``; it gives the same ``q`` as the
unblocked form (``block_size=1``) up to floating-point rounding.

For a :class:`~landscape.geometry.Landscape` source, :math:`H = P^\top C P` has rank
``<= k+1`` (see :mod:`landscape.ptq.hessian`), and the same sequence of updates is computed
without any ``d x d`` array through the Woodbury form of :math:`H_F^{-1}`:
:math:`w_i = w^*_i + p_i^\top a`, with the accumulator :math:`a \mathrel{+}= (c_i/\lambda)K_F p_i`;
``block_size`` is then irrelevant.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_int_at_least, is_concrete
from landscape.ptq.hessian import check_damp, take_coord
from landscape.ptq.second_order import damped_inverse, landscape_rows, second_order_inputs, woodbury_start

__all__ = ["gptq", "gptq_cholesky"]


def gptq_cholesky(h, damp=0.01):
    """U, upper triangular with U^T U = (H + lambda I)^{-1}, lambda = damp * mean(diag H)."""
    return jnp.linalg.cholesky(damped_inverse(h, damp)).T


def _gptq_dense(u, qb, w, block_size: int):
    """Blocked GPTQ on W (rows, d) with the shared Cholesky factor U; returns Q (rows, d)."""
    rows, d = w.shape
    bsz = min(block_size, d)
    nb = -(-d // bsz)
    dp = nb * bsz
    pad = dp - d
    up = jnp.eye(dp, dtype=u.dtype).at[:d, :d].set(u)
    wp = jnp.pad(w, ((0, 0), (0, pad)))
    qp = jax.tree_util.tree_map(
        lambda x: jnp.pad(x, ((0, 0), (0, pad)), mode="edge") if x.ndim == 2 else x, qb
    )
    cols = jnp.arange(dp)

    def block(carry, b):
        wm, qm = carry
        i1 = b * bsz
        w1 = jax.lax.dynamic_slice(wm, (0, i1), (rows, bsz))
        u1 = jax.lax.dynamic_slice(up, (i1, i1), (bsz, bsz))

        def column(i, c):
            w1, q1, e1 = c
            wc = w1[:, i]
            qc = take_coord(qp, i1 + i).quantize(wc)
            err = (wc - qc) / u1[i, i]
            w1 = w1 - err[:, None] * u1[i][None, :]
            return w1, q1.at[:, i].set(qc), e1.at[:, i].set(err)

        z = jnp.zeros((rows, bsz), w.dtype)
        _, q1, e1 = jax.lax.fori_loop(0, bsz, column, (w1, z, z))
        urows = jax.lax.dynamic_slice(up, (i1, 0), (bsz, dp)) * (cols >= i1 + bsz)
        wm = wm - e1 @ urows
        qm = jax.lax.dynamic_update_slice(qm, q1, (0, i1))
        return (wm, qm), None

    (_, qm), _ = jax.lax.scan(block, (wp, jnp.zeros_like(wp)), jnp.arange(nb))
    return qm[:, :d]


def _gptq_lowrank(proj, c, qrow, w0, damp):
    """GPTQ's sequential updates for one point with H = P^T C P (Woodbury form); returns q (d,).

    With F = {i, ..., d-1}: w_i = w*_i + p_i^T a, d_i = [H_F^{-1}]_ii = (1 - p_i^T K_F p_i)/lambda,
    a += ((w_i - Q(w_i))/(lambda d_i)) K_F p_i, K_F = G C, G = (lambda I + C P_F P_F^T)^{-1}
    downdated by Sherman-Morrison: O(k^2) per coordinate.
    """
    r, d = proj.shape
    c, _, g0 = woodbury_start(proj, c, damp, w0.dtype)

    def step(carry, xs):
        a, g = carry
        i, pi, wi = xs
        kpi = g @ (c @ pi)
        wc = wi + pi @ a
        qc = take_coord(qrow, i).quantize(wc)
        den = jnp.maximum(1.0 - pi @ kpi, 1e-30)  # = lambda [H_F^{-1}]_ii
        a = a + ((wc - qc) / den) * kpi
        g = g + jnp.outer(kpi, pi @ g) / den
        return (a, g), qc

    _, q = jax.lax.scan(step, (jnp.zeros(r, w0.dtype), g0), (jnp.arange(d), proj.T, w0))
    return q


def gptq(source, quantizer, w_star, key=None, *, block_size=128, damp=0.01, on_indefinite="raise",
         batch_size=256):
    """GPTQ: q minimising (q - w*)^T (H + lambda I)(q - w*) column by column with error feedback.

    ``source``: a (d, d) array H shared by every row of a 2-D ``w_star`` (the layer setting,
    ``W`` of shape (rows, d), the quantizer's step may be (rows, 1)), or a Landscape (H =
    exact Hessian at each row). ``damp``: lambda = damp * mean(diag H) (GPTQ's dampening).
    ``on_indefinite``: 'raise' (default) or 'shift' (add |min eig| I) for a non-PSD H.
    """
    del key
    check_int_at_least("block_size", block_size, 1)
    check_damp(damp)
    x = second_order_inputs(source, quantizer, w_star, on_indefinite=on_indefinite, rows=True)
    if x.land:
        return _gptq_landscape(x.source, x.qb, x.w, damp, batch_size)
    q, u = _gptq_dense_jit(x.source, x.qb, x.w, damp, block_size)
    if is_concrete(u) and not bool(np.all(np.isfinite(np.asarray(u)))):
        raise LandscapeError(
            f"the Cholesky factor of (H + lambda I)^-1 is not finite with damp = {damp!r}; H is too "
            "ill-conditioned for this precision: increase damp (allowed range (0, inf))."
        )
    return q.reshape(x.shape)


@partial(jax.jit, static_argnames=("bs",))
def _gptq_landscape(source, qb, w, damp, bs):
    return landscape_rows(partial(_gptq_lowrank, damp=damp), source, qb, w, bs)


@partial(jax.jit, static_argnames=("block_size",))
def _gptq_dense_jit(h, qb, w2, damp, block_size):
    u = gptq_cholesky(h, damp)
    return _gptq_dense(u, qb, w2, block_size), u
