r"""The registry of the proof layer: statements, mutants, scenarios, symbolic steps and certificates.

Each family of statements (``proofs/basin``, ``proofs/recovery``, ``proofs/valley``, ...) exposes one
:class:`Family` value; :mod:`proofs.catalog` registers every family explicitly, in order, into
:data:`REGISTRY`. The core (:mod:`proofs.core.falsify`, :mod:`proofs.core.report`) reads the registry and
never imports a family.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from proofs.core.types import Certificate, Scenario, Statement, Step

__all__ = ["Family", "Registry", "REGISTRY"]


@dataclasses.dataclass(frozen=True)
class Family:
    """One family of statements with everything the checker needs to prove and attack them."""

    name: str
    statements: tuple[Statement, ...]
    mutants: Mapping[str, list] = dataclasses.field(default_factory=dict)  # id -> [statement -> mutant]
    scenarios: Mapping[str, Scenario] = dataclasses.field(default_factory=dict)
    steps: Mapping[str, Callable[[], Step]] = dataclasses.field(default_factory=dict)
    certificates: Mapping[str, Callable[[], Certificate]] = dataclasses.field(default_factory=dict)


class Registry:
    """The registered families, merged: one namespace of ids, scenarios, steps and certificates."""

    def __init__(self):
        self.families: list[Family] = []
        self.statements: tuple[Statement, ...] = ()
        self.mutant_table: dict[str, list] = {}
        self.scenarios: dict[str, Scenario] = {}
        self.steps: dict[str, Callable[[], Step]] = {}
        self.certificates: dict[str, Callable[[], Certificate]] = {}

    def register(self, family: Family) -> Family:
        """Add ``family`` (ValueError if one of its names is already registered)."""
        ids = [s.id for s in self.statements]
        for kind, have, new in (("statement id", ids, [s.id for s in family.statements]),
                                ("scenario", self.scenarios, family.scenarios),
                                ("step", self.steps, family.steps),
                                ("certificate", self.certificates, family.certificates)):
            dup = sorted(set(have) & set(new))
            if dup:
                raise ValueError(f"family {family.name!r} registers the {kind}s {dup}, already registered.")
        self.families.append(family)
        self.statements = self.statements + tuple(family.statements)
        self.mutant_table.update(family.mutants)
        self.scenarios.update(family.scenarios)
        self.steps.update(family.steps)
        self.certificates.update(family.certificates)
        return family

    def by_id(self, sid: str) -> Statement:
        """The statement with this id (ValueError naming the allowed ids otherwise)."""
        for s in self.statements:
            if s.id == sid:
                return s
        raise ValueError(f"statement id must be one of {[s.id for s in self.statements]}; got {sid!r}.")

    def mutants(self, st: Statement) -> list[Statement]:
        """The planted false variants of ``st`` (each must be rejected by the checker)."""
        return [f(st) for f in self.mutant_table.get(st.id, [])]

    def run_step(self, name: str) -> Step:
        """Run the symbolic step ``name`` (ValueError naming the allowed names otherwise)."""
        if name not in self.steps:
            raise ValueError(f"name must be one of {sorted(self.steps)}; got {name!r}.")
        try:
            return self.steps[name]()
        except Exception as exc:  # a failing derivation is a failed step, reported as such
            return Step(name, False, f"error: {type(exc).__name__}: {exc}")

    def run_certificate(self, name: str) -> Certificate:
        """Run the certificate ``name`` (ValueError naming the allowed names otherwise)."""
        if name not in self.certificates:
            raise ValueError(f"name must be one of {sorted(self.certificates)}; got {name!r}.")
        return self.certificates[name]()


#: the one registry; filled by :mod:`proofs.catalog` (imported by ``proofs/__init__.py``)
REGISTRY = Registry()
