"""Driver monitors: values that watch each step of a run and record scalars per row.

A monitor is an equinox Module. Its static fields are options (a new value compiles a new program); its
other fields are data: the driver passes them to its program as traced arguments
(:meth:`SaveAt.split_data <landscape.simulate.record.SaveAt.split_data>`), so a new value (a
radius, say) never recompiles, and a :class:`~landscape.simulate.record.SaveAt` holding the monitor
hashes the same. Ask for monitors with ``SaveAt(monitors=(m, ...))``; the driver carries their states
through the scan, and what :meth:`Monitor.record` returns lands in the trajectory's ``extras``.

* ``init(q0) -> state`` at t = 0, from the first deployed point;
* ``observe(state, t, *, q, w, probe, landscape) -> state`` once per step t, with the deployed point q_t,
  the latent w_t and the driver's probe of q_t (loss, rho, in_basin); by default ``step(state, q, t)``;
* ``record(state) -> {name: scalar}`` at every recorded row (after the step of that row), and once for
  the final state of a run without rows;
* ``check(landscape)`` before any work: raise a ``LandscapeError`` if the landscape lacks what it reads.

The rule is untouched: a monitored run trains exactly as the unmonitored one.
"""

from __future__ import annotations

from landscape._errors import LandscapeError
from landscape._typing import Value

__all__ = ["Monitor", "last_record"]


class Monitor(Value):
    """Base of the driver's monitors: ``init``, ``observe`` (or ``step``), ``record`` (see the module)."""

    def init(self, q0):  # pragma: no cover - abstract
        """The state at t = 0, given the first deployed point q_0 (d,)."""
        raise NotImplementedError

    def step(self, state, q, t):  # pragma: no cover - abstract
        """The state after seeing the deployed point q of step t (monitors that read only q_t)."""
        raise NotImplementedError

    def observe(self, state, t, *, q, w, probe, landscape):
        """The state after step t (deployed point q, latent w, the driver's probe of q); default: ``step``."""
        del w, probe, landscape
        return self.step(state, q, t)

    def record(self, state) -> dict:  # pragma: no cover - abstract
        """The scalars recorded at a row (merged into the trajectory's extras)."""
        raise NotImplementedError

    def check(self, landscape) -> None:
        """Raise a LandscapeError if ``landscape`` lacks what this monitor reads (default: nothing)."""
        del landscape


def last_record(traj, names, hint: str) -> dict:
    """{name: value} of monitor records at the last recorded row (a run without rows: its final state).

    Raises a LandscapeError naming the missing extras and ``hint`` (how to ask for them).
    """
    missing = [f for f in names if f not in traj.extras]
    if missing:
        raise LandscapeError(f"the trajectory has no extras {missing}: {hint}")
    if traj.t is None:  # no rows: extras hold the final state's record
        return {f: traj.extras[f] for f in names}
    return {f: traj.extras[f][..., -1] for f in names}
