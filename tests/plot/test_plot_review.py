"""What a reviewer found in the figures and the report (issue 21, point 8), one test per finding."""

from __future__ import annotations

import jax
import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

import landscape as ls
from landscape import plot as lp
from landscape.plot.labels import math_label
from landscape.plot.recovery import plot_rules
from landscape.plot.valley import draw_exit_vs_curvature
from landscape.studies import figures_data as studies


def _luminance(rgba) -> float:
    r, g, b = matplotlib.colors.to_rgb(rgba)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def test_every_figure_function_draws_into_a_new_figure_unless_given_an_axes():
    """The README's cell: a run figure, then phase_diagram -- two figures, not one drawn over the other."""
    land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0))
    grid = ls.uniform_grid(1.0)
    fig_before, ax_before = plt.subplots()
    ax = lp.contours(land, grid)
    assert ax.figure is not fig_before and not ax_before.has_data()
    mine = plt.subplots()[1]
    assert lp.contours(land, grid, ax=mine) is mine
    plt.close("all")


def test_fig1_legend_lists_the_river_only_when_it_is_drawn():
    """Fig 1(a) listed "river" without drawing it (the river's points sit on a dimension named s)."""
    ds = studies.anatomy_dataset(0.5, 1.0, 0.45, 10.0, jax.random.PRNGKey(0), n_mesh=31)
    fig = lp.anatomy_figure(ds)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    river_lines = [ln for ln in fig.axes[0].get_lines()
                   if matplotlib.colors.same_color(ln.get_color(), lp.COLORS["river"])]
    assert any("river" in lab for lab in labels)
    assert river_lines and len(river_lines[0].get_xdata()) == ds["river_x"].size
    assert len(labels) == len(set(labels))  # distinct legend entries
    plt.close(fig)
    without = ds.drop_vars(["river_x", "river_y"])
    assert not any("river" in h.get_label() for h in lp.legend_handles(without))


def _rules_ds():
    rules, scen = ["ste", "clipped_ste"], ["2-D", "d=64"]
    shape = (len(rules), len(scen))
    p = np.array([[0.8, 0.5], [0.0, 0.3]])
    return xr.Dataset(
        {
            "recovery_prob": (("rule", "scenario"), p),
            "recovery_lo": (("rule", "scenario"), p - 0.05),
            "recovery_hi": (("rule", "scenario"), np.minimum(p + 0.05, 1)),
            "median_T": (("rule", "scenario"), np.full(shape, 12.0)),
            "T_lo": (("rule", "scenario"), np.full(shape, 5.0)),
            "T_hi": (("rule", "scenario"), np.full(shape, 30.0)),
        },
        coords={"rule": rules, "scenario": scen},
    )


def test_fig7_names_the_wilson_interval_it_draws():
    """Fig 7's axis said "(+-2 SE)" while its bars are the Wilson interval of the recovery study."""
    fig = plot_rules(_rules_ds())
    label = fig.axes[0].get_xlabel()
    assert "Wilson 95%" in label and "SE" not in label
    plt.close(fig)


def test_fig3c_breaks_the_log_axis_at_lambda_zero():
    """Fig 3(c) spaced lambda/mu = 0, 100, 1000 evenly on a log axis, silently; now the axis is broken."""
    lam = np.array([0.0, 100.0, 1000.0])
    methods = ["rtn", "gptq"]
    p = np.linspace(0.1, 0.6, 6).reshape(2, 3)
    dims = ("method", "lambda_over_mu")
    ds = xr.Dataset(
        {
            "exit_pooled": (dims, p), "exit_lo": (dims, p - 0.05), "exit_hi": (dims, p + 0.05),
        },
        coords={"method": methods, "lambda_over_mu": lam},
    ).expand_dims(m=[2], step_over_rb=[2.0]).transpose("method", "m", "step_over_rb", "lambda_over_mu")
    ds.attrs.update(dim=16, k=2, n_total=100)
    ax = draw_exit_vs_curvature(ds)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "100", "1000"]
    breaks = [a for a in ax.get_children() if getattr(a, "get_gid", lambda: None)() == "lambda-axis-break"]
    zero_x, first_x = ax.get_xticks()[:2]
    assert breaks and all(zero_x < b.get_xdata()[0] < first_x for b in breaks if hasattr(b, "get_xdata"))
    plt.close(ax.figure)


def test_phase_diagram_labels_in_mathtext_and_readable_annotations():
    """Plain "learning rate eta" becomes mathtext; each annotation's ink contrasts with its own cell."""
    assert math_label("learning rate eta") == r"learning rate $\eta$"
    assert math_label("basin radius r_b") == r"basin radius $r_b$"
    assert math_label("loss per weight unit^2") == r"loss per weight unit$^2$"
    ds = ls.sweep(landscape="rotated_2d", theta=0.5, basin_radius=0.3, step=[0.8, 1.4],
                  learning_rate=[0.02, 0.1], starts=16, num_steps=40)
    ax = lp.phase_diagram(ds, x="step", y="learning_rate", annotate=True)
    assert r"$\eta$" in ax.get_ylabel() and r"$\Delta$" in ax.get_xlabel()
    mesh = next(c for c in ax.collections if hasattr(c, "get_array") and c.get_array() is not None)
    texts = [t for t in ax.texts if "n=" in t.get_text()]
    assert texts
    for t in texts:
        value = float(t.get_text().split("\n")[0])
        cell = _luminance(mesh.cmap(mesh.norm(value)))
        assert abs(_luminance(t.get_color()) - cell) > 0.35, (t.get_text(), t.get_color(), cell)
    plt.close(ax.figure)


def test_report_never_prints_median_T_none_nor_double_negatives():
    """The report printed "median T = None" and "does not rarely leave the basin"."""
    from landscape.reproduce.runner import STAGES
    from landscape.reproduce.stages.common import time_text

    assert time_text(None) == "median T undefined (no start entered the basin)"
    assert time_text(12.0) == "median T = 12"
    for stage in STAGES:
        assert "median T = {" not in stage.template and "median_T]}" not in stage.template, stage.key
        assert "does not rarely" not in stage.template and "always exists" not in stage.template, stage.key


@pytest.mark.slow
def test_fig8_example_stays_clearly_outside_the_basin():
    """Fig 8's "never in the basin" example sat on the basin edge with a loss that read as zero."""
    from landscape.reproduce.config import ReproduceConfig
    from landscape.reproduce.stages import runs

    cfg = ReproduceConfig.quick_config(0)
    ds = runs._chatter(cfg, jax.random.PRNGKey(7))["fig8_chattering"]
    if int(ds["batch_hit_time"].min()) >= 0:
        pytest.fail("the quick chattering case has no start that never enters: the figure has no example")
    rho = ds["rho_q"].values[: runs.CHATTER_SHOWN]
    assert np.nanmin(rho) - cfg.chatter_basin_radius > 0.05 * cfg.chatter_basin_radius
    assert np.nanmin(ds["loss_q"].values[: runs.CHATTER_SHOWN]) > 1e-3  # the loss does not read as zero


def test_rich_html_reprs_show_the_numbers():
    """Trajectory, Landscape, rules (and sweep results, xarray Datasets) have an HTML repr for Jupyter."""
    land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0))
    assert "basin radius r_b" in land._repr_html_() and "0.3" in land._repr_html_()
    tr = ls.run(land, ls.uniform_grid(1.0), ls.ste(0.05), np.array([1.0, 2.0]), 20)
    html = tr._repr_html_()
    t = int(tr.hit_time)
    assert (f"<td style='text-align:left'>{t}</td>" if t >= 0 else "never (-1)") in html
    batch = ls.run_batch(land, ls.uniform_grid(1.0), ls.ste(0.05), np.ones((5, 2)), 20)
    assert "batch of 5 runs" in batch._repr_html_()
    rule_html = ls.clipped_ste(0.05, clip=1.0)._repr_html_()
    assert "clipped_ste" in rule_html and "learning_rate=0.05" in rule_html
    assert hasattr(xr.Dataset, "_repr_html_")


def test_fig5_boundaries_pool_cells_with_few_starts():
    """Figure 5 at <= 4 starts per cell draws its region boundaries from 3 x 3 pooled cells (NaNs ignored)."""
    from landscape.plot.phase_paper import POOL_BELOW, pooled

    f = np.array([[0.0, 1.0, np.nan], [1.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    p = pooled(f)
    assert np.isclose(p[1, 1], np.nanmean(f))  # the centre sees every finite cell
    assert np.isclose(p[0, 0], 4 / 9)  # a corner: edges repeat ('nearest'): 0,0,1 / 0,0,1 / 1,1,0
    assert np.all(np.isfinite(p)) and POOL_BELOW > 4  # the quick study's 4 starts per cell are pooled
