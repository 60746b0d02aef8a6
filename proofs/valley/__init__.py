"""The valley family: S2V and S2L (the geometric failure of second-order PTQ on valleys)."""

from proofs.core import Family
from proofs.valley.proof import certificates, steps
from proofs.valley.scenarios import scenarios
from proofs.valley.statements import mutant_table, statements

FAMILY = Family("valley", statements(), mutant_table(), scenarios(), steps(), certificates())
