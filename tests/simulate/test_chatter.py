"""Chattering detection: planted cycles are found, basin-entering trajectories are not cycles."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape as L
from landscape.qat import Rule, error_feedback, ste
from landscape.simulate.chatter import (
    CycleMonitor,
    chatter_monitor,
    chatters,
    cycle_size,
    detect_cycle,
    hash_points,
)


def _watch(window, **kw):
    """The driver's chattering monitor on a run: a row every step, paths if asked."""
    return L.SaveAt(monitors=(CycleMonitor(window),), **kw)


def _planted(points, transient, reps):
    """A q_path: distinct transient rows, then the cycle `points` repeated `reps` times."""
    return np.concatenate([transient, np.tile(points, (reps, 1))], 0)


def test_offline_detector_finds_a_planted_two_cycle():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 3.0])
    transient = np.array([[5.0, 5.0], [4.0, 4.0], [3.0, 3.0]])
    path = _planted(np.stack([a, b]), transient, 20)
    rep = detect_cycle(path, np.zeros(len(path), bool), window=10)
    assert int(rep.cycle_size) == 2 and bool(rep.chatters)
    # the same cycle with one of its points in the basin is not chattering
    ib = np.all(path == b, -1)
    rep = detect_cycle(path, ib, window=10)
    assert int(rep.cycle_size) == 2 and not bool(rep.chatters)


def test_offline_detector_window_must_be_recurrent():
    path = np.arange(40, dtype=float)[:, None] * np.ones((1, 3))  # never revisits a point
    assert int(detect_cycle(path, window=10).cycle_size) == 0
    stall = np.ones((30, 3))
    rep = detect_cycle(stall, window=10)
    assert int(rep.cycle_size) == 1 and not bool(rep.chatters)
    with pytest.raises(ValueError, match="window"):
        detect_cycle(stall, window=30)


@settings(max_examples=5, deadline=None)
@given(m=st.integers(2, 6), transient=st.integers(0, 5), dwell=st.integers(1, 3), seed=st.integers(0, 10**6))
def test_offline_detector_counts_the_points_of_any_planted_cycle(m, transient, dwell, seed):
    """A cycle through m distinct grid points, each held `dwell` steps, has cycle_size m."""
    rng = np.random.default_rng(seed)
    pts = rng.permutation(50)[:m][:, None] * np.array([[1.0, -1.0, 0.5]])
    cyc = np.repeat(pts, dwell, axis=0)
    trans = 100.0 + np.arange(transient)[:, None] * np.ones((1, 3))
    path = _planted(cyc, trans, 8)
    window = 2 * m * dwell
    rep = detect_cycle(path, np.zeros(len(path), bool), window=window)
    assert int(rep.cycle_size) == m and bool(rep.chatters)


class _Planted(Rule):
    """A planted 2-cycle through the driver: on the unit grid, g = +1 at Q(w) = 1 and -1 at Q(w) = 0,
    so SGD(1) sends w = 0.2 -> 1.2 -> 0.2 -> ... and q alternates between (0, 0) and (1, 0)."""

    name = "planted"
    optimizer: object = None

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        q = quantizer.quantize(params["w"])
        return {"w": jnp.stack([jnp.where(q[0] > 0.5, 1.0, -1.0), 0.0])}, state


def _two_cycle_rule():
    return _Planted(L.sgd(1.0))


def _far_basin():
    # river along e2 at offset 10 in e1: every q near the origin is far outside the basin
    return L.axis_aligned_river(2, 1, wall=L.quadratic_wall(0.1, 1.0), center=jnp.array([10.0]))


def test_monitor_finds_a_planted_two_cycle_and_agrees_with_offline():
    ls, qz = _far_basin(), L.uniform_grid(1.0)
    tr = L.run(ls, qz, _two_cycle_rule(), jnp.array([0.2, 0.0]), 60, save=_watch(10, paths=True))
    assert int(cycle_size(tr)) == 2 and bool(chatters(tr))
    off = detect_cycle(tr.q_path, tr.in_basin, window=10)
    assert int(off.cycle_size) == 2 and bool(off.chatters)
    assert int(tr.switches) == 60


def test_monitor_leaves_the_rule_unchanged():
    ls = L.rotated_river_2d(0.3, wall=L.quadratic_wall(0.05, 10.0))
    qz = L.uniform_grid(0.2)
    w0 = jnp.array([1.03, 0.31])
    a = L.run(ls, qz, ste(0.05), w0, 200, record_path=True)
    b = L.run(ls, qz, ste(0.05), w0, 200, save=_watch(50, paths=True))
    np.testing.assert_array_equal(np.asarray(a.w_path), np.asarray(b.w_path))
    assert b.extras["cycle_size"].shape == (200,)


def test_no_cycle_on_a_trajectory_that_enters_the_basin():
    ls = L.random_river(jax.random.PRNGKey(0), 32, 2, wall=L.quadratic_wall(0.03, 10.0))
    qz = L.uniform_grid(0.05)
    w = ls.sample_river(jax.random.PRNGKey(1), 64)
    fail = np.asarray(jax.vmap(ls.rho)(qz.quantize(w)) > 0.03)
    assert fail.any()
    tr = L.run_batch(ls, qz, ste(0.05), w[fail], 60, save=_watch(20, paths=True))
    assert np.all(np.asarray(tr.hit_time) >= 0)
    assert not np.any(np.asarray(chatters(tr)))
    assert not np.any(np.asarray(detect_cycle(tr.q_path, tr.in_basin, window=20).chatters))


def test_ste_chatters_on_the_rotated_river_and_detectors_agree():
    """max flip_size = 3.8 r_b: most RTN-failed starts end in a recurrent cycle outside the basin."""
    ls = L.rotated_river_2d(0.3, wall=L.quadratic_wall(0.05, 10.0))
    qz = L.uniform_grid(0.2)
    w = ls.sample_river(jax.random.PRNGKey(1), 100, s_range=(-5, 5))
    fail = np.asarray(jax.vmap(ls.rho)(qz.quantize(w)) > 0.05)
    tr = L.run_batch(ls, qz, ste(0.05), w[fail], 400, save=_watch(100, paths=True))
    on_the_fly = np.asarray(chatters(tr))
    off = detect_cycle(tr.q_path, tr.in_basin, window=100)
    np.testing.assert_array_equal(np.asarray(off.chatters), on_the_fly)
    np.testing.assert_array_equal(np.asarray(off.cycle_size), np.asarray(cycle_size(tr)))
    assert on_the_fly.mean() > 0.5


def test_a_stall_is_not_chattering():
    ls, qz = _far_basin(), L.uniform_grid(1.0)
    # projected gradient descent (error feedback without memory) with short steps never leaves (0, 3)
    tr = L.run(ls, qz, error_feedback(0.01, beta=0.0), jnp.array([0.2, 3.0]), 40, save=_watch(10))
    assert int(tr.hit_time) == -1 and int(tr.switches) == 0
    assert int(cycle_size(tr)) == 1 and not bool(chatters(tr))


def test_hash_is_exact_on_equal_points():
    q = jnp.array([[0.0, 1.5, -2.0], [-0.0, 1.5, -2.0], [0.0, 1.5, -2.2]])
    h = np.asarray(hash_points(q))
    assert h.shape == (3, 2)
    np.testing.assert_array_equal(h[0], h[1])
    assert np.any(h[0] != h[2])


def test_monitor_bad_arguments():
    with pytest.raises(ValueError, match="window"):
        CycleMonitor(window=0)
    with pytest.raises(ValueError, match="slots"):
        CycleMonitor(slots=1)
    with pytest.raises(ValueError, match="landscape Rule"):
        chatter_monitor("ste")
    tr = L.run(_far_basin(), L.uniform_grid(1.0), ste(), jnp.array([0.2, 0.0]), 3)
    with pytest.raises(ValueError, match="CycleMonitor"):
        chatters(tr)


def test_driver_monitor_records_what_the_wrapper_records_and_leaves_the_run_alone():
    """SaveAt(monitors=(CycleMonitor(w),)) on the plain rule: the wrapper's cycle_size, the rule's own run."""
    ls, qz = _far_basin(), L.uniform_grid(1.0)
    w0 = jnp.array([[0.2, 0.0], [0.7, 0.0]])
    save = L.SaveAt(monitors=(L.CycleMonitor(window=10),))
    for rule in (_two_cycle_rule(), ste(0.05)):
        plain = L.run_batch(ls, qz, rule, w0, 40)
        with pytest.warns(DeprecationWarning, match="CycleMonitor"):  # the deprecated alias, same numbers
            old = chatter_monitor(rule, window=10)
        assert isinstance(old, L.ChatterMonitor)
        wrapped = L.run_batch(ls, qz, old, w0, 40, save=L.SaveAt())
        monitored = L.run_batch(ls, qz, rule, w0, 40, save=save)
        np.testing.assert_array_equal(monitored.extras["cycle_size"], wrapped.extras["cycle_size"])
        np.testing.assert_array_equal(monitored.final_w, plain.final_w)
        np.testing.assert_array_equal(monitored.hit_time, plain.hit_time)
    assert list(cycle_size(L.run_batch(ls, qz, _two_cycle_rule(), w0, 40, save=save))) == [2, 2]
    summary = L.run_batch(ls, qz, _two_cycle_rule(), w0, 40, save=L.SaveAt.summary(monitors=save.monitors))
    assert list(np.asarray(summary.extras["cycle_size"])) == [2, 2]  # no rows: the final state's record
    with pytest.raises(ValueError, match="window"):
        L.CycleMonitor(window=0)
