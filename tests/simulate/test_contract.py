"""The rule/driver contract: rules are values, new hyperparameters reuse the compiled driver,
divergence is an outcome, settling time is recorded, closed-form gradients equal autodiff."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import landscape as L
from landscape.simulate import driver


def _rotated():
    return L.rotated_river_2d(0.5, wall=L.quadratic_wall(0.3, 10.0, 0.05)), L.uniform_grid(1.0)


def test_equal_rules_compare_and_hash_equal():
    assert L.ste(0.05) == L.ste(0.05) and hash(L.ste(0.05)) == hash(L.ste(0.05))
    assert L.ste(0.05) != L.ste(0.06)
    assert L.error_feedback(0.1, beta=0.5) == L.error_feedback(0.1, beta=0.5)
    adam = L.optimizer(optax.adam, learning_rate=1e-2)
    assert L.ste(optimizer=adam) == L.ste(optimizer=L.optimizer(optax.adam, learning_rate=1e-2))
    cos = L.schedule(optax.cosine_decay_schedule, init_value=0.1, decay_steps=100)
    assert L.ste(optimizer=L.sgd(cos)) == L.ste(
        optimizer=L.sgd(L.schedule(optax.cosine_decay_schedule, init_value=0.1, decay_steps=100))
    )
    assert {L.ste(0.05), L.ste(0.05), L.lsq(0.05)} == {L.ste(0.05), L.lsq(0.05)}


def _cache_size():
    return driver.compiled_count()


def test_fresh_equal_rule_and_new_learning_rate_do_not_recompile():
    land, grid = _rotated()
    w0 = jnp.asarray(np.random.default_rng(0).normal(size=(64, 2)), jnp.float32)
    L.run_batch(land, grid, L.ste(0.05), w0, 20)
    n = _cache_size()
    for lr in (0.05, 0.07, 0.3):
        L.run_batch(land, grid, L.ste(lr), w0, 20)  # a fresh object each time
    L.run_batch(land.replace(wall=L.quadratic_wall(0.2, 5.0, 0.0)), L.uniform_grid(0.7), L.ste(0.1), w0, 20)
    assert _cache_size() == n
    L.run_batch(land, grid, L.ste(optimizer=L.optimizer(optax.adam, learning_rate=0.01)), w0, 20)
    L.run_batch(land, grid, L.ste(optimizer=L.optimizer(optax.adam, learning_rate=0.02)), w0, 20)
    assert _cache_size() == n + 1  # a new optimizer family compiles once, then its rates are data


def test_learning_rate_is_traced_not_baked_in():
    land, grid = _rotated()
    w0 = jnp.array([[3.2, 1.1]])
    a = L.run_batch(land, grid, L.ste(0.05), w0, 5, record_path=True)
    b = L.run_batch(land, grid, L.ste(0.5), w0, 5, record_path=True)
    assert not np.allclose(np.asarray(a.w_path), np.asarray(b.w_path))


def test_divergence_is_an_outcome_never_a_hit():
    # eta kappa >> 2: the latent oscillates with a growing amplitude and overflows to inf/nan
    land = L.axis_aligned_river(2, 1, wall=L.quadratic_wall(0.1, 10.0))
    grid = L.uniform_grid(1e-3)
    w0 = jnp.array([[2.0, 0.0], [0.05, 0.0]])
    tr = L.run_batch(land, grid, L.ste(50.0), w0, 200)
    assert bool(tr.diverged[0]) and int(tr.diverge_time[0]) > 0
    assert int(tr.hit_time[0]) == -1 and int(tr.settle_time[0]) == -1 and not bool(tr.recovered[0])
    assert not bool(tr.diverged[1]) and int(tr.hit_time[1]) == 0  # starts in the basin, gradient 0
    st = L.recovery_stats(tr)
    assert (st.n, st.recovered, st.diverged, st.censored) == (2, 1, 1, 0)
    assert not bool(land.in_basin(jnp.array([jnp.nan, 0.0])))


def test_settle_time_is_the_last_entry():
    # a planted in/out/in sequence: 1-D wall, STE steps of fixed size across a thin basin
    land = L.axis_aligned_river(2, 1, wall=L.quadratic_wall(0.25, 1.0))
    grid = L.uniform_grid(1.0)
    tr = L.run(land, grid, L.ste(0.5), jnp.array([1.2, 0.0]), 6)
    inb = np.asarray(tr.in_basin)
    assert int(tr.hit_time) == int(np.argmax(inb))
    expected = next(
        t for t in range(len(inb) + 1) if all(inb[t:]) and bool(np.asarray(land.in_basin(tr.final_q)))
    )
    assert int(tr.settle_time) == expected


@pytest.mark.float64
@pytest.mark.parametrize(
    "make",
    [
        lambda: L.random_river(
            jax.random.PRNGKey(0),
            8,
            3,
            wall=L.softplus_wall(0.3, 5.0, 0.1),
            river_loss=0.2,
            aniso=[1.0, 2.0, 0.5],
        ),
        lambda: L.meander_river(
            np.eye(6)[:2], amplitude=[0.3, 0.1], omega=0.7, wall=L.power_wall(0.2, 3.0, 0.05)
        ),
        lambda: L.arc_river(
            np.eye(5)[:2], radius=3.0, wall=L.exp_wall(0.2, 2.0, 0.01), river_loss=L.Lake.make(0.5, 1.0, 2.0)
        ),
        lambda: L.random_river(jax.random.PRNGKey(1), 64, 1, wall=L.quadratic_wall(0.3, 10.0, 0.05)),
    ],
)
def test_closed_form_gradient_equals_autodiff(make):
    land = make()
    for i in range(6):
        w = jax.random.normal(jax.random.PRNGKey(i), (land.dim,), jnp.float64) * (0.3 if i % 2 else 2.0)
        np.testing.assert_allclose(land.grad(w), land.grad_autodiff(w), rtol=1e-10, atol=1e-12)
    w = land.project_to_river(jnp.ones(land.dim))
    np.testing.assert_allclose(land.grad(w), land.grad_autodiff(w), rtol=1e-10, atol=1e-12)
    p = land.probe(w + 0.7)
    assert float(p.loss) == pytest.approx(float(land.loss(w + 0.7)), rel=1e-12)
    assert float(p.rho) == pytest.approx(float(land.rho(w + 0.7)), rel=1e-12)


def test_rule_axis_maps_over_learning_rates():
    land, grid = _rotated()
    lrs = jnp.array([0.01, 0.05, 0.2])
    w0 = jnp.tile(jnp.array([[3.2, 1.1]]), (3, 1))
    rules = L.ste(lrs)  # one rule whose learning-rate leaf carries the batch axis
    tr = L.run_batch(land, grid, rules, w0, 30, rule_axis=0)
    for i, lr in enumerate([0.01, 0.05, 0.2]):
        one = L.run(land, grid, L.ste(lr), w0[i], 30)
        assert int(tr.hit_time[i]) == int(one.hit_time)
        np.testing.assert_allclose(tr.final_w[i], one.final_w, rtol=1e-6)


def test_short_reprs():
    land, grid = _rotated()
    tr = L.run_batch(land, grid, L.ste(0.05), jnp.zeros((100, 2)), 50, record_path=True)
    assert len(repr(tr)) < 800 and "hit_time=i32[100]" in repr(tr)
    assert len(repr(land)) < 200 and len(repr(grid)) < 120 and len(repr(L.ste(0.05))) < 120


def test_per_channel_grid_on_a_weight_matrix_through_run_gptq_and_delta_perp():
    rows, cols = 64, 32
    land = L.random_river(jax.random.PRNGKey(0), rows * cols, 3, wall=L.quadratic_wall(0.3, 10.0))
    steps = np.linspace(0.05, 0.2, rows)
    grid = L.per_channel_grid(steps, (rows, cols), bits=4)
    flat = grid.as_flat()  # the same grid written per coordinate
    w = land.sample_river(jax.random.PRNGKey(1), 3, s_range=(-1.0, 1.0), spread=0.3)
    # the matrix layout and its flat twin deploy the same points, run the same dynamics
    np.testing.assert_array_equal(grid.quantize(w), flat.quantize(w))
    a = L.run(land, grid, L.ste(0.05), w[0].reshape(rows, cols), 40, record_every=40)
    b = L.run(land, flat, L.ste(0.05), w[0], 40, record_every=40)
    np.testing.assert_array_equal(a.final_w, b.final_w)
    assert int(a.hit_time) == int(b.hit_time)
    tb = L.run_batch(land, grid, L.ste(0.05), w.reshape(3, rows, cols), 40, save=L.SaveAt.summary())
    assert tb.final_q.shape == (3, rows * cols)
    # GPTQ returns points of the per-channel 4-bit grid
    q = np.asarray(L.gptq(land, grid, w)).reshape(3, rows, cols)
    codes = q / steps[None, :, None]
    np.testing.assert_allclose(codes, np.round(codes), atol=1e-4)
    assert codes.min() >= -8 - 1e-4 and codes.max() <= 7 + 1e-4
    dp = L.delta_perp(grid, land.normals)
    dp_flat = L.delta_perp(flat, land.normals)
    assert dp.value == pytest.approx(dp_flat.value) and dp.value > 0
    np.testing.assert_allclose(
        L.flip_size(grid, land.normals),
        np.repeat(steps, cols) * np.linalg.norm(np.asarray(land.normals, np.float64), axis=0),
        rtol=1e-6,
    )


def test_float64_batches_split_over_threads_stay_float64():
    """JAX's x64 context is thread-local: the threads that run parts of a batch must inherit it."""
    land, grid = _rotated()
    with jax.enable_x64(True):
        w = jnp.asarray(np.random.default_rng(0).normal(size=(9000, 2)) * 3, jnp.float64)
        split = L.run_batch(land, grid, L.ste(0.05), w, 30, save=L.SaveAt.summary(), threads=2)
        whole = L.run_batch(land, grid, L.ste(0.05), w, 30, save=L.SaveAt.summary(), threads=1)
        assert split.final_w.dtype == jnp.float64
        np.testing.assert_array_equal(split.final_w, whole.final_w)
