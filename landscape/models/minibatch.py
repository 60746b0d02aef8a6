r"""Minibatch QAT for a language model trained on a text stream: the rule draws its batch from the step's key.

A transformer trained by minibatch AdamW on the whole training text is not a minimiser of the loss on
any small fixed subset: full-batch QAT on such a subset drives that loss far below :math:`L^*` while the
test loss rises (memorisation), so the bridge would measure overfitting, not recovery. Here the band,
the foot and the Hessian terms use the loss :math:`L` on a fixed *band set* of training windows, while
the QAT gradient is a fresh minibatch of ``batch`` random windows of the training text each step (as
in the network's own training), drawn from the driver's per-step key:

* :class:`MinibatchSTE` with ``at_latent=False`` -- :math:`g_t = \nabla \hat L_{B_t}(Q(w_t))` (STE);
* ``at_latent=True`` -- :math:`g_t = \nabla \hat L_{B_t}(w_t)`, full-precision fine-tuning deployed by RTN
  (the control).

It is a rule of the engine's contract (:mod:`landscape.qat.base`) and runs on the one driver.
"""

from __future__ import annotations

import dataclasses

import jax

from landscape.models.nets import Windows, with_weights
from landscape.qat.base import Rule, static_field

__all__ = ["MinibatchLoss", "MinibatchSTE"]


@dataclasses.dataclass(frozen=True)
class MinibatchLoss(Windows):
    """Cross-entropy of ``batch`` random windows of ``context`` characters of data["stream"], at flat w."""

    def __call__(self, w, data, key):
        """The minibatch loss at dense weights w, the windows drawn from ``key`` (the training loop's own)."""
        return super().__call__(with_weights(data["params"], w), data, key)


class MinibatchSTE(Rule):
    """STE (or, ``at_latent``, full-precision fine-tuning) on a fresh minibatch per step; deployed Q(w)."""

    name = "minibatch_ste"
    stochastic = True
    uses_probe = False
    optimizer: object = None
    batch_loss: object = static_field(None)
    at_latent: bool = static_field(False)

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """grad of the minibatch loss at Q(w) (STE) or at w (``at_latent``)."""
        w = params["w"]
        x = w if self.at_latent else quantizer.quantize(w)
        return {"w": jax.grad(self.batch_loss)(x, landscape.data, key)}, state
