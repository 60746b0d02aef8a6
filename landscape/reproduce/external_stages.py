"""Stages that read the other areas of the project: figures 3, 6, 7, the proof table, the bridge.

Each uses that area's public functions (never a re-implementation of its science); when
the area is absent the stage raises :class:`~landscape.reproduce.stage.Missing`.
"""

from __future__ import annotations

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
    """The bridge figure (issue 14): settle rates with Wilson intervals, blindness, inward cosines, all seeds.

    Drawn by ``landscape.models.figures.plot_bridge`` from the stage's Dataset, in the shared style.
    """
    import matplotlib.pyplot as plt  # noqa: PLC0415

    from landscape.models.figures import plot_bridge as draw  # noqa: PLC0415
    from landscape.plots.style import DOUBLE_COLUMN, paper_style  # noqa: PLC0415

    with paper_style():
        fig = plt.figure(figsize=(DOUBLE_COLUMN, 0.8 * DOUBLE_COLUMN))
        draw(ds, fig)
        fig.suptitle(f"The bridge: {ds.attrs.get('model', 'model')}, per-channel integer grids, every seed",
                     fontsize=9)
    return fig


#: in ``reproduce --quick`` the stage also shrinks the tuning grid and the oracle (unless overridden)
_STAGE_QUICK = {"sgd_lrs": (1.0,), "adam_lrs": (3e-2,), "oracle_factor": 2, "n_probe": 4, "foot_steps": 30}


def bridge_stage(cfg, key) -> StageResult:
    """The real-model bridge (issue 14): verdicts over seeds with Wilson intervals, and the bridge figure.

    ``cfg.bridge_overrides`` are fields of ``landscape.models.config.BridgeConfig``; keys of the issue-8
    bridge that no longer exist (``k``, ``profile_points``) are ignored and listed in the numbers.
    """
    BridgeConfig = require("landscape.models.config", "BridgeConfig")
    run_bridge, to_dataset = require("landscape.models.bridge", "run_bridge", "to_dataset")
    require("landscape.models.figures", "plot_bridge")
    import dataclasses  # noqa: PLC0415

    fields = {f.name for f in dataclasses.fields(BridgeConfig)}
    over = dict(cfg.bridge_overrides)
    ignored = sorted(k for k in over if k not in fields)
    over = {k: v for k, v in over.items() if k in fields}
    quick = bool(getattr(cfg, "quick", True))
    extra = {k: v for k, v in _STAGE_QUICK.items() if k not in over} if quick else {}
    bcfg = BridgeConfig.preset(cfg.bridge_model, quick=quick, **extra, **over)
    res = run_bridge(bcfg)
    ds = to_dataset(res)
    verdicts = [
        {k: v[k] for k in ("bits", "grid", "method", "band", "label", "n_seeds", "n_outside", "k_settled",
                           "wilson_lo", "wilson_hi", "seeds")}
        for v in res["verdicts"]
    ]
    nums = {
        "model": cfg.bridge_model,
        "config": bcfg.as_dict(),
        "ignored_overrides": ignored,
        "verdicts": verdicts,
        "tuning": {b: t["label"] for b, t in res["tuning"].items()},
        "timings": res["timings"],
        "load": res["load"],
    }
    tested = [v for v in res["verdicts"] if v["band"] == "abs" and v["n_outside"] > 0]
    text = (
        f"Real-model bridge (issue 14, `landscape.models.bridge.run_bridge`, {cfg.bridge_model}, "
        f"{len(bcfg.eval_seeds)} evaluation seeds {list(bcfg.eval_seeds)}, STE-QAT tuned on seeds "
        f"{list(bcfg.tune_seeds)}; absolute band {res['definitions']['abs_band']}; settled = "
        f"{res['definitions']['settled']}): "
        + ("; ".join(v["text"] for v in tested) if tested else "PTQ inside the band everywhere")
        + "."
    )
    return StageResult(
        "bridge",
        "Real-model bridge",
        datasets={"bridge": ds},
        figure=plot_bridge(ds),
        numbers=nums,
        narrative=text,
    )
