r"""Codebooks: :math:`Q(w)` = the nearest level of ``scale * levels`` (NF4, FP4 E2M1, powers of two, ternary,
binary). Ties go to the lower level. ``scale`` broadcasts against the weights in the layout.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_finite, check_int_at_least, check_positive
from landscape._typing import ArrayLike, Levels, Scalars
from landscape.quantizers.base import Quantizer

__all__ = [
    "Codebook",
    "codebook",
    "nf4",
    "fp4_e2m1",
    "log2_codebook",
    "ternary",
    "binary",
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


class Codebook(Quantizer):
    """Q(w) = scale * levels[argmin_i |w/scale - levels_i|], levels sorted ascending."""

    coord_fields = ("scale",)
    levels: Levels  # (m,) sorted
    scale: Scalars  # broadcastable to w
    shape: tuple | None = eqx.field(default=None, static=True)

    @property
    def midpoints(self):
        """Decision thresholds between consecutive levels."""
        return 0.5 * (self.levels[1:] + self.levels[:-1])

    def _index(self, w):
        return jnp.searchsorted(self.midpoints, w / self.scale, side="left")

    def _quantize(self, w):
        return self.scale * self.levels[self._index(w)]

    def _cell(self, w):
        i = self._index(w)
        mids = jnp.concatenate([jnp.array([-jnp.inf]), self.midpoints, jnp.array([jnp.inf])])
        a, b = self.scale * mids[i], self.scale * mids[i + 1]
        return jnp.minimum(a, b), jnp.maximum(a, b)

    def _neighbors(self, w):
        x = w / self.scale
        m = self.levels.shape[0]
        j = jnp.searchsorted(self.levels, x, side="left")  # first level >= x
        up = self.levels[jnp.clip(j, 0, m - 1)]
        down = self.levels[jnp.clip(j - 1, 0, m - 1)]
        on_level = (j < m) & (up == x)
        down = jnp.where(on_level | (j == 0), up, down)
        up = jnp.where(j >= m, down, up)
        return self.scale * down, self.scale * up

    def _half_width(self, w):
        down, up = self._neighbors(w)
        return 0.5 * (up - down)

    def clip_range(self):
        """[scale * levels[0], scale * levels[-1]]."""
        return self.scale * self.levels[0], self.scale * self.levels[-1]

    def check_dim(self, dim: int, name: str = "w") -> None:
        """Raise unless scale broadcasts to the layout (or to (dim,))."""
        super().check_dim(dim, name)
        target = self.shape if self.shape is not None and len(self.shape) > 1 else (dim,)
        vs = np.shape(self.scale)
        try:
            ok = np.broadcast_shapes(vs, target) == tuple(target)
        except ValueError:
            ok = False
        if not ok:
            raise LandscapeError(
                f"quantizer.scale has shape {vs}, which does not broadcast to {tuple(target)}."
            )

    bounded = True

    def __repr__(self):
        sc = np.asarray(self.scale)
        sc = f"{float(sc):g}" if sc.ndim == 0 else f"{sc.dtype}{list(sc.shape)}"
        lay = "" if self.shape is None else f", shape={self.shape}"
        lo, hi = float(self.levels[0]), float(self.levels[-1])
        return f"Codebook({self.levels.shape[0]} levels in [{lo:g}, {hi:g}], scale={sc}{lay})"


def codebook(levels: ArrayLike, scale: ArrayLike = 1.0, *, shape: tuple | None = None) -> Codebook:
    """Nearest-level codebook quantizer on scale * levels (levels are sorted and deduplicated)."""
    levels = np.unique(np.asarray(levels, dtype=np.float64))
    check_finite("levels", levels)
    if levels.size < 2:
        raise LandscapeError(f"levels must hold at least 2 distinct values; got {levels.size}.")
    check_positive("scale", scale)
    return Codebook(_f(levels), _f(scale), None if shape is None else tuple(int(s) for s in shape))


def nf4(scale=1.0, *, shape=None) -> Codebook:
    """NormalFloat-4 (QLoRA) levels, scaled by ``scale`` (the absmax)."""
    return codebook(NF4_LEVELS, scale, shape=shape)


def fp4_e2m1(scale=1.0, *, shape=None) -> Codebook:
    """FP4 E2M1 values {0, ±0.5, ±1, ±1.5, ±2, ±3, ±4, ±6} times ``scale``."""
    return codebook(FP4_E2M1_LEVELS, scale, shape=shape)


def log2_codebook(scale=1.0, n_exponents: int = 7, zero: bool = True, *, shape=None) -> Codebook:
    """Power-of-two levels ±2^{-j}, j = 0..n_exponents-1 (and 0), times ``scale``."""
    check_int_at_least("n_exponents", n_exponents, 1)
    mags = 2.0 ** -np.arange(n_exponents)
    levels = np.concatenate([-mags, mags, [0.0] if zero else []])
    return codebook(levels, scale, shape=shape)


def ternary(scale=1.0, *, shape=None) -> Codebook:
    """Ternary levels {-scale, 0, scale}."""
    return codebook([-1.0, 0.0, 1.0], scale, shape=shape)


def binary(scale=1.0, *, shape=None) -> Codebook:
    """Binary levels {-scale, scale} (sign quantization)."""
    return codebook([-1.0, 1.0], scale, shape=shape)
