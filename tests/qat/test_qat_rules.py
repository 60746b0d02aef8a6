"""QAT rules: hand-computed 1-D update sequences, the STE -> GD limit, LSQ's gradient, batches of 1e4."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import landscape as L
from landscape.qat import (
    binary_connect,
    clipped_ste,
    error_feedback,
    full_precision,
    lsq,
    lsq_grad_scale,
    noise_injection,
    prox_connect,
    ptq_ste,
    ste,
)
from landscape.registry import default_rules

# The 1-D case: d = 2, N = e1, u = e2, L(w) = kappa/2 (|w1| - r_b)_+^2 with kappa = 1, r_b = 0.25,
# grid step 1, SGD with eta = 0.5, start w = (1.2, 0). Only w1 moves (dL/dw2 = 0).
ETA, W0 = 0.5, (1.2, 0.0)


def _case():
    ls = L.axis_aligned_river(2, 1, wall=L.quadratic_wall(0.25, 1.0))
    return ls, L.uniform_grid(1.0)


def _w1_path(rule, n=4, key=None, jit=lambda f: f):
    ls, qz = _case()
    tr = jit(lambda w: L.run(ls, qz, rule, w, n - 1, key=key, record_path=True))(jnp.array(W0))
    path = np.concatenate([np.asarray(tr.w_path)[:, 0], [float(tr.final_w[0])]])
    assert np.all(np.asarray(tr.w_path)[:, 1] == 0.0)
    return path, tr


HAND = {
    # fp: w1 <- w1 - 0.5 * (w1 - 0.25): 1.2 -> 0.725 -> 0.4875 -> 0.36875; Q(w1) = 1, 1, 0 -> T = 2
    "fp": (full_precision(ETA), [1.2, 0.725, 0.4875, 0.36875], 2),
    # ste: gradient at Q(w1) = 1 is 0.75: 1.2 -> 0.825 -> 0.45 (Q = 0, in basin, gradient 0) -> 0.45
    "ste": (ste(ETA), [1.2, 0.825, 0.45, 0.45], 2),
    "binaryconnect": (binary_connect(ETA), [1.2, 0.825, 0.45, 0.45], 2),
    "ef": (error_feedback(ETA, beta=1.0), [1.2, 0.825, 0.45, 0.45], 2),
    # clipped ste, clip = 1: w1 = 1.2 is outside [-1, 1], gradient 0: stuck, never in the basin
    "clipped_ste": (clipped_ste(ETA, clip=1.0), [1.2, 1.2, 1.2, 1.2], -1),
    # ptq+ste: latent starts at Q(1.2) = 1: 1 -> 0.625 -> 0.25 (Q = 0) -> 0.25
    "ptq+ste": (ptq_ste(ETA), [1.0, 0.625, 0.25, 0.25], 2),
    # proxconnect, mu_t = 1 + t: theta = (1.2 + 1)/2 = 1.1, g = 0.85 -> 0.775;
    # theta = (0.775 + 2)/3 = 0.925, g = 0.675 -> 0.4375; theta = 0.4375/4 in the basin, g = 0
    "proxconnect": (prox_connect(ETA, mu0=1.0, mu_rate=1.0), [1.2, 0.775, 0.4375, 0.4375], 2),
    # ef, beta = 0.5: y <- y - 0.5 g - 0.5 (y - Q(y)): 1.2 -> 1.2 - 0.375 - 0.1 = 0.725
    # -> 0.725 - 0.375 + 0.1375 = 0.4875 (Q = 0, g = 0) -> 0.4875 - 0.24375 = 0.24375
    "ef(beta=0.5)": (error_feedback(ETA, beta=0.5), [1.2, 0.725, 0.4875, 0.24375], 2),
}


@pytest.mark.float64
@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_computed_sequence(name, jit):
    """Each rule's first steps by hand, run jitted and not jitted (the ``jit`` fixture)."""
    rule, expected, hit = HAND[name]
    path, tr = _w1_path(rule, jit=jit)
    np.testing.assert_allclose(path, expected, rtol=0, atol=1e-12)
    assert int(tr.hit_time) == hit


@pytest.mark.float64
def test_proxconnect_records_mu():
    _, tr = _w1_path(prox_connect(ETA, mu0=1.0, mu_rate=1.0))
    np.testing.assert_allclose(np.asarray(tr.extras["mu"]), [1.0, 2.0, 3.0])


@pytest.mark.float64
def test_noise_injection_hand_recursion():
    """w1 <- w1 - eta grad L(w + eps_t), eps_t ~ U(-1/2, 1/2)^2 drawn from the driver's key chain."""
    key = jax.random.PRNGKey(7)
    path, tr = _w1_path(noise_injection(ETA), n=6, key=key)
    w, k, expected = np.array(W0), key, [W0[0]]
    for _ in range(5):
        k, sub = jax.random.split(k)
        eps = 0.5 * np.asarray(jax.random.uniform(sub, (2,), dtype=jnp.float64, minval=-1.0, maxval=1.0))
        x = w + eps
        g1 = np.sign(x[0]) * max(abs(x[0]) - 0.25, 0.0)  # kappa (|x1| - r_b)_+ sign(x1)
        w = w - ETA * np.array([g1, 0.0])
        expected.append(w[0])
    np.testing.assert_allclose(path, expected, rtol=0, atol=1e-12)
    q = np.round(np.asarray(tr.q_path)[:, 0])
    np.testing.assert_array_equal(q, np.round(path[:-1]))  # deployed point is Q(w_t), not the noisy point


@pytest.mark.float64
def test_lsq_hand_sequence():
    """LSQ with grad_scale 0.5 on the 1-D case, offset 0, unbounded grid; s0 = 1."""
    path, tr = _w1_path(lsq(ETA, grad_scale=0.5), n=3)
    w1, s, ws, ss = 1.2, 1.0, [1.2], [1.0]
    for _ in range(2):
        x = w1 / s
        q = s * np.round(x)
        g = np.sign(q) * max(abs(q) - 0.25, 0.0)  # dL/dq1
        w1, s = w1 - ETA * g, s - ETA * 0.5 * g * (np.round(x) - x)
        ws.append(w1)
        ss.append(s)
    np.testing.assert_allclose(path, ws, rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(tr.extras["step"]), ss[:2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(float(tr.final_params["step"]), ss[2], rtol=0, atol=1e-12)


@pytest.mark.float64
def test_lsq_step_gradient_matches_formula():
    """dL/ds = g sum_j dL/dq_j (round(x_j) - x_j inside [Q_N, Q_P], Q_N or Q_P outside), g = 1/sqrt(d Q_P)."""
    d = 8
    ls = L.random_river(jax.random.PRNGKey(3), d, 2, wall=L.quadratic_wall(0.1, 5.0))
    qz = L.integer_grid(4, 0.3, offset=0.05)  # codes in [-8, 7]
    w = np.random.default_rng(0).normal(scale=1.0, size=d)
    w[:2] = [3.0, -3.1]  # beyond the representable range [-8, 7] * 0.3 + 0.05
    w = jnp.asarray(w)
    rule = lsq(0.1)
    params, aux = rule.init(w, qz)
    grads, _ = rule.gradient(ls, params, aux, qz, jax.random.PRNGKey(0))
    x = (np.asarray(w) - 0.05) / 0.3
    inside = (x >= -8) & (x <= 7)
    assert inside.sum() < d, "the test needs at least one clipped coordinate"
    q = 0.05 + 0.3 * np.clip(np.round(x), -8, 7)
    dq = np.asarray(ls.grad(jnp.asarray(q)))
    dq_ds = np.where(inside, np.round(x) - x, np.where(x < -8, -8.0, 7.0))
    g = 1.0 / np.sqrt(d * 7)
    assert float(lsq_grad_scale(qz, d)) == pytest.approx(g, rel=1e-12)
    np.testing.assert_allclose(float(grads["step"]), g * np.sum(dq * dq_ds), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(grads["w"]), np.where(inside, dq, 0.0), rtol=1e-10)
    grads2, _ = lsq(0.1, grad_scale=1.0).gradient(ls, params, aux, qz, jax.random.PRNGKey(0))
    np.testing.assert_allclose(float(grads["step"]), g * float(grads2["step"]), rtol=1e-10)


def test_lsq_needs_a_uniform_grid():
    ls, _ = _case()
    with pytest.raises(L.LandscapeError, match="UniformGrid"):
        L.run(ls, L.nf4(2.0), lsq(0.1), jnp.array(W0), 3)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: error_feedback(beta=1.5), "beta"),
        (lambda: clipped_ste(clip=0.0), "clip"),
        (lambda: prox_connect(mu_rate=-1.0), "mu_rate"),
        (lambda: prox_connect(mu0=float("nan")), "mu0"),
        (lambda: lsq(grad_scale=-2.0), "grad_scale"),
        (lambda: noise_injection(scale=0.0), "scale"),
        (lambda: ste(learning_rate=-0.1), "learning_rate"),
    ],
)
def test_bad_arguments_name_themselves(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_equivalent_rules_match_ste_exactly_on_a_chattering_case():
    """BinaryConnect, EF with beta = 1 and PTQ+STE from a grid point give STE's update sequence."""
    ls = L.rotated_river_2d(0.3, wall=L.quadratic_wall(0.05, 10.0))
    qz = L.uniform_grid(0.2)
    w0 = qz.quantize(jnp.array([1.03, 0.31]))
    ref = L.run(ls, qz, ste(0.05), w0, 300, record_path=True)
    for rule in (binary_connect(0.05), error_feedback(0.05, beta=1.0), ptq_ste(0.05)):
        tr = L.run(ls, qz, rule, w0, 300, record_path=True)
        np.testing.assert_array_equal(np.asarray(tr.q_path), np.asarray(ref.q_path))
        np.testing.assert_array_equal(np.asarray(tr.final_w), np.asarray(ref.final_w))


def test_rules_compose_with_any_optax_optimizer():
    ls = L.rotated_river_2d(0.3, wall=L.quadratic_wall(0.05, 10.0))
    qz = L.uniform_grid(0.2)
    opt = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(optax.linear_schedule(0.05, 0.01, 50)))
    rules = default_rules(optimizer=opt)
    for name in ("lsq", "proxconnect", "ef(beta=0.5)"):  # the rules whose state or tx is not plain STE's
        tr = L.run(ls, qz, rules[name], jnp.array([1.0, 0.4]), 50)
        assert np.all(np.isfinite(np.asarray(tr.loss)))
        assert not np.allclose(np.asarray(tr.final_w), [1.0, 0.4])


_LIMIT_RULES = {eta: (ste(eta), full_precision(eta)) for eta in (0.02, 0.08)}  # reused: one compile each


@settings(max_examples=6, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    kappa=st.floats(0.5, 10.0),
    eta=st.sampled_from(sorted(_LIMIT_RULES)),
)
def test_ste_fine_grid_limit_is_gradient_descent(seed, kappa, eta):
    """STE with Delta -> 0 is GD: |w_t^STE - w_t^GD| <= delta ((1 + eta kappa)^t - 1), delta = Delta sqrt(d)/2

    The gradient of L (quadratic wall, mu = 0, linear drift) is kappa-Lipschitz, and
    ||Q(w) - w|| <= delta, which gives the stated bound (plus 1e-10 for float64 rounding).
    """
    with jax.enable_x64(True):
        dim = 3
        wall = L.quadratic_wall(0.1, kappa)
        ls = L.random_river(jax.random.PRNGKey(seed % 1000), dim, 2, wall=wall, river_loss=0.05)
        w0 = jnp.asarray(np.random.default_rng(seed).normal(size=dim))
        step, n = 1e-7, 40
        rule_ste, rule_gd = _LIMIT_RULES[eta]
        a = L.run(ls, L.uniform_grid(step), rule_ste, w0, n, record_path=True)
        b = L.run(ls, L.uniform_grid(step), rule_gd, w0, n, record_path=True)
        err = np.linalg.norm(np.asarray(a.w_path) - np.asarray(b.w_path), axis=-1)
        delta = step * np.sqrt(dim) / 2
        bound = delta * ((1 + eta * kappa) ** np.arange(n) - 1) + 1e-10
        assert np.all(err <= bound)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(default_rules()))
def test_every_rule_runs_a_batch_of_1e4_under_jit_and_vmap(name):
    ls = L.rotated_river_2d(0.3, wall=L.quadratic_wall(0.05, 10.0))
    qz = L.uniform_grid(0.2)
    rule = default_rules(0.05)[name]
    w0s = ls.sample_river(jax.random.PRNGKey(0), 10_000, s_range=(-5, 5))
    tr = L.run_batch(ls, qz, rule, w0s, 8, key=jax.random.PRNGKey(1), record_every=1)
    assert tr.hit_time.shape == (10_000,)
    assert tr.final_w.shape == (10_000, 2)
    assert tr.loss.shape == (10_000, 8)
    assert tr.loss.dtype == jnp.float32
    assert np.all(np.isfinite(np.asarray(tr.final_w)))
    rtn_in = np.asarray(jax.vmap(ls.in_basin)(qz.quantize(w0s)))
    if name != "ptq+ste":  # every other rule starts at Q(w*) = RTN: T = 0 exactly when RTN is in the basin
        np.testing.assert_array_equal(np.asarray(tr.hit_time) == 0, rtn_in)


def test_lsq_per_coordinate_step_is_learned_and_recorded():
    ls = L.rotated_river_2d(0.3, wall=L.quadratic_wall(0.05, 10.0))
    qz = L.uniform_grid(jnp.array([0.2, 0.3]))
    tr = L.run(ls, qz, lsq(0.05), jnp.array([1.03, 0.61]), 20)
    assert float(tr.rho_q[0]) > 0.05  # starts outside the basin, so the step gets a gradient
    assert tr.extras["step_mean"].shape == (20,)
    assert tr.final_params["step"].shape == (2,)
    assert float(lsq_grad_scale(qz, 2)) == pytest.approx(1.0)  # N_W = 1 weight per step, Q_P = 1 (unbounded)
    assert not np.allclose(np.asarray(tr.final_params["step"]), [0.2, 0.3])
