"""Every family of statements, registered explicitly and in order (the order of the checker's table).

A new family is a subpackage of ``proofs`` with a ``FAMILY`` value (:class:`proofs.core.Family`) and one
line here. The names below are views of :data:`proofs.core.REGISTRY` after registration.
"""

from proofs import basin, inbasin, recovery, separable, valley
from proofs.core import REGISTRY

for _family in (basin.FAMILY, valley.FAMILY, recovery.FAMILY, separable.FAMILY, inbasin.FAMILY):
    REGISTRY.register(_family)

STATEMENTS = REGISTRY.statements
MUTANTS = REGISTRY.mutant_table
SCENARIOS = REGISTRY.scenarios
STEPS = REGISTRY.steps
CERTIFICATES = REGISTRY.certificates
by_id = REGISTRY.by_id
mutants = REGISTRY.mutants
run_step = REGISTRY.run_step
run_certificate = REGISTRY.run_certificate

__all__ = ["STATEMENTS", "MUTANTS", "SCENARIOS", "STEPS", "CERTIFICATES", "by_id", "mutants", "run_step",
           "run_certificate"]
