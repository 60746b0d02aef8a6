r"""The checker's report: per statement its symbolic steps, certificates, attack and mutants; one status.

Status (one per statement, in this order of precedence):

* ``falsified`` -- the attack found a case satisfying the assumptions where the
  conclusion fails (the minimal counterexample is in the report; a conjecture whose
  attack fails is reported as ``conjecture`` with its violations, see below);
* ``proved`` -- every symbolic step (sympy) and certificate (z3) the proof relies on is
  verified and the attack found no counterexample;
* ``checked`` -- attacked without counterexample, but some proof step is not verified
  here (or the statement lists none);
* ``conjecture`` -- not proved; the attack's numbers are evidence only (for S5C a
  "violation" is a run that did not enter the basin within the simulated horizon).

Mutants: each planted false variant is attacked with the same scenario; it is *caught*
when a violating case is found. ``mutants_caught / mutants_total`` is the mutation score.
"""

from __future__ import annotations

import math
import time
from typing import Any

from proofs import certify, symbolic
from proofs.falsify import DEFAULT_SIMULATOR, Simulator, attack
from proofs.statements import STATEMENTS, Statement, mutants

__all__ = ["check", "statement_report", "render_table", "BUDGETS"]

# hypothesis examples per statement attack and per mutant attack
BUDGETS = {"quick": (40, 80), "full": (400, 300)}


def _status(stmt: Statement, proof_ok: bool, has_proof: bool, violations: int) -> str:
    if stmt.kind == "conjecture":
        return "conjecture"
    if violations:
        return "falsified"
    if has_proof and proof_ok:
        return "proved"
    return "checked"


def statement_report(stmt: Statement, *, sim: Simulator = DEFAULT_SIMULATOR, examples: int = 30,
                     mutant_examples: int = 30, with_mutants: bool = True,
                     cache: dict | None = None) -> dict[str, Any]:
    """Symbolic steps, certificates, attack and mutants of one statement, with its status."""
    t0 = time.perf_counter()
    cache = {} if cache is None else cache
    steps, certs = [], []
    for name in stmt.proof:
        if name not in cache:
            if name in certify.CERTIFICATES:
                c = certify.run_certificate(name)
                cache[name] = ("certificate", {"name": c.name, "ok": c.ok, "z3": c.status, "box": c.box,
                                               "claim": c.claim, "model": c.model})
            else:
                s = symbolic.run_step(name)
                cache[name] = ("symbolic", {"name": s.name, "ok": s.ok, "detail": s.detail})
        kind, entry = cache[name]
        (certs if kind == "certificate" else steps).append(entry)
    proof_ok = all(e["ok"] for e in steps + certs)
    res = attack(stmt, sim, max_examples=examples)
    muts = []
    if with_mutants:
        for m in mutants(stmt):
            r = attack(m, sim, max_examples=mutant_examples)
            muts.append({"mutant": m.mutant_of, "caught": r.violations > 0, "cases": r.cases,
                         "counterexample": r.counterexample, "seconds": round(r.seconds, 2)})
    return {
        "id": stmt.id,
        "title": stmt.title,
        "short": stmt.short,
        "kind": stmt.kind,
        "status": _status(stmt, proof_ok, bool(stmt.proof), res.violations),
        "family": stmt.family,
        "symbolic": steps,
        "certificates": certs,
        "cases": res.cases,
        "inapplicable": res.inapplicable,
        "violations": res.violations,
        "counterexample": res.counterexample,
        "tightness": None if math.isnan(res.tightness) else res.tightness,
        "tightness_label": stmt.tightness_label,
        "mutants": muts,
        "mutants_total": len(muts),
        "mutants_caught": sum(m["caught"] for m in muts),
        "doc": "docs/theory.md" + stmt.doc,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def check(quick: bool = True, *, statements=None, sim: Simulator = DEFAULT_SIMULATOR,
          examples: int | None = None, mutant_examples: int | None = None,
          with_mutants: bool = True) -> dict[str, Any]:
    """Run the whole proof layer (or ``statements``): the report as a JSON-ready dict."""
    ex, mex = BUDGETS["quick" if quick else "full"]
    ex = ex if examples is None else examples
    mex = mex if mutant_examples is None else mutant_examples
    t0 = time.perf_counter()
    stmts = STATEMENTS if statements is None else statements
    cache: dict = {}
    rows = [statement_report(s, sim=sim, examples=ex, mutant_examples=mex, with_mutants=with_mutants,
                             cache=cache) for s in stmts]
    return {
        "quick": quick,
        "examples_per_statement": ex,
        "examples_per_mutant": mex,
        "statements": rows,
        "mutants_total": sum(r["mutants_total"] for r in rows),
        "mutants_caught": sum(r["mutants_caught"] for r in rows),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def _frac(entries) -> str:
    if not entries:
        return "-"
    return f"{sum(e['ok'] for e in entries)}/{len(entries)}"


def render_table(report: dict):
    """A rich Table: statement, status, symbolic, certificate, cases, counterexamples, tightness, mutants."""
    from rich.table import Table

    mode = "quick" if report["quick"] else "full"
    table = Table(title=f"landscape check ({mode}): {report['mutants_caught']}/{report['mutants_total']} "
                  f"mutants caught, {report['seconds']:.0f} s")
    for col in ("statement", "status", "symbolic", "certificate", "cases", "counterexamples",
                "tightness", "mutants caught"):
        table.add_column(col, justify="left" if col == "statement" else "right")
    for r in report["statements"]:
        tight = "-" if r["tightness"] is None else f"{r['tightness']:.3g} ({r['tightness_label']})"
        muts = f"{r['mutants_caught']}/{r['mutants_total']}" if r["mutants_total"] else "-"
        table.add_row(f"{r['id']} {r['short']}", r["status"], _frac(r["symbolic"]),
                      _frac(r["certificates"]), str(r["cases"]), str(r["violations"]), tight, muts)
    return table
