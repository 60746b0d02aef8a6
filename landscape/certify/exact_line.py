r"""R1 in exact rational arithmetic: the deployed offset g on a window of the line, ties included.

``g(lambda) = n.Q(w0 + lambda n) - c0`` with the grid's tie rule, round half to even. Coordinate j
crosses a rounding boundary at every ``lambda`` where ``(w0_j + lambda n_j - o_j) / Delta_j = m + 1/2``;
there it sits exactly on the tie. R1 restated (``docs/certificate.md``): between breakpoints ``g`` is
constant; at a breakpoint ``z`` crossed by the set ``J`` of coordinates, ``g(z+) - g(z-) = sum_J f_j``
(``f_j = |n_j| Delta_j``) and ``g(z) = g(z-) + sum_{j in J, tie to the right} f_j``, where the tie goes
to the right-hand value exactly when the even neighbour is the one the line moves to: ``n_j > 0`` and
``m`` odd, or ``n_j < 0`` and ``m`` even. So ``g(z)`` may differ from both neighbouring pieces when
``|J| >= 2``. :func:`exact_line` lists every breakpoint of a window with ``g(z-)``, ``g(z)``, ``g(z+)``
and the tie-rule value, each computed directly from the quantizer's formula in ``fractions.Fraction``.
"""

from __future__ import annotations

import math
from fractions import Fraction as F

__all__ = ["exact_line", "half_even"]


def half_even(x: F) -> int:
    """round(x), ties to the even integer (the grid's rule)."""
    fl = math.floor(x)
    rem = x - fl
    return fl + 1 if rem > F(1, 2) or (rem == F(1, 2) and fl % 2) else fl


def exact_line(n, c0, w0, step, offset, lam_lo, lam_hi, max_breaks: int = 4000) -> dict:
    """The breakpoints of g in [lam_lo, lam_hi] (all inputs floats, taken as exact rationals).

    Returns ``z`` (sorted Fractions), ``crossing`` (the coordinates crossing at each), ``left``, ``point``,
    ``right`` (g(z-), g(z), g(z+)), ``tie_rule`` (g(z-) plus the flips whose tie goes right), ``flips``
    (sum of f_j over the crossing set) and ``pieces`` (g on each open interval between breakpoints,
    len(z) + 1 values); ``truncated`` when more than ``max_breaks`` breakpoints were found.
    """
    n, w0 = [F(float(x)) for x in n], [F(float(x)) for x in w0]
    st, of = [F(float(x)) for x in step], [F(float(x)) for x in offset]
    c0, lo, hi = F(float(c0)), F(float(lam_lo)), F(float(lam_hi))
    live = [j for j in range(len(n)) if n[j] != 0]

    def g(lam):
        return (
            sum(
                (n[j] * (of[j] + st[j] * half_even((w0[j] + lam * n[j] - of[j]) / st[j])) for j in live), F(0)
            )
            - c0
        )

    cross: dict = {}
    for j in live:
        ua, ub = sorted(((w0[j] + lo * n[j] - of[j]) / st[j], (w0[j] + hi * n[j] - of[j]) / st[j]))
        for m in range(math.ceil(ua - F(1, 2)), math.floor(ub - F(1, 2)) + 1):
            z = ((m + F(1, 2)) * st[j] + of[j] - w0[j]) / n[j]
            if lo < z < hi:
                cross.setdefault(z, []).append((j, m))
        if len(cross) > max_breaks:
            break
    zs = sorted(cross)[:max_breaks]
    edges = [lo] + zs + [hi]
    pieces = [g((a + b) / 2) for a, b in zip(edges[:-1], edges[1:], strict=True)]
    out = {"z": zs, "crossing": [], "left": [], "point": [], "right": [], "tie_rule": [], "flips": []}
    for i, z in enumerate(zs):
        left, right = pieces[i], pieces[i + 1]
        moves = cross[z]
        up = sum((abs(n[j]) * st[j] for j, m in moves if (n[j] > 0) == (m % 2 == 1)), F(0))
        out["crossing"].append([j for j, _ in moves])
        out["left"].append(left)
        out["point"].append(g(z))
        out["right"].append(right)
        out["tie_rule"].append(left + up)
        out["flips"].append(sum((abs(n[j]) * st[j] for j, _ in moves), F(0)))
    out["pieces"] = pieces
    out["truncated"] = len(cross) > max_breaks
    return out
