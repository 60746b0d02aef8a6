"""The proof layer: statements as data, sympy derivations, certificates and falsification."""
