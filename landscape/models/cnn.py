r"""A small CNN on the 8x8 digits, written so that every weight is a dense matrix.

The 3x3 convolution (valid, 1 -> ``channels``) is the matrix :math:`K \in
\mathbb{R}^{\text{channels}\times 9}` applied to every 3x3 patch (im2col), so per-channel
quantization is per output channel and GPTQ's calibration Hessian is :math:`P^\top P` over
all patches, as in GPTQ's treatment of convolutions. Then tanh, 2x2 average pooling
(6x6 -> 3x3), a tanh dense layer and the logits:

.. math::  f(x) = W_3 \tanh(W_2\,\mathrm{pool}(\tanh(K\,\mathrm{patches}(x) + b_1)) + b_2) + b_3.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from landscape._errors import check_int_at_least
from landscape.models.data import digits
from landscape.models.fit import full_batch_task
from landscape.models.nets import Task, dense_init

__all__ = ["patches", "cnn_apply", "cnn_inputs", "digits_cnn"]


def patches(x):
    """im2col: (n, 64) images -> (n, 36, 9), the 3x3 patches at the 6x6 valid positions."""
    img = x.reshape(-1, 8, 8)
    cols = [img[:, i : i + 6, j : j + 6] for i in range(3) for j in range(3)]
    return jnp.stack(cols, axis=-1).reshape(img.shape[0], 36, 9)


def _forward(params, x):
    conv, dense1, dense2 = params["dense"]
    p = patches(x)  # (n, 36, 9)
    h = jnp.tanh(p @ conv["w"].T + conv["b"])  # (n, 36, c)
    c = h.shape[-1]
    h = h.reshape(-1, 3, 2, 3, 2, c).mean(axis=(2, 4)).reshape(h.shape[0], 9 * c)  # 2x2 avg pool
    z = jnp.tanh(h @ dense1["w"].T + dense1["b"])
    return z @ dense2["w"].T + dense2["b"], [p.reshape(-1, 9), h, z]


def cnn_apply(params, x):
    """Logits f(x) of the CNN."""
    return _forward(params, x)[0]


def cnn_inputs(params, x):
    """[patches (n*36, 9), pooled features (n, 9c), hidden (n, h)]: the inputs of each weight matrix."""
    return _forward(params, x)[1]


def digits_cnn(
    seed: int = 0,
    channels: int = 8,
    hidden: int = 32,
    steps: int = 800,
    learning_rate: float = 1e-2,
    weight_decay: float = 0.1,
) -> Task:
    """Train the digits CNN (conv 3x3 x channels, pool, dense hidden, 10); Task with test accuracy."""
    check_int_at_least("seed", seed, 0)
    check_int_at_least("channels", channels, 1)
    check_int_at_least("hidden", hidden, 1)
    data = digits(seed)
    k1, k2 = jax.random.split(jax.random.PRNGKey(seed))
    params = {"dense": dense_init(k1, (9, channels)) + dense_init(k2, (9 * channels, hidden, 10))}
    extra = {"train_steps": steps, "channels": channels, "hidden": hidden}
    return full_batch_task("digits-cnn", cnn_apply, cnn_inputs, params, data, "accuracy", extra,
                           steps=steps, learning_rate=learning_rate, weight_decay=weight_decay)
