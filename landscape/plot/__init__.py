r"""Plot your own runs: Axes-level matplotlib functions for any landscape and any run.

Every Axes-level function takes ``ax=None`` (then it draws into a new figure, never over an earlier one),
returns the Axes, and passes extra keyword arguments to the artist it draws. Every label, title and
annotation is computed from the data (a rule's label and optimizer, T only when the run entered the
basin, an inequality from the two numbers it compares).

>>> import jax, optax, landscape as ls
>>> land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0))
>>> grid = ls.uniform_grid(1.0)
>>> rule = ls.ste(optimizer=ls.optimizer(optax.adam, learning_rate=0.05))
>>> traj = ls.run(land, grid, rule, w0, 100, record_path=True)                     # doctest: +SKIP
>>> fig = ls.plot.run_figure(traj, land, grid, rule)                               # doctest: +SKIP
>>> ax = ls.plot.contours(land, grid); ls.plot.path(traj, land, ax=ax, mesh=False) # doctest: +SKIP

* :func:`contours`, :func:`points`, :func:`ptq_points` -- a landscape in its frame (d = 2: the weights;
  d > 2: the river frame (s, v) or (v_1, v_2), see :mod:`landscape.plot.frame`);
* :func:`path`, :func:`distance`, :func:`deployed_loss`, :func:`run_figure` -- one run;
* :func:`phase_diagram` -- a sweep Dataset over two axes;
* :func:`landscape_view`, :func:`run_view` -- what a figure shows, as a Dataset (saved with results);
* the paper figures: :func:`anatomy_figure`, :func:`rtn_exit_figure`, :func:`chattering_figure`,
  :func:`rules_figure`, :func:`bridge_figure` (:mod:`landscape.plot.paper`), :func:`plot_valley_failure`
  and :func:`plot_hessian_blindness` (figure 3: :mod:`~landscape.plot.valley`, :mod:`~landscape.plot.ptq`),
  :func:`plot_phase_diagram` (figure 5: :mod:`~landscape.plot.phase_paper`), :func:`plot_tightness` and
  :func:`plot_rules` (figures 6, 7: :mod:`~landscape.plot.recovery`);
* :func:`explore` -- the ipywidgets explorer (:mod:`landscape.plot.explorer`);
* :mod:`~landscape.plot.style` (one paper style, :func:`save_figure`), :mod:`~landscape.plot.lint`.

Every figure-level function draws into a new figure and returns it; every Axes-level function draws into
``ax`` when given (else a new figure) and returns the Axes.
"""

from landscape.plot import style
from landscape.plot.anatomy import draw_landscape_2d
from landscape.plot.contours import POINT_STYLE, contours, legend_handles, loss_levels, points, ptq_points
from landscape.plot.figures import anatomy_figure, rtn_exit_figure, valley_surface
from landscape.plot.frame import FRAMES, Frame, frame_for
from landscape.plot.labels import compare, optimizer_label, outcome_text, rule_label, run_label
from landscape.plot.lint import text_overlaps, unlabelled_axes
from landscape.plot.paper import bridge_figure, chattering_figure, rules_figure
from landscape.plot.phase import phase_diagram
from landscape.plot.phase_paper import plot_phase_diagram
from landscape.plot.ptq import plot_hessian_blindness
from landscape.plot.recovery import plot_rules, plot_tightness
from landscape.plot.run import deployed_loss, distance, mark_times, path, run_figure, run_title
from landscape.plot.style import COLORS, DOUBLE_COLUMN, OKABE_ITO, SINGLE_COLUMN, paper_style, save_figure
from landscape.plot.valley import plot_valley_failure
from landscape.plot.views import landscape_view, points_view, run_view

#: the bridge's figures (:mod:`landscape.plot.bridge`) and the explorer, imported on first use
_LAZY = {
    "plot_bridge": "landscape.plot.bridge",
    "plot_settle_rates": "landscape.plot.bridge",
    "plot_blindness": "landscape.plot.bridge",
    "plot_inward": "landscape.plot.bridge",
    "plot_loss_paths": "landscape.plot.bridge",
    "plot_tau_sensitivity": "landscape.plot.bridge",
    "explore": "landscape.plot.explorer",
}


def __getattr__(name):
    """The bridge's figure functions and the explorer, imported on first use."""
    if name in _LAZY:
        import importlib  # noqa: PLC0415

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'landscape.plot' has no attribute {name!r}")


def __dir__():
    """Every public name, the lazy ones included."""
    return sorted(set(__all__) | set(_LAZY))


__all__ = [
    "contours",
    "points",
    "ptq_points",
    "loss_levels",
    "legend_handles",
    "POINT_STYLE",
    "path",
    "distance",
    "deployed_loss",
    "mark_times",
    "run_figure",
    "run_title",
    "phase_diagram",
    "landscape_view",
    "run_view",
    "points_view",
    "anatomy_figure",
    "rtn_exit_figure",
    "valley_surface",
    "chattering_figure",
    "rules_figure",
    "bridge_figure",
    "plot_valley_failure",
    "plot_hessian_blindness",
    "plot_phase_diagram",
    "plot_tightness",
    "plot_rules",
    "draw_landscape_2d",
    "explore",
    "Frame",
    "frame_for",
    "FRAMES",
    "compare",
    "rule_label",
    "optimizer_label",
    "run_label",
    "outcome_text",
    "style",
    "paper_style",
    "save_figure",
    "COLORS",
    "OKABE_ITO",
    "SINGLE_COLUMN",
    "DOUBLE_COLUMN",
    "text_overlaps",
    "unlabelled_axes",
]
