r"""Error feedback and noise injection.

* :class:`ErrorFeedback` (DPF-style, Lin et al., ICLR 2020): the deployed iterate is the grid point
  :math:`x_t = Q(y_t)`, the gradient is taken there, and the compression error
  :math:`e_t = y_t - x_t` is fed back with memory :math:`\beta`:

  .. math::  y_{t+1} = y_t + \mathrm{tx}(g_t) - (1-\beta)\,(y_t - Q(y_t)),\qquad g_t = \nabla L(x_t).

  :math:`\beta = 1` is STE with latent :math:`y_t`; :math:`\beta = 0` is projected gradient descent on
  the grid, which stalls once every update is shorter than half a cell.
* :class:`NoiseInjection` (DiffQ, Défossez et al. 2022; NIPQ, Shin et al. 2023): the gradient is taken
  at :math:`w_t + \varepsilon_t`, :math:`\varepsilon_{t,j} \sim U(-a h_j, a h_j)` with :math:`h_j` half the
  local grid spacing, applied to :math:`w_t`; the deployed point is :math:`Q(w_t)`, never the noisy point.
"""

from __future__ import annotations

import jax
import optax

from landscape._errors import LandscapeError, check_positive, is_concrete
from landscape.qat.base import Rule, hyper_field, probe_of
from landscape.qat.optim import as_optimizer

__all__ = ["ErrorFeedback", "NoiseInjection", "error_feedback", "noise_injection"]


def _with_feedback(inner: optax.GradientTransformation) -> optax.GradientTransformation:
    """tx(g) + feedback: the inner optimizer's update of g["w"] plus the additive term g["feedback"]."""

    def init(params):
        return inner.init(params)

    def update(grads, state, params=None):
        upd, state = inner.update({"w": grads["w"]}, state, params)
        return {"w": upd["w"] + grads["feedback"]}, state

    return optax.GradientTransformation(init, update)


class ErrorFeedback(Rule):
    """Error feedback: y <- y + tx(grad L(Q(y))) - (1 - beta)(y - Q(y)); deployed point Q(y)."""

    name = "ef"
    optimizer: object = None
    beta: float = hyper_field(1.0)

    def __check_init__(self):
        if is_concrete(self.beta) and not 0.0 <= float(self.beta) <= 1.0:
            raise LandscapeError(f"beta must lie in [0, 1]; got {self.beta!r}.")

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """(grad L(Q(y)), the feedback term -(1 - beta)(y - Q(y)))."""
        y = params["w"]
        x = quantizer.quantize(y)
        g = (probe_of(landscape, x) if probe is None else probe).grad
        return {"w": g, "feedback": -(1.0 - self.beta) * (y - x)}, state

    def transformation(self):
        """The optimizer's update of the gradient plus the additive feedback."""
        return _with_feedback(self.optimizer.build())


class NoiseInjection(Rule):
    """Noise injection: w <- w - eta grad L(w + eps), eps_j ~ U(-scale h_j, scale h_j); deploys Q(w)."""

    name = "noise"
    stochastic = True
    uses_probe = False
    optimizer: object = None
    scale: float = hyper_field(1.0)

    def __check_init__(self):
        if is_concrete(self.scale):
            check_positive("scale", self.scale)

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """grad L(w + eps), eps uniform of half-width scale * h(w)."""
        w = params["w"]
        h = self.scale * quantizer.half_width(w)
        eps = jax.random.uniform(key, w.shape, dtype=w.dtype, minval=-1.0, maxval=1.0) * h
        return {"w": landscape.grad(w + eps)}, state


def error_feedback(learning_rate=0.05, optimizer=None, beta=1.0) -> ErrorFeedback:
    """Error feedback with memory beta in [0, 1] (1: DPF, identical to STE)."""
    return ErrorFeedback(as_optimizer(optimizer, learning_rate), beta)


def noise_injection(learning_rate=0.05, optimizer=None, scale=1.0) -> NoiseInjection:
    """Noise injection of relative width ``scale``."""
    return NoiseInjection(as_optimizer(optimizer, learning_rate), scale)
