"""The separable family: K2S (recovery for any k when the sharp directions act on disjoint coordinates)."""

from proofs.core import Family
from proofs.separable.scenarios import SCENARIOS
from proofs.separable.statements import MUTANTS, STATEMENTS
from proofs.separable.symbolic import CERTIFICATES, STEPS

FAMILY = Family("separable", STATEMENTS, MUTANTS, SCENARIOS, STEPS, CERTIFICATES)
