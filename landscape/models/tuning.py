r"""Tuning STE-QAT on the tuning seeds: a score without ties, several starts per bit width, every score kept.

Per bit width :math:`b`, every optimizer setting :math:`c` of :func:`tuning_configs` (SGD / Adam x
constant / cosine x the model's learning-rate grid) runs STE-QAT for the budget :math:`T` from every
**tuning start**: the (tuning seed, grid, tuned PTQ method) whose PTQ point is outside the absolute band
at the smallest tau of :data:`~landscape.models.band.TAU_GRID`; when fewer than ``min_tune_starts`` are,
the remaining candidates join by decreasing PTQ loss gap (so no bit width rests on a single start). The
tuning reads the training loss only (never test data). Each run is scored by

* ``tail_excess`` -- the **signed** excess loss :math:`\frac1{W+1}\sum_{t=T-W}^{T} (L(q_t) - L^*)`
  averaged over the settling window (no clipping at 0: a setting that ends below :math:`L^*` scores
  better than one that ends at it, so settings do not tie at 0);
* ``tail_std`` -- the standard deviation of :math:`L(q_t)` over the same window (stability).

A setting's score is the tuple (runs with a non-finite loss, mean ``tail_excess``, mean ``tail_std``,
position in the grid); the smallest wins. The last entry is the documented deterministic tie-break (the
grid's order: SGD before Adam, constant before cosine, smaller rate first); it decides only exact ties
of the first three, which continuous scores make a measure-zero event. A bit width with no start outside
the smallest band has nothing to tune and borrows the nearest tuned bit width's setting
(``borrowed_from``).
"""

from __future__ import annotations

import jax
import numpy as np

from landscape.models.band import TAU_GRID, window
from landscape.models.recovery import QATConfig, RunSpec, loss_rows, run_specs

__all__ = ["tuning_configs", "tuning_starts", "tail_score", "score_key", "tune"]


def tuning_configs(cfg) -> list[QATConfig]:
    """Every optimizer setting of the tuning grid, in the grid's (tie-break) order."""
    return [
        QATConfig(o, s, lr)
        for o in cfg.optimizers
        for s in cfg.schedules
        for lr in sorted(cfg.sgd_lrs if o == "sgd" else cfg.adam_lrs)
    ]


def tuning_starts(cfg, nets: dict, bits: int) -> list[tuple]:
    """The tuning starts of one bit width: outside the band at min(TAU_GRID), filled to min_tune_starts."""
    cand = [(s, bits, g, m) for s in nets for g in cfg.grids for m in cfg.tune_methods]
    gap = {k: nets[k[0]].ptq_loss[k[1:]] - nets[k[0]].loss_star for k in cand}
    out = [k for k in cand if gap[k] > min(TAU_GRID)]
    if not out:
        return []
    rest = sorted((k for k in cand if k not in out), key=lambda k: -gap[k])
    return out + rest[: max(0, cfg.min_tune_starts - len(out))]


def tail_score(loss, loss_star: float) -> tuple[float, float]:
    """(signed excess loss averaged over the settling window, std of the loss there); inf if non-finite."""
    loss = np.asarray(loss, np.float64)
    tail = loss[len(loss) - 1 - window(len(loss) - 1) :]
    if not np.all(np.isfinite(tail)):
        return float("inf"), float("inf")
    return float(np.mean(tail) - loss_star), float(np.std(tail))


def score_key(entry: dict) -> tuple:
    """Sort key of a setting: (non-finite runs, mean tail excess, mean tail std, grid index); None = inf."""
    inf = float("inf")
    ex, sd = entry["mean_tail_excess"], entry["mean_tail_std"]
    return (entry["nonfinite"], inf if ex is None else ex, inf if sd is None else sd, entry["grid_index"])


def tune(cfg, nets: dict, run_kw: dict) -> dict:
    """Per bit width: the chosen QATConfig and every setting's score on the tuning starts."""
    configs = tuning_configs(cfg)
    out = {}
    for b in cfg.bits:
        keys = tuning_starts(cfg, nets, b)
        if not keys:
            out[b] = {"config": None, "table": [], "starts": []}
            continue
        specs = [RunSpec(k[0], k, k[:3], "ste", c, cfg.budget(b)) for c in configs for k in keys]

        def reduce(spec, traj):
            net = nets[spec.net]
            ex, sd = tail_score(loss_rows(traj), net.loss_star)
            return {"excess": ex, "std": sd, "diverged": bool(traj.diverge_time >= 0)}

        res = run_specs(specs, reduce=reduce, key=jax.random.PRNGKey(b), **run_kw)
        table = []
        for i, c in enumerate(configs):
            r = res[i * len(keys) : (i + 1) * len(keys)]
            fin = [x for x in r if np.isfinite(x["excess"])]
            table.append(
                {
                    **c.as_dict(),
                    "label": c.label,
                    "grid_index": i,
                    "n": len(r),
                    "nonfinite": len(r) - len(fin),
                    "diverged": sum(x["diverged"] for x in r),
                    "mean_tail_excess": float(np.mean([x["excess"] for x in fin])) if fin else None,
                    "mean_tail_std": float(np.mean([x["std"] for x in fin])) if fin else None,
                    "tail_excess": [x["excess"] if np.isfinite(x["excess"]) else None for x in r],
                }
            )
        ranked = sorted(table, key=score_key)
        for rank, e in enumerate(ranked):
            e["rank"] = rank
        out[b] = {
            "config": configs[ranked[0]["grid_index"]],
            "table": table,
            "starts": [list(k) for k in keys],
        }
    tuned = [b for b in cfg.bits if out[b]["config"] is not None]
    for b in cfg.bits:  # a bit width with nothing to tune borrows the nearest tuned one's setting
        if out[b]["config"] is None:
            near = min(tuned, key=lambda x: (abs(x - b), x)) if tuned else None
            out[b]["config"] = out[near]["config"] if near is not None else configs[0]
            out[b]["borrowed_from"] = near
    return out
