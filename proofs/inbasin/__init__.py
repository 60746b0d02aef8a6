"""The in-basin family (the paper's regime): S1B (RTN exit law on the basin floor), S5I (S5 re-scoped), P1,
S5W (the weighted, anisotropic basin) and C1 (the loss at first entry)."""

from proofs.basin.statements import S5
from proofs.core import Family
from proofs.inbasin.c1 import C1, C1_MUTANTS, C1_SCENARIOS
from proofs.inbasin.p1 import P1, P1_MUTANTS, P1_SCENARIOS
from proofs.inbasin.scenarios import SCENARIOS
from proofs.inbasin.statements import MUTANTS, S1B, in_basin_version
from proofs.inbasin.symbolic import STEPS
from proofs.inbasin.weighted import S5W, S5W_MUTANTS, S5W_SCENARIOS
from proofs.inbasin.weighted_proof import CERTIFICATES
from proofs.inbasin.weighted_proof import STEPS as WEIGHTED_STEPS

S5I = in_basin_version(S5, "S5I", "ste_in_basin")

FAMILY = Family("inbasin", (S1B, S5I, P1, S5W, C1), {**MUTANTS, **P1_MUTANTS, **S5W_MUTANTS, **C1_MUTANTS},
                {**SCENARIOS, **P1_SCENARIOS, **S5W_SCENARIOS, **C1_SCENARIOS}, {**STEPS, **WEIGHTED_STEPS},
                CERTIFICATES)
