r"""The statements of the regime where PTQ fails (``docs/theory.md``, sections R1 to K2R), as data.

Appended to :data:`proofs.statements.STATEMENTS` (and their mutants to ``MUTANTS``). The geometric inputs
(the in-band interval ``I`` of the 1-D reduction, its length ``I_len``, the integral ``J_int``, the
slack of the no-overshoot condition, whether the slice meets an in-band cell...) are computed by the
scenario from the drawn case with :mod:`landscape.certify` / :mod:`landscape.certify.reduction` /
:mod:`landscape.certify.slices`; ``T`` and ``T_settle`` are measured by the engine (float64).
"""

from __future__ import annotations

import sympy as sp

from proofs.core import Statement, derive, drop_assumption, replace, scale_constant, symbols

__all__ = ["RECOVERY_STATEMENTS", "RECOVERY_MUTANTS"]

S = symbols(
    "d k eta kappa mu r_b dp drift rho_q max_f T T_settle censored never_hit flat_bottom "
    "mono_viol jump_err gap_max line_dev offset_dev band_empty I_len D_I phi_0 phi_edge J_int slack "
    "slack_half eta0 t_c L_lin R_trap phi_R m_edge room_abs min_slice_off slice_empty start_rtn_failed "
    "disjoint T_no_drift tie_err sim_jump_err tie_up_err max_jump_err"
)
_TOL = sp.Float(1e-9)


def _c(name):
    return sp.Symbol(name, real=True)


_K1 = {"k_is_1": sp.Eq(S["k"], 1), "no_drift": sp.Eq(S["drift"], 0)}

R1 = Statement(
    id="R1",
    short="k=1 exact 1-D reduction",
    title="k = 1, no drift: the latent stays on w0 + lambda n, and the deployed offset g(lambda) = "
    "n.Q(w0 + lambda n) - c0 (Q rounds half to even) is non-decreasing and stays within delta_perp of "
    "the latent's offset; at a breakpoint z crossed by the coordinates J, g(z+) - g(z-) = sum_J f_j "
    "and g(z) = g(z-) + the sum of f_j over the j in J whose tie goes right (n_j > 0 with m odd, or "
    "n_j < 0 with m even, at w_j = o_j + (m + 1/2) Delta_j)",
    family="straight river, k = 1, no drift, unbounded uniform grid, STE-SGD (any wall)",
    assumptions=dict(_K1),
    constants={"tol": _TOL},
    conclusion={
        "monotone": S["mono_viol"] <= 0,
        "jumps_are_flips": S["jump_err"] <= _c("tol"),
        "within_dp": S["gap_max"] <= S["dp"],
        "latent_on_line": S["line_dev"] <= _c("tol"),  # relative to 1 + |lambda_t|
        "offset_is_g": S["offset_dev"] <= _c("tol"),
        "ties_half_to_even": S["tie_err"] <= _c("tol"),  # exact rationals at every breakpoint
        "simultaneous_jumps_add": S["sim_jump_err"] <= _c("tol"),
    },
    attack="line_reduction",
    proof=("ste_step_k1", "rounding_monotone", "monotone_sign", "triangle_offset"),
    tightness=S["gap_max"] / S["dp"],
    tightness_label="max|g-x|/dp",
    regime="any",
    paper=(
        "several coordinates crossing at one lambda add their flips (sum of f_j); at the breakpoint "
        "itself each takes the value its tie gives it (half to even), so g(z) can lie strictly between "
        "g(z-) and g(z+) (docs/certificate.md)",
    ),
    doc="#r1-the-exact-1-d-reduction-k--1-no-drift",
)

K1R = Statement(
    id="K1R",
    short="k=1: I empty => never",
    title="k = 1, no drift: if the in-band set I of the line w0 + lambda n is empty (no piece of g and, "
    "under ties to even, no breakpoint value g(z) within r_b), q_t never enters the basin (any step "
    "size, wall or schedule)",
    family="as R1",
    assumptions={**_K1, "band_empty": sp.Eq(S["band_empty"], 1)},
    constants={},
    conclusion={"never_hit": sp.Eq(S["never_hit"], 1)},
    attack="line_empty",
    extra_attacks=("line_empty_dyadic",),
    proof=("ste_step_k1",),
    regime="any",
    paper=("the latent never leaves the line (R1), whose cells are all out of band",),
    doc="#k1r-an-empty-band-refutes",
)

_K1_RUN = {
    **_K1,
    "ptq_failed": S["rho_q"] > S["r_b"],
    "band": S["I_len"] > 0,
    "slope_positive": S["phi_edge"] > 0,
}

K1 = Statement(
    id="K1",
    short="k=1 recovery: eta phi'(|y0|) < |I|",
    title="k = 1, no drift, RTN-failed start: if eta phi'(|y0|) < |I| then "
    "T <= floor(D / (eta phi'(g_edge))) + 1 "
    "and T <= 1 + floor(int dx / (eta phi'(g(x))))",
    family="straight river, k = 1, no drift, unbounded uniform grid, any of the four walls (kappa > 0), "
    "STE-SGD; starts: trained points on the river whose RTN point is outside the basin",
    assumptions={**_K1_RUN, "step_vs_band": S["eta"] * S["phi_0"] < S["I_len"]},
    constants={
        "T_K1": sp.floor(S["D_I"] / (S["eta"] * S["phi_edge"])) + 1,
        "T_int": sp.floor(S["J_int"]) + 1,
    },
    conclusion={"within_T_K1": S["T"] <= _c("T_K1"), "within_T_int": S["T"] <= _c("T_int")},
    attack="k1_uniform",
    proof=(
        "ste_step_k1",
        "rounding_monotone",
        "monotone_sign",
        "walls_monotone",
        "no_jump_over",
        "integral_step",
    ),
    tightness=S["T"] / _c("T_K1"),
    tightness_label="T/T_K1",
    regime="ptq_failed",
    paper=(
        "induction: while x_t is beyond I its step lies in [eta phi'(g_edge), eta phi'(|y0|)]",
        "counting of steps (floor + 1), including a landing exactly on the edge of I",
    ),
    doc="#k1-recovery-when-the-largest-step-is-shorter-than-i",
)

K1P = derive(  # K1's proof and regime; its own condition, bound and tightness
    K1,
    "K1P",
    short="k=1 recovery: no step jumps over I",
    title="k = 1, no drift, RTN-failed start: if on every piece between the start and I the step is shorter "
    "than the distance to the far end of I, then T <= 1 + floor(int dx / (eta phi'(g(x))))",
    family="as K1",
    assumptions={**_K1_RUN, "no_jump": S["slack"] > 0},
    constants={"T_int": sp.floor(S["J_int"]) + 1},
    conclusion={"within_T_int": S["T"] <= _c("T_int")},
    attack="k1_piecewise",
    tightness=S["T"] / _c("T_int"),
    tightness_label="T/T_int",
    paper=("induction over the steps; the integral over a piece-wise constant non-decreasing h",),
    doc="#k1p-recovery-when-no-step-can-jump-over-i",
)

_T0 = sp.Max(
    sp.Max(0, sp.ceiling(S["t_c"] * (S["eta0"] * S["L_lin"] - 1))),
    sp.floor(S["t_c"] * (S["eta0"] * S["phi_R"] / S["I_len"] - 1)) + 1,
)
K1D = Statement(
    id="K1D",
    short="k=1 recovery, decaying steps",
    title="k = 1, no drift, eta_t = eta0/(1 + t/t_c) (-> 0, sum = inf), phi'(r) <= L r beyond r_b: T is "
    "finite whenever |I| > 0, T <= floor((t_c + t0) exp(D/(m eta0 t_c)) - t_c) + 1 (t0 = 0: D/m -> the "
    "potential int dx / phi'(g))",
    family="as K1 with the quadratic or softplus wall (linear growth of phi'); STE with SGD on the schedule "
    "eta0 / (1 + t/t_c)",
    assumptions={
        **{k: v for k, v in _K1_RUN.items() if k != "slope_positive"},
        "slope_positive": S["m_edge"] > 0,
        "linear_growth": S["L_lin"] > 0,
    },
    constants={
        "t0": _T0,
        # t0 = 0: the potential int dx / phi'(g(x)) = eta0 J_int drops by >= eta_t per step;
        # t0 > 0: from t0 on each step moves >= eta_t m_edge over at most R_trap + r_b + dp
        "T_D": sp.Piecewise(
            (sp.floor(S["t_c"] * sp.exp(S["J_int"] / S["t_c"]) - S["t_c"]) + 1, sp.Eq(_c("t0"), 0)),
            (
                sp.floor(
                    (S["t_c"] + _c("t0"))
                    * sp.exp((S["R_trap"] + S["r_b"] + S["dp"]) / (S["m_edge"] * S["eta0"] * S["t_c"]))
                    - S["t_c"]
                )
                + 1,
                True,
            ),
        ),
    },
    conclusion={"within_T_D": S["T"] <= _c("T_D")},
    attack="k1_decaying",
    proof=(
        "ste_step_k1",
        "rounding_monotone",
        "monotone_sign",
        "no_jump_over",
        "growth_product",
        "trap_invariant",
        "log_bound",
        "decay_partial_sum",
    ),
    tightness=S["T"] / _c("T_D"),
    tightness_label="T/T_D",
    regime="ptq_failed",
    paper=(
        "after t0 no step can jump over I (K1 at each time); each step moves >= eta_t phi'(g_edge)",
        "R_trap = max((|x0| + dp) prod_{t < t1} (1 + eta_t L) - dp, 3 dp) bounds |x_t| for t >= t1",
    ),
    doc="#k1d-decaying-steps",
)

A1 = Statement(
    id="A1",
    short="absorption: mu = 0, no drift",
    title="Absorption: flat-bottom wall with mu = 0 and no drift: once q_t is in the basin the latent stops, "
    "so T_settle = T",
    family="straight river, any k, quadratic / power / exp wall with mu = 0, no drift, STE-SGD",
    assumptions={
        "mu_zero": sp.Eq(S["mu"], 0),
        "flat_bottom": sp.Eq(S["flat_bottom"], 1),
        "no_drift": sp.Eq(S["drift"], 0),
    },
    constants={},
    conclusion={"settles_at_T": sp.Eq(S["T_settle"], S["T"])},
    attack="absorption",
    proof=("zero_gradient_in_basin", "flat_bottom_walls", "grad_formula"),
    regime="any",
    paper=("w_{T+1} = w_T, hence q_t = q_T for every t >= T (induction)",),
    doc="#a-absorption-when-does-q_t-stay-in-the-basin",
)

A2 = derive(  # A1's record (conclusion T_settle = T, regime, doc) for k = 1 with mu > 0
    A1,
    "A2",
    short="absorption: k=1, mu > 0",
    title="Absorption, k = 1, mu > 0, no drift: if eta mu r_b is shorter than both sign-parts of I, "
    "q_t stays "
    "in the basin from T on (T_settle = T)",
    family="straight river, k = 1, no drift, flat-bottom wall with mu > 0, STE-SGD",
    assumptions={
        **_K1,
        "mu_positive": S["mu"] > 0,
        "flat_bottom": sp.Eq(S["flat_bottom"], 1),
        "small_in_band_step": S["eta"] * S["mu"] * S["r_b"] < S["room_abs"],
    },
    attack="absorption_k1",
    proof=("ste_step_k1", "absorption_band", "flat_bottom_walls"),
    paper=("inside I the step is eta mu |g| toward the sign change of g (R1); induction",),
)

K2E = Statement(
    id="K2E",
    short="slice meets a cell within sqrt(k)/2 max f",
    title="Every slice w0 + row(N) in general position meets the cell of a grid point q with "
    "||N q - c0|| <= (sqrt(k)/2) max_j f_j",
    family="straight river, any k < d, unbounded uniform grid; any w0 (generic)",
    assumptions={},
    constants={"bound": sp.sqrt(S["k"]) / 2 * S["max_f"]},
    conclusion={"cell_in_reach": S["min_slice_off"] <= _c("bound")},
    attack="slice_reach",
    proof=("random_rounding_variance", "triangle_offset"),
    tightness=S["min_slice_off"] / _c("bound"),
    tightness_label="min|Nq-c0|/bound",
    regime="any",
    paper=(
        "degree argument: a continuous surrogate of Q on the slice has a zero (Brouwer)",
        "at a generic point at most k boundaries meet, and the 2^|J| cells around it all meet the slice",
    ),
    doc="#k2e-what-the-slice-can-reach",
)

K2R = Statement(
    id="K2R",
    short="k>=2: empty slice => never",
    title="No drift, any k: if the slice w0 + row(N) meets no in-band cell, q_t never enters the basin",
    family="straight river, any k, no drift, unbounded uniform grid, any wall, STE-SGD",
    assumptions={"no_drift": sp.Eq(S["drift"], 0), "slice_empty": sp.Eq(S["slice_empty"], 1)},
    constants={},
    conclusion={"never_hit": sp.Eq(S["never_hit"], 1)},
    attack="slice_empty",
    proof=("slice_invariance",),
    regime="any",
    paper=("exhaustive enumeration of the in-band cells near the slice (the certificate's computation)",),
    doc="#k2r-an-empty-slice-refutes",
)

D0 = Statement(
    id="D0",
    short="drift on no sharp coordinate",
    title="k = 1 with a linear drift along u, u_j n_j = 0 for every j: the 1-D reduction is unchanged, so T "
    "equals the drift-free T (and K1-K1D apply verbatim)",
    family="straight river, k = 1, linear drift, unbounded uniform grid, quadratic wall, STE-SGD",
    assumptions={"k_is_1": sp.Eq(S["k"], 1), "disjoint": sp.Eq(S["disjoint"], 1)},
    constants={},
    conclusion={"same_T": sp.Eq(S["T"], S["T_no_drift"])},
    attack="drift_free_coords",
    proof=("slice_invariance", "ste_step_k1"),
    regime="ptq_failed",
    paper=("the coordinates in supp(n) move only by the wall term, so g(lambda) does not see s",),
    doc="#k2r-an-empty-slice-refutes",
)

RECOVERY_STATEMENTS: tuple[Statement, ...] = (R1, K1R, K1, K1P, K1D, A1, A2, K2E, K2R, D0)

RECOVERY_MUTANTS: dict = {
    "R1": [
        lambda s: replace(
            s, "delta_perp halved", conclusion={**s.conclusion, "within_dp": S["gap_max"] <= S["dp"] / 2}
        ),
        lambda s: replace(
            s,
            "ties round half up (g right-continuous)",
            conclusion={**s.conclusion, "ties_half_to_even": S["tie_up_err"] <= _c("tol")},
        ),
        lambda s: replace(
            s,
            "a simultaneous crossing jumps by its largest flip only",
            conclusion={**s.conclusion, "simultaneous_jumps_add": S["max_jump_err"] <= _c("tol")},
        ),
    ],
    "K1R": [
        lambda s: drop_assumption(s, "no_drift"),
        lambda s: replace(
            s,
            "empty band replaced by max f > 2 r_b",
            assumptions={**_K1, "big_flip": S["max_f"] > 2 * S["r_b"]},
        ),
    ],
    "K1": [
        lambda s: scale_constant(s, "T_K1", sp.Rational(1, 2)),
        lambda s: scale_constant(s, "T_int", sp.Rational(1, 2)),
        lambda s: drop_assumption(s, "step_vs_band"),
        lambda s: replace(
            s,
            "step condition with 2 |I|",
            assumptions={**s.assumptions, "step_vs_band": S["eta"] * S["phi_0"] < 2 * S["I_len"]},
        ),
    ],
    "K1P": [
        lambda s: scale_constant(s, "T_int", sp.Rational(1, 2)),
        lambda s: drop_assumption(s, "no_jump"),
        lambda s: replace(
            s,
            "no-jump condition with half steps",
            assumptions={**s.assumptions, "no_jump": S["slack_half"] > 0},
        ),
    ],
    "K1D": [lambda s: scale_constant(s, "T_D", sp.Rational(1, 2))],
    "A1": [lambda s: drop_assumption(s, "mu_zero"), lambda s: drop_assumption(s, "no_drift")],
    "A2": [lambda s: drop_assumption(s, "small_in_band_step")],
    "K2E": [
        lambda s: replace(
            s, "constant sqrt(k)/2 -> sqrt(k)/4", constants={"bound": sp.sqrt(S["k"]) / 4 * S["max_f"]}
        )
    ],
    "K2R": [lambda s: drop_assumption(s, "no_drift")],
    "D0": [lambda s: drop_assumption(s, "disjoint")],
}
