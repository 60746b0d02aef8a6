"""Paper figures: one shared style (:mod:`landscape.plots.style`) and one module per figure family.

* :mod:`~landscape.plots.anatomy` -- figure 1 (contours, river, basin, grid; 3-D valley);
* :mod:`~landscape.plots.ptq` -- figures 2 (RTN exit law) and 3 (Hessian blindness);
* :mod:`~landscape.plots.trajectory` -- figures 4 (an STE trajectory) and 8 (chattering);
* :mod:`~landscape.plots.recovery` -- figures 5 (phase diagram), 6 (T vs T_max), 7 (rules).

Every ``plot_*`` function takes an ``xarray.Dataset`` (the one saved in ``results/``) and
returns a matplotlib figure; :func:`~landscape.plots.style.save_figure` writes PDF + PNG.
"""

from landscape.plots.anatomy import draw_landscape_2d, plot_anatomy
from landscape.plots.ptq import plot_hessian_blindness, plot_rtn_exit
from landscape.plots.recovery import plot_phase_diagram, plot_rules, plot_tightness
from landscape.plots.style import (
    COLORS,
    DOUBLE_COLUMN,
    OKABE_ITO,
    SINGLE_COLUMN,
    new_figure,
    paper_style,
    save_figure,
)
from landscape.plots.trajectory import plot_trajectory

__all__ = [
    "plot_anatomy",
    "draw_landscape_2d",
    "plot_rtn_exit",
    "plot_hessian_blindness",
    "plot_trajectory",
    "plot_phase_diagram",
    "plot_tightness",
    "plot_rules",
    "paper_style",
    "new_figure",
    "save_figure",
    "COLORS",
    "OKABE_ITO",
    "SINGLE_COLUMN",
    "DOUBLE_COLUMN",
]
