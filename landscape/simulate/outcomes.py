r"""Outcomes of runs, counted apart: recovered, censored by the horizon, diverged.

* **recovered** -- :math:`q_t` entered the basin (``hit_time >= 0``) and the run never became non-finite;
* **diverged** -- the latent or the loss became non-finite at some step (whether or not it had entered
  the basin before: its end state is not a deployable model);
* **censored** -- finite throughout and never in the basin within ``num_steps``: the horizon, not the
  dynamics, ended the measurement.

:func:`recovery_summary` is the same as a JSON-ready dict (the reports' numbers). :func:`recovery_stats` gives
the counts, the recovery probability among the *finite* runs and among all
runs, each with a Wilson score interval, and the quantiles of :math:`T` over the recovered runs.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats as _st

from landscape._errors import LandscapeError

__all__ = [
    "RecoveryStats", "outcomes", "recovery_stats", "recovery_summary", "wilson_interval", "OUTCOME_CODES",
]

#: integer codes of :func:`outcomes`
OUTCOME_CODES = {"recovered": 0, "censored": 1, "diverged": 2}


def wilson_interval(k, n, confidence: float = 0.95):
    """(lo, hi): the Wilson score interval for a proportion k/n (NaN where n = 0); always in [0, 1]."""
    k = np.asarray(k, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    if not 0 < confidence < 1:
        raise LandscapeError(f"confidence must lie in (0, 1); got {confidence!r}.")
    z = _st.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z * z / n
        mid = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
        lo, hi = np.clip(mid - half, 0, 1), np.clip(mid + half, 0, 1)
    bad = n <= 0
    return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def outcomes(hit_time, diverge_time):
    """Per run: 0 recovered, 1 censored (finite, never in the basin), 2 diverged (see OUTCOME_CODES)."""
    hit = np.asarray(hit_time)
    div = np.asarray(diverge_time)
    return np.where(div >= 0, 2, np.where(hit >= 0, 0, 1)).astype(np.int8)


class RecoveryStats(NamedTuple):
    """Counts and rates of a set of runs; probabilities with Wilson intervals; T over the recovered runs."""

    n: int
    recovered: int
    censored: int
    diverged: int
    p_recovered: float  # recovered / n
    p_lo: float
    p_hi: float
    p_recovered_finite: float  # recovered / (n - diverged)
    median_T: float
    q90_T: float

    def as_dict(self) -> dict:
        """The fields as a plain dict (JSON-ready)."""
        return {
            k: (float(v) if isinstance(v, float | np.floating) else int(v)) for k, v in self._asdict().items()
        }


def recovery_stats(
    traj=None, *, hit_time=None, diverge_time=None, mask=None, confidence: float = 0.95
) -> RecoveryStats:
    """Recovered / censored / diverged counts of ``traj`` (or of hit and divergence times), over ``mask``."""
    if traj is not None:
        hit_time, diverge_time = traj.hit_time, traj.diverge_time
    if hit_time is None or diverge_time is None:
        raise LandscapeError("recovery_stats needs a Trajectory or both hit_time and diverge_time.")
    hit = np.asarray(hit_time).reshape(-1)
    div = np.asarray(diverge_time).reshape(-1)
    if mask is not None:
        m = np.asarray(mask, bool).reshape(-1)
        hit, div = hit[m], div[m]
    code = outcomes(hit, div)
    n = int(code.size)
    rec, cen, dv = (int(np.sum(code == c)) for c in (0, 1, 2))
    lo, hi = wilson_interval(rec, n, confidence)
    t = hit[code == 0]
    finite = n - dv
    return RecoveryStats(
        n,
        rec,
        cen,
        dv,
        rec / n if n else float("nan"),
        float(lo),
        float(hi),
        rec / finite if finite else float("nan"),
        float(np.median(t)) if t.size else float("nan"),
        float(np.quantile(t, 0.9)) if t.size else float("nan"),
    )


def _rounded(x, digits):
    x = float(x)
    return None if not np.isfinite(x) else float(np.round(x, digits))


def recovery_summary(hit_time, diverge_time, digits: int = 4) -> dict:
    """recovery_stats as a JSON-ready dict: counts, recovery_prob [lo, hi] (rounded), median and max T."""
    st = recovery_stats(hit_time=hit_time, diverge_time=diverge_time)
    hit = np.asarray(hit_time).reshape(-1)
    t = hit[outcomes(hit, np.asarray(diverge_time).reshape(-1)) == OUTCOME_CODES["recovered"]]
    return {
        "n": st.n,
        "recovered": st.recovered,
        "censored": st.censored,
        "diverged": st.diverged,
        "recovery_prob": _rounded(st.p_recovered, digits),
        "recovery_lo": _rounded(st.p_lo, digits),
        "recovery_hi": _rounded(st.p_hi, digits),
        "median_T": st.median_T if t.size else None,
        "max_T": int(t.max()) if t.size else None,
    }
