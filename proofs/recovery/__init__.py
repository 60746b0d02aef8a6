"""The recovery family: R1-K2R, A1, A2, D0 (STE from RTN-failed trained points: k = 1 lines, slices)."""

from proofs.core import Family
from proofs.recovery.certify import RECOVERY_CERTIFICATES
from proofs.recovery.scenarios_line import LINE_SCENARIOS
from proofs.recovery.scenarios_slice import SLICE_SCENARIOS
from proofs.recovery.statements import RECOVERY_MUTANTS, RECOVERY_STATEMENTS
from proofs.recovery.symbolic import RECOVERY_STEPS

FAMILY = Family("recovery", RECOVERY_STATEMENTS, RECOVERY_MUTANTS, {**LINE_SCENARIOS, **SLICE_SCENARIOS},
                RECOVERY_STEPS, RECOVERY_CERTIFICATES)
