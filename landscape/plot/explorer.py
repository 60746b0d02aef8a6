"""An interactive explorer: sliders for theta, step / r_b, kappa, eta and the start; contours, RTN, STE, T.

>>> ex = landscape.explore()          # in Jupyter: displays the sliders and the figure   # doctest: +SKIP
>>> ex.set(theta=0.4, step_ratio=3.0) # headless: then read ex.numbers / ex.figure   # doctest: +SKIP

Every redraw reuses the compiled programs: the landscape, grid and rule are pytrees whose numbers are
traced leaves, so a new slider value runs the same executables (``ex.last_seconds`` is the redraw time).
"""

from __future__ import annotations

import time

import jax.numpy as jnp
import numpy as np

import landscape as L
from landscape.config import Record, field
from landscape.plot.contours import contours, points
from landscape.plot.frame import evaluate
from landscape.plot.labels import compare, outcome_text
from landscape.plot.style import COLORS, paper_style

__all__ = ["Explorer", "explore"]



class ExploreValues(Record):
    """The explorer's values: each a record of the registry (its allowed range) and a slider window."""

    theta: float = field("theta", 0.5, slider=(0.0, 1.5, 0.01))
    step_ratio: float = field(
        "step_ratio", 2.5, low=0, open_low=True, long_name="grid step / r_b", slider=(0.5, 6.0, 0.05)
    )
    kappa: float = field("kappa", 10.0, slider=(0.5, 50.0, 0.5))
    learning_rate: float = field("learning_rate", 0.05, slider=(0.005, 0.5, 0.005))
    start: float = field(
        "start", 0.3, kind="float", low=0, high=1, long_name="start s / step", slider=(0.0, 1.0, 0.01)
    )


DEFAULTS = ExploreValues().as_dict()
RANGES = ExploreValues.sliders()
LABELS = {
    "theta": "theta (rad)",
    "step_ratio": "step / r_b",
    "kappa": "kappa",
    "learning_rate": "eta",
    "start": "start s / step",
}


class Explorer:
    """The state, the figure and the numbers of the explorer (widgets optional: ``explore()`` adds them)."""

    def __init__(self, *, basin_radius: float = 0.3, num_steps: int = 100, n_mesh: int = 81, **values):
        self.basin_radius = float(basin_radius)
        self.num_steps = int(num_steps)
        self.n_mesh = int(n_mesh)
        self.values = dict(DEFAULTS)
        bad = set(values) - set(DEFAULTS)
        if bad:
            raise L.LandscapeError(f"explore takes {', '.join(DEFAULTS)}; got unknown {sorted(bad)}.")
        self.values = ExploreValues(**{**self.values, **values}).as_dict()
        import matplotlib.figure  # noqa: PLC0415

        with paper_style():
            self.figure = matplotlib.figure.Figure(figsize=(7.2, 3.2), constrained_layout=True)
            self.ax, self.ax_r = self.figure.subplots(1, 2, width_ratios=[1.0, 1.2])
        self.numbers: dict = {}
        self.last_seconds = float("nan")
        self.sliders: dict = {}
        self.redraw()

    def case(self):
        """(landscape, grid, rule, w0) for the current values (the same pytree structure every time)."""
        v = self.values
        rb = self.basin_radius
        land = L.rotated_river_2d(float(v["theta"]), wall=L.quadratic_wall(rb, float(v["kappa"])))
        step = float(v["step_ratio"]) * rb
        grid = L.uniform_grid(step)
        s0 = float(v["start"]) * step / max(np.cos(float(v["theta"])), 1e-3)
        w0 = jnp.asarray(s0 * np.asarray(land.river_dir), jnp.result_type(float))
        return land, grid, L.ste(float(v["learning_rate"])), w0

    def set(self, **values):
        """Set slider values (by name) and redraw; returns the numbers."""
        bad = set(values) - set(DEFAULTS)
        if bad:
            raise L.LandscapeError(f"explore takes {', '.join(DEFAULTS)}; got unknown {sorted(bad)}.")
        self.values = ExploreValues(**{**self.values, **{k: float(v) for k, v in values.items()}}).as_dict()
        for k, v in values.items():
            if k in self.sliders and self.sliders[k].value != v:
                self.sliders[k].value = v  # the observer redraws
                return self.numbers
        self.redraw()
        return self.numbers

    def redraw(self):
        """Recompute the run and redraw both panels."""
        t0 = time.perf_counter()
        land, grid, rule, w0 = self.case()
        traj = L.run(land, grid, rule, w0, self.num_steps, record_path=True)
        q0 = grid.quantize(w0)
        rb = self.basin_radius
        rho_q0 = float(land.rho(q0))
        w, q = np.asarray(traj.w_path), np.asarray(traj.q_path)
        step = float(grid.step)
        center = np.asarray(w0)
        hw = max(1.6 * step, 3 * rb)
        self.ax.clear()
        self.ax_r.clear()
        contours(land, grid, ax=self.ax, center=center, half_width=hw, n=self.n_mesh)
        self.ax.plot(w[:, 0], w[:, 1], color=COLORS["latent"], lw=0.9, marker="o", ms=2, zorder=4)
        self.ax.plot(q[:, 0], q[:, 1], color=COLORS["quantized"], lw=0.7, marker="s", ms=3, zorder=5)
        points(land, {"start": np.asarray(w0), "rtn": np.asarray(q0)}, ax=self.ax)
        T = int(traj.hit_time)
        if T >= 0:
            self.ax.scatter(
                q[T, 0], q[T, 1], s=70, facecolors="none", edgecolors=COLORS["oracle"], lw=1.4, zorder=8
            )
        self.ax.set_title(rf"RTN: $\rho = {rho_q0:.2f}$ {compare(rho_q0, rb)} $r_b$", loc="left")
        t = np.asarray(traj.t)
        self.ax_r.plot(t, np.asarray(traj.rho_w), color=COLORS["latent"], label=r"$\rho(w_t)$")
        self.ax_r.plot(
            t, np.asarray(traj.rho_q), color=COLORS["quantized"], drawstyle="steps-post", label=r"$\rho(q_t)$"
        )
        self.ax_r.axhline(rb, color=COLORS["basin"], ls="--", label=r"$r_b$")
        if T >= 0:
            self.ax_r.axvline(T, color=COLORS["oracle"], ls=":")
        self.ax_r.set_xlabel(r"QAT step $t$")
        self.ax_r.set_ylabel(r"normal distance $\rho$")
        text = outcome_text(
            T, int(traj.settle_time), int(traj.diverge_time), self.num_steps, int(traj.switches)
        )
        self.ax_r.set_title("STE: " + text, loc="left", fontsize=8)
        self.ax_r.legend(loc="upper right", fontsize=7)
        fmax = float(np.max(L.flip_size(grid, land.normals)))
        self.numbers = {
            "hit_time": T,
            "settle_time": int(traj.settle_time),
            "diverge_time": int(traj.diverge_time),
            "switches": int(traj.switches),
            "rtn_rho": rho_q0,
            "rtn_in_basin": rho_q0 <= rb,
            "max_flip_over_rb": fmax / rb,
            "loss_rtn": float(evaluate(land, np.asarray(q0)[None])[0][0]),
            **self.values,
        }
        if getattr(self, "_canvas", None) is not None:
            self._canvas.draw_idle()
        self.last_seconds = time.perf_counter() - t0
        if getattr(self, "_output", None) is not None:
            self._show()
        return self.numbers

    def _show(self):
        from IPython.display import display  # noqa: PLC0415

        self._output.clear_output(wait=True)
        with self._output:
            display(self.figure)

    def widget(self):
        """The ipywidgets box: one slider per value and the figure below."""
        import ipywidgets as W  # noqa: PLC0415

        for name, (lo, hi, stepv) in RANGES.items():
            s = W.FloatSlider(
                value=self.values[name],
                min=lo,
                max=hi,
                step=stepv,
                description=LABELS[name],
                continuous_update=False,
                style={"description_width": "initial"},
            )
            s.observe(lambda change, n=name: self._on(n, change), names="value")
            self.sliders[name] = s
        self._output = W.Output()
        self._show()
        return W.VBox(
            [W.HBox(list(self.sliders.values())[:3]), W.HBox(list(self.sliders.values())[3:]), self._output]
        )

    def _on(self, name, change):
        self.values[name] = float(change["new"])
        self.redraw()

    def _ipython_display_(self):
        from IPython.display import display  # noqa: PLC0415

        display(self.widget())


def explore(**kwargs) -> Explorer:
    """An :class:`Explorer` (in Jupyter: sliders and figure) over theta, step / r_b, kappa, eta, start."""
    return Explorer(**kwargs)
