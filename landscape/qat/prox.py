r"""ProxConnect (Dockhorn et al., 2021): the gradient at a proximal map of the latent.

:math:`g_t = \nabla L(\theta_t)` at the forward point
:math:`\theta_t = \mathrm{prox}_{\mu_t r}(w_t) = (w_t + \mu_t Q(w_t))/(1+\mu_t)`, the proximal map of
:math:`r(\theta) = \tfrac12\,\mathrm{dist}(\theta, \text{grid})^2`, with :math:`\mu_t = \mu_0 + \gamma t`.
:math:`\theta_t` lies between :math:`w_t` and :math:`Q(w_t)`, in the same rounding cell, so the deployed point
is :math:`Q(w_t) = Q(\theta_t)`, a grid point.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscape._errors import check_positive, is_concrete
from landscape.qat.base import Rule, hyper_field
from landscape.qat.optim import as_optimizer

__all__ = ["ProxConnect", "prox_connect"]


class ProxState(NamedTuple):
    """t (steps taken) and mu_t."""

    t: jax.Array
    mu: jax.Array


class ProxConnect(Rule):
    """ProxConnect: w <- w - eta grad L(theta), theta = (w + mu_t Q(w)) / (1 + mu_t), mu_t = mu0 + mu_rate t.

    ``mu_t`` is recorded in the trajectory's extras as ``"mu"``.
    """

    name = "proxconnect"
    uses_probe = False
    optimizer: object = None
    mu0: float = hyper_field(0.0)
    mu_rate: float = hyper_field(0.1)

    def __check_init__(self):
        for n in ("mu0", "mu_rate"):
            if is_concrete(getattr(self, n)):
                check_positive(n, getattr(self, n), allow_zero=True)

    def init(self, w0, quantizer):
        """params = {"w": w0}; state (t = 0, mu = mu0)."""
        dt = jnp.result_type(w0)
        return {"w": w0}, ProxState(jnp.zeros((), dt), jnp.asarray(self.mu0, dt))

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """grad L(theta_t) at the proximal point."""
        w = params["w"]
        mu = self.mu0 + self.mu_rate * state.t
        theta = (w + mu * quantizer.quantize(w)) / (1.0 + mu)
        return {"w": landscape.grad(theta)}, ProxState(state.t + 1, jnp.asarray(mu, state.mu.dtype))

    def extras(self, params, state):
        """{"mu": mu_t}."""
        return {"mu": state.mu}


def prox_connect(learning_rate=0.05, optimizer=None, mu0=0.0, mu_rate=0.1) -> ProxConnect:
    """ProxConnect with mu_t = mu0 + mu_rate t."""
    return ProxConnect(as_optimizer(optimizer, learning_rate), mu0, mu_rate)
