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
# # 04 -- The proof layer: statements, symbolic steps, attacks
#
# Each theorem is data: assumptions and conclusion as sympy relations over named symbols,
# constants such as $T_{\max}$, and a scenario that draws cases and runs the simulator.
# A statement is *proved* when its symbolic steps and certificates verify and the attack
# finds no counterexample. Planted mutants (a constant off by 10x, an assumption dropped)
# must be caught. The full table is `landscape check [--quick]`.
#
# `LANDSCAPE_QUICK=1` runs a small version.

# %%
import os

import numpy as np

from landscape import laws
from proofs.catalog import STATEMENTS, by_id
from proofs.core import scale_constant
from proofs.core.falsify import attack

QUICK = os.environ.get("LANDSCAPE_QUICK", "0") == "1"
EXAMPLES = 8 if QUICK else 60

# %% [markdown]
# ## The statements

# %%
for st in STATEMENTS:
    print(f"{st.id:>4}  {st.title}")

# %% [markdown]
# ## A closed form checked against simulation: the 2-D RTN exit law
# $P(|a U_1 + b U_2| > r_b)$ for uniform residuals (the weighted Irwin--Hall law), against
# the engine's RTN on trained points along a 2-D river.

# %%
import jax  # noqa: E402

import landscape as L  # noqa: E402

theta, step, rb, n = 0.4, 1.0, 0.3, (2000 if QUICK else 50000)
ls = L.rotated_river_2d(theta, wall=L.quadratic_wall(rb, 10.0))
w = ls.sample_river(jax.random.PRNGKey(0), n, s_range=(-1000.0, 1000.0))
sim = float(np.mean(~np.asarray(jax.vmap(ls.in_basin)(L.uniform_grid(step).quantize(w)))))
exact = laws.rtn_exit_probability([abs(np.sin(theta)) * step / 2, abs(np.cos(theta)) * step / 2], rb)
se = np.sqrt(exact * (1 - exact) / n)
print(
    f"simulated {sim:.4f}, exact {exact:.4f}, "
    f"|diff| = {abs(sim - exact):.4f} = {abs(sim - exact) / se:.2f} SE"
)
assert abs(sim - exact) < 4 * se + 1 / n

# %% [markdown]
# ## Attacking the recovery bound, and a planted mutant
# S5 bounds the first hitting time by $T_{\max}$. Its mutant with $T_{\max}/10$ must be
# refuted by the attack, with a minimal counterexample.

# %%
s5 = by_id("S5")
res = attack(s5, max_examples=EXAMPLES, shrink_budget=10)
print(f"S5: {res.cases} cases, {res.violations} violations, tightness max T/T_max = {res.tightness:.3g}")
import sympy as sp  # noqa: E402

mutant = scale_constant(s5, "T_max", sp.Rational(1, 10))
mres = attack(mutant, max_examples=EXAMPLES, shrink_budget=10)
print(
    f"S5 with T_max / 10: {mres.violations} violations; "
    f"counterexample found: {mres.counterexample is not None}"
)
