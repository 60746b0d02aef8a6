r"""AdaRound (Nagel et al., 2020): learned up/down rounding on the second-order proxy.

Each coordinate is rounded to :math:`q_j = q^-_j + h(V_j)\,(q^+_j - q^-_j)` between the grid
points just below and above :math:`w^*_j`, with the rectified sigmoid
:math:`h(V) = \mathrm{clip}(\sigma(V)(\zeta - \gamma) + \gamma, 0, 1)`, :math:`\zeta = 1.1`,
:math:`\gamma = -0.1`. ``V`` is optimised with an optax optimiser (Adam) on

.. math::
    \frac{(q - w^*)^\top H (q - w^*)}{\bar h\,\bar g^2}
    + \lambda_{\mathrm{reg}} \sum_j \bigl(1 - |2h(V_j) - 1|^\beta\bigr),

normalised by :math:`\bar h = \mathrm{mean}(\mathrm{diag}\,H)` and the mean squared gap
:math:`\bar g^2` so that ``reg_weight`` does not depend on the scale of ``H`` or the grid.
The regulariser is off for the first ``warmup`` fraction of the steps, then :math:`\beta`
decays linearly from ``beta[0]`` to ``beta[1]`` (the paper's annealing), pushing every
:math:`h` to 0 or 1. ``V`` starts where :math:`h(V) = (w^* - q^-)/(q^+ - q^-)`. The result is
hard rounding, :math:`h \ge 1/2 \mapsto q^+`, so ``q`` is always on the grid.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import optax

from landscape._errors import LandscapeError, check_int_at_least, check_positive
from landscape.ptq.hessian import hessian_factors, map_rows, psd_part
from landscape.ptq.second_order import second_order_inputs

__all__ = ["adaround", "rectified_sigmoid"]

ZETA, GAMMA = 1.1, -0.1


def rectified_sigmoid(v):
    """h(V) = clip(sigmoid(V) (zeta - gamma) + gamma, 0, 1) with zeta = 1.1, gamma = -0.1."""
    return jnp.clip(jax.nn.sigmoid(v) * (ZETA - GAMMA) + GAMMA, 0.0, 1.0)


@partial(jax.custom_jvp, nondiff_argnums=(1,))
def _pow(x, beta):
    """x^beta for x >= 0 (0 at x = 0), by one exp and one log; its derivative reuses the value."""
    return jnp.exp(beta * jnp.log(jnp.maximum(x, 1e-30)))


@_pow.defjvp
def _pow_jvp(beta, primals, tangents):
    (x,), (dx,) = primals, tangents
    y = _pow(x, beta)
    return y, beta * y / jnp.maximum(x, 1e-30) * dx


def _inverse_h(rest):
    """V with h(V) = rest for rest in (0, 1) (clipped away from 0 and 1 to stay finite)."""
    p = jnp.clip((rest - GAMMA) / (ZETA - GAMMA), 1e-4, 1 - 1e-4)
    return jnp.log(p) - jnp.log1p(-p)


def adaround(source, quantizer, w_star, key=None, *, num_steps=1000, learning_rate=0.05, reg_weight=0.01,
             beta=(20.0, 2.0), warmup=0.2, on_indefinite="raise", batch_size=256):
    """AdaRound: q = q^- + h(V)(q^+ - q^-), V minimising the normalised proxy + rounding regulariser.

    ``source``: a Landscape (H = exact Hessian at each row of w*) or a (d, d) array H shared
    by every row of a 2-D w*. Deterministic (``key`` unused). Returns hard-rounded q.
    """
    del key
    check_int_at_least("num_steps", num_steps, 1)
    check_positive("learning_rate", learning_rate)
    check_positive("reg_weight", reg_weight, allow_zero=True)
    b0, b1 = beta
    check_positive("beta", jnp.asarray([b0, b1]))
    if not 0.0 <= float(warmup) < 1.0:
        raise LandscapeError(f"warmup must lie in [0, 1); got {warmup!r}.")
    x = second_order_inputs(source, quantizer, w_star, on_indefinite=on_indefinite)
    down, up = x.qb.neighbors(x.w)
    n_warm = int(round(float(warmup) * num_steps))
    return _adaround_jit(x.source, x.w, down, up, learning_rate, reg_weight, b0, b1, is_land=x.land,
                         num_steps=num_steps, n_warm=n_warm, bs=batch_size)


@partial(jax.jit, static_argnames=("is_land", "num_steps", "n_warm", "bs"))
def _adaround_jit(source, w, down, up, learning_rate, reg_weight, b0, b1, *, is_land, num_steps, n_warm, bs):
    if is_land:
        proj, c = hessian_factors(source, w)
        c = psd_part(c)

        def proxy(cc, e):
            ze = proj @ e
            return ze @ cc @ ze

        mean_diag = lambda cc: jnp.trace(cc) / w.shape[-1]  # noqa: E731
    else:
        h = source
        c = jnp.zeros(w.shape[:-1], w.dtype)  # placeholder: the dense H is shared by all rows
        proxy = lambda _c, e: e @ h @ e  # noqa: E731
        mean_diag = lambda _c: jnp.trace(h) / w.shape[-1]  # noqa: E731
    tx = optax.adam(learning_rate)

    def one(cc, wr, lo, hi):
        gap = hi - lo
        rest = jnp.where(gap > 0, (wr - lo) / jnp.where(gap > 0, gap, 1.0), 0.0)
        mean_gap2 = jnp.mean(gap**2)
        scale = jnp.maximum(mean_diag(cc), 1e-30) * jnp.where(mean_gap2 > 0, mean_gap2, 1.0)

        def objective(v, t):
            hv = rectified_sigmoid(v)
            frac = jnp.clip((t - n_warm) / max(num_steps - n_warm, 1), 0.0, 1.0)
            bt = b0 + (b1 - b0) * frac
            reg = jnp.sum(1.0 - _pow(jnp.abs(2.0 * hv - 1.0), bt))
            on = (t >= n_warm).astype(wr.dtype)
            return proxy(cc, lo + hv * gap - wr) / scale + on * reg_weight * reg

        def step(carry, t):
            v, st = carry
            upd, st = tx.update(jax.grad(objective)(v, t), st, v)
            return (optax.apply_updates(v, upd), st), None

        v0 = _inverse_h(rest)
        (v, _), _ = jax.lax.scan(step, (v0, tx.init(v0)), jnp.arange(num_steps))
        return jnp.where(rectified_sigmoid(v) >= 0.5, hi, lo)

    if w.ndim == 1:
        return one(c, w, down, up)
    return map_rows(one, (c, w, down, up), bs)
