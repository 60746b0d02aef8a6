"""landscape.plot: any landscape (d = 2 and d > 2), any run; every label computed from the data."""

from __future__ import annotations

import jax
import matplotlib.pyplot as plt
import numpy as np
import optax
import pytest

import landscape as ls
import landscape.plot as lp


def _failed_start(land, grid, n=256, spread=0.0):
    w = land.sample_river(jax.random.PRNGKey(1), n, spread=spread)
    return w[~jax.vmap(land.in_basin)(grid.quantize(w))][0]


def _lines_at(ax):
    return sorted(
        float(ln.get_xdata()[0])
        for ln in ax.get_lines()
        if len(set(np.atleast_1d(ln.get_xdata()))) == 1 and len(ln.get_xdata()) == 2
    )


def test_adam_run_in_2d_is_labelled_by_its_rule_and_its_outcome():
    land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0))
    grid = ls.uniform_grid(1.0)
    rule = ls.ste(optimizer=ls.optimizer(optax.adam, learning_rate=0.05))
    traj = ls.run(land, grid, rule, _failed_start(land, grid), 80, record_path=True)
    fig = lp.run_figure(traj, land, grid, rule)
    title = fig._suptitle.get_text()
    assert "ste with adam" in title and "STE" not in title
    fmax = float(np.max(ls.flip_size(grid, land.normals))) / 0.3
    assert (">" if fmax > 2 else "<") + r" 2\,r_b" in title  # the relation is computed from f_max
    T = int(traj.hit_time)
    assert (f"T = {T}" in title) if T >= 0 else ("never in the basin" in title)
    assert not lp.text_overlaps(fig) and not lp.unlabelled_axes(fig)
    plt.close(fig)


def test_d64_run_is_drawn_in_the_river_frame_with_T_and_T_settle_marked_only_if_they_exist():
    land = ls.random_river(jax.random.PRNGKey(0), 64, 1, wall=ls.quadratic_wall(0.05, 10.0))
    grid = ls.uniform_grid(0.1)
    traj = ls.run(land, grid, ls.ste(0.05), _failed_start(land, grid, spread=1.0), 60, record_path=True)
    view = lp.run_view(traj, land, grid, ls.ste(0.05))
    assert view.attrs["frame"] == "river" and "normal offset" in view.attrs["ylabel"]
    # the projected start has the loss the contours show there: L depends on w only through (s, rho)
    s, v = view["path_w_x"].values[0], view["path_w_y"].values[0]
    lifted = lp.frame_for(land, "river", np.asarray(traj.w_path[0])).lift(land, [s], [v])
    assert float(land.loss(lifted[0])) == pytest.approx(float(land.loss(traj.w_path[0])), rel=1e-4, abs=1e-7)
    fig, ax = plt.subplots()
    lp.distance(view, ax=ax)
    T, S = int(traj.hit_time), int(traj.settle_time)
    expect = sorted({t for t in (T, S) if t >= 0})
    assert _lines_at(ax) == pytest.approx(expect)
    plt.close(fig)


def test_a_batch_or_a_run_without_paths_is_refused_with_the_fix():
    land = ls.rotated_river_2d(0.5)
    grid = ls.uniform_grid(1.0)
    tb = ls.run_batch(land, grid, ls.ste(0.05), np.zeros((3, 2)), 10)
    with pytest.raises(ls.LandscapeError, match=r"traj\[i\]"):
        lp.run_view(tb, land, grid)
    t1 = ls.run(land, grid, ls.ste(0.05), np.zeros(2), 10)
    with pytest.raises(ls.LandscapeError, match="record_path=True"):
        lp.path(t1, land)
    with pytest.raises(ls.LandscapeError, match="needs d = 2"):
        lp.contours(ls.random_river(jax.random.PRNGKey(0), 8, 2), frame="weights")


def test_normal_frame_for_k2_and_points_labelled_with_computed_relations():
    land = ls.random_river(jax.random.PRNGKey(0), 16, 2, wall=ls.quadratic_wall(0.05, 10.0))
    grid = ls.uniform_grid(0.2)
    fig, ax = plt.subplots()
    lp.contours(land, grid, frame="normal", ax=ax)
    assert "v_1" in ax.get_xlabel() and "v_2" in ax.get_ylabel()
    w0 = np.asarray(_failed_start(land, grid, spread=1.0))
    lp.ptq_points(land, grid, w0, methods=("rtn",), ax=ax, frame="normal")
    label = [c.get_label() for c in ax.collections if "RTN" in str(c.get_label())][0]
    assert "> $r_b$" in label  # an RTN failure, said because its rho exceeds r_b
    plt.close(fig)


def test_phase_diagram_draws_cells_without_failures_open_and_labels_from_the_data():
    ds = ls.sweep(
        landscape="rotated_2d",
        theta=0.5,
        basin_radius=0.3,
        step=[0.2, 1.0],
        learning_rate=[0.02, 0.1],
        starts=16,
        num_steps=40,
    )
    s = ls.sweep.summarize(ds)
    assert int(s["n"].sel(step=0.2, method="nearest").sum()) == 0  # a fine grid: RTN never fails
    assert ((s["p_lo"] >= 0) & (s["p_hi"] <= 1)).where(s["n"] > 0, True).all()
    assert int((s["recovered"] + s["censored"] + s["diverged"] - s["n"]).sum()) == 0
    fig, ax = plt.subplots()
    lp.phase_diagram(ds, x="step", y="learning_rate", ax=ax)
    assert "grid step" in ax.get_xlabel() and "learning rate" in ax.get_ylabel()
    assert any("no PTQ failure" in str(c.get_label()) for c in ax.collections)
    plt.close(fig)
