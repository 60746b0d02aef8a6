r"""Uniform grids :math:`Q(w) = o + \Delta\,\mathrm{clip}(\mathrm{round}((w-o)/\Delta), n_{\min}, n_{\max})`.

``step`` :math:`\Delta` and ``offset`` :math:`o` broadcast against the weights in the grid's layout: a scalar
(per tensor), ``(rows, 1)`` on a ``(rows, cols)`` matrix (per channel), or one entry per coordinate (per
group, expanded by :func:`per_group`). ``qmin = -inf, qmax = inf`` is the unbounded grid of the analytic
model. Ties round half to even (``jnp.round``).
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_finite, check_int_at_least, check_positive, is_concrete
from landscape._typing import ArrayLike, Scalars
from landscape.quantizers.base import Quantizer

__all__ = ["UniformGrid", "uniform_grid", "integer_grid", "per_channel", "per_group",
           "per_channel_grid", "per_group_grid", "max_exact_bits"]

#: mantissa bits (with the implicit one) per float dtype: every integer of magnitude <= 2^p is exact
MANTISSA_BITS = {jnp.dtype("float32"): 24, jnp.dtype("float64"): 53}


def max_exact_bits(signed: bool = True, dtype=None) -> int:
    """The largest b whose b-bit integer codes the dtype holds exactly (float32: 25 signed, 24 unsigned)."""
    dt = jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
    p = MANTISSA_BITS.get(dt, 24)
    return p + 1 if signed else p


def _f(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _layout(shape):
    if shape is None:
        return None
    shape = tuple(int(s) for s in shape)
    if not shape or any(s < 1 for s in shape):
        raise LandscapeError(f"shape must be a tuple of positive ints; got {shape!r}.")
    return shape


class UniformGrid(Quantizer):
    """Q(w) = offset + step * clip(round((w - offset) / step), qmin, qmax)."""

    coord_fields = ("step", "offset", "qmin", "qmax")
    step: Scalars
    offset: Scalars
    qmin: Scalars
    qmax: Scalars
    shape: tuple | None = eqx.field(default=None, static=True)
    #: compiled-in structure, set only by :meth:`specialized` from concrete values (False: the general maths)
    unbounded: bool = eqx.field(default=False, static=True, repr=False, compare=False)
    zero_offset: bool = eqx.field(default=False, static=True, repr=False, compare=False)

    def _index(self, w):
        x = w if self.zero_offset else w - self.offset
        n = jnp.round(x / self.step)
        return n if self.unbounded else jnp.clip(n, self.qmin, self.qmax)

    def _quantize(self, w):
        q = self.step * self._index(w)
        return q if self.zero_offset else self.offset + q

    def specialized(self) -> UniformGrid:
        """This grid with its statically known structure compiled in: no clip when every bound is infinite,
        no offset arithmetic when every offset is 0 (the driver calls it on concrete grids).

        The same numbers: ``w - 0 = w``, ``clip(n, -inf, inf) = n`` (NaN included), and ``0 + x = x`` up to
        the sign of a zero (``-0.0`` may stay ``-0.0``, which compares equal). A traced grid comes back as is.
        """
        leaves = (self.offset, self.qmin, self.qmax)
        if not all(is_concrete(x) for x in leaves):
            return self
        lo, hi, off = (np.asarray(x) for x in (self.qmin, self.qmax, self.offset))
        unbounded = bool(np.all(lo == -np.inf) and np.all(hi == np.inf))
        zero = bool(np.all(off == 0))
        if (unbounded, zero) == (self.unbounded, self.zero_offset):
            return self
        return dataclasses.replace(self, unbounded=unbounded, zero_offset=zero)

    def _cell(self, w):
        n = self._index(w)
        lo = jnp.where(n <= self.qmin, -jnp.inf, self.offset + self.step * (n - 0.5))
        hi = jnp.where(n >= self.qmax, jnp.inf, self.offset + self.step * (n + 0.5))
        return lo, hi

    def _neighbors(self, w):
        x = (w - self.offset) / self.step
        lo = jnp.clip(jnp.floor(x), self.qmin, self.qmax)
        hi = jnp.clip(jnp.ceil(x), self.qmin, self.qmax)
        return self.offset + self.step * lo, self.offset + self.step * hi

    def _half_width(self, w):
        return jnp.broadcast_to(0.5 * self.step, jnp.broadcast_shapes(jnp.shape(w), jnp.shape(self.step)))

    def clip_range(self):
        """[o + Delta qmin, o + Delta qmax] (infinite when unbounded)."""
        return self.offset + self.step * self.qmin, self.offset + self.step * self.qmax

    def uniform_half_steps(self, dim: int):
        """step/2 for every coordinate (dim,), in the flat order of the layout."""
        step = np.asarray(self.step, dtype=np.float64)
        if self.shape is not None and len(self.shape) > 1:
            return 0.5 * np.broadcast_to(step, self.shape).reshape(-1)
        return 0.5 * np.broadcast_to(step.reshape(-1) if step.ndim <= 1 else step, (dim,))

    def check_dim(self, dim: int, name: str = "w") -> None:
        """Raise unless step and offset broadcast to the layout (or to (dim,))."""
        super().check_dim(dim, name)
        target = self.shape if self.shape is not None and len(self.shape) > 1 else (dim,)
        for field in ("step", "offset"):
            val = getattr(self, field)
            vs = np.shape(val)
            try:
                ok = np.broadcast_shapes(vs, target) == tuple(target)
            except ValueError:
                ok = False
            if not ok or (len(target) == 1 and len(vs) == 1 and vs[0] not in (1, dim)):
                raise LandscapeError(
                    f"quantizer.{field} has shape {vs}, which does not broadcast to the weights' shape "
                    f"{tuple(target)}; need a scalar, one entry per coordinate, or a matrix layout: build a "
                    "per-channel or per-group grid with per_channel_grid(steps, (rows, cols), axis=...) or "
                    "per_group_grid(steps, (rows, cols), group_size), or pass shape=(rows, cols)."
                )

    @property
    def bounded(self) -> bool:
        """Whether the grid clips (a finite integer range)."""
        return bool(np.isfinite(np.asarray(self.qmin)).any() or np.isfinite(np.asarray(self.qmax)).any())

    @property
    def bits(self):
        """ceil(log2(number of codes)) of a bounded grid, None if unbounded."""
        if not self.bounded:
            return None
        n = float(np.max(np.asarray(self.qmax) - np.asarray(self.qmin))) + 1
        return int(math.ceil(math.log2(n)))

    def __repr__(self):
        def arr(a):
            a = np.asarray(a)
            return f"{float(a):g}" if a.ndim == 0 else f"{a.dtype}{list(a.shape)}"
        rng = "unbounded" if not self.bounded else f"codes [{arr(self.qmin)}, {arr(self.qmax)}]"
        lay = "" if self.shape is None else f", shape={self.shape}"
        return f"UniformGrid(step={arr(self.step)}, offset={arr(self.offset)}, {rng}{lay})"


def uniform_grid(step: ArrayLike, offset: ArrayLike = 0.0, *, shape: tuple | None = None) -> UniformGrid:
    """Unbounded uniform grid offset + step * Z (the analytic model's quantizer)."""
    check_positive("step", step)
    check_finite("offset", offset)
    return UniformGrid(_f(step), _f(offset), _f(-jnp.inf), _f(jnp.inf), _layout(shape))


def _check_bits(bits: int, signed: bool) -> None:
    check_int_at_least("bits", bits, 1)
    dt = jnp.dtype(jnp.result_type(float))
    top = max_exact_bits(signed)
    if bits > top:
        kind = "signed" if signed else "unsigned"
        raise LandscapeError(
            f"bits must lie in [{2 if signed else 1}, {top}] for a {kind} grid in {dt}; got {bits}: its "
            f"integer codes would exceed 2^{MANTISSA_BITS.get(dt, 24)}, beyond which {dt} cannot hold every "
            "integer. "
            "Enable float64 (jax.config.update('jax_enable_x64', True)) for wider grids."
        )


def integer_grid(
    bits: int, step: ArrayLike, *, signed: bool = True, offset: ArrayLike = 0.0, shape: tuple | None = None
) -> UniformGrid:
    """b-bit integer grid: codes in [-2^(b-1), 2^(b-1) - 1] (signed) or [0, 2^b - 1].

    The codes must be exact floats: ``bits`` <= 25 signed / 24 unsigned in float32 (54 / 53 in float64).
    """
    _check_bits(bits, signed)
    check_positive("step", step)
    check_finite("offset", offset)
    if signed:
        if bits < 2:
            raise LandscapeError(
                "bits must be >= 2 for a signed integer grid; got 1 (use binary() for 1 bit)."
            )
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        lo, hi = 0, 2**bits - 1
    return UniformGrid(_f(step), _f(offset), _f(lo), _f(hi), _layout(shape))


def per_channel(steps, axis: int, ndim: int):
    """Reshape per-channel steps (c,) to broadcast along ``axis`` of an ndim-array."""
    steps = np.asarray(steps, dtype=np.float64)
    check_positive("steps", steps)
    if steps.ndim != 1:
        raise LandscapeError(f"steps must be 1-D (one per channel); got shape {steps.shape}.")
    if not -ndim <= axis < ndim:
        raise LandscapeError(f"axis must lie in [{-ndim}, {ndim - 1}]; got {axis}.")
    shape = [1] * ndim
    shape[axis] = steps.shape[0]
    return _f(steps.reshape(shape))


def per_group(steps, group_size: int, dim: int):
    """Expand per-group steps (g,) to one step per coordinate of a length-``dim`` vector."""
    steps = np.asarray(steps, dtype=np.float64)
    check_positive("steps", steps)
    check_int_at_least("group_size", group_size, 1)
    if steps.ndim != 1 or steps.shape[0] * group_size != dim:
        raise LandscapeError(
            f"per_group needs len(steps) * group_size == dim; got {steps.shape} * {group_size} != {dim}."
        )
    return _f(np.repeat(steps, group_size))


def per_channel_grid(
    steps, shape, *, axis: int = 0, bits: int | None = None, signed: bool = True
) -> UniformGrid:
    """A per-channel grid on a weight matrix of ``shape``: one step per index of ``axis``.

    ``bits`` None gives the unbounded grid; an int gives the b-bit integer grid. ``run``, every PTQ
    method, ``delta_perp`` and ``flip_size`` take the flat weights (d = prod(shape),) or (..., *shape).
    """
    shape = _layout(shape)
    steps = np.asarray(steps, dtype=np.float64)
    if steps.ndim != 1 or steps.shape[0] != shape[axis]:
        raise LandscapeError(
            f"steps must have one entry per channel along axis {axis} of shape {shape} ({shape[axis]}); "
            f"got shape {steps.shape}."
        )
    step = per_channel(steps, axis, len(shape))
    if bits is None:
        return uniform_grid(step, shape=shape)
    return integer_grid(bits, step, signed=signed, shape=shape)


def per_group_grid(
    steps, shape, group_size: int, *, bits: int | None = None, signed: bool = True
) -> UniformGrid:
    """A per-group grid on a weight matrix of ``shape``: groups of ``group_size`` along each row.

    ``steps`` has shape (rows, cols // group_size).
    """
    shape = _layout(shape)
    check_int_at_least("group_size", group_size, 1)
    rows, cols = shape[0], math.prod(shape[1:])
    steps = np.asarray(steps, dtype=np.float64)
    if cols % group_size or steps.shape != (rows, cols // group_size):
        raise LandscapeError(
            f"steps must have shape (rows, cols // group_size) = ({rows}, {cols // max(group_size, 1)}) for "
            f"shape {shape} and group_size {group_size} (which must divide {cols}); got {steps.shape}."
        )
    check_positive("steps", steps)
    step = _f(np.repeat(steps, group_size, axis=1).reshape(shape))
    if bits is None:
        return uniform_grid(step, shape=shape)
    return integer_grid(bits, step, signed=signed, shape=shape)
