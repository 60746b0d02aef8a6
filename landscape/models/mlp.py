r"""The vision model of the bridge: an MLP classifier of the 8x8 digits.

:math:`f(x) = W_L \tanh(\cdots\tanh(W_1 x + b_1)\cdots) + b_L`, trained by full-batch
AdamW on the cross-entropy (seeded init and split: same seed, same numbers).
"""

from __future__ import annotations

import jax

from landscape._errors import check_int_at_least
from landscape.models.data import digits
from landscape.models.fit import check_hidden, full_batch_task
from landscape.models.nets import Task, dense_init, dense_stack

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
    hidden = check_hidden(hidden)
    data = digits(seed)
    params = {"dense": dense_init(jax.random.PRNGKey(seed), (64, *hidden, 10))}
    extra = {"train_steps": steps, "hidden": list(hidden)}
    return full_batch_task("digits-mlp", mlp_apply, mlp_inputs, params, data, "accuracy", extra,
                           steps=steps, learning_rate=learning_rate, weight_decay=weight_decay)
