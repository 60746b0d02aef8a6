"""Figures 4 and 8 as stages: one STE run in the landscape.plot view, re-entering the basin or chattering."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import landscape as L
from landscape.plot import chattering_figure, compare, run_figure, run_view
from landscape.reproduce.stage import Stage
from landscape.reproduce.stages.common import batch_stats, percent, rounded, time_text
from landscape.simulate.chatter import CycleMonitor, chatters, cycle_points
from landscape.studies import figures_data as studies

__all__ = ["TRAJECTORY", "CHATTER"]


def _run_stage_data(ls, qz, rule, starts, batch_steps, pick, n_steps, key, cfg, name):
    """A batch of runs from ``starts`` and one of them (``pick``) with its path, as one Dataset."""
    tr_b = L.run_batch(ls, qz, rule, starts, batch_steps, key=key, save=L.SaveAt.summary(switches=True))
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
    return {name: ds}


def _pick_upper_quartile(hit, switches):
    order = np.argsort(np.where(hit >= 0, hit, np.iinfo(np.int32).max))
    return int(order[int(0.75 * (hit >= 0).sum())]) if (hit >= 0).any() else 0


def _trajectory(cfg, key):
    ls, qz = studies.rotated_case(cfg.anatomy_theta, cfg.anatomy_step, cfg.anatomy_basin_radius, cfg.kappa)
    k1, k2 = jax.random.split(key)
    starts = studies.rtn_failed_starts(ls, qz, k1, cfg.traj_starts)
    rule = L.ste(cfg.learning_rate)
    tr_b = L.run_batch(ls, qz, rule, starts, 500, key=k2)
    i = _pick_upper_quartile(np.asarray(tr_b.hit_time), None)
    n_steps = int(max(2 * max(int(tr_b.hit_time[i]), 1) + 10, 30))
    return _run_stage_data(ls, qz, rule, starts, 500, lambda h, s: i, n_steps, k2, cfg, "fig4_ste_trajectory")


def _traj_numbers(cfg, dss):
    ds = next(iter(dss.values()))
    rb = ds.attrs["basin_radius"]
    stats = batch_stats(ds["batch_hit_time"].values, ds["batch_diverge_time"].values)
    fr = ds.attrs["max_flip_size"] / rb
    return {
        "example_T": int(ds.attrs["hit_time"]),
        "example_settle": int(ds.attrs["settle_time"]),
        "batch": stats,
        "learning_rate": cfg.learning_rate,
        "max_flip_size_over_rb": rounded(fr),
        "delta_perp_over_rb": rounded(ds.attrs["delta_perp"] / rb),
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
    run_figure,
    _traj_numbers,
    "{rule_label} ({optimizer}) from an RTN-failed trained point on the landscape of figure 1, where max_j "
    "f_j / r_b = {max_flip_size_over_rb} {rel_flip} 2. The example shown (an upper-quartile T of the batch) "
    "first enters the basin at T = {example_T} (-1: never) and stays from T_settle = {example_settle}. Over "
    "{batch[n]} RTN-failed starts, {batch[recovered]} enter the basin within {batch_steps} steps "
    "({pct:.1f}%, Wilson 95% [{batch[recovery_lo]}, {batch[recovery_hi]}]; {median_T_text}, "
    "{max_T_text}); {batch[censored]} never enter, {batch[diverged]} diverge.",
    phrases=lambda nums: {
        "median_T_text": time_text(nums["batch"]["median_T"]),
        "max_T_text": time_text(nums["batch"]["max_T"], "max T"),
    },
)


#: steps of the chattering example's recorded run (figure 8 draws the first 60 of them)
CHATTER_SHOWN = 200


def _chatter(cfg, key):
    ls, qz = studies.rotated_case(cfg.chatter_theta, 1.0, cfg.chatter_basin_radius, cfg.kappa)
    k1, k2 = jax.random.split(key)
    starts = studies.rtn_failed_starts(ls, qz, k1, cfg.chatter_starts)
    rule = L.ste(cfg.learning_rate)

    def pick(hit, switches):
        """A start that never enters the basin, the one whose deployed point stays farthest outside it
        over the steps drawn (not one that grazes the edge with a loss that reads as zero)."""
        never = np.flatnonzero(hit < 0)
        if not never.size:
            return int(np.argmax(switches))
        tr_n = L.run_batch(ls, qz, rule, starts[never], CHATTER_SHOWN, key=k2, record_every=1)
        margin = np.min(np.asarray(tr_n.rho_q), axis=-1) - cfg.chatter_basin_radius
        return int(never[int(np.argmax(margin))])

    dss = _run_stage_data(
        ls, qz, rule, starts, cfg.chatter_steps, pick, CHATTER_SHOWN, k2, cfg, "fig8_chattering"
    )
    ds = dss["fig8_chattering"]
    every = cfg.chatter_steps // 10
    save = L.SaveAt(every=every, switches=False, loss_at_hit=False, monitors=(CycleMonitor(),))
    tr = L.run_batch(ls, qz, rule, starts, cfg.chatter_steps, key=k2, save=save)
    ds["batch_chatters"] = (
        ("start",),
        np.asarray(chatters(tr)).astype(np.int8),
        {"long_name": "recurrent cycle of >= 2 grid points outside the basin", "units": "1"},
    )
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
        never_in_basin_fraction=rounded((b["censored"] + b["diverged"]) / b["n"], 4) if b["n"] else None,
        chatter_fraction=None if chat is None else rounded(chat, 4),
        detector="landscape.simulate.chatter.chatters (recurrent cycle of size >= 2 outside the basin)",
        example_cycle_points=ds["cycle_points"].values.tolist(),
        n_cycle=int(ds.sizes["cycle"]),
        example_switches_200_steps=int(ds.attrs["switches"]),
    )
    return nums


CHATTER = Stage(
    "fig8_chattering",
    "Chattering: STE cycles outside the basin when max f > 2 r_b",
    _chatter,
    chattering_figure,
    _chatter_numbers,
    "The counter-case: a 2-D river at theta = {theta} rad with r_b = {basin_radius} and grid step 1, so "
    "max_j f_j / r_b = {max_flip_size_over_rb} {rel_flip} 2. Of {batch[n]} RTN-failed starts, "
    "{batch[censored]} never enter the basin in {num_steps} STE steps and {batch[diverged]} diverge; "
    "{chat_pct} are detected as chattering ({detector}). The example visits {n_cycle} distinct grid points "
    "in its last 64 steps ({example_switches_200_steps} cell switches in 200 steps).",
    phrases=lambda nums: {"chat_pct": percent(nums["chatter_fraction"])},
)
