r"""The exact minimiser of the second-order proxy over the corners of :math:`w^*`'s grid cell.

.. math::
    q = \arg\min_{q \in \mathcal{C}(w^*)} (q - w^*)^\top (H + \lambda I)(q - w^*),

with :math:`\mathcal{C}(w^*)` the :math:`2^d` corners :math:`q_j \in \{q^-_j, q^+_j\}` (the grid
points just below and above :math:`w^*_j`) and
:math:`\lambda = \mathrm{damp}\cdot\mathrm{mean}(\mathrm{diag}\,H)`, GPTQ's dampening.
``damp = 0`` gives the undamped proxy; ties among corners that differ only where :math:`H`
has no curvature are then broken by enumeration order. This is "a second-order rule" without
a greedy order: OBQ and GPTQ minimise the same objective one coordinate at a time (and may
leave the cell through their error feedback); AdaRound relaxes it. Comparing them with this
minimiser separates the blindness of the objective from the errors of the order.

Enumeration: all corners, in the order of :func:`landscape.quantizers.cells.corner_bits` (the one
home of corner enumeration), in chunks of ``2^chunk_bits``; the first minimiser is returned.
With :math:`H + \lambda I = P^\top C P + \lambda I` (a landscape: low-rank factors of
:mod:`landscape.ptq.hessian`; a user array: :math:`P = \mathrm{diag}(\sqrt{\mathrm{eig}})V^\top`,
:math:`C = I`), each corner costs :math:`O(r^2)` through :math:`z = P(q - w^*)`, updated linearly in
the corner's bits. Exact for ``d <= exact_max_dim`` (20); larger ``d`` raises.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_int_at_least, check_positive
from landscape.ptq.hessian import damping, hessian_factors, map_rows, psd_part
from landscape.ptq.obq import first_argmin
from landscape.ptq.second_order import second_order_inputs
from landscape.quantizers.cells import MAX_ENUMERATE, corner_bits

__all__ = ["proxy_minimizer"]


def _bit_table(n: int, dtype):
    """All 2^n bit rows (2^n, n) in corner_bits order (first coordinate most significant)."""
    if n == 0:
        return jnp.zeros((1, 0), dtype)
    return jnp.asarray(np.concatenate(list(corner_bits(n, chunk_bits=max(n, 1)))), dtype=dtype)


def _enumerate_proxy(proj, c, lam, w, down, up, chunk_bits):
    """The first corner [down, up] (corner_bits order) minimising ||P e||_C^2 + lam ||e||^2, e = q - w."""
    d = w.shape[0]
    cb = min(chunk_bits, d)
    e0 = down - w
    gap = up - down
    z0 = proj @ e0
    dz = gap[:, None] * proj.T  # (d, r): change of P e when coordinate j goes up
    n0 = jnp.sum(e0 * e0)
    dn = gap * (2.0 * e0 + gap)  # change of ||e||^2 when coordinate j goes up
    high = _bit_table(d - cb, w.dtype)  # coordinates 0 .. d-cb-1 (outer loop)
    low = _bit_table(cb, w.dtype)  # coordinates d-cb .. d-1 (inner loop)
    zl = low @ dz[d - cb:]
    nl = low @ dn[d - cb:]

    def chunk(best, hb):
        z = z0 + hb @ dz[: d - cb] + zl
        vals = jnp.einsum("ni,ij,nj->n", z, c, z) + lam * (n0 + hb @ dn[: d - cb] + nl)
        i = first_argmin(vals)
        better = vals[i] < best[0]
        bits = jnp.concatenate([hb, low[i]]) > 0.5
        return (jnp.where(better, vals[i], best[0]), jnp.where(better, bits, best[1])), None

    init = (jnp.asarray(jnp.inf, w.dtype), jnp.zeros(d, bool))
    (_, bits), _ = jax.lax.scan(chunk, init, high)
    return jnp.where(bits, up, down)


def proxy_minimizer(source, quantizer, w_star, key=None, *, damp=0.01, exact_max_dim=MAX_ENUMERATE,
                    chunk_bits=12, on_indefinite="raise", batch_size=256):
    """q = argmin over the 2^d corners of w*'s cell of (q - w*)^T (H + lambda I)(q - w*), by enumeration.

    ``source``: a landscape (H = its exact Hessian at each row of w*, low-rank factors) or a (d, d)
    array H shared by the rows of a 2-D ``w_star``. ``damp`` >= 0: lambda = damp * mean(diag H), as in
    GPTQ. Exact; d must be <= ``exact_max_dim`` (at most 24).
    """
    del key
    check_positive("damp", damp, allow_zero=True)
    check_int_at_least("chunk_bits", chunk_bits, 1)
    check_int_at_least("exact_max_dim", exact_max_dim, 1)
    if exact_max_dim > 24:
        raise LandscapeError(f"exact_max_dim must lie in [1, 24] (2^d corners); got {exact_max_dim}.")

    def check_dim(d):
        if d > exact_max_dim:
            raise LandscapeError(
                f"proxy_minimizer enumerates all 2^d corners: d must lie in [1, {exact_max_dim}] "
                f"(exact_max_dim); got d = {d}. Use gptq or obq beyond."
            )

    x = second_order_inputs(source, quantizer, w_star, on_indefinite=on_indefinite, check_dim=check_dim)
    down, up = x.qb.neighbors(x.w)
    return _proxy_jit(x.source, x.w, down, up, damp, land=x.land, chunk_bits=int(chunk_bits),
                      bs=int(batch_size))


@partial(jax.jit, static_argnames=("land", "chunk_bits", "bs"))
def _proxy_jit(source, w, down, up, damp, *, land, chunk_bits, bs):
    d = w.shape[-1]
    if land:
        proj, c = hessian_factors(source, w)
        c = psd_part(c)
        lam = damping(jnp.trace(c, axis1=-2, axis2=-1), d, damp)
    else:
        evals, evecs = jnp.linalg.eigh(source)
        proj = jnp.sqrt(jnp.maximum(evals, 0.0))[:, None] * evecs.T
        c = jnp.broadcast_to(jnp.eye(d, dtype=w.dtype), w.shape[:-1] + (d, d))
        lam = jnp.broadcast_to(damping(jnp.trace(source), d, damp), w.shape[:-1])
    f = lambda cc, ll, wr, lo, hi: _enumerate_proxy(proj, cc, ll, wr, lo, hi, chunk_bits)  # noqa: E731
    if w.ndim == 1:
        return f(c, lam, w, down, up)
    return map_rows(f, (c, lam, w, down, up), bs)
