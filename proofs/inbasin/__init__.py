"""The in-basin family (the paper's regime): S1B (RTN exit law on the basin floor), S5I (S5 re-scoped), P1."""

from proofs.basin.statements import S5
from proofs.core import Family
from proofs.inbasin.p1 import P1, P1_MUTANTS, P1_SCENARIOS
from proofs.inbasin.scenarios import SCENARIOS
from proofs.inbasin.statements import MUTANTS, S1B, in_basin_version
from proofs.inbasin.symbolic import STEPS

S5I = in_basin_version(S5, "S5I", "ste_in_basin")

FAMILY = Family("inbasin", (S1B, S5I, P1), {**MUTANTS, **P1_MUTANTS}, {**SCENARIOS, **P1_SCENARIOS}, STEPS)
