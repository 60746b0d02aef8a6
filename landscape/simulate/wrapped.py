"""A rule wrapped by a recorder: the wrapped rule's name, optimizer, deployed points and latent, unchanged.

The base of the deprecated rule wrapper :class:`~landscape.simulate.chatter.ChatterMonitor` (recorders
are driver monitors now, :mod:`landscape.simulate.monitor`): its state is ``(rule's state, recorder's
state)``; a subclass gives ``init``, ``gradient`` and ``extras``.
"""

from __future__ import annotations

from landscape._errors import LandscapeError
from landscape.qat.base import Rule

__all__ = ["WrappedRule"]


class WrappedRule(Rule):
    """``rule`` with a recorder's state beside its own: same name, optimizer, deployed points and latent."""

    rule: Rule

    def __check_init__(self):
        if not isinstance(self.rule, Rule):
            raise LandscapeError(f"rule must be a landscape Rule; got {type(self.rule).__name__}.")

    @property
    def name(self):
        return self.rule.name

    @property
    def label(self):
        return self.rule.label

    @property
    def optimizer(self):
        return self.rule.optimizer

    @property
    def stochastic(self):
        return self.rule.stochastic

    def transformation(self):
        """The wrapped rule's optax transformation."""
        return self.rule.transformation()

    def deploy(self, params, state, quantizer):
        """The wrapped rule's deployed point."""
        return self.rule.deploy(params, state[0], quantizer)

    def latent(self, params):
        """The wrapped rule's latent."""
        return self.rule.latent(params)
