r"""Exact exit laws of PTQ on the planar valley (statement S2V of ``docs/theory.md``).

The **planar valley** is :func:`landscape.geometry.valley.valley_landscape_3d` at :math:`\theta = \pi/4`: in
the :math:`(w_1, w_2)` plane the walled normal is :math:`n = (1, 1)/\sqrt2` and the wall-free curved
direction :math:`e = (-1, 1)/\sqrt2`, the diagonals of the grid's square cells (step :math:`\Delta`
on both coordinates); :math:`u = e_3`. For a trained point on the river and the valley floor write
:math:`t_j = (w^*_j - q^-_j)/\Delta \in [0, 1)` and, for a corner :math:`\beta \in \{0, 1\}^2`,

.. math::
    \sigma = \beta_1 + \beta_2 - t_1 - t_2 = \sqrt2\, n\cdot(q - w^*)/\Delta, \qquad
    \tau = \beta_1 - \beta_2 - t_1 + t_2 = \pm\sqrt2\, e\cdot(q - w^*)/\Delta .

``q`` leaves the basin iff :math:`|\sigma| > \varrho := \sqrt2\, r_b/\Delta`. With GPTQ's dampening
:math:`\delta = \mathrm{damp}\,(\mu + \lambda)/3`, the damped proxy on the plane is
:math:`\tfrac{\Delta^2}{2}(\mu + \delta)\,[\sigma^2 + R\,\tau^2]`,
:math:`R = (\lambda + \delta)/(\mu + \delta)`
(the river coordinate decouples and is rounded to nearest). Each method's choice is then a
piecewise-linear function of :math:`t`:

* ``rtn``: :math:`\beta_j = [t_j > 1/2]`;
* ``proxy_min``: the corner minimising :math:`\sigma^2 + R\tau^2` (a weighted Voronoi diagram of the
  four corners: half-planes);
* ``gptq``: :math:`\beta_1 = [t_1 > 1/2]`, then coordinate 2 compensates by
  :math:`\gamma(\beta_1 - t_1)`, :math:`\gamma = (R - 1)/(R + 1)`, and rounds:
  :math:`\beta_2 = [t_2 + \gamma(\beta_1 - t_1) > 1/2]`;
* ``obq``: the same with the coordinate of smaller rounding error quantized first;
* ``min_corner``: the corner of least :math:`|\sigma|` (the oracle of a wall much steeper than the valley).

With the residual :math:`t` uniform on the cell (trained points equidistributed relative to the grid)
the exit probability is the area of a union of convex polygons, computed here **exactly**
(Sutherland-Hodgman clipping and the shoelace formula; with :class:`fractions.Fraction` inputs the
arithmetic is exact rational). Closed forms (proved in ``proofs/valley.py``):
:math:`P_{\rm rtn} = (1 - \varrho)_+^2`, :math:`\lim_{R\to\infty} P_{\rm proxy} = (1 - \varrho)_+`,
:math:`\min_\beta |\sigma| \le 1/2` (an in-basin corner exists whenever :math:`\varrho \ge 1/2`).
"""

from __future__ import annotations

import math
from fractions import Fraction
from itertools import product

__all__ = ["METHODS", "planar_ratio", "planar_gamma", "planar_rho", "exit_probability", "rtn_exit",
           "proxy_limit_exit"]

METHODS = ("rtn", "proxy_min", "gptq", "obq", "min_corner")
# the four corners beta of the planar unit cell as the cases of an exact piecewise integral (Fractions,
# 2-D only); numerical corner enumeration of a grid cell lives in landscape.quantizers.cells
_CORNERS = tuple(product((0, 1), repeat=2))
_SQUARE = ((0, 0), (1, 0), (1, 1), (0, 1))


def planar_ratio(mu, lam, damp=0.01, dim: int = 3):
    """R = (lambda + delta)/(mu + delta), delta = damp (mu + lambda)/dim: the plane's proxy anisotropy."""
    delta = damp * (mu + lam) / dim
    return (lam + delta) / (mu + delta)


def planar_gamma(ratio):
    """gamma = (R - 1)/(R + 1): GPTQ's shift of coordinate 2 per unit rounding error of coordinate 1."""
    return (ratio - 1) / (ratio + 1)


def planar_rho(basin_radius, step):
    """varrho = sqrt(2) r_b / Delta: the basin's half-width in units of sigma."""
    return math.sqrt(2.0) * basin_radius / step


def rtn_exit(rho):
    """(1 - varrho)_+^2: RTN's exit probability on the planar valley (sigma is triangular on [-1, 1])."""
    return max(0, 1 - rho) ** 2


def proxy_limit_exit(rho):
    """(1 - varrho)_+: the exact proxy minimiser's exit probability as R -> infinity (|sigma| ~ U[0, 1])."""
    return max(0, 1 - rho)


# --------------------------------------------------------------------------------------
# exact polygon areas
# --------------------------------------------------------------------------------------
def _clip(poly, a, b, c):
    """The part of the convex polygon ``poly`` where a t1 + b t2 <= c (Sutherland-Hodgman, one edge)."""
    out = []
    n = len(poly)
    for i in range(n):
        p, q = poly[i], poly[(i + 1) % n]
        fp = a * p[0] + b * p[1] - c
        fq = a * q[0] + b * q[1] - c
        if fp <= 0:
            out.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            s = fp / (fp - fq)
            out.append((p[0] + s * (q[0] - p[0]), p[1] + s * (q[1] - p[1])))
    return out


def _area(poly):
    """Shoelace area of a polygon (0 for fewer than three vertices)."""
    if len(poly) < 3:
        return 0
    tot = 0
    for i in range(len(poly)):
        p, q = poly[i], poly[(i + 1) % len(poly)]
        tot += p[0] * q[1] - q[0] * p[1]
    return abs(tot) / 2


def _region_area(halfplanes, exact):
    poly = [tuple(Fraction(v) for v in p) for p in _SQUARE] if exact else [tuple(float(v) for v in p)
                                                                          for p in _SQUARE]
    for a, b, c in halfplanes:
        poly = _clip(poly, a, b, c)
        if not poly:
            return 0
    return _area(poly)


def _exit_pieces(beta, rho):
    """Half-planes of sigma > rho and sigma < -rho for corner beta (sigma = b1 + b2 - t1 - t2)."""
    s = beta[0] + beta[1]
    return ([(1, 1, s - rho)], [(-1, -1, -s - rho)])  # t1 + t2 <= s - rho  |  t1 + t2 >= s + rho


def _cells(method, ratio, exact):
    """(corner, half-planes) pieces of the unit square on which ``method`` picks ``corner`` (convex)."""
    half = Fraction(1, 2) if exact else 0.5
    if method in ("rtn", "proxy_min", "min_corner"):
        # min_corner: corners (1, 0) and (0, 1) have the same sigma; one of them stands for both
        corners = _CORNERS if method != "min_corner" else ((0, 0), (1, 0), (1, 1))
        for beta in corners:
            if method == "rtn":
                hp = [((1, 0, half) if beta[0] == 0 else (-1, 0, -half)),
                      ((0, 1, half) if beta[1] == 0 else (0, -1, -half))]
            else:
                hp = [_prefer(beta, other, ratio if method == "proxy_min" else None)
                      for other in corners if other != beta]
            yield beta, hp
        return
    gamma = planar_gamma(ratio)
    for r1, r2 in _CORNERS:  # the RTN quadrant: t1 > 1/2 iff r1, t2 > 1/2 iff r2
        quad = [((1, 0, half) if r1 == 0 else (-1, 0, -half)), ((0, 1, half) if r2 == 0 else (0, -1, -half))]
        firsts = (0,) if method == "gptq" else (0, 1)
        for first in firsts:
            hp = list(quad)
            if method == "obq":  # coordinate `first` has the larger |t - 1/2| (smaller rounding error)
                s1 = 1 if r1 else -1  # |t1 - 1/2| = s1 (t1 - 1/2) in this quadrant
                s2 = 1 if r2 else -1
                # first = 0: s1 (t1 - 1/2) >= s2 (t2 - 1/2)  <=>  -s1 t1 + s2 t2 <= (s2 - s1)/2
                a, b = (-s1, s2) if first == 0 else (s1, -s2)
                hp.append((a, b, (b + a) * half))
            other = 1 - first
            rf = (r1, r2)[first]
            # beta_other = [t_o + gamma (rf - t_f) > 1/2]
            for bo in (0, 1):
                # t_o - gamma t_f <= 1/2 - gamma rf   (bo = 0)   or   >= (bo = 1)
                coef = [0, 0]
                coef[other], coef[first] = 1, -gamma
                rhs = half - gamma * rf
                h = (coef[0], coef[1], rhs) if bo == 0 else (-coef[0], -coef[1], -rhs)
                beta = [0, 0]
                beta[first], beta[other] = rf, bo
                yield tuple(beta), hp + [h]


def _prefer(beta, other, ratio):
    """Half-plane where corner beta's objective is <= other's: sigma^2 + R tau^2 (R None: |sigma| only)."""
    # sigma_b = s_b - T, tau_b = r_b - D with T = t1 + t2, D = t1 - t2
    sb, so = beta[0] + beta[1], other[0] + other[1]
    rb, ro = beta[0] - beta[1], other[0] - other[1]
    # (sb - T)^2 - (so - T)^2 = sb^2 - so^2 - 2 (sb - so) T ;  same for D with weight R
    w = 0 if ratio is None else ratio
    cT = -2 * (sb - so)
    cD = -2 * w * (rb - ro)
    const = (sb * sb - so * so) + w * (rb * rb - ro * ro)
    # cT T + cD D + const <= 0, with T = t1 + t2, D = t1 - t2
    return (cT + cD, cT - cD, -const)


def exit_probability(rho, method: str = "proxy_min", ratio=1):
    """P(|sigma| > varrho) for the residual t uniform on the cell: exact area (int / Fraction in: exact).

    ``method``: one of :data:`METHODS`; ``ratio``: R = (lambda + delta)/(mu + delta) > 0 (ignored by
    ``rtn`` and ``min_corner``; R < 1, lambda < mu, is allowed: the trade then runs the other way).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}.")
    if not ratio > 0:
        raise ValueError(f"ratio must lie in (0, inf) (R = (lambda + delta)/(mu + delta)); got {ratio!r}.")
    if rho < 0:
        raise ValueError(f"rho must lie in [0, inf); got {rho!r}.")
    exact = all(isinstance(x, (int, Fraction)) for x in (rho, ratio))
    total = 0
    for beta, hp in _cells(method, ratio, exact):
        for piece in _exit_pieces(beta, rho):
            total += _region_area(hp + piece, exact)
    return total
