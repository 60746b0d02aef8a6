r"""A network's loss and test metric as functions of its flat dense weights, and its driver surface.

The bridge's loss is the mean training cross-entropy :math:`L(w)` (nats) over the flat dense weights
``w`` (:mod:`landscape.models.nets`); everything else (biases, embeddings, LayerNorms, the data) is a
pytree ``data`` handed to the loss as a traced argument, so that networks trained from different seeds
share one compiled driver and can be batched (:func:`stack`).

Test metrics (:data:`METRICS`), each from the test logits:

* ``accuracy`` -- fraction of argmax hits (higher is better);
* ``bpc`` -- bits per character, :math:`\mathrm{CE}/\ln 2` (lower is better);
* ``perplexity`` -- :math:`e^{\mathrm{CE}}` (lower is better).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError
from landscape.models.nets import accuracy, cross_entropy, flat_weights, with_weights

__all__ = [
    "METRICS",
    "NetLoss",
    "NetMetric",
    "train_data",
    "test_data",
    "task_surface",
    "task_functions",
    "stack",
    "metric_of_loss",
    "values_along",
    "grads_along",
]

METRICS = ("accuracy", "bpc", "perplexity")


@dataclasses.dataclass(frozen=True)
class NetLoss:
    """L(w; data): mean cross-entropy of ``apply`` at dense weights w (hashable: one compile per network)."""

    apply: Callable

    def __call__(self, w, data):
        """Mean cross-entropy (nats) of the network data["params"] with dense weights w on (x, y)."""
        return cross_entropy(self.apply(with_weights(data["params"], w), data["x"]), data["y"])


@dataclasses.dataclass(frozen=True)
class NetMetric:
    """The test metric of the network with dense weights w (accuracy, bits per character or perplexity)."""

    apply: Callable
    kind: str

    def __post_init__(self):
        if self.kind not in METRICS:
            raise LandscapeError(f"metric must be one of {METRICS}; got {self.kind!r}.")

    def __call__(self, w, data):
        """The metric of the network data["params"] with dense weights w on (x, y)."""
        logits = self.apply(with_weights(data["params"], w), data["x"])
        if self.kind == "accuracy":
            return accuracy(logits, data["y"])
        return metric_of_loss(cross_entropy(logits, data["y"]), self.kind)


def metric_of_loss(ce, kind: str):
    """bpc = CE / ln 2, perplexity = e^CE, from a cross-entropy in nats."""
    if kind == "bpc":
        return ce / np.log(2.0)
    if kind == "perplexity":
        return jnp.exp(ce)
    raise LandscapeError(f"metric of a loss must be 'bpc' or 'perplexity'; got {kind!r}.")


def train_data(task, params=None):
    """The loss's data pytree: frozen parameters and the training (fit) set."""
    p = task.params if params is None else params
    data = {"params": p, "x": task.data.x_train, "y": task.data.y_train}
    if getattr(task, "stream", None) is not None:
        data["stream"] = task.stream
    return data


def test_data(task, params=None):
    """The metric's data pytree: frozen parameters and the test set."""
    p = task.params if params is None else params
    return {"params": p, "x": task.data.x_test, "y": task.data.y_test}


def task_functions(task, params=None):
    """(loss(w), metric(w), w*) of a task, closed over its data (jitted)."""
    tr, te = train_data(task, params), test_data(task, params)
    loss, metric = NetLoss(task.apply), NetMetric(task.apply, task.metric)
    w = flat_weights(task.params if params is None else params)
    return jax.jit(lambda v: loss(v, tr)), jax.jit(lambda v: metric(v, te)), w


def task_surface(task, tau, params=None):
    """The driver's LossSurface of a task: L(w; data) with L* = L(w*) and the band L - L* <= tau."""
    from landscape.simulate import LossSurface

    data = train_data(task, params)
    w = flat_weights(data["params"])
    fn = NetLoss(task.apply)
    loss_star = fn(w, data)
    return LossSurface(fn, int(w.shape[0]), loss_star, jnp.asarray(tau, loss_star.dtype), data=data)


def stack(trees):
    """One pytree whose leaves stack the leaves of ``trees`` on a new leading axis (for batched runs)."""
    return jax.tree_util.tree_map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *trees)


@partial(jax.jit, static_argnums=0)
def _map_fn(fn, data, ws):
    return jax.lax.map(lambda w: fn(w, data), ws)


def values_along(fn, data, ws):
    """fn(w, data) for every row of ws (n, d), one compiled loop (fn hashable: NetLoss / NetMetric)."""
    return np.asarray(_map_fn(fn, data, jnp.asarray(ws)), np.float64)


@partial(jax.jit, static_argnums=0)
def _grads(fn, data, ws):
    return jax.lax.map(lambda w: jax.grad(fn)(w, data), ws)


def grads_along(fn, data, ws):
    """grad_w fn(w, data) for every row of ws (n, d)."""
    return np.asarray(_grads(fn, data, jnp.asarray(ws)))
