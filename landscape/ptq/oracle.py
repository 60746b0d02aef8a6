r"""The oracle: the lowest-loss grid point among the corners of :math:`w^*`'s grid cell.

The candidates are the :math:`2^d` points :math:`q` with :math:`q_j \in \{q^-_j, q^+_j\}`,
the grid points just below and above :math:`w^*_j` (one choice where :math:`w^*_j` is on
the grid or beyond the clipped range); every candidate is within one grid step of
:math:`w^*` in :math:`\ell_\infty`. RTN, stochastic rounding and AdaRound always pick one
of them; OBQ and GPTQ can leave the box through their error feedback.

* ``d <= exact_max_dim`` (20): **exact** -- every corner is evaluated; the loss uses the
  reduced landscape :math:`L(q) = L_{\mathrm{red}}(Pq)` (see :mod:`landscape.ptq.hessian`),
  corners are scanned in chunks of ``2^chunk_bits`` in the code order of
  :func:`landscape.quantizers.cells.corner_code_bits` (the one home of corner enumeration); the first
  minimiser is returned.
* larger ``d``: a **search, not a proof of optimality** -- start from RTN and apply up to
  ``max_flips`` best-improvement coordinate flips (:math:`q_j` to the other corner); each
  flip moves :math:`Pq` by :math:`(q'_j - q_j)p_j`, so all ``d`` candidate flips are scored in
  :math:`O(dk)`, guided by the sharp projection :math:`N` of each flip. The loss and
  :math:`\rho` returned are those of the returned grid point, evaluated exactly.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp

from landscape._errors import LandscapeError, check_int_at_least
from landscape.ptq.hessian import (
    broadcast_quantizer,
    check_w_star,
    is_landscape_source,
    map_rows,
    reduced_landscape,
)
from landscape.ptq.obq import first_argmin
from landscape.quantizers.cells import corner_code_bits

__all__ = ["OracleResult", "oracle"]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class OracleResult:
    """The oracle's grid point q, its loss L(q) and rho(q); exact: whether optimality is proven."""

    q: jax.Array
    loss: jax.Array
    rho: jax.Array
    exact: bool = dataclasses.field(metadata=dict(static=True))
    method: str = dataclasses.field(metadata=dict(static=True))


def _enumerate(red, proj, down, up, chunk_bits):
    """Exact minimum of L_red(P q) over the 2^d corners q of the box [down, up]."""
    d = down.shape[0]
    z0 = proj @ down
    dz = (up - down)[:, None] * proj.T  # (d, r): change of Pq when coordinate j goes up
    cb = min(chunk_bits, d)
    n_chunks = 1 << (d - cb)
    low = corner_code_bits(jnp.arange(1 << cb), cb, down.dtype)  # (2^cb, cb)
    loss_fn = jax.vmap(red.loss)

    def chunk(best, hi):
        hbits = corner_code_bits(hi, d - cb, down.dtype)
        zc = z0 + hbits @ dz[cb:] + low @ dz[:cb]
        vals = loss_fn(zc)
        i = first_argmin(vals)
        code = (hi * (1 << cb) + i).astype(jnp.int32)
        better = vals[i] < best[0]
        return (jnp.where(better, vals[i], best[0]), jnp.where(better, code, best[1])), None

    init = (jnp.asarray(jnp.inf, down.dtype), jnp.asarray(0, jnp.int32))
    (_, code), _ = jax.lax.scan(chunk, init, jnp.arange(n_chunks, dtype=jnp.int32))
    bits = corner_code_bits(code, d)
    return jnp.where(bits, up, down)


def _flip_search(red, proj, down, up, q0, max_flips):
    """Best-improvement coordinate flips from q0 among the corners of [down, up] (a search)."""
    loss_fn = jax.vmap(red.loss)

    def cond(carry):
        it, _, _, _, improved = carry
        return (it < max_flips) & improved

    def body(carry):
        it, q, z, cur, _ = carry
        other = jnp.where(q == up, down, up)  # the other corner, exactly
        dz = (other - q)[:, None] * proj.T
        vals = jnp.where(up > down, loss_fn(z + dz), jnp.inf)
        j = first_argmin(vals)
        take = vals[j] < cur
        hot = (jnp.arange(q.shape[0]) == j) & take
        q = jnp.where(hot, other, q)
        z = jnp.where(take, z + dz[j], z)
        return it + 1, q, z, jnp.where(take, vals[j], cur), take

    z0 = proj @ q0
    init = (jnp.asarray(0), q0, z0, red.loss(z0), jnp.asarray(True))
    return jax.lax.while_loop(cond, body, init)[1]

def oracle(landscape, quantizer, w_star, key=None, *, exact_max_dim=20, max_flips=None, chunk_bits=12,
           batch_size=256):
    """argmin of L(q) over the 2^d corners of w*'s grid cell: exact for d <= exact_max_dim, else a search.

    Returns an :class:`OracleResult` (q, loss = L(q), rho = rho(q), exact, method); for a 2-D
    ``w_star`` each row is an independent trained point. ``max_flips`` (search only) defaults
    to min(d, 4(k + m) + 16) (m = 0 without valley curvature).
    """
    del key
    if not is_landscape_source(landscape):
        raise LandscapeError(
            f"oracle needs a Landscape (it evaluates the true loss); got {type(landscape).__name__}."
        )
    check_int_at_least("exact_max_dim", exact_max_dim, 1)
    check_int_at_least("chunk_bits", chunk_bits, 1)
    if exact_max_dim > 30:
        raise LandscapeError(f"exact_max_dim must lie in [1, 30] (2^d corners); got {exact_max_dim}.")
    d, k = landscape.dim, landscape.k + getattr(landscape, "m", 0)
    if max_flips is None:
        max_flips = min(d, 4 * k + 16)
    check_int_at_least("max_flips", max_flips, 0)
    w = check_w_star(w_star, d)
    qb = broadcast_quantizer(quantizer, w.shape)
    exact = d <= exact_max_dim
    if exact:
        method = f"exact: enumeration of all 2^{d} corners of the grid cell of w*"
    else:
        method = (
            f"search (not a proof of optimality): up to {max_flips} best-improvement coordinate flips "
            f"from RTN over the 2^{d} corners of the grid cell of w*; loss and rho certified at q"
        )
    q, loss, rho = _oracle_jit(landscape, qb, w, exact=exact, max_flips=max_flips, chunk_bits=chunk_bits,
                               bs=batch_size)
    return OracleResult(q=q, loss=loss, rho=rho, exact=exact, method=method)


@partial(jax.jit, static_argnames=("exact", "max_flips", "chunk_bits", "bs"))
def _oracle_jit(landscape, qb, w, *, exact, max_flips, chunk_bits, bs):
    down, up = qb.neighbors(w)
    red, proj = reduced_landscape(landscape)
    if exact:
        f = lambda lo, hi, _q0: _enumerate(red, proj, lo, hi, chunk_bits)  # noqa: E731
    else:
        f = lambda lo, hi, q0: _flip_search(red, proj, lo, hi, q0, max_flips)  # noqa: E731
    q0 = qb.quantize(w)
    q = f(down, up, q0) if w.ndim == 1 else map_rows(f, (down, up, q0), bs)
    loss = landscape.loss(q) if q.ndim == 1 else jax.vmap(landscape.loss)(q)
    rho = landscape.rho(q) if q.ndim == 1 else jax.vmap(landscape.rho)(q)
    return q, loss, rho
