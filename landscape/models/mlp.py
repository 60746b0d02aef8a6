r"""The vision model of the bridge: an MLP classifier of the 8x8 digits.

:math:`f(x) = W_L \tanh(\cdots\tanh(W_1 x + b_1)\cdots) + b_L`, trained by full-batch
AdamW on the cross-entropy (seeded init and split: same seed, same numbers).
"""

from __future__ import annotations

import jax
import numpy as np

from landscape._errors import LandscapeError, check_int_at_least
from landscape.models.data import digits
from landscape.models.nets import (
    CHECKPOINTS,
    FullBatch,
    Task,
    accuracy,
    cross_entropy,
    dense_init,
    dense_stack,
    train,
)

__all__ = ["mlp_apply", "mlp_inputs", "digits_mlp"]


def mlp_apply(params, x):
    """Logits f(x) of the tanh MLP."""
    return dense_stack(params["dense"], x)


def mlp_inputs(params, x):
    """[X_l]: the input of every dense layer (the calibration activations of GPTQ)."""
    return dense_stack(params["dense"], x, collect=True)[1]


def digits_mlp(
    seed: int = 0, hidden=(64,), steps: int = 1500, learning_rate: float = 1e-2, weight_decay: float = 1e-4
) -> Task:
    """Train the digits MLP 64 -> hidden -> 10; the Task records train loss and test accuracy."""
    check_int_at_least("seed", seed, 0)
    hidden = tuple(int(h) for h in hidden)
    if any(h < 1 for h in hidden):
        raise LandscapeError(f"hidden sizes must be >= 1; got {hidden}.")
    data = digits(seed)
    params = {"dense": dense_init(jax.random.PRNGKey(seed), (64, *hidden, 10))}
    params, losses, ckpts = train(
        FullBatch(mlp_apply),
        params,
        {"x": data.x_train, "y": data.y_train},
        steps=steps,
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        checkpoints=tuple(CHECKPOINTS.values()),
    )
    info = {
        "train_loss": float(cross_entropy(mlp_apply(params, data.x_train), data.y_train)),
        "test_loss": float(cross_entropy(mlp_apply(params, data.x_test), data.y_test)),
        "test_accuracy": float(accuracy(mlp_apply(params, data.x_test), data.y_test)),
        "train_accuracy": float(accuracy(mlp_apply(params, data.x_train), data.y_train)),
        "train_steps": steps,
        "hidden": list(hidden),
        "n_train": int(data.y_train.shape[0]),
        "n_test": int(data.y_test.shape[0]),
        "final_train_losses": np.asarray(losses[-5:]).tolist(),
    }
    return Task(
        "digits-mlp",
        params,
        mlp_apply,
        mlp_inputs,
        data,
        "accuracy",
        info,
        checkpoints=dict(zip(CHECKPOINTS, ckpts, strict=True)),
    )
