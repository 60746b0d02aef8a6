r"""Per-channel integer grids on a network's dense weights, and the RTN and GPTQ points on them.

Every dense matrix :math:`W \in \mathbb{R}^{\text{rows}\times\text{in}}` gets one step per output
channel (row); the codes are signed INT-b, :math:`\{-2^{b-1}, \dots, 2^{b-1}-1\}`:

.. math::  Q(W)_{rj} = \Delta_r\,\mathrm{clip}(\mathrm{round}(W_{rj}/\Delta_r), -2^{b-1}, 2^{b-1}-1).

Two grids (:data:`GRIDS`):

* ``absmax`` -- :math:`\Delta_r = \max_j |W_{rj}| / (2^{b-1}-1)` (the row's largest weight is exact; at
  2 bits most weights round to 0: the strawman grid of issue 14);
* ``clip`` -- :math:`\Delta_r = \alpha_r \max_j |W_{rj}| / (2^{b-1}-1)` with :math:`\alpha_r` among
  ``CLIP_ALPHAS`` minimising the row's weight error :math:`\sum_j (W_{rj} - Q(W)_{rj})^2` (the
  clip-optimised, MSE grid).

On the flat vector ``w`` of :mod:`landscape.models.nets` a grid is one
:class:`~landscape.quantizers.UniformGrid` with a step per coordinate (:func:`weight_quantizer`).

* :func:`rtn_point` -- :math:`q = Q(w^*)`;
* :func:`gptq_point` -- GPTQ (``landscape.ptq.gptq``, damp 0.01) layer by layer in network order, each
  layer calibrated on the activations that reach it **through the already quantized layers before it**:
  :math:`H_l = X_l^\top X_l / n` with :math:`X_l` the inputs of layer l in the network whose layers
  :math:`1..l-1` hold their GPTQ points (the sequential calibration of the GPTQ paper).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError
from landscape.models.nets import flat_weights
from landscape.quantizers import integer_grid

__all__ = [
    "ALLOWED_BITS",
    "GRIDS",
    "METHODS",
    "CLIP_ALPHAS",
    "check_bits",
    "check_grid",
    "channel_steps",
    "weight_quantizer",
    "rtn_point",
    "gptq_point",
    "ptq_point",
]

ALLOWED_BITS = (2, 3, 4, 5, 6, 7, 8)
GRIDS = ("absmax", "clip")
METHODS = ("rtn", "gptq")
#: clip fractions searched by the clip-optimised grid
CLIP_ALPHAS = tuple(np.round(np.linspace(0.1, 1.0, 46), 4).tolist())


def check_bits(bits) -> tuple[int, ...]:
    """Validate a bit-width list: each in ALLOWED_BITS; returns them sorted descending, deduplicated."""
    try:
        vals = [int(b) for b in bits]
    except (TypeError, ValueError):
        raise LandscapeError(f"bits must be integers in {ALLOWED_BITS}; got {bits!r}.") from None
    if not vals:
        raise LandscapeError(f"bits must name at least one bit width in {ALLOWED_BITS}.")
    bad = [b for b in vals if b not in ALLOWED_BITS]
    if bad:
        raise LandscapeError(f"bits must lie in {ALLOWED_BITS} (per-channel signed INT-b); got {bad}.")
    return tuple(sorted(set(vals), reverse=True))


def check_grid(grid: str) -> str:
    """Validate a grid name (one of GRIDS)."""
    if grid not in GRIDS:
        raise LandscapeError(f"grid must be one of {GRIDS}; got {grid!r}.")
    return grid


def _round(w, step, bits):
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return step * jnp.clip(jnp.round(w / step), lo, hi)


def channel_steps(weight, bits: int, grid: str = "absmax"):
    """Delta_r (rows, 1) of the ``absmax`` or MSE-``clip`` grid (tiny floor for an all-zero row)."""
    check_bits([bits])
    check_grid(grid)
    return _steps(jnp.asarray(weight), int(bits), grid)


@functools.partial(jax.jit, static_argnames=("bits", "grid"))
def _steps(weight, bits, grid):
    absmax = jnp.maximum(jnp.max(jnp.abs(weight), axis=1, keepdims=True), 1e-12)
    base = absmax / (2 ** (bits - 1) - 1)
    if grid == "absmax":
        return base
    alphas = jnp.asarray(CLIP_ALPHAS, weight.dtype)
    steps = base[None] * alphas[:, None, None]  # (A, rows, 1)
    err = jnp.sum((weight[None] - _round(weight[None], steps, bits)) ** 2, axis=-1)  # (A, rows)
    best = jnp.argmin(err, axis=0)  # first minimiser: ties go to the smaller clip
    return base * alphas[best][:, None]


def weight_quantizer(params, bits: int, grid: str = "absmax"):
    """The per-channel INT-b grid on the flat dense weights w: a UniformGrid with step (dim,)."""
    steps = [
        jnp.broadcast_to(channel_steps(layer["w"], bits, grid), layer["w"].shape).reshape(-1)
        for layer in params["dense"]
    ]
    return integer_grid(bits, np.asarray(jnp.concatenate(steps)))


def rtn_point(params, bits: int, grid: str = "absmax"):
    """q = Q(w*): round-to-nearest of every weight on its row's grid (flat vector)."""
    return weight_quantizer(params, bits, grid).quantize(flat_weights(params))


@functools.lru_cache(maxsize=16)
def _jitted(fn):
    """One jitted wrapper per function (so repeated GPTQ calls reuse its compilation)."""
    return jax.jit(fn)


def _gptq_fn():
    from landscape.ptq.gptq import gptq

    return gptq


def gptq_point(
    task,
    bits: int,
    grid: str = "absmax",
    n_calib: int | None = None,
    damp: float = 0.01,
    block_size: int = 128,
    params=None,
):
    """GPTQ layer by layer, each layer calibrated through the quantized layers before it; flat q.

    ``params``: the network to quantize (default ``task.params``; e.g. an early checkpoint).
    """
    gptq = _gptq_fn()
    params = task.params if params is None else params
    x = task.data.x_train if n_calib is None else task.data.x_train[:n_calib]
    current = params
    inputs_fn = _jitted(task.layer_inputs)
    parts = []
    for i, layer in enumerate(params["dense"]):
        xl = jnp.asarray(inputs_fn(current, x)[i], jnp.float32)
        h = xl.T @ xl / xl.shape[0]
        quantizer = integer_grid(bits, np.asarray(channel_steps(layer["w"], bits, grid)))
        q = jnp.asarray(gptq(h, quantizer, layer["w"], block_size=block_size, damp=damp))
        if q.shape != layer["w"].shape:
            raise LandscapeError(f"gptq returned shape {q.shape}; expected {layer['w'].shape}.")
        parts.append(q.reshape(-1))
        dense = list(current["dense"])
        dense[i] = dict(dense[i], w=q)
        current = dict(current, dense=dense)
    return jnp.concatenate(parts)


def ptq_point(task, bits: int, grid: str, method: str, params=None, n_calib: int | None = None):
    """The PTQ point of ``method`` ("rtn" or "gptq") on ``grid`` for ``params`` (default the trained w*)."""
    if method not in METHODS:
        raise LandscapeError(f"method must be one of {METHODS}; got {method!r}.")
    params = task.params if params is None else params
    if method == "rtn":
        return rtn_point(params, bits, grid)
    return gptq_point(task, bits, grid, n_calib=n_calib, params=params)
