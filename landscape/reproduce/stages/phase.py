"""Figure 5 as a stage: STE's recovery phase diagram from RTN-failed starts, with the recovery certificate.

Its numbers are computed from the dataset it saves (``results/fig5_phase_diagram.nc``), so every number in
report.md and summary.json has its data.
"""

from __future__ import annotations

import jax
import numpy as np

from landscape.plot import plot_phase_diagram
from landscape.reproduce.stage import Stage
from landscape.reproduce.stages.common import batch_stats, percent, rounded
from landscape.studies.dyadic_audit import dyadic_dataset, dyadic_record
from landscape.studies.figures_data import sharp_panel_dataset
from landscape.studies.phase_study import THEOREMS, phase_dataset

__all__ = ["PHASE", "with_sharp_panel", "with_dyadic_family"]

#: cases per certificate call of the dyadic family (one compile; smoke, quick and full share the first group)
DYADIC_GROUP = 250

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
    sharp = sharp_panel_dataset(
        cfg.phase_sharp_dim,
        cfg.phase_sharp_k,
        cfg.phase_sharp_step_ratios,
        cfg.phase_sharp_rho_ratios,
        cfg.phase_sharp_starts,
        cfg.phase_steps,
        jax.random.fold_in(key, 2),
        kappa=cfg.kappa,
        learning_rate=cfg.learning_rate,
    )
    dyadic = dyadic_dataset(cfg.phase_dyadic_cases, cfg.seed, k=1, budget=cfg.phase_dyadic_budget,
                            group=DYADIC_GROUP)  # fmt: skip
    return {"fig5_phase_diagram": with_dyadic_family(with_sharp_panel(ds, sharp), dyadic)}


def with_sharp_panel(ds, sharp):
    """Figure 5's dataset with the k >= 2 panel's variables, dimensions and attributes prefixed ``sharp_``."""
    names = {**{v: f"sharp_{v}" for v in sharp.data_vars}, **{d: f"sharp_{d}" for d in sharp.dims}}
    out = ds.merge(sharp.rename(names), combine_attrs="override")
    out.attrs.update({f"sharp_{k}": v for k, v in sharp.attrs.items()})
    return out


def with_dyadic_family(ds, dyadic):
    """Figure 5's dataset with the dyadic family's rows (``landscape.studies.dyadic_audit.dyadic_dataset``) as
    ``dyadic_*`` variables over the dimension ``dyadic_case``, its attributes prefixed ``dyadic_``."""
    names = {**{v: f"dyadic_{v}" for v in dyadic.variables}, **{d: f"dyadic_{d}" for d in dyadic.dims}}
    out = ds.merge(dyadic.rename(names), combine_attrs="override")
    out.attrs.update({f"dyadic_{k}": v for k, v in dyadic.attrs.items()})
    return out


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
        "sharp": {
            k: ds.attrs[f"sharp_{k}"]
            for k in ("k", "dim", "starts", "recovered", "certified", "refuted", "unknown",
                      "false_certificates", "false_refutations", "num_steps")
        }
        | {"cells": [ds.sizes["sharp_step_ratio"], ds.sizes["sharp_rho_ratio"]]},
        "dyadic": {"k": int(ds.attrs["dyadic_k"]), "budget": int(ds.attrs["dyadic_budget"]),
                   "seed": int(ds.attrs["dyadic_seed"])} | dyadic_record(ds, "dyadic_"),  # fmt: skip
    }


def _phase_phrases(nums):
    cert = nums["certificate"]
    return {"coverage_pct": percent(cert["coverage"]),
            "coverage_theorems_pct": percent(cert["coverage_theorems"]),
            "dyadic_coverage_pct": percent(nums["dyadic"]["coverage_of_exact_hits"])}


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
    "condition is not sufficient: the proof layer refutes S5C with an exact cycle and an empty slice). "
    "Panel (c), k = {sharp[k]} sharp directions in d = {sharp[dim]}: {sharp[cells][0]} x {sharp[cells][1]} "
    "cells over (Delta / r_b, rho(w*) / r_b), the bottom row trained points on the river's centre (regime "
    "ptq_failed), the rows above trained points inside the basin whose RTN point is outside (regime "
    "in_basin, the paper's setting); {sharp[starts]} RTN-failed starts, {sharp[recovered]} enter the basin "
    "within {sharp[num_steps]} steps; the certificate (validated orbit, S5, K2R) certified "
    "{sharp[certified]}, refuted {sharp[refuted]} and left {sharp[unknown]} unknown, with "
    "{sharp[false_certificates]} false certificates and {sharp[false_refutations]} false refutations "
    "against the float64 runs. Reported apart, the dyadic family (exact binary inputs: power-of-two steps, "
    "bf16 trained points with 40% of coordinates on a rounding tie, RTN-failed, k = {dyadic[k]}; "
    "landscape.studies.dyadic_audit), judged by the exact rational STE orbit (round half to even, "
    "{dyadic[budget]} steps): of {dyadic[cases]} cases the certificate certified {dyadic[certified]}, "
    "refuted {dyadic[refuted]} and left {dyadic[unknown]} unknown, with {dyadic[false_certificates]} false "
    "certificates and {dyadic[false_refutations]} false refutations; it certified "
    "{dyadic[certified_exact_hits]} of the {dyadic[exact_hits]} cases whose exact orbit enters the basin "
    "(coverage {dyadic_coverage_pct}).",
    phrases=_phase_phrases,
)
