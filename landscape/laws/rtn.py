r"""Closed forms used by the engine, the figures and the proof layer alike: one home per law.

* :func:`rtn_exit_probability` -- statement S1: for a trained point uniformly placed relative to the grid,
  the RTN residual is :math:`e \sim U(\prod_j [-\Delta_j/2, \Delta_j/2])` and, for ``k = 1``, the normal
  error :math:`X = n\cdot e = \sum_j X_j`, :math:`X_j \sim U[-a_j, a_j]`,
  :math:`a_j = |n_j|\Delta_j/2`, has the weighted Irwin--Hall law; :math:`P(|X| > r_b)` exactly
  (mpmath, 50 digits).
* :func:`rtn_exit_probability_2d` -- the same law in 2-D, in closed form (a trapezoid density).
* :func:`gaussian_exit` -- its Gaussian limit :math:`2(1 - \Phi(r/\sigma))`,
  :math:`\sigma^2 = \sum_j a_j^2/3`;
  :func:`chi2_exit` -- the isotropic ``k``-direction limit :math:`P(\chi^2_k > 12 r_b^2/\Delta^2)`.
* :func:`berry_esseen_sum` -- :math:`\sum_j E|X_j|^3 = \sum_j a_j^3/4`, the Berry--Esseen numerator.
* :func:`rtn_exit_in_basin` -- statement S1B, the paper's regime: a trained point uniform on the basin
  floor (normal offset :math:`x \sim U[-r_b, r_b]`, ``k = 1``) leaves the basin under RTN with probability
  :math:`\frac{1}{r_b}\int_0^{2 r_b} P(X > t)\,dt = 2 - (G(A + 2r_b) - G(A))/r_b`, :math:`G` the second
  antiderivative of the Irwin--Hall density (exact, mpmath).
* :func:`basin_floor_offsets` -- samplers of in-basin trained points: uniform on the basin floor (the
  k-ball of radius r_b), the stationary spread of SGD noise on the floor (:func:`sgd_floor_variance`), or a
  fixed normal distance in a random direction (figure 5's panel (c)).
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
from scipy import stats

from landscape._errors import LandscapeError, check_positive

__all__ = [
    "rtn_exit_probability",
    "rtn_exit_probability_2d",
    "gaussian_exit",
    "chi2_exit",
    "berry_esseen_sum",
    "normal_half_widths",
    "rtn_exit_in_basin",
    "basin_floor_offsets",
    "sgd_floor_variance",
]


def normal_half_widths(normal, steps) -> np.ndarray:
    """a_j = |n_j| Delta_j / 2: the half-widths of the uniform summands of n . e."""
    n = np.asarray(normal, dtype=np.float64).reshape(-1)
    return np.abs(n) * np.broadcast_to(np.asarray(steps, dtype=np.float64), n.shape) / 2.0


def rtn_exit_probability(half_widths, r, dps: int = 50) -> float:
    r"""P(|sum_j X_j| > r), X_j ~ U[-a_j, a_j] independent: the weighted Irwin-Hall law (mpmath, exact).

    Cost 2^m terms for m non-zero half-widths: for m above about 20 use :func:`gaussian_exit`.
    """
    a = [mpmath.mpf(float(x)) for x in np.asarray(half_widths, dtype=np.float64).reshape(-1) if float(x) > 0]
    if not a:
        return 0.0
    if len(a) > 24:
        raise LandscapeError(
            f"half_widths has {len(a)} non-zero entries: the exact law needs <= 24 (use gaussian_exit)."
        )
    with mpmath.workdps(dps):
        m = len(a)
        b = [2 * x for x in a]
        big_a = sum(a)
        r = mpmath.mpf(float(r))

        def cdf(y):
            tot = mpmath.mpf(0)
            # subsets S of the summands in the inclusion-exclusion sum (not the corners of a rounding cell)
            for subset in itertools.product([0, 1], repeat=m):
                bs = sum((bj for bj, t in zip(b, subset, strict=False) if t), mpmath.mpf(0))
                tot += (-1) ** sum(subset) * max(mpmath.mpf(0), y - bs) ** m
            return tot / (mpmath.factorial(m) * mpmath.fprod(b))

        return float(min(1, max(0, 1 - cdf(big_a + r) + cdf(big_a - r))))


def rtn_exit_probability_2d(theta: float, step: float, basin_radius: float) -> float:
    r"""P(|n . e| > r_b) for e ~ U[-step/2, step/2]^2, n = (-sin theta, cos theta): the 2-D RTN exit rate.

    With :math:`A \le B` the two of :math:`|\sin\theta|\Delta/2, |\cos\theta|\Delta/2` and :math:`r = r_b`:
    0 for :math:`r \ge A + B`, :math:`(A+B-r)^2/(4AB)` for :math:`B - A \le r < A + B`, :math:`1 - r/B` below.
    """
    check_positive("step", step)
    check_positive("basin_radius", basin_radius)
    a, b = sorted((abs(math.sin(theta)) * step / 2.0, abs(math.cos(theta)) * step / 2.0))
    r = float(basin_radius)
    if r >= a + b:
        return 0.0
    if a == 0.0 or r <= b - a:
        return float(1.0 - r / b)
    return float((a + b - r) ** 2 / (4.0 * a * b))


def gaussian_exit(half_widths, r) -> float:
    """2 (1 - Phi(r / sigma)), sigma^2 = sum_j a_j^2 / 3: the Gaussian limit of the exit law (k = 1)."""
    s2 = float(np.sum(np.asarray(half_widths, dtype=np.float64) ** 2) / 3.0)
    return math.erfc(float(r) / math.sqrt(2 * s2)) if s2 > 0 else 0.0


def chi2_exit(k: int, step: float, basin_radius: float) -> float:
    """P(chi^2_k > 12 r_b^2 / step^2): the Gaussian limit for k isotropic sharp directions (large d)."""
    return float(stats.chi2.sf(12.0 * basin_radius**2 / step**2, k))


def berry_esseen_sum(half_widths) -> float:
    """sum_j E|X_j|^3 = sum_j a_j^3 / 4 for X_j ~ U[-a_j, a_j]."""
    return float(np.sum(np.abs(np.asarray(half_widths, dtype=np.float64)) ** 3) / 4.0)


def _irwin_hall_power(a, y, power):
    """sum_S (-1)^|S| (y - b_S)_+^power / (power! prod b), b = 2 a: the Irwin-Hall CDF (power m) and its
    antiderivative (power m + 1) for the shifted sum of U[0, b_j] (mpmath numbers)."""
    b = [2 * x for x in a]
    tot = mpmath.mpf(0)
    for subset in itertools.product([0, 1], repeat=len(a)):
        bs = sum((bj for bj, t in zip(b, subset, strict=True) if t), mpmath.mpf(0))
        tot += (-1) ** sum(subset) * max(mpmath.mpf(0), y - bs) ** power
    return tot / (mpmath.factorial(power) * mpmath.fprod(b))


def rtn_exit_in_basin(half_widths, r, dps: int = 50) -> float:
    r"""P(|x + X| > r) for x ~ U[-r, r] (uniform on the basin floor, k = 1), X = sum_j U[-a_j, a_j] (exact).

    Equals :math:`\frac1r\int_0^{2r} P(X > t)\,dt = 2 - (G(A + 2r) - G(A))/r` with
    :math:`A = \sum_j a_j` and :math:`G` the antiderivative of the CDF of :math:`X + A` (mpmath, ``dps``
    digits; at most 24 non-zero half-widths).
    """
    check_positive("r", r)
    a = [mpmath.mpf(float(x)) for x in np.asarray(half_widths, dtype=np.float64).reshape(-1) if float(x) > 0]
    if not a:
        return 0.0
    if len(a) > 24:
        raise LandscapeError(f"half_widths has {len(a)} non-zero entries: the exact law needs <= 24.")
    with mpmath.workdps(dps):
        m, big_a, rr = len(a), sum(a), mpmath.mpf(float(r))
        dg = _irwin_hall_power(a, big_a + 2 * rr, m + 1) - _irwin_hall_power(a, big_a, m + 1)
        return float(min(1, max(0, 2 - dg / rr)))


def sgd_floor_variance(learning_rate: float, mu: float, noise: float) -> float:
    r"""eta sigma^2 / (mu (2 - eta mu)): the stationary variance per normal coordinate of SGD with gradient
    noise of std ``noise`` on the floor :math:`\mu\rho^2/2` (the linear recursion; ``mu = 0`` gives inf: the
    floor is flat and only the walls confine the walk)."""
    check_positive("learning_rate", learning_rate)
    if not 0.0 <= mu < 2.0 / learning_rate:
        raise LandscapeError(
            f"mu must lie in [0, 2 / learning_rate) = [0, {2.0 / learning_rate:g}); got {mu!r}.")
    return math.inf if mu == 0.0 else learning_rate * noise**2 / (mu * (2.0 - learning_rate * mu))


def basin_floor_offsets(
    seed: int,
    n: int,
    k: int,
    basin_radius: float,
    *,
    spread: float | None = None,
    length: float | None = None,
):
    r"""(n, k) normal offsets v of in-basin trained points, ||v|| <= r_b: uniform on the k-ball (``spread``
    None or inf), else the Gaussian N(0, spread^2 I) conditioned on the ball (the stationary spread of
    SGD noise, :func:`sgd_floor_variance`, with the walls acting as a conditioning); with ``length``
    (0 <= length <= r_b) every ``||v|| = length`` in a uniformly random direction (a fixed rho(w*)). NumPy,
    seeded."""
    check_positive("basin_radius", basin_radius)
    if int(n) < 1 or int(k) < 1:
        raise LandscapeError(f"n and k must be >= 1; got n={n!r}, k={k!r}.")
    rng = np.random.default_rng(int(seed))
    if length is not None:
        if spread is not None:
            raise LandscapeError(
                f"give spread or length, not both; got spread={spread!r}, length={length!r}."
            )
        if not 0 <= float(length) <= basin_radius:
            raise LandscapeError(f"length must lie in [0, basin_radius = {basin_radius!r}]; got {length!r}.")
        g = rng.normal(size=(int(n), int(k)))
        return float(length) * g / np.linalg.norm(g, axis=1, keepdims=True)
    if spread is None or not math.isfinite(spread):
        g = rng.normal(size=(int(n), int(k)))
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        return g * basin_radius * rng.uniform(size=(int(n), 1)) ** (1.0 / k)
    check_positive("spread", spread)
    out = np.empty((0, int(k)))
    while out.shape[0] < n:  # rejection: keep the draws inside the ball
        g = rng.normal(scale=spread, size=(2 * int(n), int(k)))
        out = np.concatenate([out, g[np.linalg.norm(g, axis=1) <= basin_radius]])
    return out[: int(n)]
