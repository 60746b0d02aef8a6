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
# # 05 -- The same diagnostics on a real network
#
# A small MLP trained on scikit-learn's bundled 8x8 digits (no download). Lanczos on
# Hessian-vector products finds the sharpest directions; 1-D loss profiles along them give
# the basin widths (the offsets where the loss rises by $\tau$); RTN and GPTQ points are
# placed in that sharp subspace; STE-QAT from them shows whether the deployed model
# returns to the basin. The analytic prediction: PTQ leaves the basin when the grid is
# comparable to the basin width (low bit widths), and QAT re-enters it.
#
# `LANDSCAPE_QUICK=1` runs a tiny version (2 sharp directions, 4 and 2 bits, short training).

# %%
import os

from landscape.models.bridge import BridgeConfig, run_bridge, summary_rows
from landscape.reproduce.external_stages import plot_bridge

QUICK = os.environ.get("LANDSCAPE_QUICK", "0") == "1"
if QUICK:
    cfg = BridgeConfig.preset(
        "digits-mlp", quick=True, bits=(4, 2), k=2, train_steps=200, qat_steps=100, profile_points=21
    )
else:
    cfg = BridgeConfig.preset("digits-mlp", quick=False)
print(cfg)

# %%
ds = run_bridge(cfg)
print("sharp eigenvalues:", ds["eigenvalue"].values.round(3))
for row in summary_rows(ds):
    print(
        f"{row['bits']}-bit {row['ptq']:>4}: grid/basin {row['grid_to_basin']:.2f}, "
        f"PTQ in basin {row['ptq_in_basin']}, QAT hit time {row['hit_time']}: {row['verdict']}"
    )

# %%
fig = plot_bridge(ds)
