r"""One training run of a bridge network and the :class:`~landscape.models.nets.Task` it gives.

Every builder (MLP, CNN, Markov LM, character transformer) trains with :func:`fit`: AdamW in one
``lax.scan`` (:func:`~landscape.models.nets.train`), keeping the parameters at the fractions
:data:`~landscape.models.nets.CHECKPOINTS` of the run. :func:`fitted_task` makes the Task and
appends the common tail of its ``info`` (the last five training losses);
:func:`full_batch_task` is the whole recipe of the full-batch networks: train on the training
split, then record the training and test loss :math:`L`, the metric (accuracy, or the perplexity
:math:`e^{L}`) and the split sizes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from landscape._errors import LandscapeError
from landscape.models.nets import (
    CHECKPOINTS,
    FullBatch,
    Task,
    accuracy,
    checkpoint_steps,
    cross_entropy,
    train,
)

__all__ = ["Fit", "fit", "fitted_task", "full_batch_task", "check_hidden"]


class Fit(NamedTuple):
    """A finished training run: final parameters, per-step losses, the CHECKPOINTS and their steps."""

    params: Any
    losses: Any  # (steps,) training loss before each step
    checkpoints: dict  # name of CHECKPOINTS -> parameters of the same run
    marks: tuple  # the steps after which the checkpoints were taken


def fit(
    batch_loss, params, data, *, steps: int, learning_rate: float, weight_decay: float, **schedule
) -> Fit:
    """Train with :func:`~landscape.models.nets.train`, keeping the parameters at :data:`CHECKPOINTS`.

    ``schedule``: the other keywords of ``train`` (``key``, ``warmup``, ``clip``, ``end_fraction``).
    """
    final, losses, saved = train(
        batch_loss,
        params,
        data,
        steps=steps,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        checkpoints=tuple(CHECKPOINTS.values()),
        **schedule,
    )
    ckpts = dict(zip(CHECKPOINTS, saved, strict=True))
    return Fit(final, losses, ckpts, checkpoint_steps(steps, CHECKPOINTS.values()))


def fitted_task(name: str, run: Fit, apply, layer_inputs, data, metric: str, info: dict, stream=None) -> Task:
    """The Task of a run; ``info`` gains ``final_train_losses`` (the last five training losses)."""
    info = {**info, "final_train_losses": np.asarray(run.losses[-5:]).tolist()}
    return Task(name, run.params, apply, layer_inputs, data, metric, info, run.checkpoints, stream)


def full_batch_task(
    name: str,
    apply,
    layer_inputs,
    params,
    data,
    metric: str,
    extra: dict,
    *,
    steps: int,
    learning_rate: float,
    weight_decay: float,
) -> Task:
    """Train full-batch on ``data``'s training split; Task with train/test loss, metric, ``extra``, sizes.

    ``metric``: "accuracy" (test and train accuracy) or "perplexity" (:math:`e^{L}`, train and test).
    """
    if metric not in ("accuracy", "perplexity"):
        raise LandscapeError(f"metric must be 'accuracy' or 'perplexity'; got {metric!r}.")
    run = fit(
        FullBatch(apply),
        params,
        {"x": data.x_train, "y": data.y_train},
        steps=steps,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
    )
    p = run.params
    train_loss = float(cross_entropy(apply(p, data.x_train), data.y_train))
    test_loss = float(cross_entropy(apply(p, data.x_test), data.y_test))
    info = {"train_loss": train_loss, "test_loss": test_loss}
    if metric == "accuracy":
        info["test_accuracy"] = float(accuracy(apply(p, data.x_test), data.y_test))
        info["train_accuracy"] = float(accuracy(apply(p, data.x_train), data.y_train))
    else:
        info["train_perplexity"] = float(np.exp(train_loss))
        info["test_perplexity"] = float(np.exp(test_loss))
    info |= extra
    info |= {"n_train": int(data.y_train.shape[0]), "n_test": int(data.y_test.shape[0])}
    return fitted_task(name, run, apply, layer_inputs, data, metric, info)


def check_hidden(hidden) -> tuple[int, ...]:
    """The hidden layer sizes as a tuple of ints, each >= 1 (else LandscapeError)."""
    hidden = tuple(int(h) for h in hidden)
    if any(h < 1 for h in hidden):
        raise LandscapeError(f"hidden sizes must be >= 1; got {hidden}.")
    return hidden
