"""The in-basin family (the paper's regime): S1B (the RTN exit law on the basin floor), S5I (S5 re-scoped)."""

from proofs.basin.statements import S5
from proofs.core import Family
from proofs.inbasin.scenarios import SCENARIOS
from proofs.inbasin.statements import MUTANTS, S1B, in_basin_version
from proofs.inbasin.symbolic import STEPS

S5I = in_basin_version(S5, "S5I", "ste_in_basin")

FAMILY = Family("inbasin", (S1B, S5I), MUTANTS, SCENARIOS, STEPS)
