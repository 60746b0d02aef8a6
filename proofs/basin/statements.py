r"""The basin family (S1-S6): RTN exit laws, Hessian blindness, STE in the isotropic basin.

A :class:`~proofs.core.Statement` names its inputs (drawn by the attacker), the quantities the
simulator measures, its assumptions and conclusion (sympy relationals over those
symbols), the constants it derives (sympy expressions, evaluated in order), and the
symbolic steps / certificates that prove it (keys of the registry's steps and
certificates, :mod:`proofs.core.registry`). Nothing the checker predicts is hard-coded
elsewhere: editing a constant here changes what :mod:`proofs.core.falsify` checks.

:data:`MUTANTS` gives the planted false variants of each statement (a constant off by a
factor, an assumption dropped, an inequality reversed); the checker must reject each.
See ``docs/theory.md`` for the statements in prose and their proofs.
"""

from __future__ import annotations

import dataclasses

import sympy as sp

from proofs.core import (
    SYM,
    Statement,
    drop_assumption,
    reverse_assumption,
    reverse_conclusion,
    scale_constant,
    symbols,
)

__all__ = ["STATEMENTS", "MUTANTS"]

symbols(
    "d k eta kappa r_b gamma dp rho_w rho_q rho_0 phi_q phi_max m_slope inward T tau sigma "
    "p_hat P_exit n z A_sum ah max_rho_q max_f min_rho_corner d_loss d_grad d_hess same_q flat_bottom "
    "never_hit period2 theta alpha min_dec P_gauss be_sum C_BE sigma_x kind_softplus proved_never mu"
)
S = SYM  # short alias used below


def _c(name):
    return sp.Symbol(name, real=True)


# --------------------------------------------------------------------------------------
# statement 1: the RTN exit law
# --------------------------------------------------------------------------------------
S1 = Statement(
    id="S1",
    k_range=(1, 1),
    short="RTN exit law, k=1 (Irwin-Hall)",
    title="RTN exit law, k = 1: exact weighted Irwin-Hall probability",
    family="straight river, k = 1, unbounded uniform grid (per-coordinate steps), trained points "
    "spread over many cells of the river hyperplane (equidistributed residual)",
    assumptions={"k_is_1": sp.Eq(S["k"], 1), "many_samples": S["n"] >= 1000},
    constants={"hw": sp.Rational(1, 2),  # half-width of n_j e_j is hw |n_j| Delta_j
               "se": sp.sqrt(S["P_exit"] * (1 - S["P_exit"]) / S["n"]) + 1 / S["n"]},
    conclusion={"within_z_se": sp.Abs(S["p_hat"] - S["P_exit"]) <= S["z"] * _c("se")},
    attack="rtn_law",
    proof=("irwin_hall_lemma", "irwin_hall_base", "irwin_hall_reindex", "irwin_hall_exit_prob"),
    tightness=sp.Abs(S["p_hat"] - S["P_exit"]) / (S["z"] * _c("se")),
    tightness_label="|p-P|/(z se)",
    regime="any",
    paper=(
        'induction over m: the inclusion-exclusion sum for every m (sympy checks m = 1..4)',
        'the residual is uniform on the cell (an assumption: equidistributed trained points)',
    ),
    doc="#s1-rtn-exit-law",
)

S1W = Statement(
    id="S1W",
    short="RTN worst case vs delta_perp",
    title="RTN worst case: rho(Q(w)) <= rho(w) + delta_perp; on the river, exit somewhere iff "
    "delta_perp > r_b (when the river's residuals are dense in the cell)",
    family="straight river, any k, unbounded uniform grid; any w (the attack uses river points)",
    assumptions={},
    constants={},
    conclusion={"below_dp": S["max_rho_q"] <= S["dp"]},  # max_rho_q = max_w [rho(Q(w)) - rho(w)]
    attack="rtn_worst",
    proof=("triangle_offset",),
    tightness=S["max_rho_q"] / S["dp"],
    tightness_label="max gap/dp",
    regime="any",
    paper=(
        'converse: a dense set of residuals meets the open set {||N e|| > r_b} (Kronecker for density)',
    ),
    doc="#s1-rtn-exit-law",
)

S1G = Statement(
    id="S1G",
    k_range=(1, 1),
    short="RTN exit law, Gaussian + Berry-Esseen",
    title="RTN exit law, large d: Gaussian limit with a Berry-Esseen error bound (C = 0.56)",
    family="as S1 (k = 1); X = n.e a sum of independent uniforms of half-widths |n_j| Delta_j / 2",
    assumptions={"k_is_1": sp.Eq(S["k"], 1), "many_samples": S["n"] >= 1000},
    constants={
        "hw": sp.Rational(1, 2),  # half-width of n_j e_j is hw |n_j| Delta_j
        "C_BE": sp.Rational(56, 100),  # Berry-Esseen constant, non-identical summands (Shevtsova 2010)
        "P_gauss": sp.erfc(S["r_b"] / (sp.sqrt(2) * S["sigma_x"])),
        "be": 2 * S["C_BE"] * S["be_sum"] / S["sigma_x"] ** 3,
        "se": sp.sqrt(S["p_hat"] * (1 - S["p_hat"]) / S["n"]) + 1 / S["n"],
    },
    conclusion={
        "exact_within_be": sp.Abs(S["P_exit"] - _c("P_gauss")) <= _c("be"),
        "sim_within_be": sp.Abs(S["p_hat"] - _c("P_gauss")) <= _c("be") + S["z"] * _c("se"),
    },
    attack="rtn_gauss",
    proof=("uniform_moments", "berry_esseen_cited", "berry_esseen_small_m"),
    tightness=sp.Abs(S["P_exit"] - _c("P_gauss")) / _c("be"),
    tightness_label="|P-Pg|/BE",
    regime="any",
    paper=(
        'Berry-Esseen for non-identical summands with C = 0.56 (cited, Shevtsova 2010)',
    ),
    doc="#s1-rtn-exit-law",
)

# --------------------------------------------------------------------------------------
# statement 2: Hessian blindness, and an in-basin grid point next to w*
# --------------------------------------------------------------------------------------
S2 = Statement(
    id="S2",
    short="Hessian blindness",
    title="Hessian blindness: inside a flat-bottom basin L, grad L, Hess L and any "
    "second-order rule's q equal the wall-free twin's",
    family="any river, walls with psi = 0 on [0, r_b] (quadratic, power, exp); "
    "twin = quadratic_wall(kappa=0)",
    assumptions={"inside": S["rho_w"] < S["r_b"], "flat_bottom": sp.Eq(S["flat_bottom"], 1)},
    constants={"tol": sp.Float(1e-12)},
    conclusion={
        "same_loss": S["d_loss"] <= _c("tol"),
        "same_grad": S["d_grad"] <= _c("tol"),
        "same_hess": S["d_hess"] <= _c("tol"),
        "same_q": sp.Eq(S["same_q"], 1),
    },
    attack="hessian_blind",
    proof=("flat_bottom_walls",),
    regime="any",
    paper=(
        'functions equal on an open set have equal derivatives there',
        'a rule that reads only (L, grad L, Hess L) and the grid returns the same q',
    ),
    doc="#s2-hessian-blindness-and-an-in-basin-grid-point-next-to-w",
)

S2E = Statement(
    id="S2E",
    short="in-basin corner within one step",
    title="In-basin grid point within one step: min over the 2^d floor/ceil roundings of "
    "rho(q) <= rho(w*) + sqrt(k)/2 max_j f_j",
    family="straight river, any k <= d, unbounded uniform grid",
    assumptions={},
    constants={"bound": S["rho_w"] + sp.sqrt(S["k"]) / 2 * S["max_f"]},
    conclusion={"corner_in_reach": S["min_rho_corner"] <= _c("bound")},
    attack="corner_exists",
    proof=("random_rounding_variance",),
    tightness=(S["min_rho_corner"] - S["rho_w"]) / (sp.sqrt(S["k"]) / 2 * S["max_f"]),
    tightness_label="gap/bound",
    regime="any",
    paper=(
        'a vertex of {y in [0,1]^d : sum a_j y_j = const} has at most k fractional coordinates (LP)',
        'some rounding is at least as good as the mean',
    ),
    doc="#s2-hessian-blindness-and-an-in-basin-grid-point-next-to-w",
)

# --------------------------------------------------------------------------------------
# statement 3: the inward component of the STE step
# --------------------------------------------------------------------------------------
_cos = sp.sqrt(sp.Max(0, 1 - S["dp"] ** 2 / S["rho_w"] ** 2))
S3 = Statement(
    id="S3",
    short="inward component of STE step",
    title="Inward component of the STE step >= eta phi'(rho_q) sqrt(1 - (delta_perp/rho_w)^2) > 0",
    family="straight river, isotropic basin, monotone wall (any of the four), any drift, "
    "unbounded uniform grid, STE with plain SGD (learning rate eta)",
    assumptions={
        "outside_q": S["rho_q"] > S["r_b"],
        "far_latent": S["rho_w"] > S["dp"],
        "wall_rises": S["kappa"] > 0,
    },
    constants={"bound": S["eta"] * S["phi_q"] * _cos,
               "bound_issue": S["eta"] * S["phi_q"] * (S["rho_w"] - S["dp"]) / (S["rho_w"] + S["dp"])},
    conclusion={
        "sharp_bound": S["inward"] >= _c("bound"),
        "issue_bound": S["inward"] >= _c("bound_issue"),
        "strictly_inward": S["inward"] > 0,
    },
    attack="ste_one_step",
    proof=("grad_formula", "inward_identity", "cos_bound", "sqrt_vs_ratio"),
    tightness=_c("bound") / S["inward"],
    tightness_label="bound/inward",
    regime="off_river",
    paper=(
        "phi'(rho_q) > 0 beyond r_b for each wall with kappa > 0",
        'reduction to the plane of v_w and x',
    ),
    doc="#s3-the-inward-component-of-the-ste-step",
)

# --------------------------------------------------------------------------------------
# statements 4 and 5: finite-time return of the latent; recovery
# --------------------------------------------------------------------------------------
_r = S["r_b"] + S["gamma"]
S4 = Statement(
    id="S4",
    short="finite-time return of the latent",
    title="Finite-time return of the latent: rho(w_t) drops by >= beta per step until "
    "rho(q_t) <= r_b + gamma or rho(w_t) < delta_perp + sigma, within T4 steps",
    family="as S3; wall with phi' non-decreasing (all four); margin gamma >= 0 with "
    "m = wall_slope(r_b + gamma) > 0",
    assumptions={
        "slope_positive": S["m_slope"] > 0,
        "sigma_positive": S["sigma"] > 0,
        "gamma_nonneg": S["gamma"] >= 0,
        "step_size": S["eta"] * S["phi_max"] <= sp.sqrt(S["sigma"] * (2 * S["dp"] + S["sigma"])),
    },
    constants={
        "c_sigma": sp.sqrt(1 - S["dp"] ** 2 / (S["dp"] + S["sigma"]) ** 2),
        "beta": S["eta"] * S["m_slope"] * _c("c_sigma") / 2,
        "T4": sp.Piecewise(
            (sp.floor((S["rho_0"] - S["dp"] - S["sigma"]) / _c("beta")) + 1,
             S["rho_0"] >= S["dp"] + S["sigma"]),
            (0, True)),
    },
    conclusion={"decrease": S["min_dec"] >= _c("beta"), "return_time": S["tau"] <= _c("T4")},
    attack="ste_latent",
    proof=("grad_formula", "inward_identity", "cos_bound", "norm_expansion", "one_step_contraction",
           "cos_monotone", "walls_monotone", "softplus_slope_bound"),
    tightness=S["tau"] / _c("T4"),
    tightness_label="tau/T4",
    regime="off_river",
    paper=(
        'induction rho(w_t) <= rho_0 and the counting of steps',
    ),
    doc="#s4-finite-time-return-of-the-latent",
)

S5 = Statement(
    id="S5",
    short="finite-time recovery (2 dp < r_b)",
    title="Finite-time recovery: if 2 delta_perp < r_b + gamma, rho(Q(w_t)) <= r_b + gamma "
    "within T_max steps (gamma = 0: the basin)",
    family="as S4 with sigma = r_b + gamma - 2 delta_perp",
    assumptions={
        "compatible": 2 * S["dp"] < _r,
        "slope_positive": S["m_slope"] > 0,
        "gamma_nonneg": S["gamma"] >= 0,
        "step_size": S["eta"] * S["phi_max"] <= sp.sqrt(_r * (_r - 2 * S["dp"])),
    },
    constants={
        "c_sigma": sp.sqrt(1 - S["dp"] ** 2 / (_r - S["dp"]) ** 2),
        "beta": S["eta"] * S["m_slope"] * _c("c_sigma") / 2,
        "T_max": sp.Piecewise(
            (sp.floor((S["rho_0"] - (_r - S["dp"])) / _c("beta")) + 1, S["rho_0"] >= _r - S["dp"]),
            (0, True)),
    },
    conclusion={"recovered_in_time": S["T"] <= _c("T_max")},
    attack="ste_recovery",
    proof=("grad_formula", "inward_identity", "cos_bound", "norm_expansion", "one_step_contraction",
           "cos_monotone", "walls_monotone", "softplus_slope_bound", "triangle_offset", "sigma_choice"),
    tightness=S["T"] / _c("T_max"),
    tightness_label="T/T_max",
    regime="off_river",
    paper=(
        'S4 with sigma = r_g - 2 delta_perp, then (O) at tau',
    ),
    doc="#s5-finite-time-recovery",
)

S5C = Statement(
    id="S5C",
    short="recovery if max f < 2 r_b (refuted)",
    title="Conjecture: max_j f_j < 2 r_b (and a small step) suffices for STE to enter the basin -- false",
    family="straight river, any k, unbounded uniform grid, STE-SGD with eta phi'(rho_0 + delta_perp) "
    "<= r_b, wall slope phi'(r_b) > 0. A violation is a *proof* that q_t never enters the basin: an "
    "exact cycle of the 1-D reduction in rational arithmetic (k = 1), or a slice w0 + row(N) that meets "
    "no in-band cell (k >= 2, no drift)",
    assumptions={"flip_compatible": S["max_f"] < 2 * S["r_b"],
                 "small_step": S["eta"] * S["phi_max"] <= S["r_b"],
                 "slope_positive": S["m_slope"] > 0},
    constants={},
    conclusion={"not_provably_stuck": sp.Eq(S["proved_never"], 0)},
    attack="s5c_thin_cell",
    extra_attacks=("s5c_confined_slice",),
    kind="conjecture",
    regime="any",
    paper=("a cycle of the exact dynamics never enters the basin (R1: the orbit is the scalar map)",
           "the latent never leaves w0 + row(N) without drift (K2R)"),
    doc="#s5c-the-flip-condition-is-not-sufficient",
)

# --------------------------------------------------------------------------------------
# statement 6: necessity -- a 2-cycle when the flip is larger than the basin
# --------------------------------------------------------------------------------------
S6 = Statement(
    id="S6",
    k_range=(1, 1),
    short="necessity: exact 2-cycle",
    title="Necessity: 2-D rotated river with f_2 = cos(theta) > 2 r_b: an exact STE 2-cycle "
    "between two outside grid points",
    family="d = 2, k = 1, grid Z^2, n = (-sin t, cos t), river n.w = -cos(t)/2, quadratic wall "
    "(any mu >= 0), no drift, w0 = (-a sin t/2, -1/2 + a cos t/2), a = eta phi'(cos t / 2)",
    assumptions={
        "flip_too_big": sp.cos(S["theta"]) > 2 * S["r_b"],
        "theta_range": sp.And(S["theta"] > 0, S["theta"] < sp.pi / 2),
        "stay_in_cells": sp.And(S["alpha"] * sp.cos(S["theta"]) < 2, S["alpha"] * sp.sin(S["theta"]) < 1),
        # alpha = eta phi'(cos t / 2) of the quadratic wall phi' = mu rho + kappa (rho - r_b) beyond r_b
        "alpha_def": sp.Eq(S["alpha"], S["eta"] * (S["mu"] * sp.cos(S["theta"]) / 2
                                                    + S["kappa"] * (sp.cos(S["theta"]) / 2 - S["r_b"]))),
    },
    constants={},
    conclusion={"never_hit": sp.Eq(S["never_hit"], 1), "period_2": sp.Eq(S["period2"], 1)},
    attack="two_cycle",
    proof=("two_cycle_closes", "two_cycle_cells"),
    regime="off_river",
    paper=(
        'induction over the periods of the cycle',
    ),
    doc="#s6-necessity-an-exact-2-cycle",
)

STATEMENTS: tuple[Statement, ...] = (S1, S1W, S1G, S2, S2E, S3, S4, S5, S5C, S6)


#: the planted false variants of each statement (each must be rejected by the checker); append new ids here
MUTANTS: dict = {
    "S1": [lambda s: scale_constant(s, "hw", 2),
           lambda s: reverse_conclusion(s, "within_z_se")],
    "S1W": [lambda s: dataclasses.replace(
        s, conclusion={"below_dp": S["max_rho_q"] <= S["dp"] / 2},
        mutant_of="S1W: delta_perp halved (half-steps /4)"),
        lambda s: reverse_conclusion(s, "below_dp")],
    "S1G": [lambda s: scale_constant(s, "C_BE", sp.Rational(1, 100)),
            lambda s: scale_constant(s, "P_gauss", 2),
            lambda s: reverse_conclusion(s, "exact_within_be")],
    "S2": [lambda s: drop_assumption(s, "inside"), lambda s: drop_assumption(s, "flat_bottom")],
    "S2E": [lambda s: dataclasses.replace(
        s, constants={"bound": S["rho_w"] + sp.sqrt(S["k"]) / 4 * S["max_f"]},
        mutant_of="S2E: constant sqrt(k)/2 -> sqrt(k)/4"),
        lambda s: reverse_conclusion(s, "corner_in_reach")],
    "S3": [lambda s: scale_constant(s, "bound", 10), lambda s: drop_assumption(s, "far_latent"),
           lambda s: reverse_conclusion(s, "sharp_bound")],
    "S4": [lambda s: scale_constant(s, "beta", 10), lambda s: drop_assumption(s, "step_size"),
           lambda s: reverse_conclusion(s, "return_time")],
    "S5": [lambda s: scale_constant(s, "T_max", sp.Rational(1, 10)),
           lambda s: drop_assumption(s, "step_size"),
           lambda s: reverse_conclusion(s, "recovered_in_time")],
    "S5C": [],  # a conjecture: its attacks look for proofs that q_t never enters the basin
    "S6": [lambda s: reverse_assumption(s, "flip_too_big"),
           lambda s: drop_assumption(s, "stay_in_cells")],
}
