"""Geometry: landscapes L(w) = ell(s) + phi(rho(w)), their rivers, walls, valley curvature and families.

* :mod:`~landscape.geometry.landscape` -- :class:`Landscape` (N, u, c(s), phi, ell; rho, offset, probe);
* :mod:`~landscape.geometry.families` -- the constructors (straight, random, rotated, meander, arc, WSD);
* :mod:`~landscape.geometry.river` -- centres c(s) and drifts ell(s);
* :mod:`~landscape.geometry.walls` -- wall profiles phi(rho);
* :mod:`~landscape.geometry.valley` -- wall-free valley curvature (``valley_dirs`` E);
* :mod:`~landscape.geometry.probe` -- the per-step probe (L, grad L, rho, in basin).
* :mod:`~landscape.geometry.draws` -- the Gaussian matrices of the random constructors (few programs).

The core layer: imports nothing of ``landscape`` above it.
"""

from landscape.geometry import river, walls
from landscape.geometry.families import (
    arc_river,
    axis_aligned_river,
    meander_river,
    random_river,
    rotated_river_2d,
    straight_river,
    wsd_river_valley,
)
from landscape.geometry.landscape import SMALL_DIM, Landscape, matvec, rmatvec, sumsq, vdot
from landscape.geometry.probe import Probe

__all__ = [
    "Landscape",
    "Probe",
    "SMALL_DIM",
    "arc_river",
    "axis_aligned_river",
    "matvec",
    "meander_river",
    "random_river",
    "river",
    "rmatvec",
    "rotated_river_2d",
    "straight_river",
    "sumsq",
    "vdot",
    "walls",
    "wsd_river_valley",
]
