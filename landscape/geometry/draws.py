"""Gaussian matrices for the random constructors, drawn so that a new shape rarely compiles a new program.

``jax.random.normal(key, (d, k + 1))`` is a new XLA program for every (d, k): 0.1-0.4 s each on the CPU, paid
by every process and by every cold test run (hundreds of shapes in a property-based run). Under JAX's
partitionable threefry (its default) element i of a draw depends only on the key and i, so the same values
are the first d (k + 1) of a flat draw of any larger length: :func:`normal_matrix` draws a flat vector of
power-of-two length and keeps that prefix (the same numbers, one program per length class).
"""

from __future__ import annotations

import math

import jax
import numpy as np

from landscape._errors import is_concrete

__all__ = ["MIN_DRAW", "normal_matrix", "prefix_stable"]

#: the shortest flat draw: lengths round up to a power of two from here
MIN_DRAW = 256


def prefix_stable(key) -> bool:
    """Whether a draw from ``key`` is the prefix of every longer flat draw (partitionable threefry)."""
    if not jax.config.jax_threefry_partitionable or not is_concrete(key):
        return False
    try:
        impl = str(jax.random.key_impl(key))
    except (TypeError, ValueError):  # pragma: no cover - a key this JAX cannot name
        return False
    return "threefry" in impl


def normal_matrix(key, shape: tuple[int, ...], dtype=None):
    """``jax.random.normal(key, shape, dtype)`` (a NumPy array for a concrete key): the prefix of a flat
    power-of-two draw where that gives the same values (:func:`prefix_stable`), else drawn in its own shape
    (a traced key: inside the caller's jit or vmap)."""
    dtype = jax.dtypes.canonicalize_dtype(float if dtype is None else dtype)
    if not is_concrete(key):
        return jax.random.normal(key, shape, dtype)
    size = math.prod(shape)
    if size == 0 or not prefix_stable(key):
        return np.asarray(jax.random.normal(key, shape, dtype))
    n = max(MIN_DRAW, 1 << (size - 1).bit_length())
    return np.asarray(jax.random.normal(key, (n,), dtype))[:size].reshape(shape)
