"""Cache-blocked batches: run_blocked summarises run_batch; micro-batch sizes."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import landscape as ls
from landscape.sweep.blocked import SUMMARY_FIELDS, micro_batch_size, run_blocked


def test_micro_batch_size_is_a_bounded_power_of_two():
    assert micro_batch_size(2) == 1024
    assert micro_batch_size(256) == 128
    assert micro_batch_size(10**7) == 16
    assert micro_batch_size(2, limit=300) == 300
    with pytest.raises(ValueError, match="dim must be an integer >= 1"):
        micro_batch_size(0)


def test_run_blocked_matches_run_batch_with_padding():
    land = ls.rotated_river_2d(0.4, wall=ls.quadratic_wall(0.2, 10.0))
    grid = ls.uniform_grid(0.5)
    rule = ls.ste(learning_rate=0.05)
    w0s = land.sample_river(jax.random.PRNGKey(3), 37)
    key = jax.random.PRNGKey(1)
    got = run_blocked(land, grid, rule, w0s, 60, key=key, micro_batch=16)  # 37 = 2 x 16 + 5: padded
    ref = ls.run_batch(land, grid, rule, w0s, 60, key=key, record_every=60)
    assert set(got) == set(SUMMARY_FIELDS)
    assert got["final_w"].shape == (37, 2) and got["hit_time"].shape == (37,)
    assert (np.asarray(ref.hit_time) >= 0).any() and (np.asarray(ref.switches) > 0).any()
    np.testing.assert_array_equal(got["hit_time"], ref.hit_time)
    np.testing.assert_array_equal(got["switches"], ref.switches)
    np.testing.assert_allclose(got["final_loss"], ref.final_loss, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["final_w"], ref.final_w, rtol=1e-5, atol=1e-5)
