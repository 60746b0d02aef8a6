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
# # 02 -- Post-training quantization leaves the basin
#
# PTQ maps a trained point $w^\star$ to a grid point by a *local* rule. When the grid step
# is comparable to the basin width, round-to-nearest (RTN) lands outside the basin for a
# predictable fraction of trained points, and second-order rules (OBQ, GPTQ, AdaRound)
# cannot see the wall, because the Hessian at $w^\star$ is the same with or without it.
#
# `LANDSCAPE_QUICK=1` runs a small version.

# %%
import os

import jax
import jax.numpy as jnp
import numpy as np

import landscape as L
from landscape.plot import plot_hessian_blindness, rtn_exit_figure
from landscape.studies.ptq_study import blindness_dataset
from landscape.studies.rtn_study import agreement, rtn_exit_dataset

QUICK = os.environ.get("LANDSCAPE_QUICK", "0") == "1"
N_POINTS = 1000 if QUICK else 20000

# %% [markdown]
# ## The RTN exit law
# For trained points spread along the river the rounding residual is uniform on the cell,
# so the exit probability is $P(\lVert N e\rVert > r_b)$; in 2-D it is an exact
# piecewise-quadratic law, in high dimension nearly a $\chi_k$ law.

# %% figures=1
ds = rtn_exit_dataset(
    (0.1, 0.4, 0.7), ((64, 1), (64, 4)), np.linspace(0.5, 4.0, 8), N_POINTS, jax.random.PRNGKey(0)
)
fig = rtn_exit_figure(ds)
agree = agreement(ds)
print(agree)
assert agree["agree"], "simulated and exact RTN exit fractions disagree beyond the stated error"

# %% [markdown]
# ## Hessian blindness
# The walled landscape and its wall-free twin ($\kappa = 0$) agree inside the basin; every
# second-order method returns the same $q$ for both, while the best corner of the cell (the
# oracle) is inside the basin.

# %% figures=1
blind = blindness_dataset(
    ((2, 1),),
    0.5,
    1.0,
    0.3,
    10.0,
    0.05,
    32 if QUICK else 256,
    jax.random.PRNGKey(1),
    n_mesh=81 if QUICK else 161,
)
fig = plot_hessian_blindness(blind)
print(blind["exit_rate"].to_pandas())
print(blind["same_q"].to_pandas())

# %% [markdown]
# ## All PTQ methods in one call, higher dimension
# Every method of `landscape.ptq.ptq_methods` on a random river with $k$ sharp directions.

# %%
from landscape.ptq import SMALL_DIM_METHODS, oracle, ptq_methods  # noqa: E402

d, k = (32, 4) if QUICK else (512, 8)
ls = L.random_river(jax.random.PRNGKey(2), d, k, wall=L.quadratic_wall(0.03, 10.0, 0.05))
qz = L.uniform_grid(0.1)
w = ls.sample_river(jax.random.PRNGKey(3), 64 if QUICK else 1000, s_range=(-5.0, 5.0), spread=1.0)
for name, fn in ptq_methods.items():
    if d > SMALL_DIM_METHODS.get(name, d):  # the exact proxy minimiser enumerates 2^d corners
        continue
    q = fn(ls, qz, w, key=jax.random.PRNGKey(4))
    out = 1.0 - float(jnp.mean(jax.vmap(ls.in_basin)(q)))
    print(f"{name:>11}: outside the basin for {100 * out:5.1f}% of trained points")
res = oracle(ls, qz, w)
out_oracle = 1 - float(jnp.mean(res.rho <= 0.03))
print(f"{'oracle':>11}: outside for {100 * out_oracle:5.1f}% ({res.method[:40]}...)")
