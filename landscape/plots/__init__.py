"""Paper figures: one shared style (:mod:`landscape.plots.style`) and one module per figure family.

Figures 1, 2, 4 and 8 and every user-facing plot live in :mod:`landscape.plot`; here:

* :mod:`~landscape.plots.anatomy` -- contours of a mesh dataset and the point styles of figure 3;
* :mod:`~landscape.plots.ptq`, :mod:`~landscape.plots.valley` -- figure 3 (Hessian blindness);
* :mod:`~landscape.plots.recovery`, :mod:`~landscape.plots.phase` -- figures 5 (phase diagram),
  6 (T vs T_max), 7 (rules).

Every ``plot_*`` function takes an ``xarray.Dataset`` (the one saved in ``results/``) and
returns a matplotlib figure; :func:`~landscape.plots.style.save_figure` writes PDF + PNG.
"""

from landscape.plots.anatomy import draw_landscape_2d
from landscape.plots.ptq import plot_hessian_blindness
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

__all__ = [
    "draw_landscape_2d",
    "plot_hessian_blindness",
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
