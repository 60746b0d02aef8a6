"""Fixtures of the proof tests: a deliberately wrong simulator that the attacks must catch."""

from __future__ import annotations

import pytest

from landscape import qat


class _BiasedSTE(qat.STE):
    """STE whose gradient carries a constant bias: a simulator the attacks must catch."""

    name = "ste_biased"
    bias: float = 0.0

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        g, state = super().gradient(landscape, params, state, quantizer, key, probe)
        return {"w": g["w"] + self.bias}, state


@pytest.fixture
def biased_ste():
    """``biased_ste(bias)``: a rule factory ``eta -> STE with plain SGD at eta, gradient + bias``."""
    return lambda bias: (lambda eta: _BiasedSTE(qat.sgd(eta), bias))
