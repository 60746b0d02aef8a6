r"""Quantizers :math:`Q`: uniform grids and codebooks, with their rounding cells.

* :class:`UniformGrid` --
  :math:`Q(w) = o + \Delta\,\mathrm{clip}(\mathrm{round}((w-o)/\Delta), n_{\min}, n_{\max})`;
  ``step`` :math:`\Delta` and ``offset`` :math:`o` broadcast against ``w`` (per tensor, per
  channel, per group); ``qmin = -inf, qmax = inf`` is the unbounded grid of the analytic
  model. Ties round half to even (``jnp.round``).
* :class:`Codebook` -- nearest level of ``scale * levels`` (NF4, FP4 E2M1, powers of two,
  ternary, binary); ties go to the lower level.

Both are pytrees with ``quantize``, ``cell`` (bounds of the set of points with the same
:math:`Q`), ``residual`` (:math:`Q(w) - w`) and ``neighbors`` (the grid points just below
and above ``w``). The geometric quantities ``delta_perp`` and ``flip_size`` are functions
of a quantizer and the sharp directions ``normals``.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape._checks import LandscapeError, check_finite, check_int_at_least, check_positive

__all__ = [
    "UniformGrid",
    "Codebook",
    "uniform_grid",
    "integer_grid",
    "per_channel",
    "per_group",
    "codebook",
    "nf4",
    "fp4_e2m1",
    "log2_codebook",
    "ternary",
    "binary",
    "delta_perp",
    "flip_size",
    "DeltaPerp",
    "NF4_LEVELS",
    "FP4_E2M1_LEVELS",
]

NF4_LEVELS = np.array(
    [
        -1.0,
        -0.6961928009986877,
        -0.5250730514526367,
        -0.39491748809814453,
        -0.28444138169288635,
        -0.18477343022823334,
        -0.09105003625154495,
        0.0,
        0.07958029955625534,
        0.16093020141124725,
        0.24611230194568634,
        0.33791524171829224,
        0.44070982933044434,
        0.5626170039176941,
        0.7229568362236023,
        1.0,
    ]
)  # QLoRA's NormalFloat-4 levels (Dettmers et al., 2023)
FP4_E2M1_LEVELS = np.array(
    [-6.0, -4.0, -3.0, -2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
)  # every value of the OCP MX FP4 (E2M1) format (+0 and -0 merged)


def _f(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class UniformGrid:
    """Q(w) = offset + step * clip(round((w - offset) / step), qmin, qmax)."""

    step: jax.Array
    offset: jax.Array
    qmin: jax.Array
    qmax: jax.Array

    def index(self, w):
        """n(w) = clip(round((w - o)/Delta), qmin, qmax), the integer code of Q(w)."""
        return jnp.clip(jnp.round((w - self.offset) / self.step), self.qmin, self.qmax)

    def quantize(self, w):
        """Q(w), the nearest grid point (clipped to the representable range)."""
        return self.offset + self.step * self.index(w)

    def residual(self, w):
        """Q(w) - w, the rounding error."""
        return self.quantize(w) - w

    def cell(self, w):
        """(lo, hi): the bounds of the rounding cell {w' : Q(w') = Q(w)} (inf at clipped ends)."""
        n = self.index(w)
        lo = jnp.where(n <= self.qmin, -jnp.inf, self.offset + self.step * (n - 0.5))
        hi = jnp.where(n >= self.qmax, jnp.inf, self.offset + self.step * (n + 0.5))
        return lo, hi

    def neighbors(self, w):
        """(down, up): the grid points floor and ceil of w (equal when w is on the grid)."""
        x = (w - self.offset) / self.step
        lo = jnp.clip(jnp.floor(x), self.qmin, self.qmax)
        hi = jnp.clip(jnp.ceil(x), self.qmin, self.qmax)
        return self.offset + self.step * lo, self.offset + self.step * hi

    def half_width(self, w):
        """Half the local spacing of the grid at w (step/2 for a uniform grid)."""
        return jnp.broadcast_to(0.5 * self.step, jnp.shape(w))

    @property
    def bounded(self) -> bool:
        """Whether the grid clips (a finite integer range)."""
        return bool(np.isfinite(np.asarray(self.qmin)).any() or np.isfinite(np.asarray(self.qmax)).any())


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True)
class Codebook:
    """Q(w) = scale * levels[argmin_i |w/scale - levels_i|], levels sorted ascending."""

    levels: jax.Array  # (m,) sorted
    scale: jax.Array  # broadcastable to w

    @property
    def midpoints(self):
        """Decision thresholds between consecutive levels."""
        return 0.5 * (self.levels[1:] + self.levels[:-1])

    def index(self, w):
        """i(w), the index of the nearest level."""
        return jnp.searchsorted(self.midpoints, w / self.scale, side="left")

    def quantize(self, w):
        """Q(w), the nearest scaled level."""
        return self.scale * self.levels[self.index(w)]

    def residual(self, w):
        """Q(w) - w, the rounding error."""
        return self.quantize(w) - w

    def cell(self, w):
        """(lo, hi): the bounds of the decision cell of w (inf beyond the extreme levels)."""
        i = self.index(w)
        mids = jnp.concatenate([jnp.array([-jnp.inf]), self.midpoints, jnp.array([jnp.inf])])
        a, b = self.scale * mids[i], self.scale * mids[i + 1]
        return jnp.minimum(a, b), jnp.maximum(a, b)

    def neighbors(self, w):
        """(down, up): the codebook points bracketing w (equal on a level or beyond the ends)."""
        x = w / self.scale
        m = self.levels.shape[0]
        j = jnp.searchsorted(self.levels, x, side="left")  # first level >= x
        up = self.levels[jnp.clip(j, 0, m - 1)]
        down = self.levels[jnp.clip(j - 1, 0, m - 1)]
        on_level = (j < m) & (up == x)
        down = jnp.where(on_level | (j == 0), up, down)
        up = jnp.where(j >= m, down, up)
        return self.scale * down, self.scale * up

    def half_width(self, w):
        """Half the gap between the two codebook points bracketing w."""
        down, up = self.neighbors(w)
        return 0.5 * (up - down)

    bounded = True


# --------------------------------------------------------------------------------------
# constructors
# --------------------------------------------------------------------------------------
def uniform_grid(step, offset=0.0) -> UniformGrid:
    """Unbounded uniform grid offset + step * Z (the analytic model's quantizer)."""
    check_positive("step", step)
    check_finite("offset", offset)
    return UniformGrid(_f(step), _f(offset), _f(-jnp.inf), _f(jnp.inf))


def integer_grid(bits: int, step, *, signed: bool = True, offset=0.0) -> UniformGrid:
    """b-bit integer grid: codes in [-2^(b-1), 2^(b-1) - 1] (signed) or [0, 2^b - 1]."""
    check_int_at_least("bits", bits, 1)
    check_positive("step", step)
    check_finite("offset", offset)
    if signed:
        if bits < 2:
            raise LandscapeError("bits must be >= 2 for a signed integer grid; use binary() for 1 bit.")
        lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    else:
        lo, hi = 0, 2**bits - 1
    return UniformGrid(_f(step), _f(offset), _f(lo), _f(hi))


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


def codebook(levels, scale=1.0) -> Codebook:
    """Nearest-level codebook quantizer on scale * levels (levels are sorted and deduplicated)."""
    levels = np.unique(np.asarray(levels, dtype=np.float64))
    check_finite("levels", levels)
    if levels.size < 2:
        raise LandscapeError(f"levels must hold at least 2 distinct values; got {levels.size}.")
    check_positive("scale", scale)
    return Codebook(_f(levels), _f(scale))


def nf4(scale=1.0) -> Codebook:
    """NormalFloat-4 (QLoRA) levels, scaled by ``scale`` (the absmax)."""
    return codebook(NF4_LEVELS, scale)


def fp4_e2m1(scale=1.0) -> Codebook:
    """FP4 E2M1 values {0, ±0.5, ±1, ±1.5, ±2, ±3, ±4, ±6} times ``scale``."""
    return codebook(FP4_E2M1_LEVELS, scale)


def log2_codebook(scale=1.0, n_exponents: int = 7, zero: bool = True) -> Codebook:
    """Power-of-two levels ±2^{-j}, j = 0..n_exponents-1 (and 0), times ``scale``."""
    check_int_at_least("n_exponents", n_exponents, 1)
    mags = 2.0 ** -np.arange(n_exponents)
    levels = np.concatenate([-mags, mags, [0.0] if zero else []])
    return codebook(levels, scale)


def ternary(scale=1.0) -> Codebook:
    """Ternary levels {-scale, 0, scale}."""
    return codebook([-1.0, 0.0, 1.0], scale)


def binary(scale=1.0) -> Codebook:
    """Binary levels {-scale, scale} (sign quantization)."""
    return codebook([-1.0, 1.0], scale)


# --------------------------------------------------------------------------------------
# geometry of the grid relative to the sharp directions
# --------------------------------------------------------------------------------------
class DeltaPerp(NamedTuple):
    """delta_perp with how it was obtained: exact (closed form or enumeration) or a bound."""

    value: float
    exact: bool
    method: str


def _half_steps(quantizer, dim, w=None):
    if isinstance(quantizer, UniformGrid):
        return np.broadcast_to(
            0.5 * np.asarray(quantizer.step, dtype=np.float64).reshape(-1)
            if np.ndim(quantizer.step) <= 1
            else np.asarray(quantizer.step),
            (dim,),
        )
    if w is None:
        raise LandscapeError("a codebook's cell depends on w: pass w= to delta_perp/flip_size.")
    return np.asarray(quantizer.half_width(jnp.asarray(w)), dtype=np.float64)


def _residual_box(quantizer, dim, w):
    """Bounds (a, b) of e = Q(w') - w' over the cell of w (a <= e <= b)."""
    if isinstance(quantizer, UniformGrid) and w is None:
        h = np.broadcast_to(0.5 * np.asarray(quantizer.step, dtype=np.float64), (dim,))
        return -h, h
    if w is None:
        raise LandscapeError("a codebook's cell depends on w: pass w= to delta_perp.")
    w = jnp.asarray(w)
    lo, hi = quantizer.cell(w)
    q = quantizer.quantize(w)
    a = np.asarray(q - hi, dtype=np.float64)
    b = np.asarray(q - lo, dtype=np.float64)
    return a, b


def delta_perp(quantizer, normals, w=None, *, max_enumerate: int = 20) -> DeltaPerp:
    r"""delta_perp = max over e in the rounding cell of ||N e||.

    The cell of the residual is a box; ||N e|| is convex, so the maximum sits at a corner.
    Exact for k = 1 (sum_j max(|n_j a_j|, |n_j b_j|)) and for d <= ``max_enumerate`` (all
    2^d corners); otherwise the bound min(||(sum_j |N_ij| h_j)_i||, ||h||) with
    h_j = max(|a_j|, |b_j|), which is exact-or-larger. A cell that is unbounded (clipping)
    gives inf. For a uniform grid with w=None the cell is [-step/2, step/2]^d.
    """
    n = np.asarray(normals, dtype=np.float64)
    if n.ndim != 2:
        raise LandscapeError(f"normals must be 2-D (k x d); got shape {n.shape}.")
    k, d = n.shape
    a, b = _residual_box(quantizer, d, w)
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return DeltaPerp(float("inf"), True, "unbounded cell (clipped range)")
    if k == 1:
        val = float(np.sum(np.maximum(np.abs(n[0] * a), np.abs(n[0] * b))))
        return DeltaPerp(val, True, "closed form (k = 1)")
    if d <= max_enumerate:
        best = 0.0
        na, nb = n * a, n * b  # (k, d)
        # enumerate corners in chunks of 2^10 to bound memory
        lo_bits = min(d, 10)
        sub = np.array(list(itertools.product([0, 1], repeat=lo_bits)), dtype=bool)  # (2^lo, lo)
        for head in itertools.product([0, 1], repeat=d - lo_bits):
            choice = np.concatenate(
                [np.broadcast_to(np.array(head, bool), (sub.shape[0], d - lo_bits)), sub], 1
            )
            v = np.where(choice[:, None, :], nb[None], na[None]).sum(-1)
            best = max(best, float(np.max(np.sum(v * v, -1))))
        return DeltaPerp(float(np.sqrt(best)), True, f"enumeration of 2^{d} corners")
    h = np.maximum(np.abs(a), np.abs(b))
    b1 = float(np.linalg.norm(np.abs(n) @ h))
    b2 = float(np.linalg.norm(h))
    return DeltaPerp(min(b1, b2), False, "upper bound min(||(|N| h)||, ||h||)")


def flip_size(quantizer, normals, w=None):
    """f_j = Delta_j ||N[:, j]||: how far one flip of coordinate j moves Q(w) in sharp coordinates.

    For a codebook (or with ``w`` given) Delta_j is the local gap between the codebook
    points bracketing w_j.
    """
    n = np.asarray(normals, dtype=np.float64)
    d = n.shape[-1]
    if isinstance(quantizer, UniformGrid) and w is None:
        steps = np.broadcast_to(np.asarray(quantizer.step, dtype=np.float64), (d,))
    else:
        steps = 2.0 * _half_steps(quantizer, d, w)
    return steps * np.linalg.norm(n, axis=0)
