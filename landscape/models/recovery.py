r"""STE-QAT on a real network, from a PTQ point, with per-step diagnostics.

Latent weights start at :math:`w_0` (``w*`` for the RTN start, so that
:math:`Q(w_0)` is the RTN point; the GPTQ point itself for the GPTQ start, which lies on
the grid so that :math:`Q(w_0)` is the GPTQ point) and follow the engine's STE rule
(:func:`landscape.qat.ste`), full batch, plain SGD by default (the theory's rule; any optax
optimizer can be passed):

.. math::  w_{t+1} = w_t - \eta\,\nabla L(Q(w_t)).

Recorded for :math:`t = 0..T` (row t: the deployed point :math:`q_t = Q(w_t)` before
update t): the training loss :math:`L(q_t)`, the test accuracy or perplexity, the sharp
offset :math:`v_t = N(q_t - w^*)`, and ``in_basin`` :math:`L(q_t) - L^* \le \tau`;
``hit_time`` is the first t with ``in_basin`` (-1 if never within T steps).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscape._checks import check_int_at_least, check_positive
from landscape.models.basin import in_basin, sharp_offset
from landscape.models.nets import accuracy, cross_entropy, with_weights
from landscape.qat import ste

__all__ = ["QATRecord", "ste_recovery", "task_losses"]


class QATRecord(NamedTuple):
    """Per step t = 0..T: loss (train, deployed), test metric, sharp offset (T+1, k), in_basin; hit_time."""

    loss: jax.Array
    metric: jax.Array
    offset: jax.Array
    in_basin: jax.Array
    hit_time: jax.Array
    final_w: jax.Array


def task_losses(task):
    """(train_loss(w), test_metric(w)) as functions of the flat dense weights w."""
    d = task.data

    def train_loss(w):
        return cross_entropy(task.apply(with_weights(task.params, w), d.x_train), d.y_train)

    def test_metric(w):
        logits = task.apply(with_weights(task.params, w), d.x_test)
        if task.metric == "accuracy":
            return accuracy(logits, d.y_test)
        return jnp.exp(cross_entropy(logits, d.y_test))

    return train_loss, test_metric


def ste_recovery(task, quantizer, w0, w_star, normals, tau, *, num_steps: int = 300,
                 learning_rate: float = 0.1, optimizer=None, rule=None) -> QATRecord:
    """Run STE-QAT (or ``rule``) from latent w0 for num_steps steps on the engine's driver.

    The network's training loss is a :class:`landscape.LossSurface` (basin: L(q) - L* <= tau); the driver
    records the deployed path, from which the test metric and the sharp offset are evaluated.
    """
    from landscape.simulate import LossSurface, SaveAt, run

    check_int_at_least("num_steps", num_steps, 1)
    check_positive("tau", tau)
    rule = ste(learning_rate, optimizer=optimizer) if rule is None else rule
    train_loss, test_metric = task_losses(task)
    w0 = jnp.asarray(w0)
    loss_star = train_loss(jnp.asarray(w_star))
    surface = LossSurface(train_loss, int(w0.shape[-1]), loss_star, jnp.asarray(tau, loss_star.dtype))
    save = SaveAt(every=1, fields=("loss", "in_basin"), paths=True, extras=False, switches=False)
    tr = run(surface, quantizer, rule, w0, num_steps, save=save)
    qs = jnp.concatenate([tr.q_path, tr.final_q[None]])
    loss = jnp.concatenate([tr.loss, tr.final_loss[None]])
    metric = jax.lax.map(test_metric, qs)
    offset = jax.vmap(lambda q: sharp_offset(normals, q, w_star))(qs)
    inside = in_basin(loss, loss_star, tau)
    hit = jnp.where(jnp.any(inside), jnp.argmax(inside), -1)
    return QATRecord(loss, metric, offset, inside, hit, tr.final_w)
