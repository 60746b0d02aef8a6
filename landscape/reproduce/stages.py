"""The stages of ``landscape reproduce`` as data (:class:`~landscape.reproduce.stage.Stage`): figures 1, 2, 4,
6, 7 and 8 here; the phase diagram, Hessian blindness, proof table and bridge stages are wrapped as they are.

Each stage's numbers are computed from the datasets it saves, and its text is a template of those numbers:
a relation such as "rho(q) > r_b" is itself a number of the stage (``landscape.plot.compare``), never a
word chosen by the author.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

import landscape as L
from landscape.chatter import cycle_points
from landscape.plot import anatomy_figure, compare, rtn_exit_figure, run_figure, run_view
from landscape.plot.frame import frame_for
from landscape.reproduce import rtn_study, studies
from landscape.reproduce.stage import Stage, require
from landscape.simulate.outcomes import recovery_summary

__all__ = ["ANATOMY", "RTN_EXIT", "TRAJECTORY", "CHATTER", "TIGHTNESS", "RULES"]


def _f(x, nd=3):
    x = float(x)
    return None if not np.isfinite(x) else float(np.round(x, nd))


def _batch_stats(hit, div):
    """Recovered / censored / diverged counts, Wilson interval and T: landscape.simulate.outcomes."""
    return recovery_summary(hit, div, digits=4)


# -- figure 1 ---------------------------------------------------------------------------------------
def _anatomy(cfg, key):
    ds = studies.anatomy_dataset(
        cfg.anatomy_theta, cfg.anatomy_step, cfg.anatomy_basin_radius, cfg.kappa, key, n_mesh=cfg.n_mesh
    )
    ls, qz = studies.rotated_case(cfg.anatomy_theta, cfg.anatomy_step, cfg.anatomy_basin_radius, cfg.kappa)
    fr = frame_for(ls)
    x, y = ds["x"].values, ds["y"].values
    g = fr.grid_points(qz, (x.min(), x.max()), (y.min(), y.max()))
    ds = ds.assign(
        grid_x=(("grid",), g[:, 0], {"long_name": "grid point, w1", "units": "weight units"}),
        grid_y=(("grid",), g[:, 1], {"long_name": "grid point, w2", "units": "weight units"}),
    )
    ds.attrs.update(frame=fr.name, xlabel=fr.xlabel, ylabel=fr.ylabel)
    return {"fig1_anatomy": _units(ds)}


def _anatomy_numbers(cfg, dss):
    ds = dss["fig1_anatomy"]
    rho = {str(p): float(ds["point_rho"].sel(point=p)) for p in ds["point"].values}
    loss = {str(p): float(ds["point_loss"].sel(point=p)) for p in ds["point"].values}
    rb = cfg.anatomy_basin_radius
    return {
        "theta": cfg.anatomy_theta,
        "step": cfg.anatomy_step,
        "basin_radius": rb,
        "kappa": cfg.kappa,
        "delta_perp": ds.attrs["delta_perp"],
        "max_flip_size": ds.attrs["max_flip_size"],
        "rho": rho,
        "loss": loss,
        "oracle_source": ds.attrs["oracle_source"],
        "rel_rtn": compare(rho["rtn"], rb),
        "rel_oracle": compare(rho["oracle"], rb),
        "rel_dp": compare(ds.attrs["delta_perp"], rb),
    }


ANATOMY = Stage(
    "fig1_anatomy",
    "Anatomy of a river-valley landscape and its grid",
    _anatomy,
    anatomy_figure,
    _anatomy_numbers,
    "A 2-D river at angle theta = {theta} rad inside a valley with a flat basin of radius r_b = "
    "{basin_radius} and quadratic walls (kappa = {kappa}), quantized on the grid {step} Z^2. The trained "
    "point w* lies on the river (rho = {rho[trained]:.3g}); round-to-nearest moves it to rho = "
    "{rho[rtn]:.3f} {rel_rtn} r_b (loss {loss[rtn]:.3g}), while the best corner of the same rounding cell "
    "({oracle_source}) has rho = {rho[oracle]:.3f} {rel_oracle} r_b (loss {loss[oracle]:.3g}). Here "
    "delta_perp = {delta_perp:.3f} {rel_dp} r_b.",
)


# -- figure 2 ---------------------------------------------------------------------------------------
def _rtn(cfg, key):
    ds = rtn_study.rtn_exit_dataset(
        cfg.rtn_thetas, cfg.rtn_dks, cfg.rtn_ratios, cfg.rtn_points, key, basin_radius=cfg.rtn_basin_radius
    )
    n = cfg.rtn_points
    for v in ("2d", "hd"):
        lo, hi = L.wilson_interval(np.rint(ds[f"sim_exit_{v}"].values * n), n)
        dims = ds[f"sim_exit_{v}"].dims
        ds[f"exit_lo_{v}"] = (dims, lo, {"long_name": "Wilson 95% interval, low", "units": "1"})
        ds[f"exit_hi_{v}"] = (dims, hi, {"long_name": "Wilson 95% interval, high", "units": "1"})
    return {"fig2_rtn_exit": _units(ds)}


def _rtn_numbers(cfg, dss):
    ds = dss["fig2_rtn_exit"]
    agree = rtn_study.agreement(ds)
    hd = float(np.max(np.abs(ds["sim_exit_hd"].values - ds["gaussian_limit_hd"].values)))
    return {
        "ratios": [float(r) for r in ds["ratio"].values],
        "thetas": [float(t) for t in ds["theta"].values],
        "simulated_2d": ds["sim_exit_2d"].values.round(4).tolist(),
        "closed_form_2d": ds["closed_form_2d"].values.round(4).tolist(),
        "closed_form_source_2d": ds.attrs["closed_form_source_2d"],
        "agreement_2d": agree,
        "dk": [str(x) for x in ds["dk"].values],
        "simulated_hd": ds["sim_exit_hd"].values.round(4).tolist(),
        "gaussian_limit_hd": ds["gaussian_limit_hd"].values.round(4).tolist(),
        "max_abs_diff_hd_vs_gaussian": _f(hd, 4),
        "n_points_per_cell": cfg.rtn_points,
        "n_thetas": len(cfg.rtn_thetas),
        "n_ratios": len(cfg.rtn_ratios),
        "within": "yes" if agree["agree"] else "NO",
    }


RTN_EXIT = Stage(
    "fig2_rtn_exit",
    "RTN exit probability against grid step / basin radius",
    _rtn,
    rtn_exit_figure,
    _rtn_numbers,
    "RTN exit fraction over {n_points_per_cell} trained points per cell, spread along the river, against the "
    "closed form. In 2-D ({n_thetas} angles x {n_ratios} step ratios) the simulation and the exact law "
    "({closed_form_source_2d}) differ by at most {agreement_2d[max_abs_diff]:.4f}; every cell within the "
    "stated error ({agreement_2d[stated_error]}): {within} (largest |diff| / tolerance = "
    "{agreement_2d[max_diff_over_tolerance]:.2f}). In high dimension the Gaussian limit P(chi2_k > 12 r_b^2 "
    "/ Delta^2) is within {max_abs_diff_hd_vs_gaussian} of the simulation (an approximation; no error bound "
    "is claimed). Intervals in the figure are Wilson 95% intervals. (Angles with a rational slope, such as "
    "pi/4, are avoided: their residuals do not equidistribute along the river.)",
)


# -- figures 4 and 8: one run in the landscape.plot view ------------------------------------------------
def _run_stage_data(ls, qz, rule, starts, batch_steps, pick, n_steps, key, cfg, name, *, chat=None):
    tr_b = L.run_batch(ls, qz, rule, starts, batch_steps, key=key, record_every=batch_steps)
    stats = _batch_stats(tr_b.hit_time, tr_b.diverge_time)
    i = pick(np.asarray(tr_b.hit_time), np.asarray(tr_b.switches))
    tr = L.run(ls, qz, rule, jnp.asarray(starts[i]), n_steps, key=key, record_path=True)
    ds = run_view(tr, ls, qz, rule, n=cfg.n_mesh, num_steps=n_steps)
    cyc = cycle_points(np.asarray(tr.q_path))
    ds = ds.assign(
        batch_hit_time=(
            ("start",),
            np.asarray(tr_b.hit_time),
            {"long_name": "T of each start (-1: never)", "units": "steps"},
        ),
        batch_diverge_time=(
            ("start",),
            np.asarray(tr_b.diverge_time),
            {"long_name": "divergence step of each start (-1: never)", "units": "steps"},
        ),
        batch_switches=(("start",), np.asarray(tr_b.switches), {"long_name": "cell switches", "units": "1"}),
        cycle_points=(
            ("cycle", "xy"),
            cyc,
            {"long_name": "distinct deployed points of the last 64 steps", "units": "weight units"},
        ),
    )
    ds.attrs.update(
        batch_steps=int(batch_steps), learning_rate=float(cfg.learning_rate), example_start=int(i)
    )
    return {name: ds}, stats


def _pick_upper_quartile(hit, switches):
    order = np.argsort(np.where(hit >= 0, hit, np.iinfo(np.int32).max))
    return int(order[int(0.75 * (hit >= 0).sum())]) if (hit >= 0).any() else 0


def _trajectory(cfg, key):
    ls, qz = studies.rotated_case(cfg.anatomy_theta, cfg.anatomy_step, cfg.anatomy_basin_radius, cfg.kappa)
    k1, k2 = jax.random.split(key)
    starts = studies.rtn_failed_starts(ls, qz, k1, cfg.traj_starts)
    rule = L.ste(cfg.learning_rate)
    tr_b = L.run_batch(ls, qz, rule, starts, 500, key=k2, record_every=500)
    i = _pick_upper_quartile(np.asarray(tr_b.hit_time), None)
    n_steps = int(max(2 * max(int(tr_b.hit_time[i]), 1) + 10, 30))
    dss, _ = _run_stage_data(
        ls, qz, rule, starts, 500, lambda h, s: i, n_steps, k2, cfg, "fig4_ste_trajectory"
    )
    return dss


def _traj_numbers(cfg, dss, rb=None, steps_key="batch_steps"):
    ds = next(iter(dss.values()))
    rb = ds.attrs["basin_radius"] if rb is None else rb
    stats = _batch_stats(ds["batch_hit_time"].values, ds["batch_diverge_time"].values)
    fr = ds.attrs["max_flip_size"] / rb
    return {
        "example_T": int(ds.attrs["hit_time"]),
        "example_settle": int(ds.attrs["settle_time"]),
        "batch": stats,
        "learning_rate": cfg.learning_rate,
        "max_flip_size_over_rb": _f(fr),
        "delta_perp_over_rb": _f(ds.attrs["delta_perp"] / rb),
        "rel_flip": compare(fr, 2.0),
        "batch_steps": int(ds.attrs["batch_steps"]),
        "rule_label": ds.attrs.get("rule_label", ""),
        "optimizer": ds.attrs.get("optimizer", ""),
        "pct": 100 * (stats["recovery_prob"] or 0.0),
    }


TRAJECTORY = Stage(
    "fig4_ste_trajectory",
    "An STE trajectory re-enters the basin",
    _trajectory,
    lambda ds: run_figure(ds),
    _traj_numbers,
    "{rule_label} ({optimizer}) from an RTN-failed trained point on the landscape of figure 1, where max_j "
    "f_j / r_b = {max_flip_size_over_rb} {rel_flip} 2. The example shown (an upper-quartile T of the batch) "
    "first enters the basin at T = {example_T} (-1: never) and stays from T_settle = {example_settle}. Over "
    "{batch[n]} RTN-failed starts, {batch[recovered]} enter the basin within {batch_steps} steps "
    "({pct:.1f}%, Wilson 95% [{batch[recovery_lo]}, {batch[recovery_hi]}]; median T = {batch[median_T]}, max "
    "T = {batch[max_T]}); {batch[censored]} never enter, {batch[diverged]} diverge.",
)


def _chatter(cfg, key):
    ls, qz = studies.rotated_case(cfg.chatter_theta, 1.0, cfg.chatter_basin_radius, cfg.kappa)
    k1, k2 = jax.random.split(key)
    starts = studies.rtn_failed_starts(ls, qz, k1, cfg.chatter_starts)
    rule = L.ste(cfg.learning_rate)

    def pick(hit, switches):
        never = np.flatnonzero(hit < 0)
        return int(never[0]) if never.size else int(np.argmax(switches))

    dss, _ = _run_stage_data(ls, qz, rule, starts, cfg.chatter_steps, pick, 200, k2, cfg, "fig8_chattering")
    ds = dss["fig8_chattering"]
    try:
        from landscape.chatter import chatter_monitor, chatters  # noqa: PLC0415

        tr = L.run_batch(
            ls,
            qz,
            chatter_monitor(rule),
            starts,
            cfg.chatter_steps,
            key=k2,
            record_every=cfg.chatter_steps // 10,
        )
        ds["batch_chatters"] = (
            ("start",),
            np.asarray(chatters(tr)).astype(np.int8),
            {"long_name": "recurrent cycle of >= 2 grid points outside the basin", "units": "1"},
        )
    except ImportError:
        pass
    return dss


def _chatter_numbers(cfg, dss):
    nums = _traj_numbers(cfg, dss)
    ds = dss["fig8_chattering"]
    b = nums["batch"]
    chat = float(ds["batch_chatters"].values.mean()) if "batch_chatters" in ds else None
    nums.update(
        theta=cfg.chatter_theta,
        basin_radius=cfg.chatter_basin_radius,
        num_steps=cfg.chatter_steps,
        never_in_basin_fraction=_f((b["censored"] + b["diverged"]) / b["n"], 4) if b["n"] else None,
        chatter_fraction=None if chat is None else _f(chat, 4),
        detector="landscape.chatter.chatters (recurrent cycle of size >= 2 outside the basin)",
        example_cycle_points=ds["cycle_points"].values.tolist(),
        n_cycle=int(ds.sizes["cycle"]),
        example_switches_200_steps=int(ds.attrs["switches"]),
        chat_pct="n/a" if chat is None else f"{100 * chat:.1f}%",
    )
    return nums


CHATTER = Stage(
    "fig8_chattering",
    "Chattering: STE cycles outside the basin when max f > 2 r_b",
    _chatter,
    lambda ds: run_figure(ds, max_steps=60),
    _chatter_numbers,
    "The counter-case: a 2-D river at theta = {theta} rad with r_b = {basin_radius} and grid step 1, so "
    "max_j f_j / r_b = {max_flip_size_over_rb} {rel_flip} 2. Of {batch[n]} RTN-failed starts, "
    "{batch[censored]} never enter the basin in {num_steps} STE steps and {batch[diverged]} diverge; "
    "{chat_pct} are detected as chattering ({detector}). The example visits {n_cycle} distinct grid points "
    "in its last 64 steps ({example_switches_200_steps} cell switches in 200 steps).",
)


# -- figures 6 and 7 ---------------------------------------------------------------------------------
def _tightness(cfg, key):
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from landscape.reproduce.external_stages import tightness_stage  # noqa: PLC0415

    res = tightness_stage(cfg, key)
    plt.close(res.figure)
    return res.datasets


def _tight_numbers(cfg, dss):
    ds = dss["fig6_tightness"]
    t, tm, holds = ds["T"].values, ds["T_max"].values, ds["holds"].values
    ratio = t / np.where(tm > 0, tm, np.nan)
    fin = np.isfinite(ratio)
    return {
        "statement": "S5",
        "title": ds.attrs.get("title", ""),
        "applicable_cases": int(t.size),
        "violations": int((holds == 0).sum()),
        "max_T_over_T_max": _f(np.nanmax(ratio), 4) if fin.any() else None,
        "median_T_over_T_max": _f(np.nanmedian(ratio), 4) if fin.any() else None,
    }


def _plot_tightness(ds):
    from landscape.plots.recovery import plot_tightness  # noqa: PLC0415

    return plot_tightness(ds)


TIGHTNESS = Stage(
    "fig6_tightness",
    "Measured T against the theorem's T_max",
    _tightness,
    _plot_tightness,
    _tight_numbers,
    "Statement {statement} of the proof layer ({title}): {applicable_cases} applicable cases drawn by its "
    "own hypothesis strategy (derandomized), simulated by `proofs.falsify.check_case`. Violations (T > "
    "T_max): {violations}. Largest T / T_max = {max_T_over_T_max}, median {median_T_over_T_max}.",
)


def _rules(cfg, key):
    require("landscape.experiments.recovery")
    from landscape.reproduce.external_stages import rules_stage  # noqa: PLC0415

    res = rules_stage(cfg, key)
    import matplotlib.pyplot as plt  # noqa: PLC0415

    plt.close(res.figure)
    return res.datasets


def _rules_numbers(cfg, dss):
    ds = dss["fig7_rules"]
    scen = {}
    for sc in ds["scenario"].values:
        row = {
            str(r): {
                "p_recover": _f(ds["p_recover"].sel(scenario=sc, rule=r), 4),
                "p_recover_lo": _f(ds["p_recover_lo"].sel(scenario=sc, rule=r), 4),
                "p_recover_hi": _f(ds["p_recover_hi"].sel(scenario=sc, rule=r), 4),
                "p_diverged": _f(ds["p_diverged"].sel(scenario=sc, rule=r), 4),
                "median_T": _f(ds["T_median"].sel(scenario=sc, rule=r)),
                "p_chatter": _f(ds["p_chatter"].sel(scenario=sc, rule=r), 4),
            }
            for r in ds["rule"].values
        }
        scen[str(sc)] = row | {"n_failed": int(ds["n_failed"].sel(scenario=sc))}
    lines = [
        f"{sc} ({v['n_failed']} RTN-failed starts): STE recovers with probability {v['ste']['p_recover']} "
        f"(Wilson 95% [{v['ste']['p_recover_lo']}, {v['ste']['p_recover_hi']}], median T = "
        f"{v['ste']['median_T']}, chattering {v['ste']['p_chatter']}, diverged {v['ste']['p_diverged']})."
        for sc, v in scen.items()
        if "ste" in v
    ]
    rules = ", ".join(cfg.rules_subset) if cfg.rules_subset else "every rule of landscape.qat.default_rules"
    return {"scenarios": scen, "rules": rules, "lines": " ".join(lines)}


def _plot_rules(ds):
    from landscape.plots.recovery import plot_rules  # noqa: PLC0415

    return plot_rules(ds, interval_label="10-90%")


RULES = Stage(
    "fig7_rules",
    "QAT rules compared",
    _rules,
    _plot_rules,
    _rules_numbers,
    "The rules ({rules}) from the same RTN-failed starts of a 2-D case (max f > 2 r_b) and a "
    "high-dimensional one (landscape.experiments.recovery.recovery_experiment); recovered, never-entered and "
    "diverged runs are counted apart. {lines}",
)


def _guess_units(name: str) -> str:
    n = name.lower()
    if "loss" in n:
        return "loss"
    if any(
        t in n for t in ("prob", "fraction", "rate", "p_", "same", "exit", "holds", "in_basin", "chatter")
    ):
        return "1"
    if n in ("t", "tp") or any(t in n for t in ("_t", "time", "steps", "t_max", "t_lo", "t_hi")) or n == "T":
        return "steps"
    if any(
        t in n for t in ("rho", "radius", "step", "offset", "_x", "_y", "path", "cycle", "along", "across")
    ) or n in ("x", "y", "s"):
        return "weight units"
    return "1"


def _units(ds: xr.Dataset) -> xr.Dataset:
    """Fill in long names and units on every variable and coordinate that has none (units from the name)."""
    for name in list(ds.data_vars) + list(ds.coords):
        a = ds[name].attrs
        a.setdefault("long_name", str(name).replace("_", " "))
        a.setdefault("units", _guess_units(str(name)))
    return ds
