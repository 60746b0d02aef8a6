"""Every QAT rule and every PTQ method on every grid layout: per tensor, per coordinate, per channel on
either axis, per group, clipped integer grids and codebooks (drawn by ``landscape.testing.quantizers``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape as L
from landscape.registry import RULES
from landscape.testing import LAYOUTS, QUANTIZER_KINDS, quantizers

ROWS, COLS = 3, 4
DIM = ROWS * COLS


def _land():
    return L.axis_aligned_river(DIM, 2, wall=L.quadratic_wall(0.3, 10.0))


def _on_grid(grid, q):
    q = np.asarray(q)
    np.testing.assert_allclose(np.asarray(grid.quantize(jnp.asarray(q))), q, rtol=1e-6, atol=1e-6)


def test_quantizers_draws_every_layout():
    """quantizers(dim=...) reaches per-tensor, per-coordinate, both per-channel axes and per-group grids."""
    seen = set()

    @settings(max_examples=60, database=None)
    @given(quantizers(dim=DIM, kinds=("uniform", "integer")))
    def draw(grid):
        step = np.shape(grid.step)
        if grid.shape is None:
            seen.add("coordinate" if step == (DIM,) else "tensor")
        elif step in ((grid.shape[0], 1), (1, grid.shape[1])) and grid.shape[0] > 1 and grid.shape[1] > 1:
            seen.add(f"channel{0 if step[1] == 1 else 1}")
        elif step == grid.shape:
            seen.add("group")

    draw()
    assert {"tensor", "coordinate", "channel0", "channel1", "group"} <= seen, seen
    assert set(LAYOUTS) == {"tensor", "coordinate", "channel", "group"}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(RULES))
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_every_rule_runs_on_every_layout(name, data):
    """run and run_batch take every layout; the deployed point is on the grid; lsq refuses a codebook."""
    land = _land()
    grid = data.draw(quantizers(dim=DIM, kinds=QUANTIZER_KINDS, step=(0.1, 1.0)), label="grid")
    rule = L.get_rule(name, learning_rate=0.05)
    w0s = land.sample_river(jax.random.PRNGKey(0), 3, s_range=(-1.0, 1.0), spread=0.2)
    if name == "lsq" and not isinstance(grid, L.UniformGrid):
        with pytest.raises(L.LandscapeError, match="UniformGrid"):
            L.run(land, grid, rule, w0s[0], 3)
        return
    tr = L.run(land, grid, rule, w0s[0], 3, key=jax.random.PRNGKey(1))
    assert tr.final_w.shape == (DIM,) and tr.final_q.shape == (DIM,)
    if name != "lsq":  # lsq learns the step: its deployed point is on the learned grid
        _on_grid(grid, tr.final_q)
    trb = L.run_batch(land, grid, rule, w0s, 3, key=jax.random.PRNGKey(1))
    assert trb.final_q.shape == (3, DIM) and trb.hit_time.shape == (3,)
    assert np.all((np.asarray(trb.hit_time) >= -1) & (np.asarray(trb.hit_time) <= 3))


@pytest.mark.slow
@pytest.mark.parametrize("method", sorted(L.ptq_methods))
@settings(max_examples=4, deadline=None)
@given(grid=quantizers(dim=DIM, kinds=("uniform", "integer"), step=(0.1, 1.0)))
def test_every_ptq_method_on_every_layout(method, grid):
    """Each PTQ method maps w* (flat, or a batch) to a point of the grid, whatever its layout."""
    land = _land()
    w = land.sample_river(jax.random.PRNGKey(0), 2, s_range=(-1.0, 1.0), spread=0.2)
    q = L.ptq_methods[method](land, grid, w, jax.random.PRNGKey(2))
    assert q.shape == w.shape
    _on_grid(grid, q)


@pytest.mark.parametrize("method", ["rtn", "obq", "gptq"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: L.per_channel_grid(np.linspace(0.2, 0.5, ROWS), (ROWS, COLS), axis=0, bits=4),
        lambda: L.per_channel_grid(np.linspace(0.2, 0.5, COLS), (ROWS, COLS), axis=1, bits=4),
        lambda: L.per_group_grid(np.linspace(0.2, 0.5, ROWS * 2).reshape(ROWS, 2), (ROWS, COLS), 2, bits=4),
    ],
    ids=["channel0", "channel1", "group"],
)
def test_layer_ptq_on_a_weight_matrix_in_the_grids_layout(method, make):
    """gptq(H, per_channel_grid(steps, W.shape, ...), W): each entry on its own channel's or group's grid."""
    grid = make()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, COLS))
    h = x.T @ x / 64
    w = rng.normal(size=(ROWS, COLS))
    q = np.asarray(getattr(L, method)(h, grid, w))
    assert q.shape == (ROWS, COLS)
    step = np.broadcast_to(np.asarray(grid.step), (ROWS, COLS))
    codes = q / step
    np.testing.assert_allclose(codes, np.round(codes), atol=1e-4)  # on the entry's own grid
    assert np.all((np.round(codes) >= -8) & (np.round(codes) <= 7))  # 4-bit signed codes
    _on_grid(grid, q.reshape(-1))


def test_a_sweep_over_rules_on_a_per_channel_grid():
    """ls.sweep with clipped STE among the rules runs on a per-channel grid (it crashed the whole sweep)."""
    land = _land()
    grid = L.per_channel_grid(np.full(ROWS, 0.4), (ROWS, COLS), axis=0, bits=4)
    ds = L.sweep(landscape=land, quantizer=grid, rule=["ste", "clipped_ste"], starts=4, num_steps=5,
                 s_range=(-1.0, 1.0), spread=0.2)
    assert ds.sizes["rule"] == 2
    assert np.all(np.isin(np.asarray(ds.hit_time), np.arange(-1, 6)) | np.isnan(np.asarray(ds.hit_time)))
