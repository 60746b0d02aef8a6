"""The probe of a point: (L(w), grad L(w), rho(w), rho(w) <= r_b), what the driver computes once per step."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["Probe"]


class Probe(NamedTuple):
    """(loss, grad, rho, in_basin) of a point: what the driver computes once per step at q_t."""

    loss: Any
    grad: Any
    rho: Any
    in_basin: Any
