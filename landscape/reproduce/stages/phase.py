"""Figure 5 as a stage: STE's recovery phase diagram from RTN-failed starts, with the recovery certificate.

Its numbers are computed from the dataset it saves (``results/fig5_phase_diagram.nc``), so every number in
report.md and summary.json has its data.
"""

from __future__ import annotations

import numpy as np

from landscape.plot import plot_phase_diagram
from landscape.reproduce.stage import Stage
from landscape.reproduce.stages.common import batch_stats, percent, rounded
from landscape.studies.phase_study import THEOREMS, phase_dataset

__all__ = ["PHASE"]

_CERTIFICATE = ("starts", "recovered", "certified", "certified_by_theorems", "refuted", "false_certificates",
                "unverifiable_certificates", "false_refutations", "coverage", "coverage_theorems")


def _phase(cfg, key):
    """STE from RTN-failed starts over (step / r_b, alpha), each start judged by the certificate first."""
    ds = phase_dataset(
        cfg.phase_dim,
        cfg.phase_step_ratios,
        cfg.phase_alphas,
        cfg.phase_starts,
        cfg.phase_steps,
        key,
        kappa=cfg.kappa,
        learning_rate=cfg.learning_rate,
    )
    return {"fig5_phase_diagram": ds}


def _phase_numbers(cfg, dss):
    ds = dss["fig5_phase_diagram"]
    hit, div = ds["hit_time"].values, ds["diverge_time"].values
    valid = ds["valid"].values.astype(bool)
    verdict, theorem = ds["verdict"].values, ds["theorem"].values
    by_theorem = valid & (verdict == "certified") & np.isin(theorem, THEOREMS)
    groups = {
        "certified by a theorem (K1, K1P)": by_theorem,  # S5 cannot certify a river start (S1W)
        "certified by the 1-D orbit (R1)": valid & (verdict == "certified") & ~by_theorem,
        "refuted (empty band K1R, exact cycle)": valid & (verdict == "refuted"),
        "unknown": valid & (verdict == "unknown"),
    }
    flip, has = ds["flip_ratio"].values, ds["n_failed"].values > 0
    proved = has & (np.nan_to_num(ds["certified_prob"].values) >= 0.9)
    below = has & (flip < 2.0)
    return {
        "regimes": {name: batch_stats(hit[m], div[m]) for name, m in groups.items() if m.any()},
        "certificate": {k: (rounded(v, 4) if isinstance(v, float) else v)
                        for k, v in ((k, ds.attrs[k]) for k in _CERTIFICATE)},
        "dim": cfg.phase_dim,
        "num_steps": cfg.phase_steps,
        "starts_per_cell": cfg.phase_starts,
        "cells": [ds.sizes["step_ratio"], ds.sizes["alpha"]],
        "cells_with_rtn_failures": int(has.sum()),
        "cells_with_all_starts": int((ds["n_failed"].values >= cfg.phase_starts).sum()),
        "regions": {
            "proved": int(proved.sum()),
            "proved_above": int((proved & (flip >= 2.0)).sum()),
            "below": int(below.sum()),
            "below_short": int((below & (ds["recovery_prob"].values < 1)).sum()),
        },
        "learning_rate": cfg.learning_rate,
    }


def _phase_phrases(nums):
    cert = nums["certificate"]
    return {"coverage_pct": percent(cert["coverage"]),
            "coverage_theorems_pct": percent(cert["coverage_theorems"])}


PHASE = Stage(
    "fig5_phase_diagram",
    "Recovery phase diagram of STE",
    _phase,
    plot_phase_diagram,
    _phase_numbers,
    "STE (eta = {learning_rate}) from RTN-failed trained points on d = {dim}, k = 1 rivers whose sharp "
    "normal puts weight alpha on one coordinate, so that Delta / r_b and max_j f_j / r_b vary "
    "independently: {cells[0]} x {cells[1]} cells, up to {starts_per_cell} RTN-failed starts per cell "
    "({certificate[starts]} in {cells_with_rtn_failures} cells, {cells_with_all_starts} of them with all "
    "{starts_per_cell}; left of delta_perp = r_b RTN cannot fail), {num_steps} steps, float64. "
    "{certificate[recovered]} runs enter the basin. Before any simulation, landscape.certify_recovery "
    "certified {certificate[certified]} starts ({certificate[certified_by_theorems]} by the theorems "
    "K1/K1P, the rest by an exact orbit: the 1-D reduction's, or the validated orbit at ties) and "
    "refuted {certificate[refuted]} (empty band or an exact cycle). False certificates (certified but "
    "not in the basin by t_bound): "
    "{certificate[false_certificates]}; certified with t_bound beyond the horizon and not yet in: "
    "{certificate[unverifiable_certificates]}; false refutations: {certificate[false_refutations]}. "
    "Coverage of the simulated recoveries: {coverage_pct} (theorems alone: {coverage_theorems_pct}). Of "
    "the {regions[proved]} cells in the proved region (at least 90% of the starts certified by a theorem), "
    "{regions[proved_above]} lie above max f = 2 r_b; below that line {regions[below_short]} of "
    "{regions[below]} cells have a start that did not enter the basin within the horizon (the flip "
    "condition is not sufficient: the proof layer refutes S5C with an exact cycle and an empty slice).",
    phrases=_phase_phrases,
)
