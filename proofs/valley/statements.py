r"""Statements S2V and S2L: the geometric failure of second-order PTQ on valleys (extends S2).

S2 says that the second-order model at :math:`w^*` sees the floor curvature :math:`\mu` and the valley
curvature :math:`\lambda`, never the wall. These two statements say what a rule that minimises that model
then does (``docs/theory.md``, section S2V):

* **S2L** (monotone trade, any d, k, m, any finite candidate set): the exact minimiser :math:`q_\lambda` of
  the undamped proxy :math:`\mu\lVert N e\rVert^2 + \lambda\lVert E e\rVert^2` (:math:`e = q - w^*`) over
  the corners of :math:`w^*`'s cell has :math:`\lVert N e_\lambda\rVert` non-decreasing and
  :math:`\lVert E e_\lambda\rVert` non-increasing in :math:`\lambda`; at :math:`\lambda = 0` it is a
  least-:math:`\rho` corner. The more wall-free curvature, the larger the error the wall judges.
* **S2V** (constructive, exact): on the planar valley (:mod:`landscape.laws.valley`) with
  :math:`\lambda \ge \mu`, the exact proxy minimiser, GPTQ and OBQ put every trained point at least
  as far from the river as RTN does; with equidistributed residuals their exit probabilities are exact laws
  :math:`P_m(\varrho, R)`, non-decreasing in :math:`R` up to :math:`(1 - \varrho)_+` for the proxy
  minimiser, against RTN's :math:`(1 - \varrho)_+^2`; and a corner of the cell in the basin always exists
  when :math:`\varrho \ge 1/2`, so for :math:`\Delta \in (\sqrt2 r_b, 2\sqrt2 r_b)` a second-order rule
  exits with probability tending to :math:`1 - \varrho > (1 - \varrho)^2` while the least-:math:`\rho`
  corner (the oracle of a steep wall) never does.

Both have ``regime = "ptq_failed"``. :func:`statements` builds them; :func:`mutant_table` gives their
planted false variants.
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

from proofs.core import Statement, drop_assumption, reverse_conclusion, scale_constant

__all__ = ["statements", "mutant_table", "V"]

_NAMES = (
    "rho_v R lam mu lam1 lam2 n z p_rtn p_prox p_gptq p_obq P_prox P_gptq P_obq trade_prox trade_gptq "
    "trade_obq max_min_sigma X1 X2 Y1 Y2 rho0 min_rho_corner"
)
V: dict[str, sp.Symbol] = {name: sp.Symbol(name, real=True) for name in _NAMES.split()}


def _c(name):
    return sp.Symbol(name, real=True)


def _se(p):
    """sqrt(p (1 - p) / n) + 1/n: the binomial standard error with a continuity term."""
    return sp.sqrt(sp.Max(p * (1 - p), 0) / V["n"]) + 1 / V["n"]


@functools.lru_cache(maxsize=1)
def statements() -> tuple:
    """(S2V, S2L) as :class:`proofs.core.Statement` values."""
    s2v = Statement(
        id="S2V",
        k_range=(1, 1),
        short="valley: second-order PTQ exits (exact law)",
        title="Valley blindness, constructive: on the planar valley with lambda >= mu, the exact proxy "
        "minimiser, GPTQ and OBQ are never closer to the river than RTN; their exit probabilities are exact "
        "laws P(rho, R), the proxy minimiser's rising to (1 - rho)_+ against RTN's (1 - rho)_+^2; an "
        "in-basin corner exists whenever rho >= 1/2",
        family="planar valley (landscape.valley_landscape_3d at theta = pi/4: d = 3, k = m = 1, n and e on "
        "the diagonals of the cells), quadratic wall, unbounded grid with step Delta, GPTQ dampening "
        "delta = damp (mu + lambda)/3, R = (lambda + delta)/(mu + delta), rho = sqrt(2) r_b / Delta; trained "
        "points on the river and the floor with uniform residuals",
        assumptions={"valley_curved": V["lam"] >= V["mu"], "many_samples": V["n"] >= 1000},
        constants={
            "rho_factor": sp.sqrt(2),  # rho = rho_factor r_b / Delta (used to evaluate the exact laws)
            "P_rtn": sp.Max(0, 1 - V["rho_v"]) ** 2,
            "limit": sp.Max(0, 1 - V["rho_v"]),
            "half": sp.Rational(1, 2),
            "se_rtn": _se(_c("P_rtn")),
        },
        conclusion={
            "dominance_proxy": V["trade_prox"] >= 0,
            "dominance_gptq": V["trade_gptq"] >= 0,
            "dominance_obq": V["trade_obq"] >= 0,
            "law_rtn": sp.Abs(V["p_rtn"] - _c("P_rtn")) <= V["z"] * _c("se_rtn"),
            "law_proxy": sp.Abs(V["p_prox"] - V["P_prox"]) <= V["z"] * _se(V["P_prox"]),
            "law_gptq": sp.Abs(V["p_gptq"] - V["P_gptq"]) <= V["z"] * _se(V["P_gptq"]),
            "law_obq": sp.Abs(V["p_obq"] - V["P_obq"]) <= V["z"] * _se(V["P_obq"]),
            "above_rtn": V["P_prox"] >= _c("P_rtn"),
            "below_limit": V["P_prox"] <= _c("limit"),
            "corner_in_reach": V["max_min_sigma"] <= _c("half"),
        },
        attack="planar_valley",
        proof=("valley_trade_identity", "valley_trade", "planar_proxy_form", "planar_gptq_shift",
               "planar_gptq_dominance", "planar_rtn_law", "planar_proxy_limit_law", "planar_gptq_limit_law",
               "planar_law_exact", "planar_min_corner", "planar_limit_above_rtn"),
        tightness=(V["P_prox"] - _c("P_rtn")) / sp.Max(_c("limit") - _c("P_rtn"), sp.Float(1e-12)),
        tightness_label="(P-P_rtn)/(lim-P_rtn)",
        doc="#s2v-valley-blindness-the-geometric-failure-of-second-order-ptq",
        regime="ptq_failed",
    )
    s2l = Statement(
        id="S2L",
        short="monotone trade: ||N e|| grows with lambda",
        title="Monotone trade: the exact minimiser over the cell's corners of "
        "mu ||N e||^2 + lambda ||E e||^2 has ||N e|| non-decreasing and ||E e|| non-increasing in "
        "lambda; at lambda = 0 it is a least-rho corner",
        family="random valleys (landscape.valley_landscape), any d <= 10, k, m; quadratic wall; trained "
        "points on the river and the floor; landscape.ptq.proxy_minimizer with damp = 0",
        assumptions={"ordered": V["lam2"] >= V["lam1"], "curvature_nonneg": V["lam1"] >= 0},
        constants={"tol": sp.Float(1e-9)},
        conclusion={
            "normal_error_grows": V["X2"] >= V["X1"] - _c("tol") * (1 + V["X1"]),
            "curved_error_shrinks": V["Y2"] <= V["Y1"] + _c("tol") * (1 + V["Y1"]),
            "least_rho_at_zero": V["rho0"] <= V["min_rho_corner"] + _c("tol"),
        },
        attack="valley_trade",
        proof=("valley_trade_identity", "valley_trade"),
        doc="#s2v-valley-blindness-the-geometric-failure-of-second-order-ptq",
        regime="ptq_failed",
    )
    return s2v, s2l


def mutant_table() -> dict:
    """id -> list of functions building the planted false variants of S2V and S2L."""

    def limit_off(s):
        return scale_constant(s, "limit", sp.Rational(9, 10))

    def rtn_law_off(s):
        consts = dict(s.constants)
        consts["P_rtn"] = sp.Max(0, 1 - V["rho_v"])  # the limit law claimed for RTN
        return dataclasses.replace(s, constants=consts, mutant_of="S2V: RTN law (1 - rho) instead of squared")

    return {
        "S2V": [lambda s: drop_assumption(s, "valley_curved"),
                lambda s: scale_constant(s, "rho_factor", sp.Rational(1, 2)),
                limit_off,
                rtn_law_off,
                lambda s: scale_constant(s, "half", sp.Rational(1, 2)),
                lambda s: reverse_conclusion(s, "above_rtn")],
        "S2L": [lambda s: drop_assumption(s, "ordered"),
                lambda s: reverse_conclusion(s, "normal_error_grows")],
    }
