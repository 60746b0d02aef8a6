"""The probe of a point: (L(w), grad L(w), rho(w), rho(w) <= r_b), what the driver computes once per step."""

from __future__ import annotations

from typing import NamedTuple

from landscape._typing import Flags, Points, Values

__all__ = ["Probe"]


class Probe(NamedTuple):
    """(loss, grad, rho, in_basin) of a point: what the driver computes once per step at q_t."""

    loss: Values
    grad: Points
    rho: Values
    in_basin: Flags
