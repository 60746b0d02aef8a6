"""Figures 6 and 7 as stages: measured T against the proof layer's T_max, and the QAT rules compared.

Both read other areas of the project through their public functions (the proof layer's statement S5 and
its case strategy; ``landscape.studies.recovery``); when an area is absent the stage raises
:class:`~landscape.reproduce.stage.Missing`.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from landscape.plot import plot_tightness, rules_figure
from landscape.reproduce.stage import Stage, require
from landscape.reproduce.stages.common import rounded, time_text

__all__ = ["TIGHTNESS", "RULES"]


# -- figure 6 ---------------------------------------------------------------------------------------
def _tightness(cfg, key):
    """T, T_max and whether T <= T_max on the applicable cases of S5 drawn by its own strategy."""
    stmts = require("proofs.catalog")
    check_case = require("proofs.core.falsify", "check_case")
    scenarios = stmts.SCENARIOS
    stmt = stmts.by_id("S5")
    from hypothesis import HealthCheck, Phase, given, settings  # noqa: PLC0415

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
    return {"fig6_tightness": ds}


def _tight_numbers(cfg, dss):
    ds = dss["fig6_tightness"]
    t, tm, holds = ds["T"].values, ds["T_max"].values, ds["holds"].values
    ratio = t / np.where(tm > 0, tm, np.nan)
    fin = np.isfinite(ratio)
    return {
        "statement": str(ds.attrs["statement"]),
        "title": ds.attrs.get("title", ""),
        "applicable_cases": int(t.size),
        "violations": int((holds == 0).sum()),
        "max_T_over_T_max": rounded(np.nanmax(ratio), 4) if fin.any() else None,
        "median_T_over_T_max": rounded(np.nanmedian(ratio), 4) if fin.any() else None,
    }


TIGHTNESS = Stage(
    "fig6_tightness",
    "Measured T against the theorem's T_max",
    _tightness,
    plot_tightness,
    _tight_numbers,
    "Statement {statement} of the proof layer ({title}): {applicable_cases} applicable cases drawn by its "
    "own hypothesis strategy (derandomized), simulated by `proofs.core.falsify.check_case`. Violations (T > "
    "T_max): {violations}. Largest T / T_max = {max_T_over_T_max}, median {median_T_over_T_max}.",
)


# -- figure 7 ---------------------------------------------------------------------------------------
_RULE_VARS = ["p_recover", "p_recover_lo", "p_recover_hi", "p_diverged", "T_q10", "T_median", "T_q90",
              "p_chatter", "p_stall", "median_switches", "median_final_loss", "n_failed"]


def _rules(cfg, key):
    """Recovery probability, T and outcomes per QAT rule on a 2-D and a high-dimensional case."""
    rec = require("landscape.studies.recovery")
    default_rules = require("landscape.registry", "default_rules")
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
        s = ds[_RULE_VARS].expand_dims(scenario=[name])
        for a in ("max_flip_size", "delta_perp", "ptq_failure_rate"):
            if a in ds.attrs:
                s[f"{a}_attr"] = (("scenario",), [float(ds.attrs[a])])
        parts.append(s)
    ds = xr.concat(parts, dim="scenario")
    ds.attrs.update(source="landscape.studies.recovery.recovery_experiment", T_interval="10-90%")
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
    return {"fig7_rules": ds}


def _rules_numbers(cfg, dss):
    ds = dss["fig7_rules"]
    scen = {}
    for sc in ds["scenario"].values:
        row = {
            str(r): {
                "p_recover": rounded(ds["p_recover"].sel(scenario=sc, rule=r), 4),
                "p_recover_lo": rounded(ds["p_recover_lo"].sel(scenario=sc, rule=r), 4),
                "p_recover_hi": rounded(ds["p_recover_hi"].sel(scenario=sc, rule=r), 4),
                "p_diverged": rounded(ds["p_diverged"].sel(scenario=sc, rule=r), 4),
                "median_T": rounded(ds["T_median"].sel(scenario=sc, rule=r)),
                "p_chatter": rounded(ds["p_chatter"].sel(scenario=sc, rule=r), 4),
            }
            for r in ds["rule"].values
        }
        scen[str(sc)] = row | {"n_failed": int(ds["n_failed"].sel(scenario=sc))}
    rules = ", ".join(cfg.rules_subset) if cfg.rules_subset else "every rule of landscape.default_rules"
    return {"scenarios": scen, "rules": rules}


def _rules_phrases(nums):
    """One sentence per scenario on STE, from the scenario's numbers."""
    lines = [
        f"{sc} ({v['n_failed']} RTN-failed starts): STE recovers with probability {v['ste']['p_recover']} "
        f"(Wilson 95% [{v['ste']['p_recover_lo']}, {v['ste']['p_recover_hi']}], "
        f"{time_text(v['ste']['median_T'])}, chattering {v['ste']['p_chatter']}, "
        f"diverged {v['ste']['p_diverged']})."
        for sc, v in nums["scenarios"].items()
        if "ste" in v
    ]
    return {"lines": " ".join(lines)}


RULES = Stage(
    "fig7_rules",
    "QAT rules compared",
    _rules,
    rules_figure,
    _rules_numbers,
    "The rules ({rules}) from the same RTN-failed starts of a 2-D case (max f > 2 r_b) and a "
    "high-dimensional one (landscape.studies.recovery.recovery_experiment); recovered, never-entered and "
    "diverged runs are counted apart. {lines}",
    phrases=_rules_phrases,
)
