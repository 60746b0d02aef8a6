r"""The proof layer's base types, shared by every statement module (no imports from the rest of ``proofs``).

* :class:`Statement` -- a theorem or conjecture as data (assumptions, constants, conclusion as sympy);
* :data:`SYM` -- the named real symbols; :func:`symbols` adds more (``SYM`` is one shared dict);
* :class:`Step` -- one symbolic step (``status``: "verified", "failed" or "cited");
* :class:`Certificate` and :func:`prove` -- a z3 certificate;
* :class:`Scenario` -- a case strategy with its ``prepare`` and ``simulate`` functions;
* the planted-mutant helpers (:func:`scale_constant`, :func:`drop_assumption`, ...).

A family of statements (a subpackage of ``proofs``) defines its objects with these types, collects them
in one :class:`proofs.core.Family` and is registered by one line of :mod:`proofs.catalog`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple

import sympy as sp

# one home for the strategies and builders of a case: the proof layer draws from landscape.testing
from landscape.testing.cases import log_uniform
from landscape.testing.cases import wall_named as wall_of

__all__ = [
    "Statement",
    "SYM",
    "symbols",
    "Step",
    "Certificate",
    "prove",
    "Scenario",
    "REGIMES",
    "scale_constant",
    "drop_assumption",
    "reverse_conclusion",
    "reverse_assumption",
    "replace",
    "wall_of",
    "log_uniform",
    "statement_constant",
    "derive",
]

#: which starts a statement speaks to: any start; latents away from the river; trained points on the
#: river whose RTN point is outside the basin (delta_perp > r_b); trained points inside the basin whose
#: RTN point is outside (the paper's setting, 2 delta_perp < r_b possible)
REGIMES = ("any", "off_river", "ptq_failed", "in_basin")

SYM: dict[str, sp.Symbol] = {}


def symbols(names: str) -> dict[str, sp.Symbol]:
    """Real symbols for the space-separated ``names``, registered in :data:`SYM` (returns SYM)."""
    for name in names.split():
        SYM.setdefault(name, sp.Symbol(name, real=True))
    return SYM


@dataclasses.dataclass(frozen=True)
class Statement:
    """A theorem (or conjecture) as data: assumptions => conclusion over named symbols."""

    id: str
    title: str
    family: str  # the landscapes / quantizers / rules it applies to, in words
    assumptions: Mapping[str, sp.Basic]  # name -> relational over inputs and measured symbols
    constants: Mapping[str, sp.Expr]  # name -> expression (may use earlier constants)
    conclusion: Mapping[str, sp.Basic]  # name -> relational; all must hold
    attack: str  # a registered scenario's name (proofs.core.REGISTRY.scenarios)
    proof: tuple[str, ...] = ()  # keys of symbolic steps and certificates (machine-checked lemmas)
    kind: str = "theorem"  # "theorem" or "conjecture"
    tightness: sp.Expr | None = None  # measured / predicted, maximised over cases
    tightness_label: str = ""
    doc: str = ""  # section of docs/theory.md
    mutant_of: str | None = None  # for mutants: what was changed
    short: str = ""  # a few words for the table
    #: which starts the statement speaks to: "any", "off_river" (latents away from the river) or
    #: "ptq_failed" (RTN-failed trained points on the river)
    regime: str = "any"
    #: the steps of the proof argued on paper only (docs/theory.md), in a few words each
    paper: tuple[str, ...] = ()
    #: further scenarios attacked (each may give its own counterexample), e.g. two refutation mechanisms
    extra_attacks: tuple[str, ...] = ()
    #: the numbers of sharp directions the statement speaks to: (k_min, k_max), k_max None = no upper limit
    k_range: tuple[int, int | None] = (1, None)

    def __post_init__(self):
        if self.regime not in REGIMES:
            raise ValueError(f"regime must be one of {REGIMES}; got {self.regime!r}.")
        lo, hi = self.k_range
        if not (isinstance(lo, int) and lo >= 1 and (hi is None or (isinstance(hi, int) and hi >= lo))):
            raise ValueError(f"k_range must be (k_min >= 1, k_max >= k_min or None); got {self.k_range!r}.")

    def constant_exprs(self) -> dict[str, sp.Expr]:
        """The constants with earlier constants substituted (expressions over input symbols)."""
        out: dict[str, sp.Expr] = {}
        for name, expr in self.constants.items():
            out[name] = sp.sympify(expr).subs(
                {SYM[n] if n in SYM else sp.Symbol(n, real=True): e for n, e in out.items()}
            )
        return out

    @property
    def attacks(self) -> tuple[str, ...]:
        """Every scenario this statement is attacked with (``attack`` first)."""
        return (self.attack, *self.extra_attacks)


class Step(NamedTuple):
    """One symbolic step of a proof: ``ok`` is True only when sympy verified it; a cited step is not ok."""

    name: str
    ok: bool
    detail: str
    cited: bool = False

    @property
    def status(self) -> str:
        """'verified', 'failed' or 'cited' (cited results are never counted as machine-checked)."""
        return "cited" if self.cited else ("verified" if self.ok else "failed")


class Certificate(NamedTuple):
    """The verdict of one certificate: ``status`` is 'unsat' (proved), 'sat' or 'unknown'."""

    name: str
    ok: bool
    status: str
    box: str
    claim: str
    model: str


def prove(name: str, hyps, claim, box: str, text: str, timeout_ms: int = 20000) -> Certificate:
    """Certify ``hyps => claim`` over the reals: z3 must find ``hyps and not claim`` unsat."""
    import z3

    solver = z3.SolverFor("QF_NRA")
    solver.set("timeout", timeout_ms)
    solver.add(*hyps)
    solver.add(z3.Not(claim))
    res = solver.check()
    model = str(solver.model()) if res == z3.sat else ""
    return Certificate(name, res == z3.unsat, str(res), box, text, model)


class Scenario(NamedTuple):
    """A case strategy, a ``prepare(case, stmt) -> (ctx, values)`` and a ``simulate`` step."""

    cases: Any
    prepare: Any
    simulate: Any


# --------------------------------------------------------------------------------------
# planted mutants
# --------------------------------------------------------------------------------------
def scale_constant(st: Statement, name: str, factor) -> Statement:
    """A copy of ``st`` whose constant ``name`` is multiplied by ``factor``."""
    if name not in st.constants:
        raise ValueError(f"name must be one of the constants {list(st.constants)}; got {name!r}.")
    consts = dict(st.constants)
    consts[name] = sp.sympify(factor) * consts[name]
    return dataclasses.replace(st, constants=consts, mutant_of=f"{st.id}: constant {name} x {factor}")


def drop_assumption(st: Statement, name: str) -> Statement:
    """A copy of ``st`` without the assumption ``name``."""
    if name not in st.assumptions:
        raise ValueError(f"name must be one of the assumptions {list(st.assumptions)}; got {name!r}.")
    assume = {k: v for k, v in st.assumptions.items() if k != name}
    return dataclasses.replace(st, assumptions=assume, mutant_of=f"{st.id}: assumption {name} dropped")


_REVERSE = {
    sp.GreaterThan: sp.LessThan,
    sp.LessThan: sp.GreaterThan,
    sp.StrictGreaterThan: sp.StrictLessThan,
    sp.StrictLessThan: sp.StrictGreaterThan,
}


def reverse_conclusion(st: Statement, name: str) -> Statement:
    """A copy of ``st`` whose conclusion ``name`` has its inequality reversed."""
    if name not in st.conclusion:
        raise ValueError(f"name must be one of the conclusions {list(st.conclusion)}; got {name!r}.")
    rel = st.conclusion[name]
    concl = dict(st.conclusion)
    concl[name] = _REVERSE[type(rel)](rel.lhs, rel.rhs)
    return dataclasses.replace(st, conclusion=concl, mutant_of=f"{st.id}: conclusion {name} reversed")


def reverse_assumption(st: Statement, name: str) -> Statement:
    """A copy of ``st`` whose assumption ``name`` is negated."""
    assume = dict(st.assumptions)
    assume[name] = sp.Not(assume[name])
    return dataclasses.replace(st, assumptions=assume, mutant_of=f"{st.id}: assumption {name} negated")


def derive(st: Statement, id: str, **fields) -> Statement:  # noqa: A002 - the Statement field's name
    """A new statement of the same shape as ``st``: its fields, with ``id`` and ``fields`` replaced.

    The one constructor of statements that repeat another's record (same conclusion, regime, doc, ...):
    write only what differs. Not a mutant (``mutant_of`` stays as in ``st``); see :func:`replace` for those.
    """
    return dataclasses.replace(st, id=id, **fields)


def replace(st: Statement, what: str, **fields) -> Statement:
    """A copy of ``st`` with some fields replaced, labelled ``what`` (a hand-made mutant)."""
    return dataclasses.replace(st, mutant_of=f"{st.id}: {what}", **fields)


# --------------------------------------------------------------------------------------
# small helpers of the scenarios
# --------------------------------------------------------------------------------------
def statement_constant(stmt, name: str, default: float) -> float:
    """The float value of the statement's constant ``name`` (``default`` when it has none)."""
    expr = stmt.constants.get(name)
    return default if expr is None else float(sp.sympify(expr))
