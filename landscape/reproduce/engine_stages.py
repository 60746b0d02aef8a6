"""Stages of the study that need only the engine: figures 1, 2, 4, 5 and 8.

Each stage is ``stage(cfg, key) -> StageResult``; the numbers it reports are computed
from the datasets it saves, so every number in report.md and summary.json has its data
in ``results/``.
"""

from __future__ import annotations

import jax
import numpy as np

import landscape as L
from landscape.chatter import cycle_points
from landscape.plots.anatomy import plot_anatomy
from landscape.plots.phase import plot_phase_diagram
from landscape.plots.ptq import plot_rtn_exit
from landscape.plots.trajectory import plot_trajectory
from landscape.reproduce import rtn_study, studies
from landscape.reproduce.phase_study import THEOREMS, phase_dataset
from landscape.reproduce.stage import StageResult
from landscape.simulate.outcomes import recovery_summary

__all__ = ["anatomy_stage", "rtn_exit_stage", "trajectory_stage", "phase_stage", "chatter_stage"]


def _f(x, nd=3):
    return float(np.round(float(x), nd))


def anatomy_stage(cfg, key) -> StageResult:
    """Figure 1: the anatomy of a 2-D landscape."""
    ds = studies.anatomy_dataset(
        cfg.anatomy_theta, cfg.anatomy_step, cfg.anatomy_basin_radius, cfg.kappa, key, n_mesh=cfg.n_mesh
    )
    rho = {str(p): float(ds["point_rho"].sel(point=p)) for p in ds["point"].values}
    loss = {str(p): float(ds["point_loss"].sel(point=p)) for p in ds["point"].values}
    nums = {
        "theta": cfg.anatomy_theta,
        "step": cfg.anatomy_step,
        "basin_radius": cfg.anatomy_basin_radius,
        "delta_perp": ds.attrs["delta_perp"],
        "max_flip_size": ds.attrs["max_flip_size"],
        "rho": rho,
        "loss": loss,
        "oracle_source": ds.attrs["oracle_source"],
    }
    text = (
        f"A 2-D river at angle theta = {cfg.anatomy_theta} rad inside a valley with a flat basin of radius "
        f"r_b = {cfg.anatomy_basin_radius} and quadratic walls (kappa = {cfg.kappa}), quantized on the grid "
        f"{cfg.anatomy_step} Z^2. The trained point w* lies on the river (rho = {rho['trained']:.3g}); "
        f"round-to-nearest moves it to rho = {rho['rtn']:.3f} > r_b (loss {loss['rtn']:.3g}), outside the "
        f"basin, while the best corner of the same rounding cell ({ds.attrs['oracle_source']}) has "
        f"rho = {rho['oracle']:.3f} (loss {loss['oracle']:.3g}). Here delta_perp = "
        f"{ds.attrs['delta_perp']:.3f} > r_b: the grid can push a river point out of the basin."
    )
    return StageResult(
        "fig1_anatomy",
        "Anatomy of a river-valley landscape and its grid",
        datasets={"fig1_anatomy": ds},
        figure=plot_anatomy(ds),
        numbers=nums,
        narrative=text,
    )


def rtn_exit_stage(cfg, key) -> StageResult:
    """Figure 2: RTN exit fraction vs step / r_b, simulated and closed form."""
    ds = rtn_study.rtn_exit_dataset(
        cfg.rtn_thetas, cfg.rtn_dks, cfg.rtn_ratios, cfg.rtn_points, key, basin_radius=cfg.rtn_basin_radius
    )
    agree = rtn_study.agreement(ds)
    hd_diff = float(np.max(np.abs(ds["sim_exit_hd"].values - ds["gaussian_limit_hd"].values)))
    nums = {
        "ratios": [float(r) for r in ds["ratio"].values],
        "thetas": [float(t) for t in ds["theta"].values],
        "simulated_2d": ds["sim_exit_2d"].values.round(4).tolist(),
        "closed_form_2d": ds["closed_form_2d"].values.round(4).tolist(),
        "closed_form_source_2d": ds.attrs["closed_form_source_2d"],
        "agreement_2d": agree,
        "dk": [str(x) for x in ds["dk"].values],
        "simulated_hd": ds["sim_exit_hd"].values.round(4).tolist(),
        "gaussian_limit_hd": ds["gaussian_limit_hd"].values.round(4).tolist(),
        "max_abs_diff_hd_vs_gaussian": _f(hd_diff, 4),
        "n_points_per_cell": cfg.rtn_points,
    }
    text = (
        f"RTN exit fraction over {cfg.rtn_points} trained points per cell, spread along the river, "
        "against the "
        f"closed form. In 2-D ({len(cfg.rtn_thetas)} angles x {len(cfg.rtn_ratios)} step ratios) the "
        f"simulation and the exact law ({ds.attrs['closed_form_source_2d']}) differ by at most "
        f"{agree['max_abs_diff']:.4f}; every cell is within the stated error ({agree['stated_error']}): "
        f"{'yes' if agree['agree'] else 'NO'} (largest |diff| / tolerance = "
        f"{agree['max_diff_over_tolerance']:.2f}). In high dimension the Gaussian limit "
        f"P(chi2_k > 12 r_b^2 / Delta^2) is within {hd_diff:.3f} of the simulation (an approximation; "
        f"no error bound is claimed here). The exit fraction is zero while Delta / r_b is small and rises "
        f"steeply once the typical normal error Delta sqrt(k/12) reaches r_b. (Angles with a rational slope, "
        f"such as pi/4, are avoided: their residuals do not equidistribute along the river.)"
    )
    return StageResult(
        "fig2_rtn_exit",
        "RTN exit probability against grid step / basin radius",
        datasets={"fig2_rtn_exit": ds},
        figure=plot_rtn_exit(ds),
        numbers=nums,
        narrative=text,
    )


def _batch_stats(hit, div):
    """Recovered / censored / diverged counts, Wilson interval and T: landscape.simulate.outcomes."""
    return recovery_summary(hit, div, digits=4)


def trajectory_stage(cfg, key) -> StageResult:
    """Figure 4: one STE trajectory from an RTN-failed point, with T marked."""
    ls, qz = studies.rotated_case(cfg.anatomy_theta, cfg.anatomy_step, cfg.anatomy_basin_radius, cfg.kappa)
    k1, k2 = jax.random.split(key)
    starts = studies.rtn_failed_starts(ls, qz, k1, cfg.traj_starts)
    rule = L.ste(cfg.learning_rate)
    tr = L.run_batch(ls, qz, rule, starts, 500, key=k2, record_every=500)
    stats = _batch_stats(tr.hit_time, tr.diverge_time)
    hit = np.asarray(tr.hit_time)
    order = np.argsort(np.where(hit >= 0, hit, np.iinfo(np.int32).max))
    pick = (
        int(order[int(0.75 * (hit >= 0).sum())]) if (hit >= 0).any() else 0
    )  # upper-quartile T: a visible path
    n_steps = int(max(2 * max(int(hit[pick]), 1) + 10, 30))
    ds = studies.trajectory_dataset(ls, qz, rule, starts[pick], n_steps, key=k2, n_mesh=cfg.n_mesh)
    nums = {
        "example_T": int(ds.attrs["hit_time"]),
        "batch": stats,
        "learning_rate": cfg.learning_rate,
        "max_flip_size_over_rb": _f(ds.attrs["max_flip_size"] / cfg.anatomy_basin_radius),
        "delta_perp_over_rb": _f(ds.attrs["delta_perp"] / cfg.anatomy_basin_radius),
    }
    text = (
        f"STE (eta = {cfg.learning_rate}) from an RTN-failed trained point on the landscape of "
        "figure 1, where "
        f"max_j f_j / r_b = {nums['max_flip_size_over_rb']} < 2 (compatible grid). The latent w_t "
        "moves inward "
        f"while Q(w_t) is outside; the deployed point enters the basin at T = {nums['example_T']}. Over "
        f"{stats['n']} RTN-failed starts, {100 * stats['recovery_prob']:.1f}% enter the basin "
        "within 500 steps "
        f"(median T = {stats['median_T']}, max T = {stats['max_T']}); the example shown has an "
        "upper-quartile T."
    )
    return StageResult(
        "fig4_ste_trajectory",
        "An STE trajectory re-enters the basin",
        datasets={"fig4_ste_trajectory": ds},
        figure=plot_trajectory(ds),
        numbers=nums,
        narrative=text,
    )


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


def chatter_stage(cfg, key) -> StageResult:
    """Figure 8: the 2-D counter-case (max f > 2 r_b) where STE chatters between two outside points."""
    ls, qz = studies.rotated_case(cfg.chatter_theta, 1.0, cfg.chatter_basin_radius, cfg.kappa)
    k1, k2 = jax.random.split(key)
    starts = studies.rtn_failed_starts(ls, qz, k1, cfg.chatter_starts)
    rule = L.ste(cfg.learning_rate)
    try:
        from landscape.chatter import chatter_monitor, chatters  # noqa: PLC0415

        mon = chatter_monitor(rule)
        tr = L.run_batch(ls, qz, mon, starts, cfg.chatter_steps, key=k2, record_every=cfg.chatter_steps // 10)
        chat = np.asarray(chatters(tr))
        detector = "landscape.chatter.chatters (recurrent cycle of size >= 2 outside the basin)"
    except ImportError:
        tr = L.run_batch(ls, qz, rule, starts, cfg.chatter_steps, key=k2, record_every=cfg.chatter_steps)
        chat = None
        detector = "unavailable (landscape.chatter missing)"
    hit = np.asarray(tr.hit_time)
    stats = _batch_stats(hit, tr.diverge_time)
    never = np.flatnonzero(hit < 0)
    pick = int(never[0]) if never.size else int(np.argmax(np.asarray(tr.switches)))
    if never.size > 1:  # show the clearest cycle: two points, farthest from the basin
        cand = never[:16]
        tp = L.run_batch(ls, qz, rule, starts[cand], 200, key=k2, record_path=True)
        q = np.asarray(tp.q_path)
        n_dist = np.array([cycle_points(q[i]).shape[0] for i in range(len(cand))])
        score = 10.0 * (n_dist == 2) + np.asarray(tp.rho_q).min(1) / cfg.chatter_basin_radius
        pick = int(cand[int(np.argmax(score))])
    ds = studies.trajectory_dataset(ls, qz, rule, starts[pick], 200, key=k2, n_mesh=cfg.n_mesh)
    ds = ds.assign(batch_hit_time=(("start",), hit), batch_switches=(("start",), np.asarray(tr.switches)))
    if chat is not None:
        ds = ds.assign(batch_chatters=(("start",), chat.astype(np.int8)))
    nums = {
        "theta": cfg.chatter_theta,
        "basin_radius": cfg.chatter_basin_radius,
        "max_flip_size_over_rb": _f(ds.attrs["max_flip_size"] / cfg.chatter_basin_radius),
        "num_steps": cfg.chatter_steps,
        "batch": stats,
        "never_in_basin_fraction": _f(1 - stats["recovery_prob"], 4),
        "chatter_fraction": None if chat is None else _f(chat.mean(), 4),
        "detector": detector,
        "example_cycle_points": ds["cycle_points"].values.tolist(),
        "example_switches_200_steps": int(ds.attrs["switches"]),
        "example_in_basin_corner_exists": bool(ds.attrs["oracle_in_basin"]),
    }
    chat_txt = "" if chat is None else f" {100 * chat.mean():.1f}% are detected as chattering ({detector})."
    text = (
        f"The counter-case: a 2-D river at theta = {cfg.chatter_theta} rad with r_b = "
        f"{cfg.chatter_basin_radius} and grid step 1, so max_j f_j / r_b = "
        f"{nums['max_flip_size_over_rb']} > 2. "
        f"Of {stats['n']} RTN-failed starts, {100 * nums['never_in_basin_fraction']:.1f}% never "
        "enter the basin "
        f"in {cfg.chatter_steps} STE steps.{chat_txt} The example cycles among "
        f"{len(nums['example_cycle_points'])} grid points outside the basin "
        f"({nums['example_switches_200_steps']} cell switches in 200 steps) although a corner of "
        "its starting "
        f"cell lies inside the basin: {'yes' if nums['example_in_basin_corner_exists'] else 'no'}."
    )
    return StageResult(
        "fig8_chattering",
        "Chattering: STE cycles outside the basin when max f > 2 r_b",
        datasets={"fig8_chattering": ds},
        figure=plot_trajectory(ds, max_steps_shown=60),
        numbers=nums,
        narrative=text,
    )
