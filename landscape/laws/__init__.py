"""Closed forms shared by the engine, the figures and the proof layer: one home per law.

* :mod:`~landscape.laws.rtn` -- the RTN exit laws (statement S1: weighted Irwin--Hall, its 2-D closed form,
  Gaussian and chi-square limits, the Berry--Esseen numerator; S1B: trained points anywhere on the basin
  floor, and the samplers of such points);
* :mod:`~landscape.laws.valley` -- the planar valley's laws (second-order PTQ's exit probability).

The core layer: imports nothing of ``landscape`` above it.
"""

from landscape.laws import rtn, valley
from landscape.laws.rtn import (
    basin_floor_offsets,
    berry_esseen_sum,
    chi2_exit,
    gaussian_exit,
    normal_half_widths,
    rtn_exit_in_basin,
    rtn_exit_probability,
    rtn_exit_probability_2d,
    sgd_floor_variance,
)

__all__ = [
    "basin_floor_offsets",
    "rtn_exit_in_basin",
    "sgd_floor_variance",
    "berry_esseen_sum",
    "chi2_exit",
    "gaussian_exit",
    "normal_half_widths",
    "rtn",
    "rtn_exit_probability",
    "rtn_exit_probability_2d",
    "valley",
]
