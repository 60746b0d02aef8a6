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
# # 03 -- QAT with the straight-through estimator re-enters the basin
#
# STE keeps latent weights and steps with the gradient at the deployed point,
# $w_{t+1} = w_t - \eta\nabla L(Q(w_t))$. Outside the basin that gradient feels the wall
# and points inward; when every single-coordinate flip moves $Q(w)$ by less than $2r_b$
# in the sharp subspace, the deployed point enters the basin after $T$ steps. When a flip
# is larger, STE can chatter between two outside grid points forever.
#
# `LANDSCAPE_QUICK=1` runs a small version.

# %%
import os

import jax
import numpy as np

import landscape as L
from landscape.plot import plot_phase_diagram, run_figure
from landscape.registry import default_rules
from landscape.simulate.chatter import chatters
from landscape.studies.figures_data import rotated_case, rtn_failed_starts
from landscape.studies.phase_study import phase_dataset

QUICK = os.environ.get("LANDSCAPE_QUICK", "0") == "1"
N_STARTS = 32 if QUICK else 512

# %% [markdown]
# ## One trajectory (compatible grid: max $f_j < 2 r_b$)

# %% figures=1
ls, qz = rotated_case(0.5, 1.0, 0.45)
print("max flip / r_b =", float(np.max(L.flip_size(qz, ls.normals))) / 0.45)
starts = rtn_failed_starts(ls, qz, jax.random.PRNGKey(0), N_STARTS)
tr = L.run_batch(ls, qz, L.ste(0.05), starts, 500)
hit = np.asarray(tr.hit_time)
print(f"recovered: {np.mean(hit >= 0):.3f}, median T = {np.median(hit[hit >= 0])}")
i = int(np.argsort(hit)[len(hit) // 2])
rule = L.ste(0.05)
num_steps = max(30, 2 * int(hit[i]) + 10)
one = L.run(ls, qz, rule, starts[i], num_steps, key=jax.random.PRNGKey(1), record_path=True)
fig = run_figure(one, ls, qz, rule)

# %% [markdown]
# ## Chattering (max $f_j > 2 r_b$)

# %% figures=1
ls2, qz2 = rotated_case(0.6, 1.0, 0.3)
print("max flip / r_b =", float(np.max(L.flip_size(qz2, ls2.normals))) / 0.3)
starts2 = rtn_failed_starts(ls2, qz2, jax.random.PRNGKey(2), N_STARTS)
mon = L.SaveAt(every=100, switches=False, loss_at_hit=False, monitors=(L.CycleMonitor(window=100),))
tr2 = L.run_batch(ls2, qz2, L.ste(0.05), starts2, 1000, save=mon)
print(
    f"never in the basin: {np.mean(np.asarray(tr2.hit_time) < 0):.3f}; "
    f"chattering: {np.mean(np.asarray(chatters(tr2))):.3f}"
)
never = np.flatnonzero(np.asarray(tr2.hit_time) < 0)
pick = int(never[0]) if never.size else 0  # a start that never entered the basin, if there is one
one = L.run(ls2, qz2, L.ste(0.05), starts2[pick], 120, key=jax.random.PRNGKey(3), record_path=True)
fig = run_figure(one, ls2, qz2, L.ste(0.05), max_steps=60)  # the title says whether it entered

# %% [markdown]
# ## The phase diagram
# Recovery probability over (step / $r_b$, max flip / $r_b$), with the region the theorems prove in advance
# (`landscape.certify_recovery`), the refuted region and the simulated boundary.

# %% figures=1
ratios = (1.0, 2.0, 3.0) if QUICK else tuple(0.5 + 3.5 * i / 39 for i in range(40))
alphas = (0.4, 0.7, 0.95) if QUICK else tuple(0.25 + 0.75 * i / 39 for i in range(40))
ph = phase_dataset(16, ratios, alphas, 8 if QUICK else 64, 300, jax.random.PRNGKey(4))
fig = plot_phase_diagram(ph)

# %% [markdown]
# ## Every rule, one table
# Recovery probability and median $T$ per rule, from the same RTN-failed starts.

# %%
ls3 = L.random_river(jax.random.PRNGKey(5), 64, 4, wall=L.quadratic_wall(0.03, 10.0))
qz3 = L.uniform_grid(0.1)
w = ls3.sample_river(jax.random.PRNGKey(6), 4 * N_STARTS, s_range=(-5.0, 5.0), spread=1.0)
failed = np.asarray(~jax.vmap(ls3.in_basin)(qz3.quantize(w)))
w0 = w[failed][:N_STARTS]
print(f"{'rule':>14} {'P(recover)':>11} {'median T':>9}")
for name, rule in default_rules(0.05).items():
    h = np.asarray(L.run_batch(ls3, qz3, rule, w0, 200).hit_time)
    med = np.median(h[h >= 0]) if (h >= 0).any() else float("nan")
    print(f"{name:>14} {np.mean(h >= 0):11.3f} {med:9.1f}")
