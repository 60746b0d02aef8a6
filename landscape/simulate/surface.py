r"""A loss surface for the driver that is not an analytic landscape: a real network's training loss.

:class:`LossSurface` wraps ``loss(w)`` (flat weights ``(d,)``) with an autodiff gradient and a basin test
(``in_basin(loss, w) -> bool``; by default ``loss - loss_star <= tau``). The driver probes it like a
landscape (:meth:`probe`), so the bridge's STE-QAT runs on the same driver as the analytic model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from landscape.qat.base import Probe

__all__ = ["LossSurface"]


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class LossSurface:
    """L(w) of a network (static closure) with a basin test; ``rho`` reports the loss gap L(w) - L*."""

    loss_fn: Callable = dataclasses.field(metadata={"static": True})
    dim: int = dataclasses.field(metadata={"static": True})
    loss_star: jax.Array = 0.0
    tau: jax.Array = jnp.inf
    basin_fn: Callable | None = dataclasses.field(default=None, metadata={"static": True})
    #: optional pytree of arrays (traced leaves): when given, the loss is ``loss_fn(w, data)``, so networks
    #: that differ only in data or frozen parameters share one compiled driver (and batch over ``data``)
    data: Any = None

    def _loss(self, w):
        return self.loss_fn(w) if self.data is None else self.loss_fn(w, self.data)

    def loss(self, w):
        """L(w)."""
        return self._loss(w)

    def grad(self, w):
        """grad L(w) by autodiff."""
        return jax.grad(self._loss)(w)

    def in_basin(self, w):
        """The basin test of w (``basin_fn(loss, w)``, default L(w) - L* <= tau)."""
        return self.probe(w).in_basin

    def probe(self, w):
        """(L(w), grad L(w), L(w) - L*, in basin) in one forward-backward pass."""
        loss, g = jax.value_and_grad(self._loss)(w)
        gap = loss - self.loss_star
        inside = self.basin_fn(loss, w) if self.basin_fn is not None else gap <= self.tau
        return Probe(loss, g, gap, inside & jnp.isfinite(loss))
