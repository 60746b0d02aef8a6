r"""The quantizer interface: every quantizer is an equinox Module with the same methods, whatever its grid.

A quantizer acts on flat parameter vectors ``w`` of length ``d`` (the landscape's coordinates) or on
batches ``(..., d)``. A quantizer built for a weight *matrix* carries its ``shape`` (e.g. ``(rows, cols)``)
and reshapes ``(..., d)`` to ``(..., rows, cols)`` internally, so that per-channel steps ``(rows, 1)`` or
per-group steps broadcast against the matrix; everything it returns is flat again. Subclasses
implement the element-wise maths on arrays in the weight layout (``_index``, ``_quantize``, ``_cell``,
``_neighbors``, ``_half_width``) and :meth:`clip_range`; the public methods add the reshaping.
"""

import dataclasses
import math
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError
from landscape._typing import Value

__all__ = ["Quantizer"]


class Quantizer(Value):
    """Base of every quantizer: Q, its cells, its neighbours, its local spacing and its clip range.

    Numbers (steps, offsets, code bounds, scales) are leaves, so ``jax.vmap`` over a grid step builds a batch
    of grids; the layout ``shape`` is static (``eqx.field(static=True)``).
    """

    shape: eqx.AbstractVar[tuple | None]  # the weight layout (None: flat vectors)
    #: the leaves that hold one value per coordinate (broadcast, indexed and vmapped per coordinate)
    coord_fields: ClassVar[tuple] = ()

    # -- per-coordinate views (used by the PTQ methods) --------------------------------------------
    def broadcast_to(self, shape):
        """The quantizer with every per-coordinate leaf broadcast to ``shape`` (e.g. w*'s (rows, d))."""
        shape = tuple(shape)
        try:
            return dataclasses.replace(
                self, **{f: jnp.broadcast_to(getattr(self, f), shape) for f in self.coord_fields}
            )
        except ValueError:
            raise LandscapeError(
                f"the quantizer's {'/'.join(self.coord_fields)} does not broadcast to shape {shape}; use "
                "shape (), (d,), or (rows, 1) / (rows, d) for a 2-D w."
            ) from None

    def as_flat(self, dim: int | None = None):
        """An equivalent quantizer on flat vectors: per-coordinate leaves of shape (d,), no layout."""
        if self.shape is None or len(self.shape) <= 1:
            return self
        shp = tuple(self.shape)
        return dataclasses.replace(
            self,
            shape=None,
            **{f: jnp.broadcast_to(getattr(self, f), shp).reshape(-1) for f in self.coord_fields},
        )

    def take(self, idx, axis: int = -1):
        """The quantizer of index ``idx`` (may be traced) along ``axis`` of a broadcast quantizer."""
        take = lambda x: jax.lax.dynamic_index_in_dim(x, idx, axis=axis, keepdims=False)  # noqa: E731
        return dataclasses.replace(self, **{f: take(getattr(self, f)) for f in self.coord_fields})

    def coord_axes(self, axis=0):
        """vmap ``in_axes`` mapping the per-coordinate leaves along ``axis`` and nothing else."""
        fields = {
            f.name: (axis if f.name in self.coord_fields else None)
            for f in dataclasses.fields(self)
            if not f.metadata.get("static", False)
        }
        return dataclasses.replace(self, **fields)

    # -- layout ------------------------------------------------------------------------------
    def reshape_apply(self, fn, w, *more):
        """fn applied in the weight layout: (..., d) -> (..., *shape) -> fn -> back to (..., d)."""
        shp = self.shape
        if shp is None or len(shp) <= 1:
            return fn(w, *more)
        w = jnp.asarray(w)
        size = math.prod(shp)
        if w.shape[-len(shp) :] == tuple(shp):  # already in the weight layout
            return fn(w, *more)
        if w.shape[-1] != size:
            raise LandscapeError(
                f"w has shape {w.shape}, but the quantizer is laid out as {tuple(shp)} ({size} weights): "
                f"the last axis must be {size}."
            )
        lead = w.shape[:-1]
        out = fn(w.reshape(*lead, *shp), *(jnp.asarray(m).reshape(*lead, *shp) for m in more))
        if isinstance(out, tuple):
            return tuple(o.reshape(*lead, size) for o in out)
        return out.reshape(*lead, size)

    @property
    def size(self) -> int | None:
        """Number of weights the layout holds (None for flat quantizers, which take any length)."""
        return None if self.shape is None else math.prod(self.shape)

    # -- the public maps (flat in, flat out) -----------------------------------------------
    def index(self, w):
        """The integer code (or level index) of Q(w)."""
        return self.reshape_apply(self._index, w)

    def quantize(self, w):
        """Q(w), the deployed grid point."""
        return self.reshape_apply(self._quantize, w)

    def residual(self, w):
        """Q(w) - w, the rounding error."""
        return self.quantize(w) - w

    def cell(self, w):
        """(lo, hi): the bounds of the rounding cell {w' : Q(w') = Q(w)} (inf where unbounded)."""
        return self.reshape_apply(self._cell, w)

    def neighbors(self, w):
        """(down, up): the grid points bracketing w (equal on a grid point)."""
        return self.reshape_apply(self._neighbors, w)

    def half_width(self, w):
        """h(w): half the local spacing of the grid at w (step/2 on a uniform grid)."""
        return self.reshape_apply(self._half_width, w)

    def corners(self, w):
        """(down, up) of w's cell corners: every corner picks down_j or up_j per coordinate."""
        return self.neighbors(w)

    def clip_range(self):  # pragma: no cover - abstract
        """(lo, hi): the representable range (infinite for an unbounded grid), in the grid's layout."""
        raise NotImplementedError

    def in_range(self, w, lo=None, hi=None):
        """1[lo_j <= w_j <= hi_j] per coordinate (flat in, flat out); lo, hi default to :meth:`clip_range`.

        The bounds broadcast in the weight layout (per channel, per group), so a rule that masks its
        gradient by the range works on every layout.
        """
        if lo is None or hi is None:
            lo, hi = self.clip_range()
        return self.reshape_apply(lambda x: (x >= lo) & (x <= hi), w)

    def residual_box(self, dim: int, w=None):
        """(a, b) bounds of e = Q(w') - w' over w's cell, as float64 arrays (dim,).

        A uniform grid needs no ``w`` (the box is [-step/2, step/2] away from clipping); a codebook does.
        """
        if w is None:
            h = self.uniform_half_steps(dim)
            if h is None:
                raise LandscapeError(f"a {type(self).__name__}'s cell depends on w: pass w=.")
            return -h, h
        w = jnp.asarray(w)
        lo, hi = self.cell(w)
        q = self.quantize(w)
        return np.asarray(q - hi, np.float64).reshape(-1), np.asarray(q - lo, np.float64).reshape(-1)

    def uniform_half_steps(self, dim: int):
        """Half the step of every coordinate (dim,) when it does not depend on w, else None."""
        return None

    def local_steps(self, dim: int, w=None):
        """Delta_j, the local grid spacing per coordinate (dim,) (at w when it depends on w)."""
        h = self.uniform_half_steps(dim) if w is None else None
        if h is None:
            if w is None:
                raise LandscapeError(f"a {type(self).__name__}'s spacing depends on w: pass w=.")
            h = np.asarray(self.half_width(jnp.asarray(w)), np.float64).reshape(-1)
        return 2.0 * h

    def check_dim(self, dim: int, name: str = "w") -> None:
        """Raise unless the quantizer's layout (and its step/offset/scale arrays) fit dim weights."""
        if self.size is not None and self.size != dim:
            raise LandscapeError(
                f"the quantizer is laid out as {tuple(self.shape)} ({self.size} weights), but {name} has "
                f"{dim} coordinates."
            )
