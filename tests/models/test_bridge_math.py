"""The bridge's mathematics on objects small enough to check exactly: HVP, spectra, bands, grids, feet."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from landscape._errors import LandscapeError
from landscape.models.band import REL_TOL, abs_in_band, band_times, rel_in_band, window
from landscape.models.blindness import blindness_terms
from landscape.models.config import BridgeConfig
from landscape.models.hessian import dense_hessian, hvp, top_eigenvalue
from landscape.models.nets import cross_entropy, dense_init, dense_stack, flat_weights, with_weights
from landscape.models.quant import channel_steps, check_bits, rtn_point, weight_quantizer
from landscape.models.river import barrier, cosine, project, width_along
from landscape.models.verdict import group_verdict, label_of, tau_sensitivity
from landscape.simulate.outcomes import wilson_interval


def _tiny_loss(n=40, sizes=(5, 6, 3), dtype=jnp.float64):
    """A tanh MLP small enough for a dense Hessian (d = 48); float64 inside ``jax.enable_x64``."""
    key = jax.random.PRNGKey(3)
    x = jax.random.normal(key, (n, sizes[0]), dtype)
    y = jnp.arange(n) % sizes[-1]
    p = {"dense": [{k: v.astype(dtype) for k, v in layer.items()} for layer in dense_init(key, sizes)]}
    w0 = flat_weights(p)
    return (lambda w: cross_entropy(dense_stack(with_weights(p, w)["dense"], x), y)), w0


@pytest.mark.float64
def test_hvp_matches_central_finite_differences_float64():
    loss, w0 = _tiny_loss()
    v = jax.random.normal(jax.random.PRNGKey(0), w0.shape, jnp.float64)
    eps = 1e-5

    @jax.jit
    def all_of(w, v):
        g = jax.grad(loss)
        return (g(w + eps * v) - g(w - eps * v)) / (2 * eps), hvp(loss, w, v), dense_hessian(loss, w) @ v

    fd, hv, hd = all_of(w0, v)
    np.testing.assert_allclose(np.asarray(hv), np.asarray(fd), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(np.asarray(hd), np.asarray(hv), atol=1e-10)


def test_power_iteration_matches_the_dense_spectrum_and_rejects_bad_iters():
    with jax.enable_x64(True):
        loss, w0 = _tiny_loss()
        evals = np.linalg.eigvalsh(np.asarray(jax.jit(lambda w: dense_hessian(loss, w))(w0)))
        # power iteration finds the largest-magnitude eigenvalue (the top one when the Hessian is ~PSD)
        target = evals[np.argmax(np.abs(evals))]
        lam = top_eigenvalue(lambda w, _: loss(w), 0.0, w0, jax.random.PRNGKey(0), iters=200)
        assert abs(lam - target) < 1e-6 * abs(target)
    with pytest.raises(LandscapeError, match="iters"):
        top_eigenvalue(lambda w, _: jnp.sum(w**2), 0.0, jnp.zeros(3), jax.random.PRNGKey(0), iters=0)


def test_one_touch_is_not_settled_and_the_times_are_exact():
    # the referee's case: in band at steps 66 and 86-89 of 100, out at the end -> never settled
    b = np.zeros(101, bool)
    b[66] = True
    b[86:90] = True
    bt = band_times(b)
    assert bt["hit_time"] == 66 and bt["settle_time"] == -1 and not bt["settled"]
    assert bt["window"] == window(100) == 10 and bt["frac_in_band_tail"] == 0.0
    # in band for the last 10 steps and at the end: settled at the window's edge, not one step later
    for start, ok in ((90, True), (91, False)):
        b = np.zeros(101, bool)
        b[5] = True
        b[start:] = True
        bt = band_times(b)
        assert bt["hit_time"] == 5 and bt["settle_time"] == start and bool(bt["settled"]) is ok
        assert bt["frac_in_band_tail"] == pytest.approx(np.mean(b[90:]))
    # batched flags: one row each
    both = band_times(np.stack([np.ones(11, bool), np.zeros(11, bool)]))
    np.testing.assert_array_equal(both["settle_time"], [0, -1])
    with pytest.raises(LandscapeError, match="in_band"):
        band_times(np.ones(1, bool))


def test_relative_band_boundaries():
    assert rel_in_band(0.975, 0.98, "accuracy") and not rel_in_band(0.9749, 0.98, "accuracy")
    assert rel_in_band(2.0 + REL_TOL["bpc"], 2.0, "bpc") and not rel_in_band(
        2.0 + 1.01 * REL_TOL["bpc"], 2.0, "bpc"
    )
    assert rel_in_band(1.02 * 5.0, 5.0, "perplexity") and not rel_in_band(1.0201 * 5.0, 5.0, "perplexity")
    assert not rel_in_band(np.nan, 5.0, "perplexity")
    # bpc tolerance is the perplexity ratio 1.02 in bits
    assert REL_TOL["bpc"] == pytest.approx(np.log2(1.02))
    np.testing.assert_array_equal(abs_in_band([0.1, 0.15, np.inf], 0.1, 0.05), [True, True, False])
    with pytest.raises(LandscapeError, match="metric must be"):
        rel_in_band(1.0, 1.0, "f1")


def test_clip_grid_never_has_more_weight_error_than_absmax():
    params = {"dense": dense_init(jax.random.PRNGKey(0), (16, 12, 5))}
    w = flat_weights(params)
    rows = np.concatenate(
        [np.repeat(np.arange(o), i) + off for (o, i), off in zip([(12, 16), (5, 12)], (0, 12), strict=True)]
    )  # the output row of each weight
    for bits in (2, 4):
        errs = {}
        for grid in ("absmax", "clip"):
            q = rtn_point(params, bits, grid)
            step = weight_quantizer(params, bits, grid).step
            codes = np.asarray(q / step)
            np.testing.assert_allclose(codes, np.round(codes), atol=1e-4)
            assert codes.min() >= -(2 ** (bits - 1)) - 1e-4 and codes.max() <= 2 ** (bits - 1) - 1 + 1e-4
            errs[grid] = np.bincount(rows, weights=np.asarray(q - w, np.float64) ** 2)  # per-row weight error
        assert np.all(errs["clip"] <= errs["absmax"] * (1 + 1e-6) + 1e-12)
        s_abs = channel_steps(params["dense"][0]["w"], bits, "absmax")
        s_clip = channel_steps(params["dense"][0]["w"], bits, "clip")
        assert np.all(np.asarray(s_clip) <= np.asarray(s_abs) * (1 + 1e-6))
    assert float(jnp.sum((rtn_point(params, 2, "clip") - w) ** 2)) < float(
        jnp.sum((rtn_point(params, 2) - w) ** 2)
    )


def _valley(mu=4.0):
    """L(w) = 0.5 mu (n.w)^2 in 3-D: the river is the plane n.w = 0 (flat along it)."""
    n = jnp.asarray([0.6, 0.8, 0.0])
    return (lambda w, _: 0.5 * mu * jnp.dot(n, w) ** 2), n


@pytest.mark.float64
def test_foot_normal_distance_width_and_inward_cosine_on_a_valley():
    mu, tau = 4.0, 0.08
    loss, n = _valley(mu)
    q = jnp.asarray([[3.0, 4.0, 1.0], [0.0, 0.0, 2.0]]) * jnp.asarray([[0.2], [1.0]])  # n.q = 1, 0
    foot = project(loss, q, jnp.zeros(2), 0.0, tau, eta0=0.1 / mu, steps=60)
    assert bool(foot.reached[0]) and int(foot.steps[1]) == 0  # the second point is on the river already
    p = np.asarray(foot.point)
    level = 0.25 * tau
    # gradient descent on this valley moves along n only: the foot is q shifted along n to the level set
    s = float(jnp.dot(n, p[0]))
    assert 1 < int(foot.steps[0]) < 60 and abs(s) <= np.sqrt(2 * level / mu) + 1e-12
    np.testing.assert_allclose(
        p[0] - s * np.asarray(n), np.asarray(q[0]) - 1.0 * np.asarray(n), atol=1e-12
    )
    g = jax.vmap(jax.grad(lambda w: loss(w, 0)))(q)
    assert cosine(-np.asarray(g[:1]), p[:1] - np.asarray(q[:1]))[0] == pytest.approx(1.0)
    # width from the foot along the normal: 0.5 mu ((s + t)^2 - s^2) = tau
    r, cens = width_along(loss, jnp.asarray(p[:1]), jnp.asarray(n)[None], jnp.zeros(1), tau, 5.0)
    # (the normal points from the foot towards q: +n here, since n.q = 1 > s)
    exact = -s + np.sqrt(s**2 + 2 * tau / mu)
    assert not cens[0] and r[0] == pytest.approx(exact, rel=1e-5)
    # barrier of a segment across the valley: its largest loss, at an end here
    top = barrier(loss, q[:1], jnp.zeros((1, 3)), jnp.zeros(1), num=11)
    assert top[0] == pytest.approx(0.5 * mu)


@pytest.mark.float64
def test_blindness_terms_are_exact_for_a_quadratic_and_see_a_quartic_wall():
    h = jnp.diag(jnp.asarray([2.0, 0.5, 0.1]))
    w0 = jnp.asarray([0.1, -0.2, 0.3])
    quad = lambda w, _: 0.5 * (w - w0) @ h @ (w - w0) + jnp.sum(w)  # noqa: E731
    q = w0 + jnp.asarray([[0.3, 0.1, -0.2]])
    rec = blindness_terms(quad, 0.0, w0, q, jax.random.PRNGKey(0))[0]
    e = np.asarray(q[0] - w0)
    assert rec["grad_term"] == pytest.approx(e.sum())
    assert rec["hess_term"] == pytest.approx(0.5 * e @ np.asarray(h) @ e)
    assert rec["actual_rise"] == pytest.approx(rec["quad_rise"]) and rec["ratio"] == pytest.approx(1.0)
    for name in ("random_sign_", "random_dir_"):  # same norm, quadratic model still exact
        assert rec[f"{name}actual_rise"] == pytest.approx(rec[f"{name}quad_rise"])
    wall = lambda w, _: jnp.sum((w - w0) ** 4)  # noqa: E731  (flat at w0: H = 0, g = 0)
    rec = blindness_terms(wall, 0.0, w0, q, jax.random.PRNGKey(0))[0]
    assert rec["quad_rise"] == pytest.approx(0.0, abs=1e-12) and rec["actual_rise"] == pytest.approx(
        np.sum(e**4)
    )


def test_labels_and_group_verdicts_use_the_wilson_interval():
    assert label_of(5, 5)[0] == "held" and label_of(0, 5)[0] == "failed" and label_of(4, 5)[0] == "undecided"
    assert label_of(2, 2)[0] == "undecided"  # two seeds can never decide
    lo, hi = wilson_interval(5, 5)
    assert label_of(5, 5)[1:] == pytest.approx((float(lo), float(hi)))
    rows = [
        {
            "seed": s,
            "ptq_outside_abs": s < 4,
            "settled": s < 3,
            "hit_time": 3,
            "ptq_gap": 0.3 if s < 4 else 0.01,
            "tau_sensitivity": {"0.05": {"settled": s < 3}, "0.2": {"settled": True}},
        }
        for s in range(5)
    ]
    v = group_verdict(rows, "abs", qat_steps=100, window=10, oracle_steps=400)
    assert (v["n_outside"], v["k_settled"], v["label"]) == (4, 3, "undecided")
    assert v["outside_seeds"] == [0, 1, 2, 3] and "3/4" in v["text"] and "Wilson 95%" in v["text"]
    inside = group_verdict(
        [dict(r, ptq_outside_abs=False) for r in rows], "abs", qat_steps=100, window=10, oracle_steps=400
    )
    assert inside["label"] == "ptq-inside"
    sens = {s["tau"]: s for s in tau_sensitivity(rows, (0.05, 0.2, 0.5))}
    assert sens[0.05]["k_settled"] == 3 and sens[0.2]["k_settled"] == 4 and sens[0.5]["label"] == "ptq-inside"
    # a start outside at tau whose QAT was not run is unknown, not a failure
    sens = tau_sensitivity([dict(r, tau_sensitivity=None) for r in rows], (0.05,))
    assert sens[0]["n_outside"] == 4 and sens[0]["n_qat"] == 0 and sens[0]["label"] == "not-run"


def test_bad_configs_name_the_argument_and_range():
    with pytest.raises(ValueError, match=r"bits must lie in \(2, 3"):
        check_bits([1, 4])
    with pytest.raises(ValueError, match="model must be one of"):
        BridgeConfig(model="resnet")
    with pytest.raises(ValueError, match="tau must lie in"):
        BridgeConfig(tau=0.0)
    with pytest.raises(ValueError, match="disjoint"):
        BridgeConfig(eval_seeds=(0, 1), tune_seeds=(1, 2))
    with pytest.raises(ValueError, match="grids must be a non-empty subset"):
        BridgeConfig(grids=("minmax",))
    with pytest.raises(ValueError, match="metric_every must lie in"):
        BridgeConfig(qat_steps=20, metric_every=50)
    assert check_bits([2, 8, 4, 4]) == (8, 4, 2)
    q = BridgeConfig.preset("digits-mlp", quick=True)
    assert len(q.eval_seeds) == 2 and len(BridgeConfig.preset("digits-mlp").eval_seeds) >= 5


def test_cli_rejects_bad_bits_and_model():
    from typer.testing import CliRunner

    from landscape.cli import app

    res = CliRunner().invoke(app, ["bridge", "--quick", "--bits", "1,4"])
    assert res.exit_code != 0 and "bits must lie in" in res.output
    res = CliRunner().invoke(app, ["bridge", "--quick", "--model", "resnet"])
    assert res.exit_code != 0 and "model must be one of" in res.output
