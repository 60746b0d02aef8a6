r"""STE variants whose latent accumulates gradients: clipped STE, PTQ+STE, ProxConnect, BinaryConnect.

All of them keep latent weights :math:`w_t` (``params["w"]``), deploy the grid point
:math:`q_t = Q(w_t)` and update :math:`w_{t+1} = w_t + \mathrm{tx}(g_t)` (``-\eta g_t`` for SGD):

* :func:`clipped_ste`: :math:`g_t = \nabla L(Q(w_t)) \odot 1[\,lo \le w_t \le hi\,]`;
* :func:`ptq_ste`: STE with :math:`w_0 \leftarrow Q(w_0)` (the PTQ point as the starting latent);
* :func:`prox_connect`: :math:`g_t = \nabla L(\theta_t)` at the forward point
  :math:`\theta_t = \mathrm{prox}_{\mu_t r}(w_t) = (w_t + \mu_t Q(w_t))/(1+\mu_t)`, the proximal map of
  :math:`r(\theta) = \tfrac12\,\mathrm{dist}(\theta, \text{grid})^2`, with :math:`\mu_t = \mu_0 + \gamma t`;
* :func:`binary_connect`: the hard-projection limit :math:`\mu = \infty`, :math:`\theta_t = Q(w_t)`.

For ProxConnect the forward point :math:`\theta_t` lies between :math:`w_t` and :math:`Q(w_t)`, in the
same rounding cell, so :math:`Q(\theta_t) = Q(w_t)`: the deployed point is :math:`Q(w_t)`, always a grid
point, and that is what the driver's basin test and hit time refer to.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from landscape._checks import check_positive
from landscape.qat import QATRule, make_optimizer
from landscape.quantizers import Codebook, UniformGrid

__all__ = ["clipped_ste", "ptq_ste", "prox_connect", "binary_connect", "clip_range"]


def _deploy_q(params, aux, quantizer):
    return quantizer.quantize(params["w"])


def _init_plain(w0, quantizer):
    return {"w": w0}, ()


def clip_range(quantizer, clip=None):
    """(lo, hi), the clipping range: [-clip, clip] if given, else the quantizer's representable range.

    For a uniform grid the range is [o + Delta qmin, o + Delta qmax] (infinite when unbounded);
    for a codebook, [scale * levels[0], scale * levels[-1]].
    """
    if clip is not None:
        c = jnp.asarray(clip, dtype=jnp.result_type(float))
        return -c, c
    if isinstance(quantizer, UniformGrid):
        return (
            quantizer.offset + quantizer.step * quantizer.qmin,
            quantizer.offset + quantizer.step * quantizer.qmax,
        )
    if isinstance(quantizer, Codebook):
        return quantizer.scale * quantizer.levels[0], quantizer.scale * quantizer.levels[-1]
    raise TypeError(f"quantizer must be a UniformGrid or a Codebook; got {type(quantizer).__name__}.")


def clipped_ste(learning_rate=0.05, optimizer=None, clip=None) -> QATRule:
    """Clipped STE: w <- w - eta grad L(Q(w)) * 1[lo <= w <= hi]; deployed point Q(w).

    ``clip`` > 0 sets the range [-clip, clip]; ``None`` uses the quantizer's representable range
    (so on an unbounded grid clipped STE is plain STE).
    """
    if clip is not None:
        check_positive("clip", clip)
        clip = float(clip)

    def gradient(loss_fn, params, aux, quantizer, key):
        w = params["w"]
        lo, hi = clip_range(quantizer, clip)
        g = jax.grad(loss_fn)(quantizer.quantize(w))
        return {"w": jnp.where((w >= lo) & (w <= hi), g, 0.0)}, aux

    return QATRule("clipped_ste", _init_plain, _deploy_q, gradient, make_optimizer(optimizer, learning_rate))


def ptq_ste(learning_rate=0.05, optimizer=None) -> QATRule:
    """PTQ initialisation then STE: latent w_0 = Q(w0) (the PTQ point), then w <- w - eta grad L(Q(w)).

    Started from the trained point w*, Q(w*) is the RTN point; started from a PTQ output that
    already lies on the grid (e.g. GPTQ's q), Q(q) = q and the rule is STE from q.
    """

    def init(w0, quantizer):
        return {"w": quantizer.quantize(w0)}, ()

    def gradient(loss_fn, params, aux, quantizer, key):
        return {"w": jax.grad(loss_fn)(quantizer.quantize(params["w"]))}, aux

    return QATRule("ptq+ste", init, _deploy_q, gradient, make_optimizer(optimizer, learning_rate))


def _prox_extras(params, aux):
    return {"mu": aux["mu"]}


def prox_connect(learning_rate=0.05, optimizer=None, mu0=0.0, mu_rate=0.1) -> QATRule:
    """ProxConnect: w <- w - eta grad L(theta), theta = (w + mu_t Q(w)) / (1 + mu_t), mu_t = mu0 + mu_rate t.

    theta is the proximal map of mu_t/2 dist(., grid)^2 at w; mu_t grows linearly, so theta goes from
    w (full precision, mu = 0) to Q(w) (BinaryConnect, mu = inf). Deployed point Q(w) = Q(theta).
    ``mu_t`` is recorded in the trajectory's extras as ``"mu"``.
    """
    check_positive("mu0", mu0, allow_zero=True)
    check_positive("mu_rate", mu_rate, allow_zero=True)
    mu0, mu_rate = float(mu0), float(mu_rate)

    def init(w0, quantizer):
        dt = jnp.result_type(w0)
        return {"w": w0}, {"t": jnp.zeros((), dt), "mu": jnp.asarray(mu0, dt)}

    def gradient(loss_fn, params, aux, quantizer, key):
        w = params["w"]
        mu = mu0 + mu_rate * aux["t"]
        theta = (w + mu * quantizer.quantize(w)) / (1.0 + mu)
        return {"w": jax.grad(loss_fn)(theta)}, {"t": aux["t"] + 1, "mu": mu}

    return QATRule(
        "proxconnect",
        init,
        _deploy_q,
        gradient,
        make_optimizer(optimizer, learning_rate),
        extras=_prox_extras,
    )


def binary_connect(learning_rate=0.05, optimizer=None) -> QATRule:
    """BinaryConnect: the hard-projection limit of ProxConnect, w <- w - eta grad L(Q(w)).

    With a deterministic projection its update sequence is that of :func:`landscape.qat.ste`.
    """

    def gradient(loss_fn, params, aux, quantizer, key):
        return {"w": jax.grad(loss_fn)(quantizer.quantize(params["w"]))}, aux

    return QATRule(
        "binaryconnect", _init_plain, _deploy_q, gradient, make_optimizer(optimizer, learning_rate)
    )
