"""landscape.plot.explorer: headless, the sliders drive the run; new values reuse the compiled programs."""

from __future__ import annotations

import numpy as np

import landscape as ls
from landscape.simulate import driver


def test_sliders_change_the_numbers_and_the_figure_without_recompiling():
    ex = ls.explore(num_steps=60, n_mesh=41)
    box = ex.widget()
    assert set(ex.sliders) == {"theta", "step_ratio", "kappa", "learning_rate", "start"}
    assert box.children[-1] is ex._output
    first = dict(ex.numbers)
    compiled = driver.compiled_count()
    ex.sliders["theta"].value = 0.9  # as a user dragging the slider
    ex.sliders["step_ratio"].value = 1.2
    ex.sliders["learning_rate"].value = 0.1
    assert driver.compiled_count() == compiled  # no new compilation for new numbers
    assert ex.numbers["theta"] == 0.9 and ex.numbers["step_ratio"] == 1.2
    assert ex.numbers != first
    # the numbers are those of the run shown: RTN's rho against r_b and the title say the same
    rb = ex.basin_radius
    assert ex.numbers["rtn_in_basin"] == (ex.numbers["rtn_rho"] <= rb)
    rel = "<" if ex.numbers["rtn_rho"] < rb else ">"
    assert rel in ex.ax.get_title(loc="left")
    T = ex.numbers["hit_time"]
    title = ex.ax_r.get_title(loc="left")
    assert (f"T = {T}" in title) if T >= 0 else ("never in the basin" in title)
    # a fine grid (step < 2 r_b) with its start in the basin is recovered at T = 0
    ex.set(step_ratio=0.5, start=0.0)
    assert ex.numbers["hit_time"] == 0
    assert np.isfinite(ex.last_seconds)
