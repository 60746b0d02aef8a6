"""The proof layer's core: statement types, the registry, the attacks and the report (no family imports)."""

from proofs.core.registry import REGISTRY, Family, Registry
from proofs.core.types import (
    REGIMES,
    SYM,
    Certificate,
    Scenario,
    Statement,
    Step,
    derive,
    drop_assumption,
    log_uniform,
    prove,
    replace,
    reverse_assumption,
    reverse_conclusion,
    scale_constant,
    statement_constant,
    symbols,
    wall_of,
)

__all__ = ["REGISTRY", "Family", "Registry", "REGIMES", "SYM", "Certificate", "Scenario", "Statement", "Step",
           "derive", "drop_assumption", "log_uniform", "prove", "replace", "reverse_assumption",
           "reverse_conclusion", "scale_constant", "statement_constant", "symbols", "wall_of"]
