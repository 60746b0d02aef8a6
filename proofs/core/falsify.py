r"""Attacks: hypothesis draws cases, the JAX simulator (float64) measures, the statement judges.

A case is a dict of plain numbers (seeds, sizes, radii, steps...). Its *scenario* builds
the landscape, quantizer and start from it (a registered scenario, :mod:`proofs.core.registry`),
computes the geometric quantities the assumptions need (``prepare``) and, when the statement's
assumptions hold, runs the simulator and measures (``simulate``). Then the statement's
constants and conclusion are evaluated on those numbers (:func:`check_case`).

:func:`attack` searches with ``hypothesis.find`` for a case that violates the
conclusion; a violation is shrunk to a minimal counterexample (a plain dict, saved to
JSON by :func:`save_counterexample` and replayed by :func:`replay`).

The simulator is injectable (:class:`Simulator`): its ``rule(eta)`` gives the QAT rule
(default :func:`landscape.qat.ste`), ``run`` the driver (default
:func:`landscape.simulate.run`) and ``rtn(quantizer, w)`` the PTQ map (default
``quantizer.quantize``). A test double with a biased gradient must be caught.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import mpmath
import numpy as np
import sympy as sp
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import HypothesisException, NoSuchExample

from landscape import qat, simulate
from proofs.core.registry import REGISTRY
from proofs.core.types import SYM, Statement

__all__ = ["Simulator", "DEFAULT_SIMULATOR", "CaseResult", "AttackResult", "check_case", "attack",
           "replay", "save_counterexample", "load_counterexample", "evaluate"]

REL_TOL = 1e-9  # conclusions: lhs >= rhs is accepted when lhs - rhs >= -(REL_TOL max(|lhs|,|rhs|) + 1e-12)


class Simulator(NamedTuple):
    """What the attacks drive: the QAT rule factory, the scan driver and the PTQ map."""

    rule: Callable[[float], Any] = qat.ste
    run: Callable[..., Any] = simulate.run
    rtn: Callable[[Any, Any], Any] = staticmethod(lambda quantizer, w: quantizer.quantize(w))


DEFAULT_SIMULATOR = Simulator()


@contextlib.contextmanager
def _without_local_constants():
    """Pin hypothesis' pool of constants mined from loaded local modules to empty.

    Hypothesis mixes literals found in every imported local module into its draws, so the
    cases an attack tries would depend on which modules happen to be loaded (a pytest-xdist
    worker, a notebook, the CLI). Attacks must be repeatable whatever is imported.
    """
    try:
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants
    except ImportError:  # pragma: no cover - another hypothesis layout: nothing to pin
        yield
        return
    saved = providers._get_local_constants
    providers._get_local_constants = Constants
    providers.CONSTANTS_CACHE.cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = saved
        providers.CONSTANTS_CACHE.cache.clear()


# --------------------------------------------------------------------------------------
# numeric evaluation of the statement's expressions
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _lambdified(expr):
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    return [s.name for s in syms], sp.lambdify(syms, expr, modules="mpmath")


class _NotReal(Exception):
    pass


def _num(expr, values: dict) -> float:
    expr = sp.sympify(expr)
    names, fn = _lambdified(expr)
    missing = [n for n in names if n not in values]
    if missing:
        raise KeyError(f"no value for symbol(s) {missing} in {sorted(values)}")
    with mpmath.workdps(30):
        out = fn(*[values[n] for n in names])
    if isinstance(out, mpmath.mpc) or isinstance(out, complex):
        if abs(complex(out).imag) > 0:
            raise _NotReal(str(expr))
        out = complex(out).real
    return float(out)


def _truth(rel, values: dict, tol: bool) -> bool:
    """Truth of a relational (or And/Or/Not of them) at ``values``; ``tol``: conclusion tolerance."""
    if rel is sp.true or rel is True:
        return True
    if rel is sp.false or rel is False:
        return False
    if isinstance(rel, sp.And):
        return all(_truth(a, values, tol) for a in rel.args)
    if isinstance(rel, sp.Or):
        return any(_truth(a, values, tol) for a in rel.args)
    if isinstance(rel, sp.Not):
        return not _truth(rel.args[0], values, tol)
    lhs, rhs = _num(rel.lhs, values), _num(rel.rhs, values)
    if math.isnan(lhs) or math.isnan(rhs):
        return False
    slack = REL_TOL * max(abs(lhs), abs(rhs)) + 1e-12 if tol else 0.0
    if math.isinf(slack):
        slack = 0.0
    if isinstance(rel, sp.GreaterThan):
        return lhs - rhs >= -slack
    if isinstance(rel, sp.LessThan):
        return rhs - lhs >= -slack
    if isinstance(rel, sp.StrictGreaterThan):
        return lhs > rhs
    if isinstance(rel, sp.StrictLessThan):
        return lhs < rhs
    if isinstance(rel, sp.Equality):  # equalities of floats: always with the tolerance
        return abs(lhs - rhs) <= REL_TOL * max(abs(lhs), abs(rhs)) + 1e-12
    if isinstance(rel, sp.Unequality):
        return abs(lhs - rhs) > REL_TOL * max(abs(lhs), abs(rhs)) + 1e-12
    raise TypeError(f"cannot evaluate {rel!r}")


def assumptions_hold(stmt: Statement, values: dict) -> bool:
    """Whether every assumption of ``stmt`` holds at ``values`` (exact comparisons; non-real = false)."""
    try:
        return all(_truth(rel, values, tol=False) for rel in stmt.assumptions.values())
    except _NotReal:
        return False


def evaluate(stmt: Statement, values: dict) -> tuple[bool, list[str], dict]:
    """(assumptions hold, failed conclusions, constants) for a full set of ``values``."""
    vals = dict(values)
    if not assumptions_hold(stmt, vals):
        return False, [], {}
    consts: dict[str, float] = {}
    failed: list[str] = []
    for name, expr in stmt.constant_exprs().items():
        try:
            consts[name] = _num(expr, vals)
        except _NotReal:
            consts[name] = float("nan")
    vals.update(consts)
    for name, rel in stmt.conclusion.items():
        try:
            ok = _truth(rel, vals, tol=True)
        except _NotReal:
            ok = False
        if not ok:
            failed.append(name)
    return True, failed, consts


# --------------------------------------------------------------------------------------
# one case
# --------------------------------------------------------------------------------------
class CaseResult(NamedTuple):
    """The verdict on one case: applicable (assumptions held and not censored), holds, numbers."""

    applicable: bool
    holds: bool
    failed: list
    values: dict
    tightness: float


def check_case(stmt: Statement, case: dict, sim: Simulator = DEFAULT_SIMULATOR,
               scenario: str | None = None) -> CaseResult:
    """Build the case's objects, check the assumptions, simulate in float64 and judge the conclusion.

    ``scenario``: which of the statement's attacks built the case (default: ``stmt.attack``).
    """
    scen = REGISTRY.scenarios[stmt.attack if scenario is None else scenario]
    # a run that diverges (a breached step size, a mutant) gives inf / NaN measurements: NumPy's warnings
    # about them are silenced here because a NaN is judged explicitly (a relation with a NaN side is false)
    with jax.enable_x64(True), np.errstate(over="ignore", invalid="ignore"):
        ctx, values = scen.prepare(case, stmt)
        if not assumptions_hold(stmt, {**values, **_placeholders(stmt, values)}):
            return CaseResult(False, True, [], values, float("nan"))
        values.update(scen.simulate(ctx, values, sim, stmt))
    if values.get("float_unresolved"):  # the float64 run cannot decide this case (a start on a float tie)
        return CaseResult(False, True, [], values, float("nan"))
    ok, failed, consts = evaluate(stmt, values)
    if not ok:  # an assumption over measured quantities failed
        return CaseResult(False, True, [], values, float("nan"))
    values = {**values, **consts}
    if values.get("censored") and not failed:
        # the horizon ended first: the measured time is only a lower bound (NSTEPS), so a bound
        # at or beyond the horizon is neither confirmed nor refuted -- inconclusive. (A bound
        # below the horizon that fails is a genuine violation: T >= NSTEPS > bound.)
        return CaseResult(False, True, [], values, float("nan"))
    tight = float("nan")
    if stmt.tightness is not None:
        try:
            tight = _num(stmt.tightness, values)
        except (_NotReal, ZeroDivisionError, KeyError):
            tight = float("nan")
    return CaseResult(True, not failed, failed, values, tight)


def _placeholders(stmt, values):
    """NaN for symbols the simulator has not measured yet (assumptions must not use them)."""
    names = set()
    for rel in stmt.assumptions.values():
        names |= {s.name for s in rel.free_symbols}
    return {n: float("nan") for n in names if n not in values}


# --------------------------------------------------------------------------------------
# the search
# --------------------------------------------------------------------------------------
class AttackResult(NamedTuple):
    """What one attack found: counts, the minimal counterexample (or None) and the tightness."""

    statement: str
    cases: int
    inapplicable: int
    violations: int
    counterexample: dict | None
    tightness: float
    seconds: float


def attack(
    stmt: Statement,
    sim: Simulator = DEFAULT_SIMULATOR,
    *,
    max_examples: int = 40,
    shrink_budget: int = 40,
    scenario: str | None = None,
) -> AttackResult:
    """Search for a case violating ``stmt`` (hypothesis ``find``; derandomized, so repeatable).

    ``scenario``: one of ``stmt.attacks`` (default: ``stmt.attack``).
    """
    if max_examples < 1:
        raise ValueError(f"max_examples must lie in [1, inf); got {max_examples}.")
    scenario = stmt.attack if scenario is None else scenario
    if scenario not in stmt.attacks:
        raise ValueError(f"scenario must be one of {list(stmt.attacks)}; got {scenario!r}.")
    scen = REGISTRY.scenarios[scenario]
    t0 = time.perf_counter()
    stats = {"cases": 0, "inapplicable": 0, "violations": 0, "tight": float("-inf"), "after": 0}
    best: dict[str, Any] = {}
    seen: dict[str, bool] = {}

    def violates(case):
        key = json.dumps(case, sort_keys=True, default=str)
        if key in seen:  # hypothesis replays cases: answer consistently
            return seen[key]
        if stats["violations"] and stats["after"] >= shrink_budget:
            return False  # shrink budget spent: keep the smallest counterexample found so far
        if stats["violations"]:
            stats["after"] += 1
        res = check_case(stmt, case, sim, scenario)
        seen[key] = not res.holds
        if not res.applicable:
            stats["inapplicable"] += 1
            return False
        stats["cases"] += 1
        if not math.isnan(res.tightness):
            stats["tight"] = max(stats["tight"], res.tightness)
        if not res.holds:
            stats["violations"] += 1
            best["case"] = dict(case)
            best["failed"] = list(res.failed)
            best["values"] = _jsonable(res.values)
        return not res.holds

    # budget 0 keeps the first counterexample, so the shrink phase could only replay cases that answer False
    # at once (minutes of hypothesis' own work in the suite's check); without it the result is the same
    phases = (Phase.generate, Phase.shrink) if shrink_budget > 0 else (Phase.generate,)
    cfg = settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck), phases=phases)
    try:
        with _without_local_constants():
            find(scen.cases, violates, settings=cfg)
    except (NoSuchExample, HypothesisException, ExceptionGroup):
        pass  # no violation, or hypothesis gave up; what was found is in ``best``
    cex = None
    if best:
        cex = {"statement": stmt.id, "mutant_of": stmt.mutant_of, "attack": scenario, "case": best["case"],
               "failed": best["failed"], "values": best["values"]}
    tight = stats["tight"] if stats["tight"] > float("-inf") else float("nan")
    return AttackResult(stmt.id, stats["cases"], stats["inapplicable"], stats["violations"], cex, tight,
                        time.perf_counter() - t0)


def _jsonable(values: dict) -> dict:
    out = {}
    for k, v in values.items():
        try:
            f = float(v)
            out[k] = f if math.isfinite(f) else str(f)
        except (TypeError, ValueError):
            out[k] = str(v)
    return out


def save_counterexample(cex: dict, path) -> Path:
    """Write a counterexample (``AttackResult.counterexample``) to JSON."""
    path = Path(path)
    path.write_text(json.dumps(cex, indent=2, sort_keys=True))
    return path


def load_counterexample(path) -> dict:
    """Read a counterexample written by :func:`save_counterexample`."""
    return json.loads(Path(path).read_text())


def replay(cex: dict, stmt: Statement | None = None, sim: Simulator = DEFAULT_SIMULATOR) -> CaseResult:
    """Re-run a saved counterexample's case against ``stmt`` (default: the statement or mutant it names)."""
    if stmt is None:
        stmt = REGISTRY.by_id(cex["statement"])
        if cex.get("mutant_of"):
            found = [m for m in REGISTRY.mutants(stmt) if m.mutant_of == cex["mutant_of"]]
            if not found:
                raise ValueError(
                    f"mutant_of must name a planted mutant of {stmt.id}; got {cex['mutant_of']!r}.")
            stmt = found[0]
    return check_case(stmt, cex["case"], sim, cex.get("attack"))


_ = SYM  # the symbols the values dicts are keyed by
