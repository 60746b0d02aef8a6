"""The one training run of the bridge's networks (landscape.models.fit): what the Task and its info record."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as ls
from landscape.models.data import Split
from landscape.models.fit import check_hidden, fit, fitted_task, full_batch_task
from landscape.models.lm import markov_lm
from landscape.models.nets import (
    CHECKPOINTS,
    FullBatch,
    checkpoint_steps,
    cross_entropy,
    dense_init,
    dense_stack,
)


def _toy_split(seed=0, n=40, d=5, classes=3):
    k1, k2, k3, k4 = jax.random.split(jax.random.PRNGKey(seed), 4)
    return Split(
        jax.random.normal(k1, (n, d)),
        jax.random.randint(k2, (n,), 0, classes),
        jax.random.normal(k3, (n // 2, d)),
        jax.random.randint(k4, (n // 2,), 0, classes),
    )


def _apply(params, x):
    return dense_stack(params["dense"], x)


def _inputs(params, x):
    return dense_stack(params["dense"], x, collect=True)[1]


def test_fit_keeps_every_checkpoint_of_the_same_run():
    data = _toy_split()
    params = {"dense": dense_init(jax.random.PRNGKey(1), (5, 4, 3))}
    run = fit(FullBatch(_apply), params, {"x": data.x_train, "y": data.y_train}, steps=20,
              learning_rate=1e-2, weight_decay=0.0)
    assert list(run.checkpoints) == list(CHECKPOINTS)
    assert run.marks == checkpoint_steps(20, CHECKPOINTS.values()) == (5, 15, 18)
    assert run.losses.shape == (20,)
    # the checkpoint after step m is the point where the run's loss m (the loss before step m + 1) was taken
    for name, m in zip(CHECKPOINTS, run.marks, strict=True):
        at = float(cross_entropy(_apply(run.checkpoints[name], data.x_train), data.y_train))
        np.testing.assert_allclose(at, float(run.losses[m]), rtol=1e-6)
    assert not np.array_equal(run.checkpoints["late_90"]["dense"][0]["w"], run.params["dense"][0]["w"])


def test_full_batch_task_records_what_it_says():
    data = _toy_split(2)
    params = {"dense": dense_init(jax.random.PRNGKey(3), (5, 6, 3))}
    task = full_batch_task("toy", _apply, _inputs, params, data, "accuracy", {"train_steps": 30, "note": "x"},
                           steps=30, learning_rate=3e-2, weight_decay=0.1)
    info = task.info
    assert list(info) == ["train_loss", "test_loss", "test_accuracy", "train_accuracy", "train_steps", "note",
                          "n_train", "n_test", "final_train_losses"]
    p = task.params
    assert info["train_loss"] == float(cross_entropy(_apply(p, data.x_train), data.y_train))
    assert info["test_loss"] == float(cross_entropy(_apply(p, data.x_test), data.y_test))
    acc = float(jnp.mean(jnp.argmax(_apply(p, data.x_test), -1) == data.y_test))
    assert info["test_accuracy"] == acc
    assert (info["n_train"], info["n_test"]) == (40, 20)
    assert len(info["final_train_losses"]) == 5
    assert info["final_train_losses"][-1] > info["train_loss"] - 0.5  # a loss, not an index
    assert (task.name, task.metric, task.apply, task.layer_inputs, task.stream) == (
        "toy", "accuracy", _apply, _inputs, None)
    assert list(task.checkpoints) == list(CHECKPOINTS)
    assert task.data is data


def test_perplexity_is_e_to_the_loss_and_the_lm_keeps_its_info():
    task = markov_lm(0, n_train=8, seq_len=16, steps=5)
    info = task.info
    assert info["train_perplexity"] == float(np.exp(info["train_loss"]))
    assert info["test_perplexity"] == float(np.exp(info["test_loss"]))
    assert list(info) == [
        "train_loss", "test_loss", "train_perplexity", "test_perplexity", "entropy_rate",
        "optimal_perplexity", "uniform_perplexity", "vocab", "order", "embed", "hidden", "train_steps",
        "n_train", "n_test", "final_train_losses",
    ]


def test_fitted_task_appends_the_last_five_losses_and_keeps_the_stream():
    data = _toy_split()
    params = {"dense": dense_init(jax.random.PRNGKey(1), (5, 3))}
    run = fit(FullBatch(_apply), params, {"x": data.x_train, "y": data.y_train}, steps=7,
              learning_rate=1e-2, weight_decay=0.0)
    stream = jnp.arange(9)
    task = fitted_task("t", run, _apply, _inputs, data, "bpc", {"a": 1}, stream)
    assert list(task.info) == ["a", "final_train_losses"]
    assert task.info["final_train_losses"] == np.asarray(run.losses[2:]).tolist()
    assert task.stream is stream and task.checkpoints is run.checkpoints


def test_bad_metric_and_hidden_sizes_are_refused():
    data = _toy_split()
    params = {"dense": dense_init(jax.random.PRNGKey(1), (5, 3))}
    with pytest.raises(ls.LandscapeError, match="metric must be 'accuracy' or 'perplexity'; got 'bpc'"):
        full_batch_task("t", _apply, _inputs, params, data, "bpc", {}, steps=3, learning_rate=1e-2,
                        weight_decay=0.0)
    assert check_hidden([4.0, 2]) == (4, 2)
    with pytest.raises(ls.LandscapeError, match=r"hidden sizes must be >= 1; got \(4, 0\)"):
        check_hidden((4, 0))
