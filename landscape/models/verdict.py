r"""Verdicts over seeds: the paper's claim per (model, bits, grid, PTQ method), with its confidence.

The claim tested: **where PTQ leaves the band, STE-QAT settles back in it within the budget** (entry
means settled: in the band for the last 10 % of the steps and at the end; one touch never counts).
Per group of evaluation seeds and per band (absolute / relative, :mod:`landscape.models.band`):

* ``n_outside`` of ``n`` seeds put the PTQ point outside the band; ``k`` of those settled under STE-QAT;
* the interval is the Wilson score interval of ``k / n_outside``
  (:func:`landscape.simulate.outcomes.wilson_interval`, 95 %);
* the label: ``held`` when the interval lies above 1/2, ``failed`` when it lies below 1/2,
  ``undecided`` otherwise (with 5 seeds only 5/5 or 0/5 decide: 5/5 gives [0.57, 1]);
  ``ptq-inside`` when no seed's PTQ point is outside (nothing to recover: the claim is not tested).

Each verdict names its seeds, the oracle's and the control's counts, and the tau sensitivity.
"""

from __future__ import annotations

import numpy as np

from landscape.simulate.outcomes import wilson_interval

__all__ = ["label_of", "group_verdict", "bootstrap_mean"]


def label_of(k: int, n: int, confidence: float = 0.95) -> tuple[str, float, float]:
    """(held | failed | undecided, Wilson lo, hi) for k successes of n (n > 0)."""
    lo, hi = wilson_interval(k, n, confidence)
    lo, hi = float(lo), float(hi)
    return ("held" if lo > 0.5 else "failed" if hi < 0.5 else "undecided"), lo, hi


def bootstrap_mean(values, n_boot: int = 2000, confidence: float = 0.95, seed: int = 0) -> dict:
    """Mean of the finite values with a percentile bootstrap interval over them (NaN when none)."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], np.float64)
    if v.size == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    rng = np.random.default_rng(seed)
    means = rng.choice(v, size=(n_boot, v.size), replace=True).mean(1)
    a = (1 - confidence) / 2
    return {
        "mean": float(v.mean()),
        "lo": float(np.quantile(means, a)),
        "hi": float(np.quantile(means, 1 - a)),
        "n": int(v.size),
    }


def _count(rows, flag):
    return sum(1 for r in rows if r.get(flag))


def group_verdict(rows: list[dict], band: str, *, qat_steps: int, window: int, oracle_steps: int) -> dict:
    """The verdict of one (model, bits, grid, method) group over its seeds, in the ``abs`` or ``rel`` band."""
    seeds = [r["seed"] for r in rows]
    out_rows = [r for r in rows if r[f"ptq_outside_{band}"]]
    n, n_out = len(rows), len(out_rows)
    base = {
        "band": band,
        "n_seeds": n,
        "seeds": seeds,
        "n_outside": n_out,
        "outside_seeds": [r["seed"] for r in out_rows],
    }
    if n_out == 0:
        return {
            **base,
            "label": "ptq-inside",
            "k_settled": 0,
            "wilson_lo": None,
            "wilson_hi": None,
            "text": f"ptq-inside: PTQ inside the {band} band on all {n} seeds {seeds}: nothing to recover "
            f"(the claim is not tested here)",
        }
    settled = "settled" if band == "abs" else "rel_settled"
    k = _count(out_rows, settled)
    label, lo, hi = label_of(k, n_out)
    orc = [r for r in out_rows if r.get("oracle_settled") is not None]
    ko = _count(orc, "oracle_settled" if band == "abs" else "oracle_rel_in_band_end")
    fpc = [r for r in out_rows if r.get("fp_control_settled") is not None]
    kf = _count(fpc, "fp_control_settled" if band == "abs" else "fp_control_rel_in_band_end")
    hits = [r["hit_time"] if band == "abs" else r["rel_hit_time"] for r in out_rows]
    touched = sum(1 for h in hits if h is not None and h >= 0)
    text = (
        f"{label}: PTQ outside the {band} band on {n_out}/{n} seeds; STE-QAT settled (in band for the last "
        f"{window} of {qat_steps} steps and at the end) on {k}/{n_out}, Wilson 95% [{lo:.2f}, {hi:.2f}]; "
        f"touched the band at least once on {touched}/{n_out}; seeds {base['outside_seeds']}"
    )
    if orc:
        what = "settled" if band == "abs" else "in band at the end"
        text += f"; oracle ({oracle_steps} steps, cosine) {what} on {ko}/{len(orc)}"
    if fpc:
        what = "settled" if band == "abs" else "in band at the end"
        text += f"; control (gradient at the latent, then RTN) {what}"
        text += f" on {kf}/{len(fpc)}"
    return {
        **base,
        "label": label,
        "k_settled": k,
        "wilson_lo": lo,
        "wilson_hi": hi,
        "k_touched": touched,
        "oracle_settled": ko if orc else None,
        "n_oracle": len(orc),
        "fp_control_settled": kf if fpc else None,
        "n_fp_control": len(fpc),
        "text": text,
    }


def tau_sensitivity(rows: list[dict], taus) -> list[dict]:
    """The absolute-band verdict of a group at each tau (PTQ outside at tau; settled at tau, among runs)."""
    out = []
    for tau in taus:
        key = f"{tau:g}"
        outside = [r for r in rows if r["ptq_gap"] > tau]
        if not outside:
            out.append(
                {
                    "tau": tau,
                    "n_outside": 0,
                    "k_settled": 0,
                    "label": "ptq-inside",
                    "wilson_lo": None,
                    "wilson_hi": None,
                }
            )
            continue
        # starts outside at tau whose QAT was not run (their PTQ gap is below the QAT floor) are unknown:
        # the label is over the runs only, and n_qat < n_outside says so
        run = [r for r in outside if r.get("tau_sensitivity")]
        k = sum(1 for r in run if r["tau_sensitivity"][key]["settled"])
        n_out = len(outside)
        label, lo, hi = label_of(k, len(run)) if run else ("not-run", None, None)
        out.append(
            {
                "tau": tau,
                "n_outside": n_out,
                "k_settled": k,
                "n_qat": len(run),
                "label": label,
                "wilson_lo": lo,
                "wilson_hi": hi,
            }
        )
    return out


__all__ += ["tau_sensitivity"]
