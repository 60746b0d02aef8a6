"""The proof layer is itself tested: true statements pass, mutants fail, counterexamples replay,
a biased simulator is caught, and each symbolic step / certificate can fail when its claim is false."""

from __future__ import annotations

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
import z3
from typer.testing import CliRunner

import proofs.core.report as report_module
from landscape import laws
from landscape.cli import app
from proofs import catalog
from proofs.basin import certify, symbolic
from proofs.catalog import STATEMENTS, by_id, mutants
from proofs.core import drop_assumption, scale_constant
from proofs.core.falsify import (
    Simulator,
    attack,
    check_case,
    load_counterexample,
    replay,
    save_counterexample,
)
from proofs.core.report import check


# --------------------------------------------------------------------------------------
# symbolic steps and certificates
# --------------------------------------------------------------------------------------
def _entry(report, kind, name):
    """The report's entry of the symbolic step or certificate ``name`` (every one is listed by a proof)."""
    return next(e for r in report["statements"] for e in r[kind] if e["name"] == name)


@pytest.mark.parametrize("name", sorted(catalog.STEPS))
def test_symbolic_step_verified(name, quick_report):
    """Each symbolic step, as the quick check ran it (``catalog.run_step``; every step is in some proof)."""
    step = _entry(quick_report, "symbolic", name)
    if name == "berry_esseen_cited":  # a cited result is never an automatic ok
        assert step["status"] == "cited" and not step["ok"]
    else:
        assert step["ok"] and step["status"] == "verified", step["detail"]


def test_recovery_certificates_can_fail():
    import z3

    x1, p, x, h1, h2 = z3.Reals("x1 p x h1 h2")
    hyps = [h1 > 0, h2 >= h1, x1 <= p, p <= x]
    wrong = (p - x1) * h2 + (x - p) * h1 >= 2 * (x - x1) * h1  # the integral step counted twice
    assert not certify.prove("wrong", hyps, wrong, "all reals", "false claim").ok


def test_symbolic_check_rejects_a_wrong_closed_form(monkeypatch):
    right = symbolic.irwin_hall_cdf
    monkeypatch.setattr(symbolic, "irwin_hall_cdf", lambda b, y: 2 * right(b, y) / len(b))  # m! -> (m-1)!/..
    assert not symbolic.step_irwin_hall_exit_prob().ok


@pytest.mark.parametrize("name", sorted(catalog.CERTIFICATES))
def test_certificate_proved(name, quick_report):
    """Each certificate, as the quick check ran it (``catalog.run_certificate``)."""
    cert = _entry(quick_report, "certificates", name)
    assert cert["ok"] and cert["z3"] in ("unsat", "bnb-ok"), cert  # z3 unsat, or branch and bound done
    assert cert["box"] and cert["status"] == "verified"


def test_certificate_finds_counterexample_to_a_false_claim():
    rho, a, c = z3.Reals("rho alpha c")
    hyps = [rho > 0, c > 0, c <= 1, a > 0, a <= rho * c]
    wrong = rho * rho - 2 * a * rho * c + a * a <= (rho - a * c) ** 2  # decrease a c instead of a c / 2
    cert = certify.prove("wrong", hyps, wrong, "all reals", "false claim")
    assert not cert.ok and cert.status == "sat" and cert.model


def test_berry_esseen_branch_and_bound_can_fail():
    assert certify._be_branch_and_bound(6)[0]
    assert not certify._be_branch_and_bound(6, c_be=0.005)[0]  # a constant 100x too small is refuted


def test_exit_probability_special_cases():
    # one summand: P(|U[-a, a]| > r) = 1 - r / a
    assert laws.rtn_exit_probability([0.4], 0.1) == pytest.approx(0.75, abs=1e-12)
    # two equal summands: triangle law on [-2a, 2a]: P(|X| > r) = (2a - r)^2 / (4 a^2)
    assert laws.rtn_exit_probability([0.5, 0.5], 0.3) == pytest.approx((1 - 0.3) ** 2, abs=1e-12)
    assert laws.rtn_exit_probability([0.2, 0.3], 0.6) == 0.0
    rng = np.random.default_rng(0)
    a = np.array([0.1, 0.25, 0.05])
    x = (rng.uniform(-1, 1, (200_000, 3)) * a).sum(1)
    assert laws.rtn_exit_probability(a, 0.15) == pytest.approx(np.mean(np.abs(x) > 0.15), abs=0.005)


# --------------------------------------------------------------------------------------
# statements as data
# --------------------------------------------------------------------------------------
def test_statements_are_data():
    ids = [s.id for s in STATEMENTS]
    assert len(ids) == len(set(ids)) >= 6
    for s in STATEMENTS:
        assert s.assumptions is not None and s.conclusion
        for rel in s.conclusion.values():
            assert isinstance(rel, sp.Basic)
    t_max = by_id("S5").constant_exprs()["T_max"]
    assert {x.name for x in t_max.free_symbols} >= {"rho_0", "dp", "r_b", "gamma", "eta", "m_slope"}


def test_a_zero_shrink_budget_stops_at_the_first_counterexample(monkeypatch):
    """With ``shrink_budget=0`` hypothesis asks for no new case after the first violation (no shrink
    phase: each such case would answer False at once; ``find`` only replays the one found); with a budget
    it shrinks."""
    import proofs.core.falsify as falsify

    asked = []  # (case, answer)
    real_find = falsify.find

    def recording_find(cases, condition, **kw):
        def recorded(case):
            asked.append((dict(case), condition(case)))
            return asked[-1][1]
        return real_find(cases, recorded, **kw)

    monkeypatch.setattr(falsify, "find", recording_find)
    mutant = mutants(by_id("S6"))[0]
    res = attack(mutant, max_examples=40, shrink_budget=0)
    first = next(i for i, (_, bad) in enumerate(asked) if bad)
    assert res.violations == 1 and res.counterexample["case"] == asked[first][0]
    assert all(case == asked[first][0] for case, _ in asked[first:]), len(asked) - first
    asked.clear()
    assert attack(mutant, max_examples=40, shrink_budget=5).violations >= 1
    first = next(i for i, (_, bad) in enumerate(asked) if bad)
    assert any(case != asked[first][0] for case, _ in asked[first:])  # shrinking asks for new cases


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError, match="statement id"):
        by_id("S99")
    with pytest.raises(ValueError, match="constants"):
        scale_constant(by_id("S5"), "nope", 2)
    with pytest.raises(ValueError, match="assumptions"):
        drop_assumption(by_id("S5"), "nope")
    with pytest.raises(ValueError, match="max_examples"):
        attack(by_id("S6"), max_examples=0)


# --------------------------------------------------------------------------------------
# the checker: quick run, mutants, replay, biased simulator, a user's edit
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def quick_check(tmp_path_factory, memory_guard):
    """``landscape check --quick --json --cex-dir`` once for the module: (exit code, output, report, cex dir).

    One process (``--workers 1``; ``test_cli_check_only_writes_json`` runs the default two); the symbolic
    steps, certificates, attacks and mutants of every statement are run here once and read by the tests.
    Between statements the worker's memory guard may drop JAX's in-memory caches (``memory_guard``).
    The suite's preset: a caught mutant keeps the first counterexample found (``mutant_shrink=0``; the
    tests assert that each mutant is caught and that its counterexample replays, not how small it is;
    ``test_cli_check_only_writes_json`` runs the default shrinking).
    """
    out = tmp_path_factory.mktemp("check")

    def check_guarded(*args, progress=None, **kwargs):  # between statements: the worker's memory guard
        def each(row):
            if progress is not None:
                progress(row)
            memory_guard()
        return check(*args, progress=each, mutant_shrink=0, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report_module, "check", check_guarded)
        res = CliRunner().invoke(app, ["check", "--quick", "--workers", "1", "--json",
                                       str(out / "report.json"), "--cex-dir", str(out / "cex")])
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else None
    return res.exit_code, res.output, report, out / "cex"


@pytest.fixture(scope="module")
def quick_report(quick_check):
    code, output, report, _ = quick_check
    assert code == 0 and report is not None, output
    return report


@pytest.mark.slow
def test_quick_check_true_statements_pass_and_mutants_fail(quick_report):
    assert quick_report["examples_per_statement"] == 40 and quick_report["mutant_shrink_budget"] == 0
    rows = {r["id"]: r for r in quick_report["statements"]}
    for sid, row in rows.items():
        assert row["regime"] in ("any", "off_river", "ptq_failed", "in_basin")
        if row["kind"] == "theorem":
            assert row["status"] == ("cited" if sid == "S1G" else "proved"), (sid, row["counterexample"])
            assert row["violations"] == 0 and row["cases"] >= 5, (sid, row["cases"])
            checked = row["machine_checked"]
            assert checked and all("(verified)" in m or "(cited)" in m for m in checked)
    assert any(r["status"] == "proved" and r["regime"] == "ptq_failed" for r in rows.values())
    assert any(r["status"] == "proved" and r["regime"] == "ptq_failed" and r["k_range"][0] <= 2
               and (r["k_range"][1] is None or r["k_range"][1] >= 2) for r in rows.values())  # k >= 2 (K2S)
    assert any(r["status"] == "proved" and r["regime"] == "in_basin" for r in rows.values())  # the paper's
    for sid in ("K1", "K1P", "K1D"):  # the new T bounds are tight
        assert rows[sid]["tightness"] >= 0.3, (sid, rows[sid]["tightness"])
    assert quick_report["mutants_total"] >= 15
    missed = [m["mutant"] for r in rows.values() for m in r["mutants"] if not m["caught"]]
    assert quick_report["mutants_caught"] == quick_report["mutants_total"], missed
    for sid in ("S3", "S4", "S5"):  # bounds report how tight they are
        assert 0 < rows[sid]["tightness"] <= 1


@pytest.mark.slow
def test_s5c_is_refuted_by_two_searched_mechanisms(quick_report):
    row = next(r for r in quick_report["statements"] if r["id"] == "S5C")
    assert row["status"] == "falsified" and row["kind"] == "conjecture"
    cexs = row["counterexamples"]
    assert sorted(c["attack"] for c in cexs) == ["s5c_confined_slice", "s5c_thin_cell"]
    for cex in cexs:
        assert cex["values"]["proved_never"] == 1.0 and cex["values"]["engine_never_hit"] == 1.0
        res = replay(cex)
        assert res.applicable and not res.holds and res.failed == ["not_provably_stuck"]
    thin = next(c for c in cexs if c["attack"] == "s5c_thin_cell")["values"]
    assert thin["d"] == 2 and thin["k"] == 1 and thin["cycle_period"] == 2.0
    assert thin["max_f"] < 2 * thin["r_b"] and thin["eta"] * thin["phi_max"] <= thin["r_b"]


@pytest.mark.slow
def test_saved_counterexample_replays_to_the_same_violation(quick_report, tmp_path):
    s5 = next(r for r in quick_report["statements"] if r["id"] == "S5")
    mut = next(m for m in s5["mutants"] if "T_max" in m["mutant"])
    cex = mut["counterexample"]
    path = save_counterexample(cex, tmp_path / "cex.json")
    loaded = load_counterexample(path)
    mutant = next(m for m in mutants(by_id("S5")) if "T_max" in m.mutant_of)
    res = replay(loaded, mutant)
    assert res.applicable and not res.holds
    assert res.failed == cex["failed"]
    assert res.values["T"] == cex["values"]["T"] and res.values["T_max"] == cex["values"]["T_max"]
    assert not replay(loaded).holds  # replay() finds the mutant the file names
    assert replay(loaded, by_id("S5")).holds  # the true statement holds on the same case
    out = CliRunner().invoke(app, ["check", "--replay", str(path)])
    assert out.exit_code == 1 and "VIOLATED (recovered_in_time)" in out.output


def test_user_edit_recovery_bound_ten_times_smaller_is_caught():
    edited = scale_constant(by_id("S5"), "T_max", sp.Rational(1, 10))
    res = attack(edited, max_examples=40)
    assert res.violations > 0
    cex = res.counterexample
    assert cex["values"]["T"] > cex["values"]["T_max"]


@pytest.mark.slow
def test_biased_simulator_is_caught(biased_ste):
    biased = Simulator(rule=biased_ste(0.5))
    res = attack(by_id("S3"), biased, max_examples=40)
    assert res.violations > 0
    case = res.counterexample["case"]
    assert check_case(by_id("S3"), case).holds  # the honest simulator agrees with the statement there


def test_two_cycle_is_exact_in_the_simulator():
    case = {"theta": 0.3, "u_rb": 0.5, "u_alpha": 0.5, "breach": "none", "eta": 0.5}
    res = check_case(by_id("S6"), case)
    assert res.applicable and res.holds
    assert res.values["never_hit"] == 1.0 and res.values["period2"] == 1.0


def test_cli_check_only_writes_json(tmp_path):
    path = tmp_path / "report.json"
    out = CliRunner().invoke(app, ["check", "--quick", "--only", "S6,S2E", "--json", str(path),
                                   "--cex-dir", str(tmp_path / "cex")])
    assert out.exit_code == 0, out.output
    rep = json.loads(path.read_text())
    assert {"mutants_total", "mutants_caught", "statements", "manifest"} <= set(rep)
    for row in rep["statements"]:
        assert {"id", "title", "status", "cases", "violations", "tightness"} <= set(row)
    assert [r["id"] for r in rep["statements"]] == ["S6", "S2E"]
    saved = sorted(p.name for p in (tmp_path / "cex").iterdir())  # the caught mutants' counterexamples
    assert saved and all(name.startswith(("S6_mutant", "S2E_mutant")) for name in saved)
    bad = CliRunner().invoke(app, ["check", "--only", "S42"])
    assert bad.exit_code != 0


def test_checks_run_in_float64():
    res = check_case(by_id("S2"), {"shape": (3, 1), "seed": 1, "step": 0.3, "step_mult": [1.0] * 12,
                                   "offset_frac": [0.0] * 12, "s0": 1.0, "dir_seed": 2, "flat": 0.5,
                                   "wall": "quadratic", "rb": 0.5, "kappa": 3.0, "mu": 0.1, "drift": 0.3,
                                   "rho_ratio": 0.5})
    assert res.applicable and res.holds and res.values["d_grad"] == 0.0
    assert not jax.config.jax_enable_x64 and jnp.zeros(1).dtype == jnp.float32  # x64 was only local


@pytest.mark.slow
def test_cli_s5c_refuted_with_two_replayable_counterexamples(quick_check):
    """`landscape check --quick` exits 0 (a refuted conjecture is a result); S5C saves one file per mechanism,
    and every statement's saved counterexample (S5C's, the caught mutants') is named after it."""
    code, output, report, cex_dir = quick_check
    assert code == 0, output
    saved = sorted(p.name for p in cex_dir.iterdir())
    s5c = [n for n in saved if n.startswith("S5C")]
    assert s5c == ["S5C_s5c_confined_slice.json", "S5C_s5c_thin_cell.json"]
    caught = sum(m["counterexample"] is not None for r in report["statements"] for m in r["mutants"])
    assert len(saved) == 2 + caught and all(n.split("_")[0] in {r["id"] for r in report["statements"]}
                                            for n in saved)
    for name in s5c:
        rep = CliRunner().invoke(app, ["check", "--replay", str(cex_dir / name)])
        assert rep.exit_code == 1 and "VIOLATED (not_provably_stuck)" in rep.output


def test_regime_and_paper_are_data():
    from proofs.core import REGIMES

    assert all(s.regime in REGIMES for s in STATEMENTS)
    assert any(s.regime == "ptq_failed" for s in STATEMENTS)
    assert by_id("S5").regime == "off_river" and by_id("K1").regime == "ptq_failed"
    assert by_id("S5C").attacks == ("s5c_thin_cell", "s5c_confined_slice")
    with pytest.raises(ValueError, match="regime"):
        dataclasses_replace(by_id("S5"), regime="somewhere")


def test_k_range_is_data_and_reaches_k_2_for_a_ptq_failed_theorem():
    """Every statement states its k range; K2S (regime ptq_failed) covers k = 2; a bad range is refused."""
    assert all(s.k_range[0] >= 1 for s in STATEMENTS)
    assert by_id("K1").k_range == (1, 1) and by_id("S5").k_range == (1, None)
    k2s = by_id("K2S")
    assert k2s.regime == "ptq_failed" and k2s.kind == "theorem" and k2s.k_range[1] is None
    assert {s.regime for s in STATEMENTS} >= {"ptq_failed", "in_basin", "off_river", "any"}
    with pytest.raises(ValueError, match="k_range"):
        dataclasses_replace(k2s, k_range=(2, 1))


@pytest.mark.slow
def test_k2s_is_proved_and_its_row_carries_k_range(quick_report):
    """The report's row of K2S: proved (machine-checked lemmas, no counterexample), k_range [1, None]."""
    row = next(r for r in quick_report["statements"] if r["id"] == "K2S")
    assert row["status"] == "proved" and row["k_range"] == [1, None] and row["violations"] == 0
    assert row["cases"] > 0 and all(e["status"] == "verified" for e in row["symbolic"] + row["certificates"])


def test_check_without_mutants_and_with_a_budget():
    """``check(statements=..., examples=..., with_mutants=False)``: that budget, those rows, no mutant."""
    rep = check(statements=[by_id("S6")], examples=12, with_mutants=False)
    assert rep["examples_per_statement"] == 12 and [r["id"] for r in rep["statements"]] == ["S6"]
    row = rep["statements"][0]
    assert row["status"] == "proved" and row["mutants"] == [] and rep["mutants_total"] == 0
    assert 0 < row["cases"] <= 12


def dataclasses_replace(st, **kw):
    import dataclasses

    return dataclasses.replace(st, **kw)


# --------------------------------------------------------------------------------------
# the layering of proofs/ as an import contract
# --------------------------------------------------------------------------------------
_FAMILIES = ("basin", "recovery", "separable", "valley")  # independent of each other
_ABOVE = ("inbasin",)  # families that re-scope statements of the independent ones
_CONTRACT = """
[importlinter]
root_package = proofs

[importlinter:contract:proofs-layers]
name = proofs: catalog above the families, the families above the core, families independent
type = layers
layers =
    proofs.catalog
    {above}
    {families}
    proofs.core
"""


def test_proofs_layers_hold_as_an_import_contract(tmp_path, monkeypatch):
    """import-linter: core imports no family, no family imports another, only the catalog imports families."""
    import pathlib

    from importlinter.cli import lint_imports

    root = pathlib.Path(__file__).resolve().parents[2]
    found = sorted(p.parent.name for p in (root / "proofs").glob("*/__init__.py") if p.parent.name != "core")
    assert found == sorted(_FAMILIES + _ABOVE), "a new family must join the contract (and proofs.catalog)"
    cfg = tmp_path / "contract.ini"
    cfg.write_text(_CONTRACT.format(families=" | ".join(f"proofs.{f}" for f in _FAMILIES),
                                    above=" | ".join(f"proofs.{f}" for f in _ABOVE)))
    monkeypatch.syspath_prepend(str(root))
    assert lint_imports(config_filename=str(cfg), no_cache=True) == 0


def test_proofs_register_explicitly_without_late_imports():
    """No __import__ / importlib in proofs/, and no import of a proofs module inside a function."""
    import ast
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2] / "proofs"
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "__import__", f"{path}: __import__"
            if isinstance(node, ast.Import | ast.ImportFrom):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert "importlib" not in mods, f"{path}: importlib"
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("proofs"):
                        raise AssertionError(f"{path}:{node.lineno}: late import of {node.module}")
    names = [f.name for f in catalog.REGISTRY.families]
    assert names == ["basin", "valley", "recovery", "separable", "inbasin"]
