"""The scan driver: STE steps by hand (jitted and not), jit/vmap invariance, recording, optax composition."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import landscape as ls


def _axis_2d(rb=0.25, kappa=10.0, mu=0.0, drift=0.0):
    # N = e2 (sharp), u = e1 (river): rho(w) = |w2|
    return ls.straight_river(
        [[0.0, 1.0]], [1.0, 0.0], wall=ls.quadratic_wall(rb, kappa, mu), river_loss=drift
    )


def test_ste_first_steps_by_hand(jit):
    land = _axis_2d()
    grid = ls.uniform_grid(1.0)
    tr = jit(lambda w: ls.run(land, grid, ls.ste(0.05), w, 3, record_path=True))(jnp.array([0.3, 0.7]))
    # t=0: Q(w0) = (0, 1), rho_q = 1 > 0.25, grad L(q) = kappa (1 - 0.25) e2 = 7.5 e2
    # w1 = (0.3, 0.7 - 0.05 * 7.5) = (0.3, 0.325); Q(w1) = (0, 0): in the basin, T = 1
    np.testing.assert_allclose(np.asarray(tr.q_path[0]), [0.0, 1.0])
    np.testing.assert_allclose(np.asarray(tr.w_path[1]), [0.3, 0.325], atol=1e-6)
    np.testing.assert_allclose(np.asarray(tr.q_path[1]), [0.0, 0.0])
    assert int(tr.hit_time) == 1
    np.testing.assert_allclose(float(tr.loss[0]), 0.5 * 10 * 0.75**2, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(tr.rho_q), [1.0, 0.0, 0.0])
    # inward component of step 0: the step is -0.375 e2, inward unit at w0 is -e2
    np.testing.assert_allclose(float(tr.inward[0]), 0.375, rtol=1e-5)
    assert float(tr.loss_at_hit) == 0.0
    assert int(tr.switches) == 1


def _numpy_ste(w0, steps, lr, kappa, rb, drift, step):
    w = np.array(w0, dtype=np.float64)
    hist = []
    for _ in range(steps):
        q = step * np.round(w / step)
        rho = abs(q[1])
        g = np.array([-drift, np.sign(q[1]) * kappa * max(rho - rb, 0.0)])
        hist.append(q.copy())
        w = w - lr * g
    return np.array(hist), w


@pytest.mark.parametrize("w0", [(0.2, 1.4), (-3.3, -2.6), (5.1, 0.9)])
def test_ste_matches_a_numpy_loop(w0, jit):
    land = _axis_2d(rb=0.3, kappa=4.0, drift=0.2)
    grid, rule = ls.uniform_grid(0.5), ls.ste(0.03)
    tr = jit(lambda w: ls.run(land, grid, rule, w, 40, record_path=True))(jnp.array(w0))
    hist, w_end = _numpy_ste(w0, 40, 0.03, 4.0, 0.3, 0.2, 0.5)
    np.testing.assert_allclose(np.asarray(tr.q_path), hist, atol=1e-5)
    np.testing.assert_allclose(np.asarray(tr.final_w), w_end, atol=1e-4)
    inb = np.abs(hist[:, 1]) <= 0.3
    assert int(tr.hit_time) == (int(np.argmax(inb)) if inb.any() else -1)


def test_full_precision_is_gradient_descent(jit):
    land = _axis_2d(rb=0.1, kappa=2.0, mu=0.5)
    w0 = jnp.array([0.0, 1.0])
    grid, rule = ls.uniform_grid(0.25), ls.full_precision(0.1)
    tr = jit(lambda w: ls.run(land, grid, rule, w, 5, record_path=True))(w0)
    w = np.array([0.0, 1.0])
    for t in range(5):
        np.testing.assert_allclose(np.asarray(tr.w_path[t]), w, atol=1e-6)
        g = np.array([0.0, 0.5 * w[1] + 2.0 * max(w[1] - 0.1, 0.0)])
        w = w - 0.1 * g
    np.testing.assert_allclose(np.asarray(tr.final_w), w, atol=1e-6)
    np.testing.assert_allclose(np.asarray(tr.q_path), 0.25 * np.round(np.asarray(tr.w_path) / 0.25))


def test_jit_and_vmap_invariance_of_run():
    land = ls.rotated_river_2d(0.3, wall=ls.quadratic_wall(0.3, 10.0))
    grid = ls.uniform_grid(1.0)
    rule = ls.ste(0.05)
    starts = land.sample_river(jax.random.PRNGKey(0), 6)
    batch = ls.run_batch(land, grid, rule, starts, 50, key=jax.random.PRNGKey(1), save=ls.SaveAt())
    keys = jax.random.split(jax.random.PRNGKey(1), 6)
    for i in range(6):
        one = ls.run(land, grid, rule, starts[i], 50, key=keys[i])
        jitted = jax.jit(lambda w, k: ls.run(land, grid, rule, w, 50, key=k))(starts[i], keys[i])
        for a, b in ((one, batch), (one, jitted)):
            bi = jax.tree_util.tree_map(lambda x, i=i: x[i], b) if b is batch else b
            np.testing.assert_allclose(np.asarray(a.rho_q), np.asarray(bi.rho_q), atol=1e-6)
            np.testing.assert_allclose(np.asarray(a.final_w), np.asarray(bi.final_w), atol=1e-6)
            assert int(a.hit_time) == int(bi.hit_time)


def test_record_every_subsamples_and_keeps_hit_time():
    land = ls.random_river(jax.random.PRNGKey(2), 64, 3, wall=ls.quadratic_wall(0.3, 10.0))
    grid = ls.uniform_grid(1.0)
    w0 = land.sample_river(jax.random.PRNGKey(3), 1, spread=2.0)[0]
    full = ls.run(land, grid, ls.ste(0.05), w0, 60)
    sparse = ls.run(land, grid, ls.ste(0.05), w0, 60, record_every=6)
    assert sparse.loss.shape == (10,)
    np.testing.assert_allclose(np.asarray(sparse.rho_w), np.asarray(full.rho_w)[::6], atol=1e-6)
    assert int(sparse.hit_time) == int(full.hit_time)
    assert int(sparse.switches) == int(full.switches)
    np.testing.assert_allclose(np.asarray(sparse.final_w), np.asarray(full.final_w), atol=1e-6)


def test_optax_optimizers_and_schedules_compose():
    land = _axis_2d(rb=0.2, kappa=5.0)
    grid = ls.uniform_grid(0.5)
    w0 = jnp.array([0.1, 1.3])
    tr = ls.run(land, grid, ls.ste(optimizer=optax.sgd(0.02, momentum=0.9)), w0, 4, record_path=True)
    w, m = np.array([0.1, 1.3]), np.zeros(2)
    for t in range(4):
        np.testing.assert_allclose(np.asarray(tr.w_path[t]), w, atol=1e-5)
        q = 0.5 * np.round(w / 0.5)
        g = np.array([0.0, np.sign(q[1]) * 5.0 * max(abs(q[1]) - 0.2, 0.0)])
        m = 0.9 * m + g
        w = w - 0.02 * m
    sched = optax.warmup_cosine_decay_schedule(0.0, 0.1, 5, 50)
    tr2 = ls.run(land, grid, ls.ste(optimizer=optax.adam(sched)), w0, 50)
    assert np.all(np.isfinite(np.asarray(tr2.loss)))


def test_ste_recovers_in_high_dimension_and_inward_is_positive_outside():
    land = ls.random_river(jax.random.PRNGKey(0), 256, 4, wall=ls.quadratic_wall(0.3, 10.0))
    grid = ls.uniform_grid(1.0)
    starts = land.sample_river(jax.random.PRNGKey(1), 64, spread=3.0)
    tr = ls.run_batch(land, grid, ls.ste(0.05), starts, 200, record_every=1)
    failed = ~np.asarray(jax.vmap(land.in_basin)(grid.quantize(starts)))
    assert failed.mean() > 0.5  # RTN leaves the basin for most trained points
    assert np.mean(np.asarray(tr.hit_time)[failed] >= 0) > 0.9  # STE recovers almost always
    # where Q(w) is outside and w is off the river, the step moves w towards the river
    outside = ~np.asarray(tr.in_basin) & (np.asarray(tr.rho_w) > ls.delta_perp(grid, land.normals).value)
    assert np.all(np.asarray(tr.inward)[outside] > 0)


def test_run_batch_over_batched_landscapes_and_quantizers():
    rbs, steps = (0.15, 0.3, 0.45), (0.8, 1.0, 1.2)
    lands = [ls.rotated_river_2d(0.3, wall=ls.quadratic_wall(rb, 10.0)) for rb in rbs]
    grids = [ls.uniform_grid(st) for st in steps]
    stack = lambda xs: jax.tree_util.tree_map(lambda *a: jnp.stack(a), *xs)  # noqa: E731
    w0s = jnp.array([[0.4, 0.3], [1.3, -0.2], [-2.2, 0.6]])
    key = jax.random.PRNGKey(4)
    batch = ls.run_batch(stack(lands), stack(grids), ls.ste(0.05), w0s, 30, key=key,
                         landscape_axis=0, quantizer_axis=0, save=ls.SaveAt())
    keys = jax.random.split(key, 3)
    for i in range(3):
        one = ls.run(lands[i], grids[i], ls.ste(0.05), w0s[i], 30, key=keys[i])
        np.testing.assert_allclose(np.asarray(batch.rho_q[i]), np.asarray(one.rho_q), atol=1e-6)
        assert int(batch.hit_time[i]) == int(one.hit_time)


def test_run_batch_default_is_the_summary_and_agrees_with_rows():
    """No recording arguments: times and the final state only; the same values as a run with rows."""
    land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0))
    grid, rule = ls.uniform_grid(1.0), ls.ste(0.05)
    starts = land.sample_river(jax.random.PRNGKey(0), 40)
    fast = ls.run_batch(land, grid, rule, starts, 60)
    rows = ls.run_batch(land, grid, rule, starts, 60, save=ls.SaveAt())
    assert fast.loss is None and fast.w_path is None and fast.switches is None and fast.t is None
    for f in ("hit_time", "settle_time", "diverge_time", "final_w", "final_loss"):
        np.testing.assert_array_equal(np.asarray(getattr(fast, f)), np.asarray(getattr(rows, f)))
    assert np.asarray(fast.hit_time).dtype == np.int32
    one_row = ls.run_batch(land, grid, rule, starts, 60, record_every=60)
    assert one_row.loss.shape == (40, 1) and one_row.switches is None
    np.testing.assert_array_equal(np.asarray(one_row.hit_time), np.asarray(fast.hit_time))
    hits = ls.run_batch(land, grid, rule, starts, 60, save=ls.SaveAt.summary(times=("hit",)))
    assert hits.settle_time is None and hits.diverge_time is None
    np.testing.assert_array_equal(np.asarray(hits.hit_time), np.asarray(fast.hit_time))
    np.testing.assert_array_equal(np.asarray(hits.recovered), np.asarray(fast.recovered))
    with pytest.raises(ls.LandscapeError, match="settle"):
        hits.settled  # noqa: B018


def test_run_batch_takes_one_key_per_start_and_warns_for_large_rows(monkeypatch):
    land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0))
    grid, rule = ls.uniform_grid(1.0), ls.get_rule("noise", learning_rate=0.05)  # a stochastic rule
    starts = land.sample_river(jax.random.PRNGKey(0), 5)
    keys = jax.random.split(jax.random.PRNGKey(3), 5)
    a = ls.run_batch(land, grid, rule, starts, 20, key=jax.random.PRNGKey(3))
    b = ls.run_batch(land, grid, rule, starts, 20, key=keys)
    np.testing.assert_array_equal(np.asarray(a.final_w), np.asarray(b.final_w))
    with pytest.raises(ls.LandscapeError, match="holds 4 keys"):
        ls.run_batch(land, grid, rule, starts, 20, key=keys[:4])
    from landscape.simulate import driver

    monkeypatch.setattr(driver, "ROWS_WARN_BYTES", 1000)
    with pytest.warns(ResourceWarning, match="GiB"):
        ls.run_batch(land, grid, rule, starts, 20, record_every=1)


def test_the_persistent_compilation_cache_is_on_and_its_variable_moves_or_disables_it(monkeypatch, tmp_path):
    from landscape.simulate import cache

    assert jax.config.jax_compilation_cache_dir  # on after `import landscape` (the tests use it too)
    monkeypatch.setenv(cache.ENV, str(tmp_path / "c"))
    assert cache.cache_dir() == tmp_path / "c"
    for off in ("0", "off", "", "no"):
        monkeypatch.setenv(cache.ENV, off)
        assert cache.cache_dir() is None
    monkeypatch.delenv(cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "landscape" / "jax"


def test_no_cpu_compiler_option_reaches_another_backend(monkeypatch):
    from landscape.simulate import xla

    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert xla.compiler_options() == {}
