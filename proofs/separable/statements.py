r"""K2S: recovery for any k from RTN-failed river starts when the sharp directions act on disjoint groups.

With disjoint coordinate supports the k-dimensional STE dynamics is k coupled 1-D reductions
(:mod:`proofs.separable.analysis`); each coordinate is driven to its band ``|g_i| <= r_i`` by
K1's no-jump argument and held there by A2's room argument, so the deployed point enters the ball.
``docs/theory.md``, section K2S.
"""

from __future__ import annotations

import sympy as sp

from proofs.core import Statement, reverse_conclusion, scale_constant, symbols

__all__ = ["STATEMENTS", "MUTANTS"]

S = symbols("k d eta kappa r_b rho_q T disjoint zeta jump_ratio absorb_ratio time_ratio drift")

K2S = Statement(
    id="K2S",
    short="k>=2 recovery, disjoint supports",
    title="Any k, no drift, sharp directions on disjoint coordinate groups: if the bands "
    "I_i = {|g_i| <= r_i} (sum r_i^2 = r_b^2) hold both signs, no coordinate step can jump over its band "
    "and no in-band step leaves it, q_t enters the basin, T <= floor(max_i D_i / s_i) + 1",
    family="straight river, rows of N with pairwise disjoint supports (k >= 1; the checker draws k = 2, 3 "
    "with 2-4 coordinates each), no drift, any of the four walls, unbounded uniform grid, STE with SGD; "
    "RTN-failed trained points on the river",
    assumptions={
        "disjoint": sp.Eq(S["disjoint"], 1),
        "no_drift": sp.Eq(S["drift"], 0),
        # zeta = ||(zeta_1..zeta_k)||, zeta_i the least band radius of line i holding both signs of g_i;
        # the bands I_i = {|g_i| <= r_i} use r_i = zeta_i r_b / zeta (so sum r_i^2 = r_b^2)
        "both_signs": S["zeta"] < S["r_b"] * (1 - sp.Float(1e-6)),  # a relative margin, as the certificate's
        "rtn_failed": S["rho_q"] > S["r_b"],
        "no_jump": S["jump_ratio"] < 1,  # max over reachable y outside the ball of s_i(y) / |I_i|
        "absorb": S["absorb_ratio"] < 1,  # in band: s_i(y) / room_i
    },
    constants={"T_sep": sp.floor(S["time_ratio"]) + 1},
    conclusion={"recovered_in_time": S["T"] <= sp.Symbol("T_sep", real=True)},
    attack="separable_recovery",
    proof=("slice_invariance", "separable_offsets", "rounding_monotone", "monotone_sign", "no_jump_over",
           "step_within_band"),
    tightness=S["T"] / sp.Symbol("T_sep", real=True),
    tightness_label="T/T_sep",
    regime="ptq_failed",
    k_range=(1, None),
    paper=(
        "each coordinate moves monotonically toward I_i by at least s_i per step (K1's count)",
        "once every lambda_i is in I_i, ||y|| <= sqrt(k) r_b / sqrt(k) = r_b",
    ),
    doc="#k2s-recovery-for-any-k-when-the-sharp-directions-act-on-disjoint-coordinates",
)

STATEMENTS: tuple[Statement, ...] = (K2S,)

MUTANTS: dict = {
    "K2S": [
        lambda s: scale_constant(s, "T_sep", sp.Rational(1, 2)),
        lambda s: reverse_conclusion(s, "recovered_in_time"),
        # tried and not caught by the quick search (docs/theory.md, K2S): "no_jump" or "absorb" dropped,
        # or with the factor 2 (jump_ratio < 2, absorb_ratio < 2); they are not listed as caught mutants
    ],
}
