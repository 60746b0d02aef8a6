r"""Error feedback and noise injection as :class:`~landscape.qat.QATRule` s.

* :func:`error_feedback` (DPF-style, Lin et al., ICLR 2020): the deployed iterate is the grid point
  :math:`x_t = Q(y_t)`, the gradient is taken there, and the compression error
  :math:`e_t = y_t - x_t` is fed back with memory :math:`\beta`:

  .. math::  y_{t+1} = x_t + \mathrm{tx}(g_t) + \beta e_t
             = y_t + \mathrm{tx}(g_t) - (1-\beta)\,(y_t - Q(y_t)),\qquad g_t = \nabla L(x_t).

  With :math:`\beta = 1` (full feedback, DPF's dense weights) this is exactly STE with latent
  :math:`y_t`; with :math:`\beta = 0` it is projected gradient descent on the grid,
  :math:`x_{t+1} = Q(x_t + \mathrm{tx}(g_t))`, which stalls once every update is shorter than
  half a cell.
* :func:`noise_injection` (DiffQ, Défossez et al. 2022; NIPQ, Shin et al. 2023): the gradient is
  taken at :math:`w_t + \varepsilon_t`, :math:`\varepsilon_{t,j} \sim U(-a h_j, a h_j)` with
  :math:`h_j` half the local grid spacing (pseudo-quantization noise of the grid's width for
  ``scale`` :math:`a = 1`), and applied to :math:`w_t`; weights are rounded at the end. The point
  that would be deployed if training stopped at step t is :math:`Q(w_t)`, never the noisy point,
  so the driver's ``q_t``, basin test and hit time refer to :math:`Q(w_t)`.
"""

from __future__ import annotations

import jax
import optax

from landscape._checks import check_positive
from landscape.qat import QATRule, make_optimizer

__all__ = ["error_feedback", "noise_injection"]


def _deploy_q(params, aux, quantizer):
    return quantizer.quantize(params["w"])


def _init_plain(w0, quantizer):
    return {"w": w0}, ()


def _with_feedback(inner: optax.GradientTransformation) -> optax.GradientTransformation:
    """tx(g) + feedback: the inner optimizer's update of g["w"] plus the additive term g["feedback"]."""

    def init(params):
        return inner.init(params)

    def update(grads, state, params=None):
        upd, state = inner.update({"w": grads["w"]}, state, params)
        return {"w": upd["w"] + grads["feedback"]}, state

    return optax.GradientTransformation(init, update)


def error_feedback(learning_rate=0.05, optimizer=None, beta=1.0) -> QATRule:
    """Error feedback: y <- y + tx(grad L(Q(y))) - (1 - beta)(y - Q(y)); deployed point Q(y).

    ``beta`` in [0, 1] is the memory of the compression error (1: DPF, identical to STE).
    """
    b = float(beta)
    if not 0.0 <= b <= 1.0:
        raise ValueError(f"beta must lie in [0, 1]; got {beta!r}.")

    def gradient(loss_fn, params, aux, quantizer, key):
        y = params["w"]
        x = quantizer.quantize(y)
        return {"w": jax.grad(loss_fn)(x), "feedback": -(1.0 - b) * (y - x)}, aux

    name = "ef" if b == 1.0 else f"ef(beta={b:g})"
    return QATRule(
        name, _init_plain, _deploy_q, gradient, _with_feedback(make_optimizer(optimizer, learning_rate))
    )


def noise_injection(learning_rate=0.05, optimizer=None, scale=1.0) -> QATRule:
    """Noise injection: w <- w - eta grad L(w + eps), eps_j ~ U(-scale h_j, scale h_j); deployed point Q(w).

    h_j is half the local grid spacing at w_j (step/2 on a uniform grid).
    """
    check_positive("scale", scale)
    a = float(scale)

    def gradient(loss_fn, params, aux, quantizer, key):
        w = params["w"]
        h = a * quantizer.half_width(w)
        eps = jax.random.uniform(key, w.shape, dtype=w.dtype, minval=-1.0, maxval=1.0) * h
        return {"w": jax.grad(loss_fn)(w + eps)}, aux

    return QATRule("noise", _init_plain, _deploy_q, gradient, make_optimizer(optimizer, learning_rate))
