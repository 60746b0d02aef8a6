"""Quantizer laws: idempotence, error bounds, grid membership, clipping, broadcasting, geometry."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import landscape as ls

finite = st.floats(-50, 50, allow_nan=False, allow_infinity=False, width=32)
vectors = arrays(np.float32, st.integers(1, 16), elements=finite)


def all_quantizers():
    return {
        "uniform": ls.uniform_grid(0.37, offset=0.1),
        "int4": ls.integer_grid(4, 0.5),
        "uint3": ls.integer_grid(3, 0.25, signed=False),
        "nf4": ls.nf4(3.0),
        "fp4": ls.fp4_e2m1(0.5),
        "log2": ls.log2_codebook(4.0),
        "ternary": ls.ternary(0.7),
        "binary": ls.binary(1.3),
    }


@pytest.mark.parametrize("name", list(all_quantizers()))
@given(w=vectors)
def test_idempotent_on_grid_and_in_cell(name, w):
    qz = all_quantizers()[name]
    w = jnp.asarray(w)
    q = qz.quantize(w)
    np.testing.assert_array_equal(np.asarray(qz.quantize(q)), np.asarray(q))
    lo, hi = qz.cell(w)
    assert np.all(np.asarray(lo) <= np.asarray(w) + 1e-5) and np.all(np.asarray(w) <= np.asarray(hi) + 1e-5)
    down, up = qz.neighbors(w)
    assert np.all((np.asarray(q) == np.asarray(down)) | (np.asarray(q) == np.asarray(up)))
    if isinstance(qz, ls.Codebook):
        levels = np.asarray(qz.levels * qz.scale)
        assert np.all(np.isin(np.asarray(q), levels))
    else:
        codes = (np.asarray(q) - float(qz.offset)) / float(qz.step)
        np.testing.assert_allclose(codes, np.round(codes), atol=1e-3)
        assert np.all(codes >= float(qz.qmin) - 1e-3) and np.all(codes <= float(qz.qmax) + 1e-3)


@given(w=vectors, step=st.floats(0.01, 5.0))
def test_uniform_error_at_most_half_step(w, step):
    qz = ls.uniform_grid(step)
    err = np.abs(np.asarray(qz.residual(jnp.asarray(w))))
    assert np.all(err <= step / 2 * (1 + 1e-5) + 1e-5)


def test_integer_grid_clips_to_range():
    qz = ls.integer_grid(3, 0.5)
    q = np.asarray(qz.quantize(jnp.array([-100.0, -2.1, 0.26, 1.74, 100.0])))
    np.testing.assert_allclose(q, [-2.0, -2.0, 0.5, 1.5, 1.5])
    lo, hi = qz.cell(jnp.array([-100.0, 100.0, 0.3]))
    assert np.isneginf(np.asarray(lo)[0]) and np.isposinf(np.asarray(hi)[1])
    np.testing.assert_allclose([np.asarray(lo)[2], np.asarray(hi)[2]], [0.25, 0.75])


def test_codebook_nearest_level_matches_brute_force():
    rng = np.random.default_rng(0)
    for qz in all_quantizers().values():
        if not isinstance(qz, ls.Codebook):
            continue
        w = rng.normal(scale=3.0, size=200).astype(np.float32)
        levels = np.asarray(qz.levels) * float(qz.scale)
        brute = levels[np.argmin(np.abs(w[:, None] - levels[None]), axis=1)]
        np.testing.assert_allclose(np.asarray(qz.quantize(jnp.asarray(w))), brute, rtol=1e-6)


def test_per_channel_and_per_group_steps_broadcast():
    rng = np.random.default_rng(1)
    w = rng.normal(size=(3, 8)).astype(np.float32)
    steps = np.array([0.1, 0.5, 1.0])
    qz = ls.uniform_grid(ls.per_channel(steps, axis=0, ndim=2))
    q = np.asarray(qz.quantize(jnp.asarray(w)))
    for c in range(3):
        np.testing.assert_allclose(q[c], np.asarray(ls.uniform_grid(steps[c]).quantize(jnp.asarray(w[c]))))
    gsteps = np.array([0.2, 0.7])
    qg = ls.uniform_grid(ls.per_group(gsteps, group_size=4, dim=8))
    qv = np.asarray(qg.quantize(jnp.asarray(w[0])))
    np.testing.assert_allclose(qv[:4], np.asarray(ls.uniform_grid(0.2).quantize(jnp.asarray(w[0, :4]))))
    np.testing.assert_allclose(qv[4:], np.asarray(ls.uniform_grid(0.7).quantize(jnp.asarray(w[0, 4:]))))


def test_quantize_is_jit_and_vmap_invariant():
    qz = ls.integer_grid(4, 0.3)
    w = jnp.asarray(np.random.default_rng(2).normal(size=(5, 7)), dtype=jnp.float32)
    eager = np.asarray(qz.quantize(w))
    np.testing.assert_array_equal(np.asarray(jax.jit(qz.quantize)(w)), eager)
    np.testing.assert_array_equal(np.asarray(jax.vmap(qz.quantize)(w)), eager)


def _delta_perp_brute(n, h):
    best = 0.0
    for signs in itertools.product([-1, 1], repeat=n.shape[1]):
        best = max(best, float(np.linalg.norm(n @ (np.array(signs) * h))))
    return best


@given(st.integers(2, 9), st.integers(1, 3), st.integers(0, 1000))
def test_delta_perp_exact_and_bound(d, k, seed):
    k = min(k, d - 1)
    rng = np.random.default_rng(seed)
    n = np.linalg.qr(rng.normal(size=(d, k)))[0].T
    qz = ls.uniform_grid(rng.uniform(0.2, 1.5, size=d))
    steps = np.asarray(qz.step, dtype=np.float64)  # the float32 steps the quantizer holds
    exact = _delta_perp_brute(n, steps / 2)
    dp = ls.delta_perp(qz, n)
    assert dp.exact
    assert dp.value == pytest.approx(exact, rel=1e-9)
    bound = ls.delta_perp(qz, n, max_enumerate=0)  # no enumeration: closed forms, or [lower, value]
    assert bound.value >= exact * (1 - 1e-9)
    assert bound.lower <= exact * (1 + 1e-9)  # reached at a corner of the cell
    assert bound.exact == (k <= 2)  # k = 1: closed form; k = 2: one corner per arc of directions
    if bound.exact:
        assert bound.value == pytest.approx(exact, rel=1e-9) and bound.lower == bound.value
    else:
        assert f"[{bound.lower:.4g}, {bound.value:.4g}]" in bound.method  # the looseness is stated
    # sampled residuals never exceed delta_perp
    e = rng.uniform(-1, 1, size=(500, d)) * steps / 2
    assert np.max(np.linalg.norm(e @ n.T, axis=1)) <= dp.value + 1e-12
    np.testing.assert_allclose(ls.flip_size(qz, n), steps * np.linalg.norm(n, axis=0))


def test_delta_perp_states_its_interval_in_high_dimension():
    """d = 256, k = 4 (the README's case): exact is out of reach; value and lower bracket it, and say so."""
    land = ls.random_river(jax.random.PRNGKey(0), dim=256, k=4)
    dp = ls.delta_perp(ls.uniform_grid(1.0), land.normals)
    assert not dp.exact and 0 < dp.lower <= dp.value <= 0.5 * np.sqrt(256)
    assert "true value lies in" in dp.method
    e = np.random.default_rng(0).uniform(-0.5, 0.5, size=(2000, 256))  # residuals of the unit grid
    assert np.max(np.linalg.norm(e @ np.asarray(land.normals, np.float64).T, axis=1)) <= dp.value
    planar = ls.random_river(jax.random.PRNGKey(0), dim=256, k=2)
    dp2 = ls.delta_perp(ls.uniform_grid(1.0), planar.normals)
    assert dp2.exact and dp2.lower == dp2.value


def test_delta_perp_rotated_2d_closed_form():
    theta = 0.3
    land = ls.rotated_river_2d(theta)
    dp = ls.delta_perp(ls.uniform_grid(1.0), land.normals)
    assert dp.value == pytest.approx(0.5 * (np.sin(theta) + np.cos(theta)), rel=1e-6)
    np.testing.assert_allclose(
        ls.flip_size(ls.uniform_grid(1.0), land.normals), [np.sin(theta), np.cos(theta)], rtol=1e-6
    )


def test_delta_perp_of_codebook_cell_and_clipped_range():
    n = np.array([[0.6, 0.8]])
    cb = ls.ternary(1.0)
    dp = ls.delta_perp(cb, n, w=np.array([0.2, 0.9]))
    # cells: [-0.5, 0.5] around 0 and [0.5, inf) around 1 -> unbounded residual
    assert np.isinf(dp.value)
    dp2 = ls.delta_perp(cb, n, w=np.array([0.2, -0.1]))
    assert dp2.value == pytest.approx(0.5 * 0.6 + 0.5 * 0.8)
