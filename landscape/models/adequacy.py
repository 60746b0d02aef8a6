r"""Is the STE-QAT budget T long enough to decide? Measured on a run's own rows, after the fact.

A verdict counts a run as settled when it is in the band over the last 10 % of its T steps. A budget is
too short when runs that did not settle are still descending at the end: more steps could change their
verdict. Per bit width, over the STE-QAT runs of the evaluation seeds (training-loss band, width tau):

* ``tail_drop`` -- :math:`L(q_{T-W}) - L(q_T)` (nats, :math:`W = \lceil 0.1 T \rceil`): how much the
  deployed training loss still fell over the last window (median over runs; positive: still falling);
* ``tail_share`` -- that drop over the whole descent :math:`L(q_0) - L(q_T)` (median; a run that has
  converged has a share near 0, a run descending at a constant rate has 0.1);
* ``n_unsettled`` / ``n_unsettled_falling`` -- runs not settled, and those of them whose loss fell over
  the last window by more than :data:`FALL_FRACTION` x tau;
* ``n_reach_by_2T`` -- unsettled runs whose last-window rate, extrapolated linearly, brings them into the
  band within another T steps (an optimistic bound on how many verdicts a doubled budget could flip).

* ``oracle`` -- the direct test, where a row has an oracle run (the same setting with cosine decay over
  ``oracle_factor`` x T from the same start): the median final gap :math:`L - L^*` of those rows' STE-QAT
  runs and of their oracles, and how many oracles settled. An oracle that ends near the run's gap says
  more steps do not help (the linear extrapolation above is optimistic for cosine-decayed runs, whose loss
  falls most at the end by construction); one that settles where the run did not says the budget decides.

The full-precision null (the calibration of tau) is summarised beside it: its largest tail rise and how
many of its runs kept the test metric in the relative band; :func:`null_by_setting` splits its largest
rises by tuned setting and budget (what a band per bit width would be).
"""

from __future__ import annotations

import numpy as np

from landscape.models.band import window

__all__ = ["FALL_FRACTION", "tail_of_run", "budget_adequacy", "null_by_setting"]

#: a run "still falls" when its loss fell over the last window by more than this fraction of tau
FALL_FRACTION = 0.1


def tail_of_run(row: dict, qat_steps: int, tau: float) -> dict | None:
    """Tail drop, tail share and the extrapolated steps to the band of one STE-QAT row (None: no path)."""
    path, every = row.get("loss_path"), row.get("loss_path_every") or 1
    if not path:
        return None
    loss = np.asarray(path, np.float64)
    steps = np.arange(len(loss)) * every
    w = window(qat_steps)
    l_end = float(row["qat_loss"]) if row.get("qat_loss") is not None else float(loss[-1])
    l_start, l_tail = float(loss[0]), float(np.interp(qat_steps - w, steps, loss))
    drop = l_tail - l_end
    total = l_start - l_end
    gap = l_end - row["fp_loss"] - tau  # > 0: outside the band at the end
    rate = drop / w
    to_band = 0.0 if gap <= 0 else (gap / rate if rate > 0 else float("inf"))
    return {
        "tail_drop": drop,
        "tail_share": drop / total if total > 0 else None,
        "falling": bool(drop > FALL_FRACTION * tau),
        "steps_to_band": to_band,
    }


def _median(x):
    x = [v for v in x if v is not None and np.isfinite(v)]
    return float(np.median(x)) if x else None


def budget_adequacy(rows: list[dict], qat_steps: int, tau: float, null: dict | None = None) -> dict:
    """Per bit width: the tail of the STE-QAT runs (see the module docstring); the null beside it.

    ``qat_steps`` is the run's default budget; a row's own ``qat_steps`` (its bit width's budget) wins.
    """
    per_bits = {}
    for b in sorted({r["bits"] for r in rows}, reverse=True):
        t_b = next((r["qat_steps"] for r in rows if r["bits"] == b and r.get("qat_steps")), qat_steps)
        runs = [(r, tail_of_run(r, t_b, tau)) for r in rows if r["bits"] == b]
        runs = [(r, t) for r, t in runs if t is not None]
        if not runs:
            continue
        uns = [(r, t) for r, t in runs if not r.get("settled")]
        per_bits[str(b)] = {
            "n_runs": len(runs),
            "tail_drop_median": _median([t["tail_drop"] for _, t in runs]),
            "tail_share_median": _median([t["tail_share"] for _, t in runs]),
            "n_unsettled": len(uns),
            "n_unsettled_falling": sum(t["falling"] for _, t in uns),
            "n_reach_by_2T": sum(t["steps_to_band"] <= t_b for _, t in uns),
            "qat_steps": t_b,
            "window": window(t_b),
        }
        orc = [r for r, _ in runs if r.get("oracle_final_gap") is not None and r.get("qat_loss") is not None]
        if orc:
            per_bits[str(b)]["oracle"] = {
                "n": len(orc),
                "settled": sum(bool(r.get("oracle_settled")) for r in orc),
                "run_settled": sum(bool(r.get("settled")) for r in orc),
                "run_gap_median": _median([r["qat_loss"] - r["fp_loss"] for r in orc]),
                "oracle_gap_median": _median([r["oracle_final_gap"] for r in orc]),
            }
    out = {"qat_steps": qat_steps, "window": window(qat_steps), "fall_fraction": FALL_FRACTION}
    out["per_bits"] = per_bits
    if null is not None:
        out["null"] = {
            "max_tail_rise": null["null_max_rise"],
            "n_runs": null["n_runs"],
            "rel_held": null["rel_held"],
        }
    return out


def null_by_setting(res: dict) -> list[dict]:
    """Per tuned setting and budget of the null: the bit widths it serves and its largest tail rises.

    The band is one per model (the largest over all of them); these are the widths a band calibrated per
    bit width, on that bit width's setting alone, would have had (before the floor).
    """
    cfg, runs = res["config"], res["bands"]["null_runs"]
    own = {int(b): int(t) for b, t in cfg.get("qat_steps_by_bits") or []}
    served: dict = {}
    for b, t in res["tuning"].items():
        served.setdefault((t["label"], own.get(int(b), cfg["qat_steps"])), []).append(int(b))
    out = []
    for (label, steps), bits in served.items():
        rs = [r for r in runs if r["config"] == label and r.get("num_steps", cfg["qat_steps"]) == steps]
        if rs:
            out.append(
                {
                    "setting": label,
                    "qat_steps": steps,
                    "bits": bits,
                    "n": len(rs),
                    "max_rise": round(max(r["tail_max_rise"] for r in rs), 4),
                    "max_test_rise": round(max(r["tail_max_test_rise"] for r in rs), 4),
                }
            )
    return out
