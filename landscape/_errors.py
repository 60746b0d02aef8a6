"""Input validation shared by the public constructors: clear errors before tracing."""

from __future__ import annotations

import numbers

import jax
import numpy as np
from jax.core import Tracer


class LandscapeError(ValueError):
    """A bad argument: the message names it, its value and the allowed range."""


def is_concrete(x) -> bool:
    """True when ``x`` holds concrete numbers that can be checked: not a JAX tracer, nor one of the
    placeholder leaves JAX passes through pytree constructors (``jit(...).lower``, ``tree_map`` with None)."""
    if isinstance(x, Tracer):
        return False
    if isinstance(x, (numbers.Number, np.ndarray, np.generic, jax.Array)):
        return True
    if isinstance(x, (list, tuple)):
        return all(is_concrete(v) for v in x)
    return False


def _short(value) -> str:
    arr = np.asarray(value)
    if arr.size <= 6:
        return np.array2string(arr, precision=4) if arr.ndim else repr(arr.item())
    return f"array of shape {arr.shape} (min {np.nanmin(arr):.4g}, max {np.nanmax(arr):.4g})"


def check_finite(name: str, value) -> None:
    """Raise if ``value`` holds NaN or inf (skipped under tracing)."""
    if value is None or not is_concrete(value):
        return
    arr = np.asarray(value)
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise LandscapeError(
            f"{name} must be finite; it holds {bad} NaN/inf value(s) "
            f"(shape {arr.shape}). Allowed: finite real numbers."
        )


def check_positive(name: str, value, *, allow_zero: bool = False) -> None:
    """Raise unless every entry of ``value`` is > 0 (or >= 0)."""
    if value is None or not is_concrete(value):
        return
    check_finite(name, value)
    arr = np.asarray(value)
    ok = np.all(arr >= 0) if allow_zero else np.all(arr > 0)
    if not ok:
        rng = "[0, inf)" if allow_zero else "(0, inf)"
        raise LandscapeError(f"{name} must lie in {rng}; got {_short(arr)}.")


def check_int_at_least(name: str, value, low: int) -> None:
    """Raise unless ``value`` is an integer >= ``low``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise LandscapeError(f"{name} must be an integer >= {low}; got {value!r}.")
    if value < low:
        raise LandscapeError(f"{name} must be an integer >= {low}; got {value}.")


def check_shape(name: str, value, shape: tuple) -> None:
    """Raise unless ``value.shape == shape`` (``None`` entries match anything)."""
    got = tuple(np.shape(value))
    if len(got) != len(shape) or any(s is not None and s != g for s, g in zip(shape, got, strict=True)):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise LandscapeError(f"{name} must have shape {want}; got shape {got}.")


def check_point(name: str, value, dim: int) -> None:
    """Raise unless ``value`` is a point of R^dim or a batch of them: shape ``(dim,)`` or ``(..., dim)``.

    A check of the static shape: free under ``jit`` and ``vmap`` (it runs once, at trace time).
    """
    got = tuple(np.shape(value))
    if not got or got[-1] != dim:
        raise LandscapeError(
            f"{name} must have shape ({dim},) or (..., {dim}) (this landscape has d = {dim}); "
            f"got shape {got}."
        )


def check_orthonormal_rows(name: str, value, *, atol: float = 1e-4) -> None:
    """Raise unless the rows of the 2-D array ``value`` are orthonormal: ``N N^T = I``."""
    if not is_concrete(value):
        return
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2:
        raise LandscapeError(f"{name} must be a 2-D array (k x d); got shape {arr.shape}.")
    k, d = arr.shape
    if k < 1 or k > d:
        raise LandscapeError(f"{name} must have 1 <= k <= d rows; got shape {arr.shape}.")
    check_finite(name, arr)
    err = float(np.max(np.abs(arr @ arr.T - np.eye(k))))
    if err > atol:
        raise LandscapeError(
            f"{name} must have orthonormal rows (N N^T = I within {atol:g}); "
            f"max |N N^T - I| = {err:.3g}. Orthonormalise it, e.g. with a QR decomposition."
        )
