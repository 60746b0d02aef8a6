r"""Two remedies for weight oscillation in QAT, from Nagel et al. (ICML 2022), "Overcoming Oscillations
in Quantization-Aware Training".

* :class:`OscillationDampening`: STE plus the dampening penalty
  :math:`\lambda\,\lVert Q(w) - w\rVert^2` with :math:`Q(w)` held constant, whose gradient
  :math:`2\lambda\,(w - Q(w))` pulls every latent weight towards its own grid point (the centre of its
  cell), where a small STE step can no longer flip it:

  .. math::  w_{t+1} = w_t + \mathrm{tx}\big(\nabla L(Q(w_t)) + 2\lambda (w_t - Q(w_t))\big).

* :class:`IterativeFreezing`: STE with per-weight oscillation tracking. A weight *oscillates* at step
  :math:`t` when its grid point changes and the direction of the change is opposite to that of its
  previous change. The oscillation frequency is the EMA
  :math:`f_{t+1} = m\,o_t + (1 - m)\,f_t` (:math:`o_t \in \{0, 1\}`); once :math:`f > f_{\rm th}` the
  weight is frozen at the grid point nearest the EMA of its deployed values
  (:math:`\bar q_{t+1} = m q_t + (1-m)\bar q_t`),
  and its gradient is zeroed. The deployed point is Q(w) on free weights and the frozen value on frozen ones.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscape._errors import LandscapeError, check_positive, is_concrete
from landscape.qat.base import Rule, hyper_field, probe_of
from landscape.qat.optim import as_optimizer

__all__ = [
    "OscillationDampening",
    "IterativeFreezing",
    "FreezeState",
    "oscillation_dampening",
    "iterative_freezing",
]


class OscillationDampening(Rule):
    """STE with the dampening penalty strength * ||Q(w) - w||^2 (Q(w) held constant)."""

    name = "dampen"
    optimizer: object = None
    strength: float = hyper_field(0.1)

    def __check_init__(self):
        if is_concrete(self.strength):
            check_positive("strength", self.strength, allow_zero=True)

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """grad L(Q(w)) + 2 strength (w - Q(w))."""
        w = params["w"]
        q = quantizer.quantize(w)
        g = (probe_of(landscape, q) if probe is None else probe).grad
        return {"w": g + 2.0 * self.strength * (w - q)}, state


class FreezeState(NamedTuple):
    """Per-weight oscillation tracking of :class:`IterativeFreezing`."""

    prev_q: jax.Array  # q_{t-1}
    last_dir: jax.Array  # sign of the last change of q (0: none yet)
    freq: jax.Array  # EMA of oscillation events
    q_ema: jax.Array  # EMA of the deployed values
    frozen: jax.Array  # bool: frozen weights
    frozen_q: jax.Array  # their frozen grid values


class IterativeFreezing(Rule):
    """STE with oscillation tracking; weights whose oscillation EMA exceeds ``threshold`` are frozen."""

    name = "freeze"
    optimizer: object = None
    threshold: float = hyper_field(0.02)
    momentum: float = hyper_field(0.01)

    def __check_init__(self):
        if is_concrete(self.threshold):
            check_positive("threshold", self.threshold)
        if is_concrete(self.momentum) and not 0.0 < float(self.momentum) <= 1.0:
            raise LandscapeError(f"momentum must lie in (0, 1]; got {self.momentum!r}.")

    def init(self, w0, quantizer):
        """params = {"w": w0}; nothing frozen, the EMA starts at Q(w0)."""
        q0 = quantizer.quantize(w0)
        z = jnp.zeros_like(w0)
        return {"w": w0}, FreezeState(q0, z, z, q0, jnp.zeros(w0.shape, bool), q0)

    def deploy(self, params, state, quantizer):
        """Q(w) on free weights, the frozen value on frozen ones."""
        return jnp.where(state.frozen, state.frozen_q, quantizer.quantize(params["w"]))

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """STE gradient at the deployed point, zero on frozen weights; the oscillation statistics updated."""
        q = self.deploy(params, state, quantizer)
        g = (probe_of(landscape, q) if probe is None else probe).grad
        m = self.momentum
        change = jnp.sign(q - state.prev_q)
        moved = change != 0
        osc = moved & (state.last_dir != 0) & (change != state.last_dir)
        freq = m * osc + (1.0 - m) * state.freq
        q_ema = m * q + (1.0 - m) * state.q_ema
        newly = (~state.frozen) & (freq > self.threshold)
        frozen = state.frozen | newly
        frozen_q = jnp.where(newly, quantizer.quantize(q_ema), state.frozen_q)
        last_dir = jnp.where(moved, change, state.last_dir)
        new_state = FreezeState(q, last_dir, freq, q_ema, frozen, frozen_q)
        return {"w": jnp.where(state.frozen, 0.0, g)}, new_state

    def extras(self, params, state):
        """{"frozen_frac": fraction of frozen weights}."""
        return {"frozen_frac": jnp.mean(state.frozen)}


def oscillation_dampening(learning_rate=0.05, optimizer=None, strength=0.1) -> OscillationDampening:
    """STE with Nagel et al.'s oscillation dampening of the given strength."""
    return OscillationDampening(as_optimizer(optimizer, learning_rate), strength)


def iterative_freezing(
    learning_rate=0.05, optimizer=None, threshold=0.02, momentum=0.01
) -> IterativeFreezing:
    """STE with Nagel et al.'s iterative weight freezing (EMA momentum, frequency threshold)."""
    return IterativeFreezing(as_optimizer(optimizer, learning_rate), threshold, momentum)
