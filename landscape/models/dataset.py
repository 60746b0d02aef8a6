"""The bridge's rows as an ``xarray.Dataset`` over ``run`` (plus the loss paths over ``t``), for the figures.

Verdicts, tuning, bands, calibration, regime, definitions, networks, timings and the manifest ride along
in the attrs (JSON strings).
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

__all__ = ["ROW_SCALARS", "to_dataset"]


#: the per-run scalars kept in the Dataset
ROW_SCALARS = (
    "bits",
    "seed",
    "fp_metric",
    "ptq_metric",
    "qat_metric",
    "ptq_gap",
    "ptq_outside_abs",
    "ptq_outside_rel",
    "qat_run",
    "hit_time",
    "settle_time",
    "settled",
    "frac_in_band",
    "frac_in_band_tail",
    "rel_settled",
    "rel_frac_in_band_tail",
    "test_settled",
    "ptq_outside_test",
    "ptq_test_gap",
    "barrier_end_river",
    "inward_cos_mean",
    "cos_to_wstar_mean",
    "step_normal_mean",
    "rho_ptq",
    "width_ptq",
    "rho_end",
    "dist_wstar_start",
    "dist_wstar_end",
    "grad_term",
    "hess_term",
    "quad_rise",
    "actual_rise",
    "ratio",
    "random_sign_actual_rise",
    "random_dir_actual_rise",
    "early_grad_term",
    "early_hess_term",
    "early_quad_rise",
    "early_actual_rise",
    "early_ratio",
    "fp_control_settled",
    "fp_control_final_gap",
    "oracle_settled",
    "oracle_final_gap",
    "qat_learning_rate",
)


def to_dataset(result: dict) -> xr.Dataset:
    """The rows as an xarray Dataset over ``run`` (plus the loss paths over ``t``); verdicts in the attrs."""
    rows = result["rows"]
    n = len(rows)
    data = {}
    for k in ROW_SCALARS:
        vals = [r.get(k) for r in rows]
        data[k] = ("run", np.asarray([np.nan if v is None else float(v) for v in vals], np.float64))
    for k in ("grid", "method", "qat_optimizer", "qat_schedule"):
        data[k] = ("run", np.asarray([str(r.get(k, "")) for r in rows]))
    paths = [r.get("loss_path") or [] for r in rows]
    width = max([len(p) for p in paths] + [1])
    lp = np.full((n, width), np.nan)
    for i, p in enumerate(paths):
        lp[i, : len(p)] = np.asarray([np.nan if v is None else v for v in p], np.float64)
    data["loss_gap_path"] = (("run", "t"), lp - np.asarray([r["fp_loss"] for r in rows], np.float64)[:, None])
    every = next((r["loss_path_every"] for r in rows if r.get("loss_path_every")), 1)
    ds = xr.Dataset(data, coords={"run": np.arange(n), "t": np.arange(width) * every})
    ds.attrs.update(
        model=result["model"],
        metric=result["metric"],
        tau=result["bands"]["tau"],
        qat_steps=result["config"]["qat_steps"],
        qat_steps_by_bits=json.dumps(result["config"].get("qat_steps_by_bits") or []),
        verdicts=json.dumps(result["verdicts"]),
        tuning=json.dumps(result["tuning"]),
        definitions=json.dumps(result["definitions"]),
        networks=json.dumps(result["networks"]),
        timings=json.dumps(result["timings"]),
        manifest=json.dumps(result["manifest"]),
        bands=json.dumps(result.get("bands", {})),
        calibration=json.dumps(result.get("calibration", {})),
        regime=json.dumps(result.get("regime", {})),
    )
    return ds
