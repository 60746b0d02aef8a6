"""S5W (weighted basin) and C1 (loss at first entry): near-tight cases hold and their factor-2 mutants fail,
dyadic anisotropic cases hold, and the z3 step behind beta_W refutes a doubled constant."""

from __future__ import annotations

import pytest
import sympy as sp
import z3

from proofs import catalog
from proofs.core import prove, reverse_conclusion, scale_constant
from proofs.core.falsify import Simulator, attack, check_case
from proofs.inbasin import weighted_proof

_TIGHT = {"step": 0.5, "eta": 0.125, "u_rb": 0.5, "u_kappa": 1.0, "eps": 1e-4, "breach": "none"}


def _dyadic(seed, river="lake"):
    return {"source": "dyadic", "seed": seed, "shape": (3, 2), "aniso": [0.5, 2.0, 1.0], "wall": "quadratic",
            "mu": 0.0, "river": river, "eta": 0.125, "u_rb": 0.3, "u_kappa": 0.5, "gamma_frac": 0.5,
            "breach": "none"}


def test_weighted_decrease_refutes_a_doubled_beta():
    (eta, P, R, y, ip, amin, amax, dz, rg), hyps = weighted_proof._setting()
    n2, mw = z3.Reals("n2 m_w")
    g = rg / amax - dz
    hyps = hyps + [n2 >= 0, n2 * amin * amin <= y * y, mw > 0, P >= mw, eta * P <= amin ** 3 * g]
    m = P / R
    doubled = 2 * eta * m * ip - eta * eta * m * m * n2 >= 2 * eta * mw * g / amax
    cert = prove("doubled", hyps, doubled, "as weighted_decrease", "beta_W x 2")
    assert cert.status == "sat" and not cert.ok
    assert catalog.run_certificate("weighted_decrease").ok


@pytest.mark.float64
@pytest.mark.parametrize("k, aniso", [(1, [0.5, 1.0]), (2, [1.5, 1.5])])
def test_s5w_near_its_bound_and_the_doubled_constants_fail(k, aniso):
    stmt = catalog.by_id("S5W")
    case = {**_TIGHT, "k": k, "aniso": aniso}
    res = check_case(stmt, case, scenario="weighted_tight")
    assert res.applicable and res.holds and res.tightness > 0.99, res.values
    for name in ("beta_W", "inward_bound"):
        bad = check_case(scale_constant(stmt, name, 2), case, scenario="weighted_tight")
        assert bad.applicable and not bad.holds, name


@pytest.mark.float64
def test_s5w_anisotropic_inward_bound_is_tight_and_beta_is_half_used():
    """a_min != a_max: the inward bound is reached, the decrease is twice beta_W (the a_min^3 step limit)."""
    res = check_case(catalog.by_id("S5W"), {**_TIGHT, "k": 2, "aniso": [0.5, 2.0]}, scenario="weighted_tight")
    assert res.applicable and res.holds
    assert res.values["inward"] / res.values["inward_bound"] == pytest.approx(1.0, abs=1e-3)
    assert 0.45 < res.tightness < 0.55


@pytest.mark.float64
@pytest.mark.parametrize("seed", [0, 2, 16])
def test_s5w_and_c1_hold_on_dyadic_anisotropic_cases(seed):
    res = check_case(catalog.by_id("S5W"), _dyadic(seed))
    assert res.applicable and res.holds, res.values
    v = res.values
    assert v["rho_w"] <= v["r_b"] < v["r_b"] + v["gamma"] < v["rho_q"]
    c1 = catalog.by_id("C1")
    res = check_case(c1, _dyadic(seed), scenario="entry_loss_weighted")
    assert res.applicable and res.holds, res.values
    rev = check_case(reverse_conclusion(c1, "loss_at_entry"), _dyadic(seed), scenario="entry_loss_weighted")
    assert not rev.holds


def test_c1_constants_are_the_three_terms():
    bound = catalog.by_id("C1").constant_exprs()["bound"]
    s = {n: sp.Symbol(n, real=True) for n in ("d_river", "G", "ds", "phi_g")}
    assert sp.simplify(bound - (s["d_river"] + s["G"] * s["ds"] + s["phi_g"])) == 0


@pytest.mark.float64
def test_s5w_attack_finds_no_counterexample():
    res = attack(catalog.by_id("S5W"), max_examples=12)
    assert res.violations == 0 and res.cases >= 3


@pytest.mark.float64
def test_c1_holds_on_a_meandering_river():
    case = {"wall": "quadratic", "mu": 0.0, "river": "linear", "amp": 1.0, "omega": 1.0, "step": 0.3,
            "x0": 0.7, "u_off": 0.9, "rb_ratio": 1.5, "gamma_frac": 0.25, "kappa": 4.0, "eta": 0.05}
    res = check_case(catalog.by_id("C1"), case, scenario="entry_loss_curved")
    assert res.applicable and res.holds, res.values
    assert res.values["d_loss"] <= res.values["bound"]


@pytest.mark.float64
def test_a_biased_simulator_breaks_s5w_but_not_c1(biased_ste):
    """S5W is about STE: a gradient bias of 0.05 is caught. C1 holds for any rule: the same bias is not."""
    sim = Simulator(rule=biased_ste(0.05))
    res = attack(catalog.by_id("S5W"), sim, max_examples=12, scenario="weighted_tight")
    assert res.violations > 0 and "decrease" in res.counterexample["failed"]
    res = attack(catalog.by_id("C1"), sim, max_examples=8, scenario="entry_loss_iso")
    assert res.violations == 0 and res.cases > 0
