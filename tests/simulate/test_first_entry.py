"""The driver's first-entry record (C1): T and L(q_T) against an independent NumPy run of STE."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import landscape as L
from landscape._errors import LandscapeError
from landscape.simulate.first_entry import ENTRY_FIELDS, first_entry, record_first_entry

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


@pytest.mark.float64
@pytest.mark.parametrize("radius", [None, 0.36])
def test_record_matches_an_independent_numpy_run(radius):
    land, grid = _objects()
    w0 = np.array([0.5, 0.7, 0.3])
    traj = L.run(land, grid, record_first_entry(L.ste(_ETA), radius), w0, 60)
    rec = first_entry(traj)
    ref = _numpy_run(w0, _RB if radius is None else radius, 60)
    assert ref["entry_time"] > 0 and int(rec["entry_time"]) == ref["entry_time"]
    for f in ENTRY_FIELDS[1:]:
        assert float(rec[f]) == pytest.approx(ref[f], rel=1e-12, abs=1e-12), f
    if radius is None:  # the driver's own summary agrees (hit = first rho(q_t) <= r_b)
        assert int(traj.hit_time) == ref["entry_time"]
        assert float(traj.loss_at_hit) == pytest.approx(ref["loss_at_entry"], rel=1e-12)


@pytest.mark.float64
def test_the_wrapped_rule_trains_as_the_rule():
    land, grid = _objects()
    w0 = np.array([0.5, 0.7, 0.3])
    plain = L.run(land, grid, L.ste(_ETA), w0, 40, record_path=True)
    wrapped = L.run(land, grid, record_first_entry(L.ste(_ETA)), w0, 40, record_path=True)
    np.testing.assert_array_equal(np.asarray(plain.w_path), np.asarray(wrapped.w_path))
    assert int(plain.hit_time) == int(wrapped.hit_time)


def test_never_entered_is_minus_one_and_nan():
    land, grid = _objects()
    rec = first_entry(L.run(land, grid, record_first_entry(L.ste(1e-6)), jnp.array([2.0, 2.0, 2.0]), 10))
    assert int(rec["entry_time"]) == -1
    assert all(np.isnan(float(rec[f])) for f in ENTRY_FIELDS[1:])


def test_batch_records_per_start():
    land, grid = _objects()
    w0s = np.array([[0.5, 0.7, 0.3], [2.0, 2.0, 2.0]])
    traj = L.run_batch(land, grid, record_first_entry(L.ste(_ETA)), w0s, 60, record_every=1)
    rec = first_entry(traj)
    assert rec["entry_time"].shape == (2,)
    assert int(rec["entry_time"][0]) == int(first_entry(L.run(land, grid, record_first_entry(L.ste(_ETA)),
                                                                w0s[0], 60))["entry_time"])


def test_bad_input_raises():
    land, grid = _objects()
    with pytest.raises(LandscapeError, match="radius"):
        record_first_entry(L.ste(0.1), radius=-1.0)
    with pytest.raises(LandscapeError, match="rule"):
        record_first_entry("ste")
    with pytest.raises(LandscapeError, match="record_first_entry"):
        first_entry(L.run(land, grid, L.ste(0.1), np.zeros(3), 5))
