r"""Quantizers :math:`Q`: uniform grids and codebooks behind one interface (:class:`Quantizer`), and the
geometry of their cells (``delta_perp``, ``flip_size``, corners).

Every quantizer is a pytree with ``quantize``, ``index``, ``cell``, ``residual``, ``neighbors``,
``half_width``, ``clip_range``, ``residual_box`` and ``local_steps``; one laid out on a weight matrix
(``shape=(rows, cols)``) takes flat weights and broadcasts per-channel or per-group steps over the matrix.
"""

from landscape.quantizers.base import Quantizer
from landscape.quantizers.cells import DeltaPerp, cell_corners, corner_bits, delta_perp, flip_size
from landscape.quantizers.codebook import (
    FP4_E2M1_LEVELS,
    NF4_LEVELS,
    Codebook,
    binary,
    codebook,
    fp4_e2m1,
    log2_codebook,
    nf4,
    ternary,
)
from landscape.quantizers.uniform import (
    UniformGrid,
    integer_grid,
    max_exact_bits,
    per_channel,
    per_channel_grid,
    per_group,
    per_group_grid,
    uniform_grid,
)

__all__ = [
    "Quantizer", "UniformGrid", "Codebook", "uniform_grid", "integer_grid", "per_channel", "per_group",
    "per_channel_grid", "per_group_grid", "max_exact_bits", "codebook", "nf4", "fp4_e2m1", "log2_codebook",
    "ternary", "binary", "delta_perp", "flip_size", "DeltaPerp", "corner_bits", "cell_corners",
    "NF4_LEVELS", "FP4_E2M1_LEVELS",
]
