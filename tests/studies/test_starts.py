"""The one sampler of PTQ-failed starts: its basin test, its traced spread, and figure 5's use of it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as L
from landscape.studies import phase_study
from landscape.studies.starts import in_basin_rows, ptq_starts, rtn_outside, sample_river


def test_the_basin_test_is_rho_at_most_r_b():
    land, grid = L.rotated_river_2d(0.3, wall=L.quadratic_wall(0.05, 10.0)), L.uniform_grid(0.2)
    w = sample_river(land, jax.random.PRNGKey(0), 256, (-5.0, 5.0))
    q = grid.quantize(w)
    rho = np.asarray(jax.vmap(land.rho)(q))
    np.testing.assert_array_equal(np.asarray(in_basin_rows(land, q)), rho <= 0.05)
    np.testing.assert_array_equal(np.asarray(rtn_outside(land, grid, w)), rho > 0.05)
    st = ptq_starts(land, grid, jax.random.PRNGKey(0), 256, "rtn", (-5.0, 5.0))
    np.testing.assert_array_equal(np.asarray(st["failed"]), rho > 0.05)
    assert 0 < rho[rho > 0.05].size < 256  # both outcomes occur


def test_spread_is_data_and_gives_the_concrete_points():
    land = L.random_river(jax.random.PRNGKey(1), 8, 2, wall=L.quadratic_wall(0.1, 10.0))
    key, spreads = jax.random.PRNGKey(2), jnp.array([0.0, 0.5, 2.0])
    traced = jax.vmap(lambda sp: land.sample_river(key, 5, (-3.0, 3.0), sp))(spreads)
    for i, sp in enumerate([0.0, 0.5, 2.0]):
        concrete = land.sample_river(key, 5, (-3.0, 3.0), sp)
        np.testing.assert_allclose(np.asarray(traced[i]), np.asarray(concrete), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(np.asarray(sample_river(land, key, 5, (-3.0, 3.0), sp)),
                                   np.asarray(concrete), rtol=1e-6, atol=1e-6)  # fmt: skip
    with pytest.raises(L.LandscapeError, match="spread"):
        sample_river(land, key, 5, (-3.0, 3.0), -1.0)


def test_figure_5_draws_its_starts_with_the_one_sampler():
    """phase_study's float64 starts are ptq_starts' RTN failures, cell by cell (same keys, same points)."""
    dim, rb, n_starts = 6, 0.25, 3
    rng = np.random.default_rng(0)
    normals = rng.normal(size=(2, 1, dim))
    normals /= np.linalg.norm(normals, axis=-1, keepdims=True)
    river_dir = np.stack([np.asarray(L.straight_river(n).river_dir, np.float64) for n in normals])
    steps = np.array([0.6, 0.9])
    wall = L.quadratic_wall(rb, 10.0)
    with jax.enable_x64(True):
        keys = jnp.stack([jax.random.PRNGKey(3), jax.random.PRNGKey(4)])
        ws, fracs = phase_study._failed_starts(normals, river_dir, steps, wall, n_starts, keys, 4)
        for c in range(2):
            land = L.straight_river(normals[c], river_dir[c], wall=wall)
            k0 = jax.random.fold_in(keys[c], 0)
            grid = L.uniform_grid(steps[c])
            st = ptq_starts(land, grid, k0, 4 * n_starts, "rtn", (-200.0, 200.0), 10 * steps[c])
            want = np.asarray(st["w_star"])[np.asarray(st["failed"])][:n_starts]
            assert ws[c].dtype == np.float64 and 0 < ws[c].shape[0] <= n_starts
            np.testing.assert_allclose(ws[c][: want.shape[0]], want, rtol=1e-12, atol=1e-9)
            q = steps[c] * np.round(ws[c] / steps[c])
            assert np.all(np.abs(q @ normals[c][0]) > rb)  # every start is RTN-failed
            assert 0 < fracs[c] <= 1
