r"""The checker's report: per statement its symbolic steps, certificates, attacks and mutants; one status.

Status (one per statement, in this order of precedence):

* ``falsified`` -- an attack found a case satisfying the assumptions where the conclusion fails (the
  minimal counterexample of each attack is in the report, and replays); for a conjecture, whose
  conclusion is "no proof that q_t is stuck", a violation is such a proof;
* ``proved`` -- every symbolic step (sympy) and certificate (z3) the proof lists is verified, no step
  is merely cited, and the attacks found no counterexample; the row says which lemmas the machine
  checked (``machine_checked``) and which steps are argued on paper only (``on_paper``);
* ``cited`` -- as proved, except that a step is a cited result (status ``cited``, never counted as
  verified: Berry-Esseen's constant for S1G);
* ``checked`` -- attacked without counterexample, but some proof step is not verified here (or the
  statement lists none);
* ``conjecture`` -- not proved and not refuted; the attacks' numbers are evidence only.

Mutants: each planted false variant is attacked with the same scenarios; it is *caught* when a
violating case is found. ``mutants_caught / mutants_total`` is the mutation score.
"""

from __future__ import annotations

import math
import time
from typing import Any

from proofs.core.falsify import DEFAULT_SIMULATOR, Simulator, attack
from proofs.core.registry import REGISTRY
from proofs.core.types import Statement

__all__ = ["check", "statement_report", "render_table", "BUDGETS"]

# hypothesis examples per statement attack and per mutant attack
BUDGETS = {"quick": (40, 80), "full": (400, 300)}


def _status(stmt: Statement, steps: list, has_proof: bool, violations: int) -> str:
    if violations:
        return "falsified"
    if stmt.kind == "conjecture":
        return "conjecture"
    verified = all(e["status"] == "verified" for e in steps)
    if has_proof and verified:
        return "proved"
    if has_proof and all(e["status"] in ("verified", "cited") for e in steps):
        return "cited"
    return "checked"


def _attack_all(stmt, sim, max_examples, shrink_budget=40):
    """Every attack of ``stmt``: (results, counterexamples (one per attack that found one), tightness)."""
    results = [attack(stmt, sim, max_examples=max_examples, shrink_budget=shrink_budget, scenario=name)
               for name in stmt.attacks]
    cexs = [r.counterexample for r in results if r.counterexample is not None]
    tights = [r.tightness for r in results if not math.isnan(r.tightness)]
    return results, cexs, (max(tights) if tights else float("nan"))


def statement_report(stmt: Statement, *, sim: Simulator = DEFAULT_SIMULATOR, examples: int = 30,
                     mutant_examples: int = 30, with_mutants: bool = True,
                     cache: dict | None = None, mutant_shrink: int = 40) -> dict[str, Any]:
    """Symbolic steps, certificates, attack and mutants of one statement, with its status.

    ``mutant_shrink``: cases tried after a mutant's first counterexample to shrink it (``attack``'s
    ``shrink_budget``; 0 keeps the first one found; whether the mutant is caught does not depend on it).
    """
    t0 = time.perf_counter()
    cache = {} if cache is None else cache
    steps, certs = [], []
    for name in stmt.proof:
        if name not in cache:
            if name in REGISTRY.certificates:
                c = REGISTRY.run_certificate(name)
                cache[name] = ("certificate", {"name": c.name, "ok": c.ok, "z3": c.status, "box": c.box,
                                               "claim": c.claim, "model": c.model,
                                               "status": "verified" if c.ok else "failed"})
            else:
                s = REGISTRY.run_step(name)
                cache[name] = ("symbolic", {"name": s.name, "ok": s.ok, "detail": s.detail,
                                            "status": s.status})
        kind, entry = cache[name]
        (certs if kind == "certificate" else steps).append(entry)
    results, cexs, tight = _attack_all(stmt, sim, examples)
    violations = sum(r.violations for r in results)
    muts = []
    if with_mutants:
        for m in REGISTRY.mutants(stmt):
            rs, mc, _ = _attack_all(m, sim, mutant_examples, mutant_shrink)
            muts.append({"mutant": m.mutant_of, "caught": any(r.violations > 0 for r in rs),
                         "cases": sum(r.cases for r in rs), "counterexample": mc[0] if mc else None,
                         "seconds": round(sum(r.seconds for r in rs), 2)})
    return {
        "id": stmt.id,
        "title": stmt.title,
        "short": stmt.short,
        "kind": stmt.kind,
        "status": _status(stmt, steps + certs, bool(stmt.proof), violations),
        "regime": stmt.regime,
        "k_range": list(stmt.k_range),
        "family": stmt.family,
        "symbolic": steps,
        "certificates": certs,
        "machine_checked": [f"{e['name']} ({e['status']})" for e in steps + certs],
        "on_paper": list(stmt.paper),
        "attacks": list(stmt.attacks),
        "cases": sum(r.cases for r in results),
        "inapplicable": sum(r.inapplicable for r in results),
        "violations": violations,
        "counterexample": cexs[0] if cexs else None,
        "counterexamples": cexs,
        "tightness": None if math.isnan(tight) else tight,
        "tightness_label": stmt.tightness_label,
        "mutants": muts,
        "mutants_total": len(muts),
        "mutants_caught": sum(m["caught"] for m in muts),
        "doc": "docs/theory.md" + stmt.doc,
        "seconds": round(time.perf_counter() - t0, 2),
    }


#: the symbolic / certificate cache of a worker process, shared by every statement it runs
_WORKER_CACHE: dict = {}


def _worker(ids, ex, mex, with_mutants, mshrink=40):
    """Reports of the registered statements ``ids`` (run in a worker process)."""
    return [statement_report(REGISTRY.by_id(i), examples=ex, mutant_examples=mex, with_mutants=with_mutants,
                             cache=_WORKER_CACHE, mutant_shrink=mshrink) for i in ids]


def _parallel(stmts, workers, ex, mex, with_mutants, progress=None, mshrink=40):
    """statement_report over ``workers`` spawned processes (registered statements, default simulator).

    One task per statement (the pool balances them); ``progress(row)`` is called as each one ends.
    """
    import concurrent.futures as cf
    import multiprocessing as mp

    ids = [s.id for s in stmts]
    by = {}
    with cf.ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_worker, [i], ex, mex, with_mutants, mshrink) for i in ids]
        for fut in cf.as_completed(futures):
            row = fut.result()[0]
            by[row["id"]] = row
            if progress is not None:
                progress(row)
    return [by[i] for i in ids]


def check(quick: bool = True, *, statements=None, sim: Simulator = DEFAULT_SIMULATOR,
          examples: int | None = None, mutant_examples: int | None = None,
          with_mutants: bool = True, workers: int = 1, progress=None,
          mutant_shrink: int = 40) -> dict[str, Any]:
    """Run the whole proof layer (or ``statements``): the report as a JSON-ready dict.

    ``workers > 1`` runs the statements in that many spawned processes (only for registered statements
    and the default simulator; the results are the same, since every attack is derandomized).
    ``progress(row)``, if given, is called with each statement's row as it ends. ``mutant_shrink``: see
    :func:`statement_report` (the test suite's preset uses 0: it asserts what is caught, not how small).
    """
    ex, mex = BUDGETS["quick" if quick else "full"]
    ex = ex if examples is None else examples
    mex = mex if mutant_examples is None else mutant_examples
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be an integer >= 1; got {workers!r}.")
    t0 = time.perf_counter()
    stmts = REGISTRY.statements if statements is None else statements

    def registered(st):
        try:
            return REGISTRY.by_id(st.id) is st
        except ValueError:
            return False

    if workers > 1 and sim is DEFAULT_SIMULATOR and len(stmts) > 1 and all(registered(st) for st in stmts):
        rows = _parallel(stmts, min(workers, len(stmts)), ex, mex, with_mutants, progress, mutant_shrink)
    else:
        cache: dict = {}
        rows = []
        for s in stmts:
            rows.append(statement_report(s, sim=sim, examples=ex, mutant_examples=mex,
                                         with_mutants=with_mutants, cache=cache, mutant_shrink=mutant_shrink))
            if progress is not None:
                progress(rows[-1])
    return {
        "quick": quick,
        "examples_per_statement": ex,
        "examples_per_mutant": mex,
        "mutant_shrink_budget": mutant_shrink,
        "workers": workers,
        "statements": rows,
        "mutants_total": sum(r["mutants_total"] for r in rows),
        "mutants_caught": sum(r["mutants_caught"] for r in rows),
        "seconds": round(time.perf_counter() - t0, 2),
    }


def _frac(entries) -> str:
    if not entries:
        return "-"
    cited = sum(e.get("status") == "cited" for e in entries)
    out = f"{sum(e['ok'] for e in entries)}/{len(entries)}"
    return out + (f" (+{cited} cited)" if cited else "")


def render_table(report: dict):
    """A rich Table: statement, status, symbolic, certificate, cases, counterexamples, tightness, mutants."""
    from rich.table import Table

    mode = "quick" if report["quick"] else "full"
    table = Table(title=f"landscape check ({mode}): {report['mutants_caught']}/{report['mutants_total']} "
                  f"mutants caught, {report['seconds']:.0f} s")
    for col in ("statement", "k", "regime", "status", "symbolic", "certificate", "cases", "counterexamples",
                "tightness", "mutants caught"):
        table.add_column(col, justify="left" if col == "statement" else "right")
    for r in report["statements"]:
        tight = "-" if r["tightness"] is None else f"{r['tightness']:.3g} ({r['tightness_label']})"
        muts = f"{r['mutants_caught']}/{r['mutants_total']}" if r["mutants_total"] else "-"
        saved = len(r.get("counterexamples") or [])
        cex = str(r["violations"]) + (f" ({saved} saved)" if saved else "")
        lo, hi = r.get("k_range") or (1, None)
        k_txt = f"{lo}" if hi == lo else (f">= {lo}" if hi is None else f"{lo}-{hi}")
        table.add_row(f"{r['id']} {r['short']}", k_txt, r.get("regime", "any"), r["status"],
                      _frac(r["symbolic"]), _frac(r["certificates"]), str(r["cases"]), cex, tight, muts)
    return table
