r"""Chattering: the deployed iterate cycles among a few grid points and never enters the basin.

Definition (both detectors below implement it). Let :math:`W` be a window of steps at the end
of a run. The run has a *recurrent cycle of size m* when the deployed points :math:`q_t` of the
last :math:`W` steps take exactly :math:`m` distinct values, every one of which had already been
visited before the window. It *chatters* when :math:`m \ge 2` and no point of the cycle is in the
basin. :math:`m = 1` is a *stall* (one fixed grid point); :math:`m = 0` means "not recurrent"
(a point first visited inside the window: the iterate is still exploring, or the run is shorter
than the window). The definition needs no exact period: STE between two cells typically dwells
a varying number of steps on each side (a quasi-periodic, not periodic, sequence), and that is
chattering too.

* :func:`detect_cycle` -- offline, from a recorded ``q_path`` (record it with ``record_every = 1``)
  and ``in_basin``; chatters iff :math:`m \ge 2` and no row of the window is in the basin.
* :class:`CycleMonitor` -- on the fly, for large d or long runs without storing ``q_path``: a driver
  monitor (``SaveAt(monitors=(CycleMonitor(window),))``, :mod:`landscape.simulate.monitor`) that
  carries a table of ``slots`` 64-bit hashes of
  grid points (exact for equal points, since :math:`q` is hashed from its float32 bits; two
  different points collide with probability about :math:`2^{-64}`) with the first and last step
  each was seen (least recently seen evicted). It records ``"cycle_size"`` (:math:`m`) in the
  trajectory's extras; the rule is untouched. A cycle larger than ``slots`` reads as :math:`m = 0`
  (conservative). :func:`chatter_monitor` / :class:`ChatterMonitor` (``rule`` wrapped, the same table)
  are **deprecated** aliases kept because ``landscape`` exports them; they warn. :func:`chatters` reads
  :math:`m` at the last recorded row and requires ``hit_time = -1`` (never in the basin, so neither is
  the cycle).
* :func:`cycle_points` -- the distinct deployed points of the last window (what a figure draws).
* :class:`Recurrence` -- the period of an exact orbit: the first state equal to an earlier one, for
  hashable exact states (``landscape.certify.reduction.exact_orbit`` runs it on Fractions). The float 2-cycle
  test inside ``landscape.certify.reduction``'s jitted ``lax.while_loop`` (``lambda_t == lambda_{t-2} !=
  lambda_{t-1}``) stays there: a traced loop keeps O(1) state and cannot carry this table; it only
  nominates candidates, which :class:`Recurrence` then decides exactly.
"""

from __future__ import annotations

import functools
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_int_at_least
from landscape.qat.base import Rule, static_field
from landscape.simulate.monitor import Monitor, last_record
from landscape.simulate.wrapped import WrappedRule

__all__ = ["CycleReport", "detect_cycle", "CycleMonitor", "chatter_monitor", "ChatterMonitor", "chatters",
           "cycle_size", "hash_points", "cycle_points", "Recurrence"]


class CycleReport(NamedTuple):
    """cycle_size m (0: not recurrent, 1: stall, >= 2: cycle); chatters: m >= 2, cycle outside the basin."""

    cycle_size: jax.Array
    chatters: jax.Array


def _hash_multipliers(d: int) -> np.ndarray:
    """Two fixed rows of odd uint32 multipliers (deterministic), one per 32-bit half of the hash."""
    rng = np.random.default_rng(0x5EED)
    return (rng.integers(0, 2**32, size=(2, d), dtype=np.uint64) | 1).astype(np.uint32)


def hash_points(q):
    """A 64-bit hash (..., 2) uint32 of the float32 bits of each point q (..., d), -0.0 read as +0.0."""
    q = jnp.asarray(q)
    bits = jax.lax.bitcast_convert_type(q.astype(jnp.float32) + 0.0, jnp.uint32)
    mult = jnp.asarray(_hash_multipliers(q.shape[-1]))
    h = jnp.sum(bits[..., None, :] * mult, axis=-1, dtype=jnp.uint32)  # wraps mod 2^32
    return h ^ (h >> 15)


def detect_cycle(q_path, in_basin=None, *, window: int = 100) -> CycleReport:
    """The recurrent-cycle size m of q_path (n, d) over its last ``window`` rows, and whether it chatters.

    m = number of distinct rows in the window if every one of them also occurs before the window,
    else 0. ``in_basin`` (n,): chatters needs m >= 2 and no window row in the basin. Leading batch
    axes are allowed (q_path (..., n, d), in_basin (..., n)).
    """
    check_int_at_least("window", window, 1)
    q = jnp.asarray(q_path)
    n = q.shape[-2]
    if window >= n:
        raise LandscapeError(
            f"window must lie in [1, n - 1] = [1, {n - 1}] for a q_path of {n} rows; got {window}."
        )
    ib = jnp.zeros(q.shape[:-1], bool) if in_basin is None else jnp.asarray(in_basin, bool)
    return _detect(q, ib, window)


@functools.partial(jax.jit, static_argnames="window")
def _detect(q, in_basin, window):
    n = q.shape[-2]
    h = hash_points(q)  # (..., n, 2)
    win, before = h[..., n - window :, :], h[..., : n - window, :]
    eq_win = jnp.all(win[..., :, None, :] == win[..., None, :, :], -1)  # (..., W, W)
    first_in_win = ~jnp.any(jnp.tril(eq_win, -1), -1)  # row i not equal to an earlier window row
    distinct = jnp.sum(first_in_win, -1)
    seen_before = jnp.any(jnp.all(win[..., :, None, :] == before[..., None, :, :], -1), -1)  # (..., W)
    m = jnp.where(jnp.all(seen_before, -1), distinct, 0).astype(jnp.int32)
    outside = ~jnp.any(in_basin[..., n - window :], -1)
    return CycleReport(m, (m >= 2) & outside)


def cycle_points(q_path, window: int = 64) -> np.ndarray:
    """The distinct deployed points (m, d) of the last ``window`` rows of q_path (exact equality, -0 = +0)."""
    check_int_at_least("window", window, 1)
    tail = np.asarray(q_path)[-window:]
    return np.unique(tail + 0.0, axis=0)


class Recurrence:
    """First recurrence of an exact orbit: ``visit(state, t)`` -> (t0, period) when state was seen at t0."""

    def __init__(self):
        self._seen = {}

    def visit(self, state, t: int):
        """(t0, t - t0) if ``state`` (hashable, exact) was visited at step t0 < t; else record it, None."""
        if state in self._seen:
            t0 = self._seen[state]
            return t0, t - t0
        self._seen[state] = t
        return None


class _MonitorState(NamedTuple):
    hashes: jax.Array  # (M, 2) uint32
    first: jax.Array  # (M,) int32: step at which the slot's point was first seen (-1: empty)
    last: jax.Array  # (M,) int32: step at which it was last seen (-1: empty)
    t: jax.Array  # () int32: steps seen so far


def _cycle_size(state: _MonitorState, window: int):
    """m from the monitor's table: distinct points seen in the last window steps, 0 if one is new."""
    now = state.t - 1
    start = now - window + 1
    in_win = (state.last >= start) & (state.last >= 0)
    new = in_win & (state.first >= start)
    return jnp.where(jnp.any(new) | (start < 0), 0, jnp.sum(in_win)).astype(jnp.int32)


class CycleMonitor(Monitor):
    """The driver monitor of chattering: on-the-fly recurrent-cycle size m of q_t, as extras["cycle_size"].

    ``window`` (steps) and ``slots`` (hash-table size) are static. Use ``SaveAt(monitors=(CycleMonitor(),))``.
    """

    window: int = static_field(100)
    slots: int = static_field(16)

    def __check_init__(self):
        check_int_at_least("window", self.window, 1)
        check_int_at_least("slots", self.slots, 2)

    def init(self, q0):
        """An empty hash table."""
        neg = -jnp.ones((self.slots,), jnp.int32)
        return _MonitorState(jnp.zeros((self.slots, 2), jnp.uint32), neg, neg, jnp.zeros((), jnp.int32))

    def step(self, state, q, t):
        """The table updated with the hash of q_t (the least recently seen slot evicted for a new point)."""
        mon = state
        h = hash_points(q)
        match = jnp.all(mon.hashes == h[None, :], -1) & (mon.last >= 0)
        hit = jnp.any(match)
        slot = jnp.where(hit, jnp.argmax(match), jnp.argmin(mon.last))  # the match, or the LRU slot
        one = jnp.arange(self.slots) == slot
        hashes = jnp.where(one[:, None], h[None, :], mon.hashes)
        first = jnp.where(one & ~hit, mon.t, mon.first)
        last = jnp.where(one, mon.t, mon.last)
        return _MonitorState(hashes, first, last, mon.t + 1)

    def record(self, state):
        """{"cycle_size": m}."""
        return {"cycle_size": _cycle_size(state, self.window)}


_DEPRECATED = (
    "chatter_monitor(rule) / ChatterMonitor are deprecated: run the plain rule with "
    "save=SaveAt(monitors=(CycleMonitor(window, slots),)) (same extras['cycle_size'], same run)."
)


class ChatterMonitor(WrappedRule):
    """Deprecated: ``rule`` plus the :class:`CycleMonitor` table; use ``SaveAt(monitors=(CycleMonitor(),))``.

    Kept only because ``landscape`` exports it (public names keep their signatures); constructing one warns
    (:class:`DeprecationWarning`). Same name, deployed points and updates as ``rule``; its state is (rule's
    state, hash table); records extras["cycle_size"] exactly as the driver monitor does.
    """

    window: int = static_field(100)
    slots: int = static_field(16)

    def __check_init__(self):
        self.monitor  # noqa: B018 - builds the CycleMonitor, which checks window and slots
        warnings.warn(_DEPRECATED, DeprecationWarning, stacklevel=4)

    @property
    def monitor(self) -> CycleMonitor:
        """The driver monitor this wrapper runs."""
        return CycleMonitor(self.window, self.slots)

    def init(self, w0, quantizer):
        """The wrapped rule's (params, state) and an empty hash table."""
        params, aux = self.rule.init(w0, quantizer)
        return params, (aux, self.monitor.init(None))

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """The wrapped rule's gradient; the table updated with the hash of q_t."""
        inner, mon = state
        mon = self.monitor.step(mon, self.rule.deploy(params, inner, quantizer), mon.t)
        grads, inner = self.rule.gradient(landscape, params, inner, quantizer, key, probe)
        return grads, (inner, mon)

    def extras(self, params, state):
        """The wrapped rule's extras and "cycle_size" (m)."""
        out = dict(self.rule.extras(params, state[0]))
        out.update(self.monitor.record(state[1]))
        return out


def chatter_monitor(rule: Rule, window: int = 100, slots: int = 16) -> ChatterMonitor:
    """Deprecated alias of ``SaveAt(monitors=(CycleMonitor(window, slots),))``: ``rule`` wrapped (warns)."""
    if not isinstance(rule, Rule):
        raise LandscapeError(f"rule must be a landscape Rule; got {type(rule).__name__}.")
    return ChatterMonitor(rule, window, slots)


def cycle_size(traj):
    """m recorded by :class:`CycleMonitor` at the last recorded row (0: not recurrent, 1: stall)."""
    hint = "run with save=SaveAt(monitors=(CycleMonitor(),))."
    return last_record(traj, ("cycle_size",), hint)["cycle_size"]


def chatters(traj):
    """Whether a monitored trajectory chatters: recurrent cycle of size >= 2 at the end and hit_time = -1."""
    return (cycle_size(traj) >= 2) & (traj.hit_time < 0)
