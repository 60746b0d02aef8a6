"""The real-model bridge as a stage: verdicts over seeds with Wilson intervals, and the bridge figure.

It runs ``landscape.models.bridge.run_bridge``; when that area is absent the stage raises
:class:`~landscape.reproduce.stage.Missing`.
"""

from __future__ import annotations

import json

from landscape.plot import bridge_figure
from landscape.reproduce.stage import Stage, require

__all__ = ["BRIDGE"]

#: in ``reproduce --quick`` the stage also shrinks the tuning grid and the oracle (unless overridden)
_STAGE_QUICK = {
    "sgd_lrs": (1.0,),
    "adam_lrs": (3e-2,),
    "oracle_factor": 2,
    "n_probe": 4,
    "foot_steps": 30,
    "calib_dirs": 8,
    "k_lanczos": 5,
    "lanczos_matvecs": 20,
}

_VERDICT = ("bits", "grid", "method", "band", "label", "n_seeds", "n_outside", "k_settled", "wilson_lo",
            "wilson_hi", "seeds")


def _bridge(cfg, key):
    """``run_bridge`` on ``cfg.bridge_model`` as a Dataset (its config, load and ignored overrides in attrs).

    ``cfg.bridge_overrides`` are fields of ``landscape.models.config.BridgeConfig``; keys that are not
    (``k``, ``profile_points`` of an older bridge) are ignored and listed in the attrs.
    """
    BridgeConfig = require("landscape.models.config", "BridgeConfig")
    run_bridge, to_dataset = require("landscape.models.bridge", "run_bridge", "to_dataset")
    require("landscape.plot.bridge", "plot_bridge")
    fields = set(BridgeConfig.model_fields)
    over = dict(cfg.bridge_overrides)
    ignored = sorted(k for k in over if k not in fields)
    over = {k: v for k, v in over.items() if k in fields}
    quick = bool(getattr(cfg, "quick", True))
    extra = {k: v for k, v in _STAGE_QUICK.items() if k not in over} if quick else {}
    res = run_bridge(BridgeConfig.preset(cfg.bridge_model, quick=quick, **extra, **over))
    ds = to_dataset(res)
    ds.attrs.update(
        config=json.dumps(res["config"]), load=json.dumps(res["load"]), ignored_overrides=json.dumps(ignored)
    )  # bands, calibration and regime ride along from to_dataset
    return {"bridge": ds}


def _bridge_numbers(cfg, dss):
    a = dss["bridge"].attrs
    return {
        "model": cfg.bridge_model,
        "config": json.loads(a["config"]),
        "ignored_overrides": json.loads(a["ignored_overrides"]),
        "verdicts": [{k: v[k] for k in _VERDICT} | {"text": v["text"]} for v in json.loads(a["verdicts"])],
        "tuning": {b: t["label"] for b, t in json.loads(a["tuning"]).items()},
        "timings": json.loads(a["timings"]),
        "load": json.loads(a["load"]),
        "definitions": {k: json.loads(a["definitions"])[k] for k in ("abs_band", "settled")},
        "bands": {k: v for k, v in json.loads(a["bands"]).items() if k in ("tau", "tau_test", "calibrated")},
        "regime": {
            b: {k: r.get(k) for k in ("regime", "on_river", "n_failed", "error_over_width_median")}
            for b, r in json.loads(a["regime"])["per_bits"].items()
        },
    }


def _bridge_phrases(nums):
    tested = [v for v in nums["verdicts"] if v["band"] == "abs" and v["n_outside"] > 0]
    return {
        "n_eval_seeds": len(nums["config"]["eval_seeds"]),
        "tested": "; ".join(v["text"] for v in tested) if tested else "PTQ inside the band everywhere",
        "regime": "; ".join(
            f"{b}-bit {r['regime']}"
            + ("" if r["on_river"] is None else f" (w* {'on' if r['on_river'] else 'off'} the river)")
            for b, r in nums["regime"].items()
        ),
    }


BRIDGE = Stage(
    "bridge",
    "Real-model bridge",
    _bridge,
    bridge_figure,
    _bridge_numbers,
    "Real-model bridge (`landscape.models.bridge.run_bridge`, {model}, {n_eval_seeds} evaluation seeds "
    "{config[eval_seeds]}, STE-QAT tuned on seeds {config[tune_seeds]}; absolute band "
    "{definitions[abs_band]}; settled = {definitions[settled]}): {tested}. Regime of the theory per bit "
    "width (docs/bridge.md): {regime}.",
    phrases=_bridge_phrases,
)
