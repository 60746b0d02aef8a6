"""Stages that read the other areas of the project: figures 3, 6, 7, the proof table, the bridge.

Each uses that area's public functions (never a re-implementation of its science); when
the area is absent the stage raises :class:`~landscape.reproduce.stage.Missing`.
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from landscape.reproduce.stage import StageResult, require
from landscape.reproduce.valley_stage import blindness_stage

__all__ = [
    "blindness_stage",
    "tightness_stage",
    "rules_stage",
    "bridge_stage",
]


def _r(x, nd=4):
    x = float(x)
    return None if not np.isfinite(x) else round(x, nd)


def tightness_stage(cfg, key) -> StageResult:
    """Figure 6: measured T against T_max of the proof layer's recovery statement (S5), per case."""
    stmts = require("proofs.statements")
    check_case = require("proofs.falsify", "check_case")
    scenarios = require("proofs.scenarios", "SCENARIOS")
    stmt = stmts.by_id("S5")
    from hypothesis import HealthCheck, Phase, given, settings  # noqa: PLC0415

    from landscape.plots.recovery import plot_tightness  # noqa: PLC0415

    rows = []

    @settings(
        max_examples=cfg.tight_cases,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.generate,),
    )
    @given(scenarios[stmt.attack].cases)
    def collect(case):
        res = check_case(stmt, case)
        if res.applicable and "T" in res.values and "T_max" in res.values:
            rows.append((float(res.values["T"]), float(res.values["T_max"]), bool(res.holds)))

    collect()
    if not rows:
        raise RuntimeError("no applicable case of S5 was drawn; raise tight_cases.")
    arr = np.asarray(rows, float)
    ds = xr.Dataset(
        {
            "T": (("case",), arr[:, 0]),
            "T_max": (("case",), arr[:, 1]),
            "holds": (("case",), arr[:, 2].astype(np.int8)),
        },
        coords={"case": np.arange(len(rows))},
    )
    ds.attrs.update(statement="S5", title=stmt.title, n_drawn=int(cfg.tight_cases))
    ratio = arr[:, 0] / np.where(arr[:, 1] > 0, arr[:, 1], np.nan)
    nums = {
        "statement": "S5",
        "applicable_cases": len(rows),
        "violations": int((arr[:, 2] == 0).sum()),
        "max_T_over_T_max": _r(np.nanmax(ratio)) if np.isfinite(ratio).any() else None,
        "median_T_over_T_max": _r(np.nanmedian(ratio)) if np.isfinite(ratio).any() else None,
    }
    text = (
        f"Statement S5 of the proof layer ({stmt.title}): {len(rows)} applicable cases drawn by its own "
        "hypothesis strategy (derandomized), simulated by `proofs.falsify.check_case`. Violations "
        "(T > T_max): "
        f"{nums['violations']}. Largest T / T_max = {nums['max_T_over_T_max']}, median "
        f"{nums['median_T_over_T_max']}: the bound is loose by the inverse of these factors."
    )
    return StageResult(
        "fig6_tightness",
        "Measured T against the theorem's T_max",
        datasets={"fig6_tightness": ds},
        figure=plot_tightness(ds),
        numbers=nums,
        narrative=text,
    )


def rules_stage(cfg, key) -> StageResult:
    """Figure 7: recovery probability and T per QAT rule, with issue 4's recovery experiment."""
    rec = require("landscape.experiments.recovery")
    default_rules = require("landscape.qat", "default_rules")
    from landscape.plots.recovery import plot_rules  # noqa: PLC0415

    cases = {
        "2-D, max f > 2 r_b": rec.rotated2d_case(n_points=cfg.rules_starts, seed=cfg.seed),
        f"d={cfg.rules_dim}, k=4, max f < 2 r_b": rec.highdim_case(
            n_points=cfg.rules_starts, dim=cfg.rules_dim, seed=cfg.seed
        ),
    }
    parts = []
    for name, c in cases.items():
        rules = default_rules(c.learning_rate)
        if cfg.rules_subset:
            rules = {k: v for k, v in rules.items() if k in cfg.rules_subset}
        ds = rec.recovery_experiment(c, rules)
        keep = [
            "p_recover",
            "p_recover_lo",
            "p_recover_hi",
            "p_diverged",
            "T_q10",
            "T_median",
            "T_q90",
            "p_chatter",
            "p_stall",
            "median_switches",
            "median_final_loss",
            "n_failed",
        ]
        s = ds[keep].expand_dims(scenario=[name])
        for a in ("max_flip_size", "delta_perp", "ptq_failure_rate"):
            if a in ds.attrs:
                s[f"{a}_attr"] = (("scenario",), [float(ds.attrs[a])])
        parts.append(s)
    ds = xr.concat(parts, dim="scenario")
    ds.attrs.update(source="landscape.experiments.recovery.recovery_experiment")
    ds = ds.assign(
        {
            "recovery_prob": ds["p_recover"],
            "recovery_lo": ds["p_recover_lo"],
            "recovery_hi": ds["p_recover_hi"],
            "median_T": ds["T_median"],
            "T_lo": ds["T_q10"],
            "T_hi": ds["T_q90"],
        }
    )
    fig = plot_rules(ds, interval_label="10-90%")
    nums = {
        "scenarios": {
            str(sc): {
                str(r): {
                    "p_recover": _r(ds["p_recover"].sel(scenario=sc, rule=r)),
                    "median_T": _r(ds["T_median"].sel(scenario=sc, rule=r)),
                    "p_chatter": _r(ds["p_chatter"].sel(scenario=sc, rule=r)),
                }
                for r in ds["rule"].values
            }
            | {"n_failed": int(ds["n_failed"].sel(scenario=sc))}
            for sc in ds["scenario"].values
        }
    }
    lines = []
    for sc, v in nums["scenarios"].items():
        ste = v.get("ste", {})
        lines.append(
            f"{sc} ({v['n_failed']} RTN-failed starts): STE recovers with probability "
            f"{ste.get('p_recover')} (median T = {ste.get('median_T')}, chattering "
            f"{ste.get('p_chatter')})."
        )
    text = (
        f"{'The rules ' + ', '.join(cfg.rules_subset) if cfg.rules_subset else 'Every rule'} of "
        "`landscape.qat.default_rules` on the two cases of issue 4, from the same RTN-failed "
        "starts (`landscape.experiments.recovery.recovery_experiment`). " + " ".join(lines)
    )
    return StageResult(
        "fig7_rules",
        "QAT rules compared",
        datasets={"fig7_rules": ds},
        figure=fig,
        numbers=nums,
        narrative=text,
    )


def plot_bridge(ds):
    """The bridge figure: (a) loss along the sharpest direction with PTQ points, (b) STE-QAT re-entry.

    Both panels are drawn by issue 8's ``landscape.models.figures`` in the shared style.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from landscape.models.figures import plot_profiles, plot_qat  # noqa: PLC0415
    from landscape.plots.style import DOUBLE_COLUMN, paper_style  # noqa: PLC0415

    with paper_style():
        fig, axes = plt.subplots(1, 2, figsize=(DOUBLE_COLUMN, 3.6))
        plot_profiles(ds, ax=axes[0])
        plot_qat(ds, ax=axes[1])
        for a in axes:
            a.set_title("")  # replaced by the panel titles below
            if a.get_legend() is not None:  # below the panel, clear of the curves
                a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, fontsize=6.5)
        axes[0].set_xlabel(r"offset $t$ along the sharpest direction $n_0$")
        axes[0].set_ylabel(r"loss rise $L(w^\star + t\,n_0) - L^\star$ (nats)")
        axes[1].set_xlabel(r"STE step $t$")
        axes[1].set_ylabel(r"deployed loss rise $L(Q(w_t)) - L^\star$ (nats)")
        axes[0].set_title("(a) Loss along the sharpest direction", loc="left")
        axes[1].set_title("(b) STE-QAT from the PTQ points", loc="left")
        fig.suptitle(f"The bridge: {ds.attrs.get('model', 'model')}, per-channel integer grids", fontsize=9)
    return fig


def bridge_stage(cfg, key) -> StageResult:
    """Figures of the real-model bridge (issue 8): loss profiles with PTQ points, and QAT re-entry."""
    BridgeConfig, run_bridge, summary_rows = require(
        "landscape.models.bridge", "BridgeConfig", "run_bridge", "summary_rows"
    )
    require("landscape.models.figures", "plot_profiles", "plot_qat")
    over = dict(cfg.bridge_overrides)
    bcfg = BridgeConfig.preset(cfg.bridge_model, quick=True, seed=cfg.seed, **over)
    ds = run_bridge(bcfg)
    rows = json.loads(json.dumps(summary_rows(ds), default=float))
    nums = {
        "model": cfg.bridge_model,
        "config": {k: (list(v) if isinstance(v, tuple) else v) for k, v in over.items()},
        "rows": rows,
    }
    lines = [
        f"{r['bits']}-bit {r['ptq'].upper()}: grid/basin {r['grid_to_basin']:.2f}, PTQ "
        f"{'inside' if r['ptq_in_basin'] else 'outside'} the basin, QAT hit time {r['hit_time']} -- "
        f"{r['verdict']}"
        for r in rows
    ]
    text = (
        f"Real-model bridge (issue 8, `landscape.models.bridge.run_bridge`, {cfg.bridge_model}, "
        "quick preset "
        f"with {over or 'no overrides'}): " + "; ".join(lines) + "."
    )
    return StageResult(
        "bridge",
        "Real-model bridge",
        datasets={"bridge": ds},
        figure=plot_bridge(ds),
        numbers=nums,
        narrative=text,
    )
