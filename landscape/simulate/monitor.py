"""Driver monitors: values that watch the deployed point q_t of a run and record scalars per row.

A monitor is an equinox Module whose fields are static options (so a
:class:`~landscape.simulate.record.SaveAt` holding it stays hashable); the driver carries its state through
the scan. Ask for monitors with ``SaveAt(monitors=(m, ...))``; what :meth:`Monitor.record` returns lands
in the trajectory's ``extras``.

* ``init(q0) -> state`` at t = 0, from the first deployed point;
* ``step(state, q, t) -> state`` once per step, with the deployed point q_t of step t;
* ``record(state) -> {name: scalar}`` at every recorded row (after the step of that row).

The rule is untouched: a monitored run trains exactly as the unmonitored one.
"""

from __future__ import annotations

from landscape._typing import Value

__all__ = ["Monitor"]

class Monitor(Value):
    """Base of the driver's monitors: ``init``, ``step``, ``record`` (see the module docstring)."""

    def init(self, q0):  # pragma: no cover - abstract
        """The state at t = 0, given the first deployed point q_0 (d,)."""
        raise NotImplementedError

    def step(self, state, q, t):  # pragma: no cover - abstract
        """The state after seeing the deployed point q of step t."""
        raise NotImplementedError

    def record(self, state) -> dict:  # pragma: no cover - abstract
        """The scalars recorded at a row (merged into the trajectory's extras)."""
        raise NotImplementedError
