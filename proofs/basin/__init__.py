"""The basin family: S1-S6 (RTN exit laws, Hessian blindness, STE in the isotropic basin, S5C, S6)."""

from proofs.basin.certify import CERTIFICATES
from proofs.basin.scenarios import SCENARIOS
from proofs.basin.statements import MUTANTS, STATEMENTS
from proofs.basin.symbolic import STEPS
from proofs.core import Family

FAMILY = Family("basin", STATEMENTS, MUTANTS, SCENARIOS, STEPS, CERTIFICATES)
