"""The paper figures that ``landscape reproduce`` draws with another family's figure functions, each as a
function of the saved Dataset alone (so a figure redraws from its ``results/*.nc``).

* :func:`chattering_figure` -- figure 8: :func:`~landscape.plot.run.run_figure`, the first 60 steps;
* :func:`rules_figure` -- figure 7: ``landscape.plot.recovery.plot_rules``, the T interval named by the
  data;
* :func:`bridge_figure` -- the real-model bridge (``landscape.plot.bridge.plot_bridge``), paper style.

Figures 3, 5 and 6 need no adaptation: ``plot_valley_failure``, ``plot_phase_diagram`` and
``plot_tightness`` draw them from their Datasets as they are.
"""

from __future__ import annotations

from landscape.plot.run import run_figure

__all__ = ["chattering_figure", "rules_figure", "bridge_figure"]


def chattering_figure(ds):
    """Figure 8: the chattering run of ``ds``, its first 60 steps (a cycle repeats; more steps hide it)."""
    return run_figure(ds, max_steps=60)


def rules_figure(ds):
    """Figure 7: recovery probability and T per QAT rule (T interval named by ``ds.attrs["T_interval"]``)."""
    from landscape.plot.recovery import plot_rules  # noqa: PLC0415

    return plot_rules(ds, interval_label=ds.attrs.get("T_interval", "IQR"))


def bridge_figure(ds):
    """The bridge: settle rates with Wilson intervals, blindness, inward cosines, every seed (paper style)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from landscape.plot.bridge import plot_bridge  # noqa: PLC0415
    from landscape.plot.style import DOUBLE_COLUMN, paper_style  # noqa: PLC0415

    with paper_style():
        fig = plt.figure(figsize=(DOUBLE_COLUMN, 1.5 * DOUBLE_COLUMN), layout="constrained")
        plot_bridge(ds, fig, ncols=2)
        fig.suptitle(f"The bridge: {ds.attrs.get('model', 'model')}, per-channel integer grids, every seed",
                     fontsize=9)
    return fig
