r"""The band a deployed network must reach, and when a run counts as back in it (entry means settled).

Two bands around the full-precision model :math:`w^*` (one of them is named in each verdict):

* **absolute**: :math:`L(q) - L^* \le \tau` on the training (fit) loss, :math:`\tau` in nats
  (default 0.05; the verdict's sensitivity is reported over :data:`TAU_GRID` = 0.01 ... 0.2);
* **relative**, on the test metric (:data:`REL_TOL`): accuracy drop at most 0.5 points
  (:math:`a(q) \ge a^* - 0.005`), perplexity ratio at most 1.02 (:math:`p(q) \le 1.02\,p^*`), i.e. for bits
  per character :math:`b(q) - b^* \le \log_2 1.02`.

For a run of :math:`T` steps with per-step in-band flags :math:`B_0, \dots, B_T` (step :math:`t` judges the
deployed point :math:`q_t`), and a window :math:`W = \lceil 0.1\,T \rceil`:

* ``hit_time`` -- the first :math:`t` with :math:`B_t` (-1 if never): one touch, never a verdict alone;
* ``settle_time`` -- the start of the final in-band streak (:math:`B_s` for all :math:`s \ge` it; -1 if
  :math:`B_T` is false) -- the driver's :math:`T_{\rm settle}`;
* ``settled`` -- **entry means settled**: ``0 <= settle_time <= T - W`` (in the band for the whole last
  window and at the end);
* ``frac_in_band`` / ``frac_in_band_tail`` -- the fraction of :math:`t \in [0, T]` / of the last window
  :math:`t \in [T - W, T]` in the band.
"""

from __future__ import annotations

import math

import numpy as np

from landscape._errors import LandscapeError

__all__ = ["REL_TOL", "TAU_GRID", "WINDOW_FRACTION", "window", "rel_in_band", "abs_in_band", "band_times"]

REL_TOL = {"accuracy": 0.005, "bpc": math.log2(1.02), "perplexity": 1.02}
TAU_GRID = (0.01, 0.02, 0.05, 0.1, 0.2)
WINDOW_FRACTION = 0.1


def window(num_steps: int) -> int:
    """W = ceil(0.1 T): the settling window of a T-step run (at least 1)."""
    return max(1, math.ceil(WINDOW_FRACTION * num_steps))


def abs_in_band(loss, loss_star, tau):
    """L(q) - L* <= tau (False for a non-finite loss)."""
    loss = np.asarray(loss, np.float64)
    return np.isfinite(loss) & (loss - _b(loss_star, loss) <= tau)


def _b(x, like):
    """x with trailing unit axes to broadcast against ``like`` (per-run values against per-step rows)."""
    x = np.asarray(x, np.float64)
    like = np.asarray(like)
    return x.reshape(x.shape + (1,) * (like.ndim - x.ndim))


def rel_in_band(metric_q, metric_star, kind: str):
    """The test-metric band of :data:`REL_TOL` (accuracy drop <= 0.5 points, perplexity ratio <= 1.02)."""
    if kind not in REL_TOL:
        raise LandscapeError(f"metric must be one of {tuple(REL_TOL)}; got {kind!r}.")
    m = np.asarray(metric_q, np.float64)
    s = _b(metric_star, m)
    if kind == "accuracy":
        ok = m >= s - REL_TOL[kind] - 1e-9
    elif kind == "bpc":
        ok = m - s <= REL_TOL[kind]
    else:
        ok = m <= REL_TOL[kind] * s
    return np.isfinite(m) & ok


def band_times(in_band, num_steps: int | None = None) -> dict:
    """hit_time, settle_time, settled, frac_in_band, frac_in_band_tail of per-step flags (..., T+1)."""
    b = np.asarray(in_band, bool)
    if b.ndim < 1 or b.shape[-1] < 2:
        raise LandscapeError(f"in_band must have shape (..., T+1) with T >= 1; got {b.shape}.")
    t_end = b.shape[-1] - 1 if num_steps is None else int(num_steps)
    if b.shape[-1] != t_end + 1:
        raise LandscapeError(f"in_band has {b.shape[-1]} steps; expected num_steps + 1 = {t_end + 1}.")
    w = window(t_end)
    hit = np.where(b.any(-1), np.argmax(b, -1), -1)
    # start of the final True streak: one past the last False (or 0 if all True); -1 if the end is False
    last_false = np.where((~b).any(-1), t_end - np.argmax((~b)[..., ::-1], -1), -1)
    settle = np.where(b[..., -1], last_false + 1, -1)
    return {
        "hit_time": hit.astype(np.int64),
        "settle_time": settle.astype(np.int64),
        "settled": (settle >= 0) & (settle <= t_end - w),
        "frac_in_band": b.mean(-1),
        "frac_in_band_tail": b[..., t_end - w :].mean(-1),
        "window": w,
    }
