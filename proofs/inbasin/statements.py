r"""The paper's regime: trained points inside the basin whose RTN point is outside (regime ``in_basin``).

* **S1B** -- the RTN exit law of a trained point uniform on the basin floor (k = 1), exact
  (:func:`landscape.laws.rtn_exit_in_basin`), checked by simulation as S1 is;
* **S5I** -- S5 re-scoped: from an in-basin, RTN-failed trained point, STE enters the basin within S5's
  ``T_max`` when ``2 delta_perp < r_b`` (the paper's "quantization error small against the width").

``docs/theory.md``, section "The paper's regime".
"""

from __future__ import annotations

import sympy as sp

from proofs.core import SYM, Statement, derive, drop_assumption, reverse_conclusion, scale_constant, symbols

__all__ = ["S1B", "MUTANTS", "in_basin_version"]

S = symbols("k n z p_hat P_in rho_w rho_q r_b")


def _c(name):
    return sp.Symbol(name, real=True)


S1B = Statement(
    id="S1B",
    short="RTN exit law, in-basin trained points",
    title="RTN exit law for trained points uniform on the basin floor (k = 1): P = (1/r_b) int_0^{2 r_b} "
    "P(X > t) dt, exact",
    family="straight river, k = 1, unbounded uniform grid, trained points with normal offset uniform on "
    "[-r_b, r_b] and residual equidistributed over the cell (independent)",
    assumptions={"k_is_1": sp.Eq(S["k"], 1), "many_samples": S["n"] >= 1000},
    constants={"hw": sp.Rational(1, 2),
               "se": sp.sqrt(S["P_in"] * (1 - S["P_in"]) / S["n"]) + 1 / S["n"]},
    conclusion={"within_z_se": sp.Abs(S["p_hat"] - S["P_in"]) <= S["z"] * _c("se")},
    attack="rtn_in_basin",
    proof=("irwin_hall_lemma", "irwin_hall_exit_prob", "in_basin_exit_integral"),
    tightness=sp.Abs(S["p_hat"] - S["P_in"]) / (S["z"] * _c("se")),
    tightness_label="|p-P|/(z se)",
    regime="in_basin",
    k_range=(1, 1),
    paper=("x and the residual independent: P = E_x P(|x + X| > r_b), two tails folded onto [0, 2 r_b]",),
    doc="#s1b-the-rtn-exit-law-of-in-basin-trained-points",
)


def in_basin_version(st: Statement, sid: str, attack: str) -> Statement:
    """``st`` re-scoped to in-basin RTN-failed starts: id ``sid``, regime in_basin, two more assumptions."""
    return derive(
        st, sid, attack=attack, regime="in_basin", short=st.short + ", in-basin start",
        title=st.title + " -- from a trained point inside the basin whose RTN point is outside",
        assumptions={**st.assumptions, "in_basin": SYM["rho_w"] <= SYM["r_b"],
                     "rtn_failed": SYM["rho_q"] > SYM["r_b"] + SYM["gamma"]},  # outside the target r_g
        family=st.family + "; trained point inside the basin (rho(w*) <= r_b), RTN point outside",
        doc="#s5i-s5-from-in-basin-trained-points")


MUTANTS: dict = {
    "S1B": [lambda s: scale_constant(s, "hw", 2),
            lambda s: reverse_conclusion(s, "within_z_se")],
    "S5I": [lambda s: scale_constant(s, "T_max", sp.Rational(1, 10)),  # S5's own mutants
            lambda s: drop_assumption(s, "step_size"),
            lambda s: reverse_conclusion(s, "recovered_in_time")],
}
