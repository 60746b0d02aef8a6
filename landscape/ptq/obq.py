r"""Optimal Brain Quantization (OBQ; Frantar & Alistarh, 2022).

OBQ minimises the second-order proxy :math:`(q - w^*)^\top H (q - w^*)` greedily: with
:math:`F` the set of coordinates not yet quantized and :math:`H_F^{-1}` the inverse of the
(dampened) Hessian restricted to :math:`F`, it repeats

.. math::
    j = \arg\min_{i\in F} \frac{(Q(w_i) - w_i)^2}{[H_F^{-1}]_{ii}}, \qquad
    w_F \leftarrow w_F - \frac{w_j - Q(w_j)}{[H_F^{-1}]_{jj}}\,H_F^{-1}[:, j], \qquad
    H_{F\setminus j}^{-1} = H_F^{-1} - \frac{H_F^{-1}[:, j]\,H_F^{-1}[j, :]}{[H_F^{-1}]_{jj}},

i.e. it quantizes the coordinate whose rounding raises the proxy least and moves the
remaining free coordinates to the proxy's minimiser given that choice. ``order="sequential"``
quantizes coordinates 0, 1, ..., d-1 instead (the order GPTQ uses).

Two backends compute the same recursion:

* a dense ``(d, d)`` ``H`` (user array): :math:`H_F^{-1}` is downdated in place;
  cost :math:`O(d^3)` time and :math:`O(d^2)` memory per row.
* a :class:`~landscape.geometry.Landscape`: :math:`H + \lambda I = \lambda I + P^\top C P`
  (see :mod:`landscape.ptq.hessian`), so by the Woodbury identity
  :math:`H_F^{-1} = \lambda^{-1}(I - P_F^\top K_F P_F)`,
  :math:`K_F = (\lambda I + C P_F P_F^\top)^{-1} C`; cost :math:`O(k d^2)` per point, no
  ``d x d`` array.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from landscape._errors import LandscapeError
from landscape.ptq.hessian import check_damp, take_row
from landscape.ptq.second_order import damped_inverse, landscape_rows, second_order_inputs, woodbury_start

__all__ = ["obq"]

_TINY = 1e-30


def first_argmin(x):
    """The first index of min(x), by two plain reductions (XLA's argmin is slow on CPU under vmap)."""
    idx = jnp.arange(x.shape[-1])
    m = jnp.min(x, axis=-1, keepdims=True)
    return jnp.min(jnp.where(x == m, idx, x.shape[-1]), axis=-1)


def quantizer_axes(qb, axis=0):
    """vmap in_axes for a broadcast quantizer: map its per-coordinate leaves, not codebook levels."""
    return qb.coord_axes(axis)


def _greedy_dense(hinv0, qrow, w0, sequential: bool):
    """OBQ on one row with the dense inverse Hessian hinv0 (d, d); returns q (d,)."""
    d = w0.shape[0]

    idx = jnp.arange(d)

    def body(t, carry):
        w, hinv, free, q = carry
        qw = qrow.quantize(w)
        diag = jnp.diagonal(hinv)
        score = jnp.where(free, (qw - w) ** 2 / jnp.maximum(diag, _TINY), jnp.inf)
        j = t if sequential else first_argmin(score)
        hot = idx == j
        col = hinv[:, j]
        dj = jnp.maximum(col[j], _TINY)
        cj = (w[j] - qw[j]) / dj
        w = jnp.where(hot, qw, w - cj * col)
        hinv = hinv - jnp.outer(col, col) / dj
        return w, hinv, free & ~hot, jnp.where(hot, qw, q)

    init = (w0, hinv0, jnp.ones(d, bool), jnp.zeros_like(w0))
    return jax.lax.fori_loop(0, d, body, init)[3]


def _greedy_lowrank(proj, c, qrow, w0, damp, sequential: bool):
    """OBQ on one point with H = P^T C P (Woodbury form of H_F^{-1}); returns q (d,).

    G = (lambda I + C M_F)^{-1}, M_F = P_F P_F^T, is downdated by Sherman-Morrison when a
    coordinate leaves F, so a step costs O(k d + k^2) and no linear solve.
    """
    d = proj.shape[1]
    c, lam, g0 = woodbury_start(proj, c, damp, w0.dtype)
    diag0 = (1.0 - jnp.sum(proj * (g0 @ c @ proj), axis=0)) / lam
    idx = jnp.arange(d)

    def body(t, carry):
        w, g, diag, free, q = carry
        qw = qrow.quantize(w)
        score = jnp.where(free, (qw - w) ** 2 / jnp.maximum(diag, _TINY), jnp.inf)
        j = t if sequential else first_argmin(score)
        hot = idx == j  # masks and gathers, not scatters: fast under vmap
        pj = proj[:, j]
        kpj = g @ (c @ pj)  # K_F p_j
        col = (hot.astype(w.dtype) - proj.T @ kpj) / lam  # H_F^{-1}[:, j]
        dj = jnp.maximum(col[j], _TINY)
        cj = (w[j] - qw[j]) / dj
        w = jnp.where(hot, qw, w - cj * col)
        diag = diag - col**2 / dj
        g = g + jnp.outer(kpj, pj @ g) / jnp.maximum(lam * dj, _TINY)  # (A - C p p^T)^{-1}
        return w, g, diag, free & ~hot, jnp.where(hot, qw, q)

    init = (w0, g0, diag0, jnp.ones(d, bool), jnp.zeros_like(w0))
    return jax.lax.fori_loop(0, d, body, init)[4]


def _check_order(order):
    if order not in ("greedy", "sequential"):
        raise LandscapeError(f"order must be 'greedy' (OBQ) or 'sequential' (GPTQ's order); got {order!r}.")


def obq(source, quantizer, w_star, key=None, *, damp=0.01, order="greedy", on_indefinite="raise",
        batch_size=None):
    """OBQ: greedy one-coordinate-at-a-time minimisation of (q - w*)^T (H + lambda I) (q - w*).

    ``source``: a Landscape (H = exact Hessian at each row of w*) or a (d, d) array H shared
    by every row of a 2-D w*. ``damp``: GPTQ dampening lambda = damp * mean(diag H).
    ``order``: 'greedy' (OBQ) or 'sequential'. ``batch_size``: rows processed at once with a
    dense H (memory rows * d^2); default: as many as fit in about 2^26 numbers.
    """
    del key
    _check_order(order)
    check_damp(damp)
    seq = order == "sequential"
    x = second_order_inputs(source, quantizer, w_star, on_indefinite=on_indefinite, rows=True)
    if x.land:
        return _obq_landscape(x.source, x.qb, x.w, damp, seq, batch_size or 256)
    d = x.shape[-1]
    bs = batch_size or max(1, (1 << 26) // (d * d))
    return _obq_dense(x.source, x.qb, x.w, damp, seq, bs).reshape(x.shape)


@partial(jax.jit, static_argnames=("seq", "bs"))
def _obq_landscape(source, qb, w, damp, seq, bs):
    return landscape_rows(partial(_greedy_lowrank, damp=damp, sequential=seq), source, qb, w, bs)


@partial(jax.jit, static_argnames=("seq", "bs"))
def _obq_dense(h, qb, w2, damp, seq, bs):
    hinv = damped_inverse(h, damp)
    if w2.shape[0] <= bs:
        f = lambda qr, wr: _greedy_dense(hinv, qr, wr, seq)  # noqa: E731
        return jax.vmap(f, in_axes=(quantizer_axes(qb), 0))(qb, w2)
    row = lambda i, wr: _greedy_dense(hinv, take_row(qb, i), wr, seq)  # noqa: E731
    return jax.lax.map(lambda args: row(*args), (jnp.arange(w2.shape[0]), w2), batch_size=bs)
