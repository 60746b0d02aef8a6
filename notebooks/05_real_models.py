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
# # 05 -- The river, the band and STE-QAT on real networks
#
# A small MLP trained on scikit-learn's bundled 8x8 digits (no download), several seeds. PTQ (RTN and
# sequentially calibrated GPTQ, absmax and clip-optimised grids) moves each trained `w*` to a grid point;
# STE-QAT, tuned on separate seeds, runs from it on the engine's driver. A run is *back* only when it has
# **settled**: in the band for the last 10 % of its steps and at the end. The verdict of each
# (bits, grid, method) is the fraction of seeds that settled, with its Wilson interval.
#
# Along each run the normal frame is measured: the foot `P(q)` (a short full-precision descent from `q`
# to the river level), the normal distance `||q - P(q)||`, and the inward cosine
# `cos(-grad L(q), P(q) - q)`, set against the cosine towards `w*`. The Hessian-blindness panel compares
# the actual loss rise of each PTQ error with the quadratic model at `w*`.
#
# The bands are calibrated on the same networks (full-precision continuation from `w*`: the band must
# hold it), every verdict states its power at its sample size, and the regime cell asks which regime of
# the theory the network is in: is `w*` at the 1-D minimum along the top Hessian eigenvectors (on the
# river), and is the PTQ error longer than the band's width along it (`ptq_failed`) or shorter
# (`in_basin`)? This notebook uses the quick preset (2 evaluation seeds: it decides nothing, and says
# so); `landscape bridge --model digits-mlp` runs the full one (24 seeds; docs/bridge.md).
#
# `LANDSCAPE_QUICK=1` runs a tiny version (2 bits only, short training and QAT).

# %%
import os

from landscape.models.bridge import run_bridge, to_dataset
from landscape.models.config import BridgeConfig
from landscape.plot.bridge import plot_bridge

QUICK = os.environ.get("LANDSCAPE_QUICK", "0") == "1"
if QUICK:
    cfg = BridgeConfig.preset(
        "digits-mlp",
        quick=True,
        bits=(2,),
        train_steps=150,
        qat_steps=20,
        sgd_lrs=(1.0,),
        adam_lrs=(3e-2,),
        n_probe=3,
        foot_steps=10,
    )
else:
    cfg = BridgeConfig.preset("digits-mlp", quick=True)
print(cfg)

# %%
res = run_bridge(cfg)
for v in res["verdicts"]:
    if v["band"] == "abs" and v["n_outside"]:
        print(v["text"])
print(
    "inward cosine vs cosine to w* (mean over runs):",
    [
        (
            r["bits"],
            r["grid"],
            r["method"],
            round(r["inward_cos_mean"] or float("nan"), 2),
            round(r["cos_to_wstar_mean"], 2),
        )
        for r in res["rows"]
        if r.get("cos_to_wstar_mean") is not None
    ],
)

# %%
b = res["bands"]
print(f"tau = {b['tau']:.3g}, tau_test = {b['tau_test']:.3g} nats; null holds: {b['null_holds']}")
print(
    "loss-to-metric calibration:",
    dict(zip(res["calibration"]["rises"], res["calibration"]["share_rel_in_band"], strict=True)),
)
for bits, r in res["regime"]["per_bits"].items():
    print(bits, "bits:", r["regime"], "on the river:", r["on_river"], r.get("error_over_width_median"))

# %% figures=1
fig = plot_bridge(to_dataset(res))
