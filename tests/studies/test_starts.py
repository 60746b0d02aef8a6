"""The one sampler of PTQ-failed starts: its basin test, its traced spread, its normal offsets, and figure 5's
use of it (panels (a, b) and (c))."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as L
from landscape.laws import basin_floor_offsets
from landscape.studies import figures_data, phase_study
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


def test_offsets_put_trained_points_at_a_given_normal_distance():
    """sample_river's normal offsets v: N w* - c(s) = v, with s and the flat spread unchanged."""
    land = L.random_river(jax.random.PRNGKey(5), 7, 2, wall=L.quadratic_wall(0.3, 10.0))
    key = jax.random.PRNGKey(6)
    v = basin_floor_offsets(0, 64, 2, 0.3, length=0.2)
    assert np.allclose(np.linalg.norm(v, axis=1), 0.2) and np.ptp(v[:, 0]) > 0.2  # random directions
    base = np.asarray(sample_river(land, key, 64, (-5.0, 5.0), 0.5))
    w = np.asarray(sample_river(land, key, 64, (-5.0, 5.0), 0.5, offsets=v))
    n = np.asarray(land.normals)
    np.testing.assert_allclose(w @ n.T - base @ n.T, v, atol=1e-5)
    np.testing.assert_allclose(w - (w @ n.T) @ n, base - (base @ n.T) @ n, atol=1e-5)
    np.testing.assert_allclose(np.asarray(jax.vmap(land.rho)(jnp.asarray(w))), 0.2, atol=1e-5)
    with pytest.raises(L.LandscapeError, match="offsets"):
        sample_river(land, key, 64, (-5.0, 5.0), offsets=v[:, :1])
    with pytest.raises(L.LandscapeError, match="length"):
        basin_floor_offsets(0, 4, 2, 0.3, length=0.31)
    with pytest.raises(L.LandscapeError, match="spread or length"):
        basin_floor_offsets(0, 4, 2, 0.3, length=0.1, spread=1.0)
    np.testing.assert_array_equal(basin_floor_offsets(0, 4, 2, 0.3, length=0.0), np.zeros((4, 2)))


def test_figure_5_panel_c_draws_its_starts_with_the_one_sampler():
    """sharp_panel_dataset's starts are ptq_starts' RTN failures at normal distance rho (same keys)."""
    rb, rho, step, n_starts = 0.25, 0.9 * 0.25, 0.5, 3
    land = L.random_river(jax.random.PRNGKey(7), 6, 3, wall=L.quadratic_wall(rb, 10.0))
    key = jax.random.PRNGKey(8)
    with jax.enable_x64(True):
        land = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), land)
        w = figures_data._failed_in_cell(land, step, rho, rb, n_starts, key, (1, 2), 4)
        k_cell = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, 1), 1), 2)
        k_pts, k_off = jax.random.split(jax.random.fold_in(k_cell, 0))
        seed = int(np.asarray(jax.random.randint(k_off, (), 0, 2**31 - 1)))
        v = basin_floor_offsets(seed, 24, 3, rb, length=rho)
        st = ptq_starts(land, L.uniform_grid(step), k_pts, 24, "rtn", (-200.0, 200.0), 10 * step, offsets=v)
        want = np.asarray(st["w_star"])[np.asarray(st["failed"])][:n_starts]
        rho_w = np.asarray(jax.vmap(land.rho)(jnp.asarray(w)))
        out = np.asarray(rtn_outside(land, L.uniform_grid(step), jnp.asarray(w)))
    assert w.dtype == np.float64 and w.shape == (n_starts, 6)
    np.testing.assert_allclose(w[: want.shape[0]], want, rtol=1e-12, atol=1e-12)
    # in the basin (regime in_basin), at rho up to the float32 river's orthonormality (|s| <= 200) ...
    np.testing.assert_allclose(rho_w, rho, atol=1e-5)
    assert out.all()  # ... and RTN's point outside it
