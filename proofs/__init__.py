"""The proof layer: statements as data, sympy derivations, certificates and falsification.

``proofs.core`` holds the types, the registry, the attacks and the report; each family of statements is a
subpackage; :mod:`proofs.catalog` registers the families (imported here, so any import of the layer sees
every statement).
"""

from proofs import catalog

__all__ = ["catalog"]
