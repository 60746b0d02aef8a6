"""Figure 5's stage: STE's recovery phase diagram from RTN-failed starts, with the recovery certificate.

``phase_stage(cfg, key) -> StageResult``; its numbers are computed from the dataset it saves
(``results/fig5_phase_diagram.nc``), so every number in report.md and summary.json has its data.
"""

from __future__ import annotations

import numpy as np

from landscape.plots.phase import plot_phase_diagram
from landscape.reproduce.phase_study import THEOREMS, phase_dataset
from landscape.reproduce.stage import StageResult
from landscape.reproduce.stages import _batch_stats, _f

__all__ = ["phase_stage"]


def phase_stage(cfg, key) -> StageResult:
    """Figure 5: STE recovery phase diagram over (step / r_b, max f / r_b), with the certificate."""
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
    hit, div = ds["hit_time"].values, ds["diverge_time"].values
    valid = ds["valid"].values.astype(bool)
    verdict, theorem = ds["verdict"].values, ds["theorem"].values
    by_theorem = valid & (verdict == "certified") & np.isin(theorem, THEOREMS)
    groups = {
        "certified by a theorem (K1, K1P, S5)": by_theorem,
        "certified by the 1-D orbit (R1)": valid & (verdict == "certified") & ~by_theorem,
        "refuted (empty band K1R, exact cycle)": valid & (verdict == "refuted"),
        "unknown": valid & (verdict == "unknown"),
    }
    regimes = {name: _batch_stats(hit[m], div[m]) for name, m in groups.items() if m.any()}
    rec = {k: ds.attrs[k] for k in ("starts", "recovered", "certified", "certified_by_theorems", "refuted",
                                    "false_certificates", "unverifiable_certificates", "false_refutations",
                                    "coverage", "coverage_theorems")}
    n_cells = int((ds["n_failed"].values > 0).sum())
    nums = {
        "regimes": regimes,
        "certificate": {k: (_f(v, 4) if isinstance(v, float) else v) for k, v in rec.items()},
        "dim": cfg.phase_dim,
        "num_steps": cfg.phase_steps,
        "starts_per_cell": cfg.phase_starts,
        "cells": [ds.sizes["step_ratio"], ds.sizes["alpha"]],
        "cells_with_rtn_failures": n_cells,
        "cells_with_all_starts": int((ds["n_failed"].values >= cfg.phase_starts).sum()),
    }
    cov, cov_t = rec["coverage"], rec["coverage_theorems"]
    flip, has = ds["flip_ratio"].values, ds["n_failed"].values > 0
    proved = has & (np.nan_to_num(ds["certified_prob"].values) >= 0.9)
    below = has & (flip < 2.0)
    shape = {"proved": int(proved.sum()), "proved_above": int((proved & (flip >= 2.0)).sum()),
             "below": int(below.sum()), "below_short": int((below & (ds["recovery_prob"].values < 1)).sum())}
    nums["regions"] = shape
    text = (
        f"STE (eta = {cfg.learning_rate}) from RTN-failed trained points on d = {cfg.phase_dim}, k = 1 "
        "rivers whose "
        f"sharp normal puts weight alpha on one coordinate, so that Delta / r_b and max_j f_j / r_b vary "
        f"independently: {ds.sizes['step_ratio']} x {ds.sizes['alpha']} cells, up to {cfg.phase_starts} "
        "RTN-failed "
        f"starts per cell ({rec['starts']} in {n_cells} cells, {nums['cells_with_all_starts']} of them "
        f"with all {cfg.phase_starts}; left of delta_perp = r_b RTN cannot fail), "
        f"{cfg.phase_steps} steps, float64. {rec['recovered']} runs enter the basin. Before any simulation, "
        f"landscape.certify_recovery certified {rec['certified']} starts "
        f"({rec['certified_by_theorems']} by the "
        "theorems K1/K1P, the rest by the exact orbit of the 1-D reduction) and refuted "
        f"{rec['refuted']} (empty "
        f"band or an exact cycle). False certificates (certified but not in the basin by t_bound): "
        f"{rec['false_certificates']}; certified with t_bound beyond the horizon and not yet in: "
        f"{rec['unverifiable_certificates']}; false refutations: {rec['false_refutations']}. Coverage of the "
        f"simulated recoveries: {100 * cov:.1f}% (theorems alone: {100 * cov_t:.1f}%). Of the "
        f"{shape['proved']} cells in the proved region (at least 90% of the starts certified by a theorem), "
        f"{shape['proved_above']} lie above max f = 2 r_b; below that line {shape['below_short']} of "
        f"{shape['below']} cells have a start that did not enter the basin within the horizon (the flip "
        "condition is not sufficient: the proof layer refutes S5C with an exact cycle and an empty slice)."
    )
    return StageResult(
        "fig5_phase_diagram",
        "Recovery phase diagram of STE, with the recovery certificate",
        datasets={"fig5_phase_diagram": ds},
        figure=plot_phase_diagram(ds),
        numbers=nums,
        narrative=text,
    )
