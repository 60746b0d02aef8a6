r"""Per-channel integer quantization of a network's dense weights: RTN and GPTQ points.

Every dense matrix :math:`W \in \mathbb{R}^{\text{rows}\times\text{in}}` gets one step per
output channel (row), from its absolute maximum (symmetric signed INT-b):

.. math::  \Delta_r = \max_j |W_{rj}| \,/\, (2^{b-1} - 1),\qquad
           Q(W)_{rj} = \Delta_r\,\mathrm{clip}(\mathrm{round}(W_{rj}/\Delta_r), -2^{b-1}, 2^{b-1}-1).

(For b = 2 the codes are {-2, -1, 0, 1}; the absmax maps to code +-1.) On the flat vector
``w`` of :mod:`landscape.models.nets` this is one :class:`~landscape.quantizers.UniformGrid`
whose step has one entry per coordinate (:func:`weight_quantizer`).

* :func:`rtn_point` -- :math:`q = Q(w^*)`.
* :func:`gptq_point` -- GPTQ (``landscape.ptq.gptq``) layer by layer with each layer's
  calibration Hessian :math:`H_l = X_l^\top X_l / n` (inputs of the full-precision network
  on the calibration set), same per-row grid.
* :func:`grid_geometry` -- how the grid looks from the sharp directions: per direction
  :math:`\sigma_i = (\sum_j N_{ij}^2 \Delta_j^2 / 12)^{1/2}`, the RMS sharp offset of a
  rounding error uniform on the cell, and the largest single flip
  :math:`\max_j \Delta_j |N_{ij}|`.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from landscape._checks import LandscapeError
from landscape.models.nets import flat_weights
from landscape.quantizers import integer_grid

__all__ = ["ALLOWED_BITS", "check_bits", "channel_steps", "weight_quantizer", "rtn_point",
           "gptq_available", "gptq_point", "grid_geometry"]

ALLOWED_BITS = (2, 3, 4, 5, 6, 7, 8)


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


def channel_steps(weight, bits: int):
    """Delta_r = absmax of row r / (2^(b-1) - 1), shape (rows, 1) (tiny floor for an all-zero row)."""
    check_bits([bits])
    absmax = jnp.max(jnp.abs(weight), axis=1, keepdims=True)
    return jnp.maximum(absmax, 1e-12) / (2 ** (bits - 1) - 1)


def weight_quantizer(params, bits: int):
    """The per-channel INT-b grid on the flat dense weights w: a UniformGrid with step (dim,)."""
    steps = [jnp.broadcast_to(channel_steps(layer["w"], bits), layer["w"].shape).reshape(-1)
             for layer in params["dense"]]
    return integer_grid(bits, np.asarray(jnp.concatenate(steps)))


def rtn_point(params, bits: int):
    """q = Q(w*): round-to-nearest of every weight on its row's grid (flat vector)."""
    return weight_quantizer(params, bits).quantize(flat_weights(params))


def _gptq_fn():
    """``landscape.ptq.gptq`` (imported lazily; the function, also while ``ptq`` has no __init__)."""
    import importlib
    import types

    fn = importlib.import_module("landscape.ptq").__dict__.get("gptq")
    if fn is None or isinstance(fn, types.ModuleType):
        fn = importlib.import_module("landscape.ptq.gptq").gptq
    return fn


def gptq_available() -> bool:
    """Whether ``landscape.ptq.gptq`` exists in this checkout."""
    try:
        _gptq_fn()
    except (ImportError, AttributeError):
        return False
    return True


def _as_point(result):
    for name in ("q", "w_q", "quantized"):
        if hasattr(result, name):
            return getattr(result, name)
    return result


def gptq_point(task, bits: int, n_calib: int | None = None, damp: float = 0.01, block_size: int = 128):
    """GPTQ on every dense layer with H_l = X_l^T X_l / n (first ``n_calib`` training inputs); flat q."""
    gptq = _gptq_fn()
    x = task.data.x_train if n_calib is None else task.data.x_train[:n_calib]
    inputs = task.layer_inputs(task.params, x)
    parts = []
    for layer, xl in zip(task.params["dense"], inputs, strict=False):
        xl = jnp.asarray(xl, jnp.float32)
        h = xl.T @ xl / xl.shape[0]
        quantizer = integer_grid(bits, np.asarray(channel_steps(layer["w"], bits)))
        q = jnp.asarray(_as_point(gptq(h, quantizer, layer["w"], block_size=block_size, damp=damp)))
        if q.shape != layer["w"].shape:
            raise LandscapeError(f"gptq returned shape {q.shape}; expected {layer['w'].shape}.")
        parts.append(q.reshape(-1))
    return jnp.concatenate(parts)


def grid_geometry(normals, step):
    """(sigma_i, max_j Delta_j |N_ij|) (k,): RMS sharp offset of uniform rounding noise; largest flip."""
    n = np.asarray(normals, np.float64)
    s = np.broadcast_to(np.asarray(step, np.float64).reshape(-1), (n.shape[1],))
    sigma = np.sqrt(np.sum(n**2 * s[None, :] ** 2, axis=1) / 12.0)
    return sigma, np.max(np.abs(n) * s[None, :], axis=1)
