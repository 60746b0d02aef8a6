"""The driver's first-entry monitor (C1): T and L(q_T) against an independent NumPy run of STE."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import landscape as L
from landscape._errors import LandscapeError
from landscape.simulate import driver
from landscape.simulate.chatter import CycleMonitor, cycle_size
from landscape.simulate.first_entry import ENTRY_FIELDS, FirstEntryMonitor, first_entry

_N = np.array([[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])
_U = np.array([0.8, -0.6, 0.0])
_A = np.array([1.5, 0.5])
_STEPS = np.array([0.25, 0.5, 0.125])
_C0 = np.array([0.1, -0.05])
_RB, _KAPPA, _RATE, _ETA = 0.3, 4.0, 0.2, 0.1


def _objects():
    land = L.straight_river(_N, _U, wall=L.quadratic_wall(_RB, _KAPPA, 0.0), river_loss=_RATE, center=_C0,
                            aniso=_A)
    return land, L.uniform_grid(_STEPS, offset=np.zeros(3))


def _numpy_run(w0, radius, num_steps):
    """STE in NumPy from the formulas: Q rounds half to even, grad L = -rate u + phi'(rho)/rho N^T A^-2 v."""
    w = np.array(w0, np.float64)
    for t in range(num_steps):
        q = np.round(w / _STEPS) * _STEPS  # np.round: half to even, as the grid
        v = _N @ q - _C0
        rho = np.linalg.norm(v / _A)
        loss = -_RATE * (_U @ q) + 0.5 * _KAPPA * max(rho - _RB, 0.0) ** 2
        if rho <= radius:
            return {"entry_time": t, "loss_at_entry": loss, "river_loss_at_entry": -_RATE * (_U @ w),
                    "mismatch_at_entry": _U @ q - _U @ w, "rho_q_at_entry": rho,
                    "rho_w_at_entry": np.linalg.norm((_N @ w - _C0) / _A)}
        slope = _KAPPA * max(rho - _RB, 0.0)
        grad = -_RATE * _U + (slope / rho) * _N.T @ (v / _A**2)
        w = w - _ETA * grad
    return {"entry_time": -1}


def _watch(radius=None, **kw):
    """The default rows of run, watched by the first-entry monitor."""
    return L.SaveAt(monitors=(FirstEntryMonitor(radius),), **kw)


@pytest.mark.float64
@pytest.mark.parametrize("radius", [None, 0.36])
def test_record_matches_an_independent_numpy_run(radius):
    land, grid = _objects()
    w0 = np.array([0.5, 0.7, 0.3])
    traj = L.run(land, grid, L.ste(_ETA), w0, 60, save=_watch(radius))
    rec = first_entry(traj)
    ref = _numpy_run(w0, _RB if radius is None else radius, 60)
    assert ref["entry_time"] > 0 and int(rec["entry_time"]) == ref["entry_time"]
    for f in ENTRY_FIELDS[1:]:
        assert float(rec[f]) == pytest.approx(ref[f], rel=1e-12, abs=1e-12), f
    if radius is None:  # the driver's own summary agrees (hit = first rho(q_t) <= r_b)
        assert int(traj.hit_time) == ref["entry_time"]
        assert float(traj.loss_at_hit) == pytest.approx(ref["loss_at_entry"], rel=1e-12)


@pytest.mark.float64
def test_the_monitored_run_trains_as_the_plain_run():
    land, grid = _objects()
    w0 = np.array([0.5, 0.7, 0.3])
    plain = L.run(land, grid, L.ste(_ETA), w0, 40, record_path=True)
    watched = L.run(land, grid, L.ste(_ETA), w0, 40, save=_watch(paths=True))
    np.testing.assert_array_equal(np.asarray(plain.w_path), np.asarray(watched.w_path))
    assert int(plain.hit_time) == int(watched.hit_time)


def test_never_entered_is_minus_one_and_nan():
    land, grid = _objects()
    rec = first_entry(L.run(land, grid, L.ste(1e-6), jnp.array([2.0, 2.0, 2.0]), 10, save=_watch()))
    assert int(rec["entry_time"]) == -1
    assert all(np.isnan(float(rec[f])) for f in ENTRY_FIELDS[1:])


@pytest.mark.parametrize("rows", [True, False])
def test_batch_records_per_start_with_and_without_rows(rows):
    """With rows the record is read at the last row; without rows (summary only) from the final state."""
    land, grid = _objects()
    w0s = np.array([[0.5, 0.7, 0.3], [2.0, 2.0, 2.0]])
    save = _watch() if rows else L.SaveAt.summary(monitors=(FirstEntryMonitor(),))
    traj = L.run_batch(land, grid, L.ste(_ETA), w0s, 60, save=save)
    rec = first_entry(traj)
    assert rec["entry_time"].shape == (2,)
    for i, w0 in enumerate(w0s):
        one = first_entry(L.run(land, grid, L.ste(_ETA), w0, 60, save=_watch()))
        assert int(rec["entry_time"][i]) == int(one["entry_time"]) > 0
        assert float(rec["loss_at_entry"][i]) == pytest.approx(float(one["loss_at_entry"]), rel=1e-6)


def test_cycle_size_of_a_batch_without_rows_is_per_start():
    land, grid = _objects()
    w0s = np.array([[0.5, 0.7, 0.3], [2.0, 2.0, 2.0], [0.1, 0.1, 0.1]])
    rows = L.run_batch(land, grid, L.ste(_ETA), w0s, 50, save=L.SaveAt(every=1, monitors=(CycleMonitor(),)))
    summary = L.run_batch(land, grid, L.ste(_ETA), w0s, 50, save=L.SaveAt.summary(monitors=(CycleMonitor(),)))
    assert cycle_size(summary).shape == (3,)
    np.testing.assert_array_equal(np.asarray(cycle_size(summary)), np.asarray(cycle_size(rows)))


def test_radius_is_data_one_program_for_every_radius():
    """Runs at other radii reuse the driver's program (the radius is traced, not a static option)."""
    land, grid = _objects()
    w0 = np.array([0.5, 0.7, 0.3])
    save = lambda r: L.SaveAt.summary(times=("hit",), monitors=(FirstEntryMonitor(r),))  # noqa: E731
    L.run(land, grid, L.ste(_ETA), w0, 30, save=save(0.31))
    before = driver.compiled_count()
    times = [int(first_entry(L.run(land, grid, L.ste(_ETA), w0, 30, save=save(r)))["entry_time"])
             for r in (0.32, 0.4, 1.0, 5.0)]
    assert driver.compiled_count() == before
    assert times == sorted(times, reverse=True) and times[-1] == 0 < times[0]  # a larger radius: no later
    assert hash(save(0.5)) == hash(save(0.5)) and save(0.5) == save(0.5)


def test_bad_input_raises():
    land, grid = _objects()
    with pytest.raises(LandscapeError, match="radius"):
        FirstEntryMonitor(radius=-1.0)
    with pytest.raises(LandscapeError, match="FirstEntryMonitor"):
        first_entry(L.run(land, grid, L.ste(0.1), np.zeros(3), 5))
    with pytest.raises(LandscapeError, match="river landscape"):  # the spec's check, run before any work
        L.SaveAt.summary(monitors=(FirstEntryMonitor(),)).check_landscape(object())
