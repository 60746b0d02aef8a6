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
import optax

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
                 learning_rate: float = 0.1, optimizer=None) -> QATRecord:
    """Run STE-QAT from latent w0 for num_steps steps (optax.sgd(learning_rate) unless ``optimizer``)."""
    check_int_at_least("num_steps", num_steps, 1)
    check_positive("tau", tau)
    rule = ste(optimizer=optimizer if optimizer is not None else optax.sgd(learning_rate))
    train_loss, test_metric = task_losses(task)
    loss_star = train_loss(w_star)

    def record(params, aux):
        q = rule.deploy(params, aux, quantizer)
        lq = train_loss(q)
        return lq, test_metric(q), sharp_offset(normals, q, w_star), in_basin(lq, loss_star, tau)

    @jax.jit
    def run(w0):
        params, aux = rule.init(w0, quantizer)

        def step(carry, key):
            params, aux, opt = carry
            rec = record(params, aux)
            grads, aux = rule.gradient(train_loss, params, aux, quantizer, key)
            upd, opt = rule.tx.update(grads, opt, params)
            return (optax.apply_updates(params, upd), aux, opt), rec

        keys = jax.random.split(jax.random.PRNGKey(0), num_steps)
        (params, aux, _), recs = jax.lax.scan(step, (params, aux, rule.tx.init(params)), keys)
        last = record(params, aux)
        recs = jax.tree.map(lambda a, b: jnp.concatenate([a, b[None]]), recs, last)
        return recs, rule.latent(params)

    (loss, metric, offset, inside), final_w = run(jnp.asarray(w0))
    hit = jnp.where(jnp.any(inside), jnp.argmax(inside), -1)
    return QATRecord(loss, metric, offset, inside, hit, final_w)
