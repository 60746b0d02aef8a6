"""The cartesian grid of a sweep: axes, groups of cases sharing static structure, and chunks.

Axes are ordered static first (those that change the compiled program: rule and optimizer names,
``num_steps``, the PTQ method, shapes such as ``dim`` and ``k``; found by building the parts, see
:mod:`landscape.sweep.engine`), then dynamic (numbers that are traced leaves of the parts: ``theta``,
``basin_radius``, ``step``, ``learning_rate``, ..., then ``seed`` and ``start``). Cases are
numbered in C order over all axes, so each **group** (one combination of static values)
is a contiguous block of case numbers, cut into **chunks** of at most ``chunk_size``
cases (when a single cell -- one value of every axis but ``seed`` and ``start`` -- holds more, a
chunk holds part of a cell's starts).

A chunk is a rectangular block of the result: whole trailing axes (``start``, ``seed``, then the last
parameter axes, as many as fit) and a run of ``block_len`` values of one axis (:attr:`Grid.block_axis`),
one value of every axis before it. So it is a contiguous range of case numbers, a region of every output
array, and one chunk of the Zarr store (:attr:`Grid.zarr_chunks`): the unit of computation (a Dask task),
of storage and of resumption. The chunk layout depends only on the config, never on the cluster.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from landscape.sweep.axes import Axis

__all__ = ["Grid", "Chunk", "make_grid"]


@dataclasses.dataclass(frozen=True)
class Chunk:
    """Chunk ``index`` holds cases [start, stop) (global numbers), all in group ``group``."""

    index: int
    group: int
    start: int
    stop: int

    @property
    def size(self) -> int:
        """Number of cases in the chunk."""
        return self.stop - self.start


@dataclasses.dataclass(frozen=True)
class Grid:
    """Axes (name -> Axis) in case order, with the chunk layout."""

    axes: dict[str, Axis]
    chunk_size: int
    static: tuple = ()

    @property
    def static_names(self) -> tuple[str, ...]:
        """Axes that change the compiled program (one jit per combination)."""
        return tuple(n for n in self.axes if n in self.static)

    @property
    def dynamic_names(self) -> tuple[str, ...]:
        """Axes passed as arrays to one compiled program."""
        return tuple(n for n in self.axes if n not in self.static)

    @property
    def shape(self) -> tuple[int, ...]:
        """Lengths of all axes in case order."""
        return tuple(len(a) for a in self.axes.values())

    @property
    def group_shape(self) -> tuple[int, ...]:
        """Lengths of the static axes."""
        return tuple(len(self.axes[n]) for n in self.static_names)

    @property
    def dynamic_shape(self) -> tuple[int, ...]:
        """Lengths of the dynamic axes."""
        return tuple(len(self.axes[n]) for n in self.dynamic_names)

    @property
    def n_groups(self) -> int:
        """Number of static combinations."""
        return math.prod(self.group_shape)

    @property
    def group_size(self) -> int:
        """Cases per group."""
        return math.prod(self.dynamic_shape)

    @property
    def n_cases(self) -> int:
        """Total number of cases."""
        return self.n_groups * self.group_size

    @property
    def dims(self) -> tuple[str, ...]:
        """Names of the result's dimensions: the swept axes (seed and start always)."""
        return tuple(n for n, a in self.axes.items() if a.swept)

    @property
    def block_axis(self) -> int:
        """Index (into :attr:`axes`) of the axis a chunk takes a run of values of; every later axis whole."""
        lens = self.shape
        n_static = len(self.static_names)
        for j in range(n_static, len(lens)):
            if math.prod(lens[j + 1:]) <= self.chunk_size:
                return j
        return len(lens) - 1  # pragma: no cover - the product of no axes is 1

    @property
    def block_len(self) -> int:
        """How many values of the block axis one chunk takes."""
        lens, j = self.shape, self.block_axis
        return max(1, min(lens[j], self.chunk_size // math.prod(lens[j + 1:])))

    @property
    def _blocks(self) -> int:
        return -(-self.shape[self.block_axis] // self.block_len)

    @property
    def chunks_per_group(self) -> int:
        """Chunks in each group."""
        return self.n_chunks // self.n_groups

    @property
    def n_chunks(self) -> int:
        """Total number of chunks."""
        return math.prod(self.shape[: self.block_axis]) * self._blocks

    def chunk(self, index: int) -> Chunk:
        """The chunk with this index."""
        if not 0 <= index < self.n_chunks:
            raise IndexError(f"chunk index must lie in [0, {self.n_chunks - 1}]; got {index}.")
        lens, j, m = self.shape, self.block_axis, self.block_len
        outer, b = divmod(index, self._blocks)
        inner = math.prod(lens[j + 1:])
        lo = (outer * lens[j] + b * m) * inner
        hi = (outer * lens[j] + min((b + 1) * m, lens[j])) * inner
        return Chunk(index, lo // self.group_size, lo, hi)

    def region(self, chunk: Chunk) -> dict[str, slice]:
        """The chunk as a region of the result: dimension name -> slice (the swept axes only)."""
        lens, j = self.shape, self.block_axis
        first = np.unravel_index(chunk.start, lens)
        out = {}
        for i, (n, a) in enumerate(self.axes.items()):
            if not a.swept:
                continue
            if i < j:
                out[n] = slice(int(first[i]), int(first[i]) + 1)
            elif i == j:
                stop = int(first[i]) + chunk.size // math.prod(lens[j + 1:])
                out[n] = slice(int(first[i]), stop)
            else:
                out[n] = slice(0, lens[i])
        return out

    @property
    def zarr_chunks(self) -> dict[str, int]:
        """Chunk shape of the result's arrays: one chunk of the grid per chunk of the store."""
        j = self.block_axis
        return {n: (1 if i < j else self.block_len if i == j else len(a))
                for i, (n, a) in enumerate(self.axes.items()) if a.swept}

    def group_static(self, group: int) -> dict:
        """The static values of a group: name -> value."""
        idx = np.unravel_index(group, self.group_shape) if self.group_shape else ()
        return {n: self.axes[n].values[int(i)] for n, i in zip(self.static_names, idx, strict=True)}

    def case_indices(self, chunk: Chunk) -> dict[str, np.ndarray]:
        """Per case of the chunk, its index along each dynamic axis (int32 arrays)."""
        local = np.arange(chunk.start, chunk.stop, dtype=np.int64) - chunk.group * self.group_size
        idx = np.unravel_index(local, self.dynamic_shape)
        return {n: i.astype(np.int32) for n, i in zip(self.dynamic_names, idx, strict=True)}

    def coords(self) -> dict[str, np.ndarray]:
        """Coordinate values of every axis (swept ones become dimensions, others scalars)."""
        out = {}
        for n, a in self.axes.items():
            vals = np.asarray([getattr(v, "__name__", repr(v)) if callable(v) else v for v in a.values])
            if vals.dtype.kind == "f":
                vals = vals.astype(np.float32)
            out[n] = vals
        return out


def make_grid(spec, static) -> Grid:
    """The grid of a resolved sweep: every parameter (fixed ones as length-1 axes), static ones first,
    then the dynamic ones, then ``seed`` and ``start``."""
    axes = dict(spec.values)
    axes["seed"] = Axis(values=tuple(spec.seeds), swept=True)
    axes["start"] = Axis(values=tuple(range(spec.starts)), swept=True)
    static = tuple(n for n in axes if n in static)
    order = (
        list(static) + [n for n in axes if n not in static and n not in ("seed", "start")] + ["seed", "start"]
    )
    return Grid({n: axes[n] for n in order}, spec.chunk_size, static)
