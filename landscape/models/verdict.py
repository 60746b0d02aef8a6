r"""Verdicts over seeds: the paper's claim per (model, bits, grid, PTQ method), with its confidence.

The claim tested: **where PTQ leaves the band, STE-QAT settles back in it within the budget** (entry
means settled: in the band for the last 10 % of the steps and at the end; one touch never counts).
Per group of evaluation seeds and per band (absolute on the training loss, test loss, relative on the test
metric; :mod:`landscape.models.band`):

* ``n_outside`` of ``n`` seeds put the PTQ point outside the band; ``k`` of those settled under STE-QAT;
* the interval is the Wilson score interval of ``k / n_outside``
  (:func:`landscape.simulate.outcomes.wilson_interval`, 95 %);
* the label: ``held`` when the interval lies above 1/2, ``failed`` when it lies below 1/2,
  ``undecided`` otherwise; ``ptq-inside`` when no seed's PTQ point is outside (nothing to recover: the
  claim is not tested);
* the verdict's **power** at its sample size (:func:`power_of`): ``k_held`` (the fewest settled of
  ``n_outside`` that reads ``held``; ``n_outside - k_held`` or fewer reads ``failed``, by the interval's
  symmetry), and ``min_rate`` -- the smallest true settling rate :math:`p` that reads ``held`` with
  probability at least 80 % (:math:`P[\mathrm{Bin}(n, p) \ge k_{\rm held}] \ge 0.8`); a true rate at or
  below ``1 - min_rate`` reads ``failed`` as often. A sample no count can decide (``k_held`` is None:
  3 or fewer seeds) is ``undecidable``.

Each verdict names its seeds, the oracle's and the control's counts, and the tau sensitivity.
"""

from __future__ import annotations

import numpy as np

from landscape.simulate.outcomes import wilson_interval

__all__ = ["label_of", "group_verdict", "bootstrap_mean", "power_of", "POWER"]

#: the probability with which a true rate of ``min_rate`` must read ``held`` (the verdict's power)
POWER = 0.8


def label_of(k: int, n: int, confidence: float = 0.95) -> tuple[str, float, float]:
    """(held | failed | undecided, Wilson lo, hi) for k successes of n (n > 0)."""
    lo, hi = wilson_interval(k, n, confidence)
    lo, hi = float(lo), float(hi)
    return ("held" if lo > 0.5 else "failed" if hi < 0.5 else "undecided"), lo, hi


def power_of(n: int, power: float = POWER, confidence: float = 0.95) -> dict:
    """k_held (fewest successes of n read held; None if none), min_rate (true rate read held w.p. power)."""
    from scipy.stats import binom

    n = int(n)
    k_held = next((k for k in range(n + 1) if n > 0 and label_of(k, n, confidence)[0] == "held"), None)
    if k_held is None:
        return {"n": n, "k_held": None, "min_rate": None, "decidable": False, "power": power}
    grid = np.linspace(0.5, 1.0, 5001)
    ok = binom.sf(k_held - 1, n, grid) >= power
    return {
        "n": n,
        "k_held": k_held,
        "min_rate": float(grid[np.argmax(ok)]),
        "decidable": True,
        "power": power,
    }


def power_text(pw: dict) -> str:
    """One sentence: which true rates the sample size can tell from 1/2."""
    if not pw["decidable"]:
        return f"n = {pw['n']} cannot decide (even {pw['n']}/{pw['n']} leaves 1/2 inside the interval)"
    return (
        f"n = {pw['n']}: held needs >= {pw['k_held']}/{pw['n']}; a true rate >= {pw['min_rate']:.2f} "
        f"(<= {1 - pw['min_rate']:.2f}) reads held (failed) with {pw['power']:.0%} probability"
    )


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


#: per band: the row fields of "settled" and "hit time" (the oracle's and the control's settled fields
#: are these with the prefixes ``oracle_`` and ``fp_control_``)
BAND_FIELDS = {
    "abs": ("settled", "hit_time"),
    "test": ("test_settled", "test_hit_time"),
    "rel": ("rel_settled", "rel_hit_time"),
}


def group_verdict(rows: list[dict], band: str, *, qat_steps: int, window: int, oracle_steps: int) -> dict:
    """The verdict of one (model, bits, grid, method) group over its seeds in band abs, test or rel."""
    seeds = [r["seed"] for r in rows]
    out_rows = [r for r in rows if r[f"ptq_outside_{band}"]]
    n, n_out = len(rows), len(out_rows)
    settled, hit = BAND_FIELDS[band]
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
            "power": power_of(0),
            "text": f"ptq-inside: PTQ inside the {band} band on all {n} seeds {seeds}: nothing to recover "
            f"(the claim is not tested here)",
        }
    k = _count(out_rows, settled)
    label, lo, hi = label_of(k, n_out)
    pw = power_of(n_out)
    orc = [r for r in out_rows if r.get(f"oracle_{settled}") is not None]
    ko = _count(orc, f"oracle_{settled}")
    fpc = [r for r in out_rows if r.get(f"fp_control_{settled}") is not None]
    kf = _count(fpc, f"fp_control_{settled}")
    touched = sum(1 for r in out_rows if r.get(hit) is not None and r[hit] >= 0)
    text = (
        f"{label}: PTQ outside the {band} band on {n_out}/{n} seeds; STE-QAT settled (in band for the last "
        f"{window} of {qat_steps} steps and at the end) on {k}/{n_out}, Wilson 95% [{lo:.2f}, {hi:.2f}] "
        f"({power_text(pw)}); touched the band at least once on {touched}/{n_out}; "
        f"seeds {base['outside_seeds']}"
    )
    if orc:
        text += f"; oracle ({oracle_steps} steps, cosine; settled over its last 10 %) on {ko}/{len(orc)}"
    if fpc:
        text += f"; control (gradient at the latent, then RTN) settled on {kf}/{len(fpc)}"
    return {
        **base,
        "label": label,
        "k_settled": k,
        "wilson_lo": lo,
        "wilson_hi": hi,
        "power": pw,
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


__all__ += ["tau_sensitivity", "BAND_FIELDS", "power_text"]
