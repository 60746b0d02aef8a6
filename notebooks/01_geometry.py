# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 -- Geometry: river, valley, basin, and the grid
#
# A trained network sits on a low-loss **river** inside a wider **valley**; around the
# river a normal neighbourhood of radius $r_b$ is a flat **basin**, and leaving it costs
# a steep **wall**. The loss is $L(w) = \ell(s) + \phi(\rho(w))$ with $s = u\cdot w$ the
# position along the river and $\rho(w) = \lVert N w - c(s)\rVert$ the normal distance.
#
# This notebook builds such landscapes with the public API, draws them, and measures the
# two numbers that decide whether quantization can push a river point out of the basin:
# $\delta_\perp$ (the worst normal error of round-to-nearest) and the flip sizes $f_j$.
#
# Set `LANDSCAPE_QUICK=1` for a fast run (the tests do).

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import landscape as L
from landscape.plot import anatomy_figure, contours, paper_style
from landscape.studies.figures_data import anatomy_dataset

QUICK = os.environ.get("LANDSCAPE_QUICK", "0") == "1"
N_MESH = 81 if QUICK else 201
print("quick mode:", QUICK)

# %% [markdown]
# ## Walls
# Every wall is flat up to $r_b$ (up to a small floor curvature $\mu$) and rises beyond it.

# %% figures=1
rho = jnp.linspace(0.0, 0.6, 301)
walls = {
    "quadratic": L.quadratic_wall(0.25, 10.0),
    "softplus": L.softplus_wall(0.25, 10.0),
    "power (p = 4)": L.power_wall(0.25, 10.0),
    "exponential": L.exp_wall(0.25, 10.0),
}
with paper_style():
    fig, ax = plt.subplots(figsize=(3.5, 2.4))
    for name, wall in walls.items():
        ax.plot(rho, wall.value(rho), label=name)
        print(
            f"{name:>14}: flatness {float(wall.flatness):.2e}, slope bound at 1.2 r_b "
            f"{float(wall.wall_slope(0.3)):.3f}"
        )
    ax.axvline(0.25, color="0.5", ls="--", lw=0.8)
    ax.set_xlabel(r"normal distance $\rho$")
    ax.set_ylabel(r"wall $\phi(\rho)$")
    ax.set_ylim(0, 0.6)
    ax.legend()
    ax.set_title(r"Wall profiles, $r_b = 0.25$, $\kappa = 10$", loc="left")

# %% [markdown]
# ## A 2-D river and its grid
# The anatomy figure of `landscape reproduce`: a river at angle $\theta$, the basin edge
# $\rho = r_b$, the grid $\Delta\mathbb{Z}^2$, a trained point $w^\star$ on the river, its
# round-to-nearest point, and the best corner of its rounding cell.

# %% figures=1
ds = anatomy_dataset(0.5, 1.0, 0.45, 10.0, jax.random.PRNGKey(0), n_mesh=N_MESH)
fig = anatomy_figure(ds)
print("rho of w*, RTN, best corner:", ds["point_rho"].values.round(3), " r_b =", ds.attrs["basin_radius"])
print(f"delta_perp = {ds.attrs['delta_perp']:.3f}, max flip size = {ds.attrs['max_flip_size']:.3f}")
assert ds["point_rho"].sel(point="rtn") > ds.attrs["basin_radius"]

# %% [markdown]
# ## Curved rivers
# The same quantities on a meandering river (the river--valley toy of the WSD paper).

# %% figures=1
wsd = L.wsd_river_valley(valley_width=0.25, kappa=10.0, amplitude=0.5, omega=0.5, drift=0.1)
with paper_style():
    fig, ax = plt.subplots(figsize=(3.5, 3.2))
    contours(wsd, L.uniform_grid(0.5), ax=ax, center=(0.0, 0.0), half_width=4.0, n=N_MESH, colorbar=True)
    ax.set_title("Meandering river with drift", loc="left")

# %% [markdown]
# ## High dimension: $\delta_\perp$ and flip sizes
# With $k \ll d$ sharp directions the worst normal error $\delta_\perp$ grows like
# $\Delta\sqrt{dk}/2$ (a bound for large d), but a single coordinate flip moves $Q(w)$ by only
# $f_j = \Delta\lVert N_{:,j}\rVert \approx \Delta\sqrt{k/d}$ in the sharp subspace.

# %%
dims = [16, 64] if QUICK else [16, 64, 256, 1024]
for d in dims:
    ls = L.random_river(jax.random.PRNGKey(d), d, 4)
    qz = L.uniform_grid(0.1)
    dp = L.delta_perp(qz, ls.normals)
    f = L.flip_size(qz, ls.normals)
    print(
        f"d = {d:5d}: delta_perp = {dp.value:.3f} ({dp.method}), max f = {np.max(f):.4f}, "
        f"typical RTN normal error 0.1 * sqrt(k/12) = {0.1 * np.sqrt(4 / 12):.4f}"
    )
