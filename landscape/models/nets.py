r"""Small networks as pytrees, their training, and the quantized-weight vector ``w``.

Parameters are a dict ``{"dense": [{"w": (out, in), "b": (out,)}, ...], ...}``; a network
is ``apply(params, x) -> logits``. The loss is the mean next-label cross-entropy
:math:`L = -\frac1n\sum_i \log \mathrm{softmax}(f(x_i))_{y_i}` (for a language model
:math:`e^{L}` is the perplexity).

The quantized weights are the dense matrices (rows = output channels); biases and
embeddings stay in full precision. :func:`flat_weights` concatenates the matrices into one
vector ``w`` of dimension ``dim`` (row-major, layer after layer) and :func:`with_weights`
puts such a vector back, so every diagnostic of the bridge sees the same loss
:math:`L(w)` over :math:`w \in \mathbb{R}^{d}` as the analytic model.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from landscape._errors import LandscapeError, check_int_at_least

__all__ = [
    "CHECKPOINTS",
    "Task",
    "dense_init",
    "dense_stack",
    "cross_entropy",
    "accuracy",
    "train",
    "FullBatch",
    "Windows",
    "checkpoint_steps",
    "save_checkpoints",
    "unstack",
    "flat_weights",
    "with_weights",
    "weight_shapes",
]


#: checkpoints of every training run (fractions of its steps): the early-stopped w* and the river anchors
CHECKPOINTS = {"early": 0.25, "late_75": 0.75, "late_90": 0.9}


class Task(NamedTuple):
    """A trained network with its data: everything the bridge diagnostics need.

    ``apply(params, x) -> logits``; ``layer_inputs(params, x) -> [X_l]`` the inputs
    (n, in_l) that reach dense layer l (for GPTQ's calibration Hessian X^T X);
    ``metric`` is "accuracy" (classifier), "bpc" (bits per character) or "perplexity";
    ``checkpoints``: earlier parameters of the same training run (the early-stopped ``w*`` and the late
    checkpoints that anchor the river).
    """

    name: str
    params: Any
    apply: Callable
    layer_inputs: Callable
    data: Any  # landscape.models.data.Split
    metric: str
    info: dict
    checkpoints: dict | None = None  # name -> params of the same training run ("early", "late_75", ...)
    stream: Any = None  # a language model's training token stream (minibatch QAT), or None (full batch)


def dense_init(key, sizes, scale: float = 1.0):
    """Dense layers sizes[0] -> ... -> sizes[-1]: w ~ N(0, scale/in), b = 0."""
    keys = jax.random.split(key, len(sizes) - 1)
    return [
        {
            "w": jax.random.normal(k, (o, i), jnp.float32) * jnp.sqrt(scale / i),
            "b": jnp.zeros((o,), jnp.float32),
        }
        for k, i, o in zip(keys, sizes[:-1], sizes[1:], strict=False)
    ]


def dense_stack(layers, h, collect: bool = False):
    """h -> tanh(W_1 h + b_1) -> ... -> W_L h + b_L (logits); optionally the input of each layer."""
    inputs = []
    for i, layer in enumerate(layers):
        inputs.append(h)
        h = h @ layer["w"].T + layer["b"]
        if i < len(layers) - 1:
            h = jnp.tanh(h)
    return (h, inputs) if collect else h


def cross_entropy(logits, y):
    """Mean cross-entropy -mean_i log softmax(logits_i)[y_i] (nats)."""
    logp = jax.nn.log_softmax(logits, axis=-1)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=-1))


def accuracy(logits, y):
    """Fraction of argmax(logits) == y."""
    return jnp.mean(jnp.argmax(logits, axis=-1) == y)


def checkpoint_steps(steps: int, fractions) -> tuple[int, ...]:
    """The training steps (1..steps) after which the checkpoints at ``fractions`` of the run are taken."""
    return tuple(min(steps, max(1, int(round(f * steps)))) for f in fractions)


def save_checkpoints(saved, marks, t, p):
    """In a training scan: store ``p`` (after step t+1) into row i of ``saved`` where marks[i] == t+1."""
    hit = (t + 1) == marks
    return jax.tree_util.tree_map(
        lambda a, x: jnp.where(hit.reshape((-1,) + (1,) * x.ndim), x[None], a), saved, p
    )


def unstack(saved, n: int) -> list:
    """Rows 0..n-1 of a stacked pytree as a list of pytrees."""
    return [jax.tree_util.tree_map(lambda a, i=i: a[i], saved) for i in range(n)]


@dataclasses.dataclass(frozen=True)
class FullBatch:
    """The loss of a full-batch run: cross-entropy of ``apply`` on data["x"], data["y"] (key unused)."""

    apply: Callable

    def __call__(self, params, data, key):
        """Mean cross-entropy on the whole training set."""
        return cross_entropy(self.apply(params, data["x"]), data["y"])


@dataclasses.dataclass(frozen=True)
class Windows:
    """The training loss of a minibatch run on a text: ``batch`` random windows of data["stream"] per step."""

    apply: Callable
    batch: int
    context: int

    def __call__(self, params, data, key):
        """Mean next-token cross-entropy of the windows drawn from ``key``."""
        ids = data["stream"]
        start = jax.random.randint(key, (self.batch,), 0, ids.shape[0] - self.context - 1)
        idx = start[:, None] + jnp.arange(self.context)[None, :]
        return cross_entropy(self.apply(params, ids[idx]), ids[idx + 1].reshape(-1))


def train(
    batch_loss,
    params,
    data,
    *,
    steps: int,
    learning_rate: float = 1e-2,
    weight_decay: float = 0.0,
    checkpoints=(),
    key=None,
    warmup: int = 0,
    clip: float | None = None,
    end_fraction: float = 0.0,
):
    """AdamW in one ``lax.scan``, the one training loop of the bridge's networks: (params, losses, ckpts).

    ``batch_loss(params, data, key)`` is :class:`FullBatch` or :class:`Windows` (a fresh key per step, split
    from ``key``). The rate follows a cosine decay to ``end_fraction`` x the rate over ``steps``, after a
    linear warmup of ``warmup`` steps from 0 when ``warmup > 0``; ``clip`` clips the global gradient norm
    first. ``checkpoints``: fractions of the run after which the parameters are also returned (same run).
    Compiled once per network, shape, step count and schedule shape (data, key and rates are traced).
    """
    check_int_at_least("steps", steps, 1)
    marks = checkpoint_steps(steps, checkpoints)
    key = jax.random.PRNGKey(0) if key is None else key
    p, losses, saved = _train_jit(
        batch_loss,
        params,
        data,
        key,
        jnp.float32(learning_rate),
        jnp.float32(weight_decay),
        steps=steps,
        marks=marks,
        warmup=int(warmup),
        clip=clip,
        end_fraction=float(end_fraction),
    )
    return p, losses, unstack(saved, len(marks))


@partial(jax.jit, static_argnames=("batch_loss", "steps", "marks", "warmup", "clip", "end_fraction"))
def _train_jit(
    batch_loss, params, data, key, learning_rate, weight_decay, *, steps, marks, warmup, clip, end_fraction
):
    if warmup > 0:
        # optax's warmup_cosine_decay_schedule, written with a traced peak rate
        sched = optax.join_schedules(
            [
                optax.linear_schedule(0.0, learning_rate, warmup),
                optax.cosine_decay_schedule(learning_rate, steps - warmup, alpha=end_fraction),
            ],
            [warmup],
        )
    else:
        sched = optax.cosine_decay_schedule(learning_rate, steps, alpha=end_fraction)
    tx = optax.adamw(sched, weight_decay=weight_decay)
    if clip is not None:
        tx = optax.chain(optax.clip_by_global_norm(clip), tx)
    mk = jnp.asarray(marks or (0,), jnp.int32)

    def step(carry, xs):
        p, s, saved = carry
        t, k = xs
        loss, g = jax.value_and_grad(batch_loss)(p, data, k)
        u, s = tx.update(g, s, p)
        p = optax.apply_updates(p, u)
        return (p, s, save_checkpoints(saved, mk, t, p)), loss

    saved = jax.tree_util.tree_map(lambda a: jnp.repeat(a[None], mk.shape[0], 0), params)
    xs = (jnp.arange(steps), jax.random.split(key, steps))
    (p, _, saved), losses = jax.lax.scan(step, (params, tx.init(params), saved), xs)
    return p, losses, saved


def weight_shapes(params):
    """Shapes (out, in) of the quantized dense matrices, in order."""
    return [tuple(layer["w"].shape) for layer in params["dense"]]


def flat_weights(params):
    """w: the dense matrices of ``params`` raveled row-major and concatenated, shape (dim,)."""
    return jnp.concatenate([layer["w"].reshape(-1) for layer in params["dense"]])


def with_weights(params, w):
    """``params`` with its dense matrices replaced by the flat vector ``w`` (inverse of flat_weights)."""
    shapes = weight_shapes(params)
    sizes = [int(np.prod(s)) for s in shapes]
    if w.shape != (sum(sizes),):
        raise LandscapeError(f"w must have shape ({sum(sizes)},) (the dense weights); got {w.shape}.")
    cuts = np.cumsum(sizes)[:-1]
    parts = jnp.split(w, cuts)
    dense = [
        dict(layer, w=part.reshape(s)) for layer, part, s in zip(params["dense"], parts, shapes, strict=True)
    ]
    return dict(params, dense=dense)
