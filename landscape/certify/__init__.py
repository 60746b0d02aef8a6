r"""Recovery certificates: does STE bring ``Q(w_t)`` into the basin, and by when? (``docs/certificate.md``).

* :mod:`~landscape.certify.recovery` -- :func:`certify_recovery`, the per-start verdict;
* :mod:`~landscape.certify.cases` -- what is covered (landscape, grid, rule) as float64 arrays;
* :mod:`~landscape.certify.line` -- k = 1: the 1-D reduction's theorems K1R, K1, K1P and its orbit;
* :mod:`~landscape.certify.reduction` -- the pieces of the 1-D reduction (R1) and its orbit;
* :mod:`~landscape.certify.slices` -- the slice ``w0 + row(N)`` (K2R, K2S);
* :mod:`~landscape.certify.orbit` -- the validated orbit: any k, with or without drift.

Verdicts are one vocabulary: "certified", "refuted", "unknown".
"""

from landscape.certify.cases import VERDICTS
from landscape.certify.line import line_analysis
from landscape.certify.recovery import RecoveryCertificate, certify_recovery

__all__ = ["RecoveryCertificate", "certify_recovery", "line_analysis", "VERDICTS"]
