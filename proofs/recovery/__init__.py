"""The recovery family: R1-K2R, A1, A2, D0 (STE from RTN-failed trained points: k = 1 lines, slices)."""

import dataclasses

from proofs.core import Family
from proofs.recovery.certify import RECOVERY_CERTIFICATES
from proofs.recovery.scenarios_d0 import D0_SCENARIOS
from proofs.recovery.scenarios_line import LINE_SCENARIOS
from proofs.recovery.scenarios_r1 import R1_SCENARIOS
from proofs.recovery.scenarios_slice import SLICE_SCENARIOS
from proofs.recovery.statements import RECOVERY_MUTANTS, RECOVERY_STATEMENTS
from proofs.recovery.symbolic import RECOVERY_STEPS

#: the numbers of sharp directions each statement speaks to (set here, beside the statements' text)
K_RANGES = {"R1": (1, 1), "K1R": (1, 1), "K1": (1, 1), "K1P": (1, 1), "K1D": (1, 1), "A1": (1, None),
            "A2": (1, 1), "K2E": (1, None), "K2R": (1, None), "D0": (1, 1)}

_STATEMENTS = tuple(dataclasses.replace(st, k_range=K_RANGES.get(st.id, st.k_range))
                    for st in RECOVERY_STATEMENTS)
_SCENARIOS = {**LINE_SCENARIOS, **R1_SCENARIOS, **SLICE_SCENARIOS, **D0_SCENARIOS}
FAMILY = Family("recovery", _STATEMENTS, RECOVERY_MUTANTS, _SCENARIOS, RECOVERY_STEPS, RECOVERY_CERTIFICATES)
