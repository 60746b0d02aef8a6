"""What makes the bridge decide: the verdict's power, the tie-free tuning score, the calibrated bands, the
regime quantities and the Lanczos spectra they rest on, the one training loop, the generated doc blocks."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy.stats import binom

from landscape.models.calibration import TAU_FLOOR, null_taus
from landscape.models.hessian import dense_eigenvalues, dense_hessian, eigen_residuals, lanczos_top
from landscape.models.nets import (
    FullBatch,
    Windows,
    cross_entropy,
    dense_init,
    dense_stack,
    flat_weights,
    train,
    with_weights,
)
from landscape.models.regime import ON_RIVER, _band_along, regime_label
from landscape.models.tables import render_presets, update_doc
from landscape.models.tuning import score_key, tail_score, tuning_starts
from landscape.models.verdict import label_of, power_of


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 11, 12, 24, 30])
def test_power_names_the_fewest_successes_and_the_smallest_rate_that_decide(n):
    pw = power_of(n)
    held = [k for k in range(n + 1) if label_of(k, n)[0] == "held"]
    if not held:
        assert n <= 3 and not pw["decidable"] and pw["k_held"] is None
        return
    assert pw["k_held"] == held[0] and pw["decidable"]
    # by the interval's symmetry, n - k_held or fewer reads failed
    assert label_of(n - pw["k_held"], n)[0] == "failed" and label_of(n - pw["k_held"] + 1, n)[0] != "failed"
    p = pw["min_rate"]
    assert binom.sf(pw["k_held"] - 1, n, p) >= 0.8 > binom.sf(pw["k_held"] - 1, n, p - 2e-4)


def test_the_full_preset_tells_three_quarters_from_a_half():
    assert power_of(24)["min_rate"] < 0.8 and power_of(24)["k_held"] == 17


def test_tuning_score_is_signed_and_breaks_ties_by_the_documented_grid_order():
    loss_star = 1.0
    above = np.r_[np.full(90, 2.0), np.full(11, 1.01)]
    below = np.r_[np.full(90, 2.0), np.full(11, 0.99)]
    # clipped at 0 both would score 0; signed, ending below L* is better
    assert tail_score(below, loss_star)[0] < 0 < tail_score(above, loss_star)[0]
    assert tail_score(np.r_[above[:-1], np.nan], loss_star) == (float("inf"), float("inf"))
    e = lambda i, ex, sd, nf=0: {
        "grid_index": i,
        "mean_tail_excess": ex,
        "mean_tail_std": sd,
        "nonfinite": nf,
    }  # noqa: E731
    table = [e(0, 0.01, 0.0), e(1, -0.02, 0.5), e(2, -0.02, 0.1), e(3, -0.5, 0.0, nf=1), e(4, -0.02, 0.1)]
    ranked = [x["grid_index"] for x in sorted(table, key=score_key)]
    assert ranked == [2, 4, 1, 0, 3]  # excess, then stability, then the grid order; non-finite runs last
    assert score_key(e(5, None, None)) > score_key(e(6, 10.0, 10.0))


def test_tuning_starts_never_rest_on_one_start():
    class Net:
        def __init__(self, gaps):
            self.loss_star = 0.0
            self.ptq_loss = gaps

    class Cfg:
        grids = ("absmax", "clip")
        tune_methods = ("rtn", "gptq")
        min_tune_starts = 4

    nets = {
        100: Net({(3, "absmax", "rtn"): 0.5, (3, "absmax", "gptq"): 0.003, (3, "clip", "rtn"): 0.004,
                  (3, "clip", "gptq"): 0.001}),
        101: Net({(3, "absmax", "rtn"): 0.005, (3, "absmax", "gptq"): 0.002, (3, "clip", "rtn"): 0.0,
                  (3, "clip", "gptq"): 0.0}),
    }  # fmt: skip
    starts = tuning_starts(Cfg, nets, 3)
    assert starts[0] == (100, 3, "absmax", "rtn") and len(starts) == 4
    assert starts[1:] == [(101, 3, "absmax", "rtn"), (100, 3, "clip", "rtn"), (100, 3, "absmax", "gptq")]
    none = {s: Net(dict.fromkeys(n.ptq_loss, 0.0)) for s, n in nets.items()}
    assert tuning_starts(Cfg, none, 3) == []  # nothing outside the smallest band: nothing to tune


def test_null_taus_hold_every_null_run_and_respect_the_floor():
    recs = [
        {"tail_max_rise": -0.02, "tail_max_test_rise": 0.004, "rel_held": True},
        {"tail_max_rise": 0.013, "tail_max_test_rise": 0.031, "rel_held": False},
    ]
    t = null_taus(recs)
    assert t["tau"] == 0.013 and t["tau_test"] == 0.031 and t["rel_held"] == 1 and t["n_runs"] == 2
    assert all(r["tail_max_rise"] <= t["tau"] and r["tail_max_test_rise"] <= t["tau_test"] for r in recs)
    low = null_taus([dict(r, tail_max_rise=-1.0, tail_max_test_rise=-1.0) for r in recs])
    assert low["tau"] == low["tau_test"] == TAU_FLOOR


def test_band_and_minimum_along_a_direction_on_a_shifted_quadratic():
    # L(t) = L* + a (t - m)^2 - a m^2 (so L(0) = L*): band {L - L* <= tau} = m +- sqrt(tau/a + m^2)
    a, m, tau = 2.0, 0.03, 0.05
    ts = np.linspace(-1.0, 1.0, 4001)
    prof = 1.0 + a * (ts - m) ** 2 - a * m**2
    lo, hi, tmin, cut = _band_along(prof, ts, 1.0, tau)
    half = np.sqrt(tau / a + m**2)
    assert not cut and tmin == pytest.approx(m, abs=1e-6)
    assert (lo, hi) == pytest.approx((m - half, m + half), abs=1e-3)
    failed = [{"error_over_width": x} for x in (0.5, 2.0, 3.0)]
    lab = regime_label(failed, [0.01, 0.02, 0.5])
    assert lab["regime"] == "ptq_failed" and lab["on_river"] and lab["error_over_width_median"] == 2.0
    assert regime_label(failed[:1], [ON_RIVER * 2] * 3)["regime"] == "in_basin"
    assert not regime_label(failed[:1], [ON_RIVER * 2] * 3)["on_river"]
    assert regime_label([], [0.0])["regime"] == "ptq-inside"


def test_lanczos_on_hvps_matches_the_dense_spectrum_float64():
    with jax.enable_x64(True):
        key = jax.random.PRNGKey(3)
        x = jax.random.normal(key, (40, 5), jnp.float64)
        y = jnp.arange(40) % 3
        p = {
            "dense": [
                {k: v.astype(jnp.float64) for k, v in layer.items()} for layer in dense_init(key, (5, 6, 3))
            ]
        }
        w0 = flat_weights(p)
        loss = lambda w, _: cross_entropy(dense_stack(with_weights(p, w)["dense"], x), y)  # noqa: E731
        dense = np.linalg.eigvalsh(np.asarray(dense_hessian(lambda w: loss(w, None), w0)))[::-1]
        np.testing.assert_allclose(dense_eigenvalues(loss, None, w0), dense, rtol=1e-9, atol=1e-12)
        vals, vecs = lanczos_top(loss, None, w0, jax.random.PRNGKey(0), k=3, num_matvecs=40)
        np.testing.assert_allclose(vals, dense[:3], rtol=1e-8)
        np.testing.assert_allclose(vecs @ vecs.T, np.eye(3), atol=1e-8)
        assert np.max(eigen_residuals(loss, None, w0, vals, vecs)) < 1e-6


def test_the_one_training_loop_is_adamw_with_the_stated_schedule():
    key = jax.random.PRNGKey(0)
    apply = lambda p, x: dense_stack(p["dense"], jax.nn.one_hot(x.reshape(-1), 7))  # noqa: E731
    params = {"dense": dense_init(key, (7, 7))}
    stream = jax.random.randint(key, (200,), 0, 7)
    loss = Windows(apply, 3, 4)
    # reference: optax's own warmup-cosine AdamW with clipping, same keys, written out by hand
    steps, warm = 12, 3
    tx = optax.chain(
        optax.clip_by_global_norm(1.0),
        optax.adamw(
            optax.warmup_cosine_decay_schedule(0.0, 0.01, warm, steps, 0.01 * 0.05), weight_decay=0.1
        ),
    )
    p, s = params, tx.init(params)
    data = {"stream": stream}
    keys = jax.random.split(jax.random.PRNGKey(5), steps)
    for t in range(steps):
        g = jax.grad(loss)(p, data, keys[t])
        u, s = tx.update(g, s, p)
        p = optax.apply_updates(p, u)
    ours, losses, _ = train(
        loss, params, data, steps=steps, learning_rate=0.01, weight_decay=0.1, key=jax.random.PRNGKey(5),
        warmup=warm, clip=1.0, end_fraction=0.05,
    )  # fmt: skip
    np.testing.assert_allclose(
        np.asarray(flat_weights(ours)), np.asarray(flat_weights(p)), rtol=1e-5, atol=1e-6
    )
    assert losses.shape == (steps,)
    # the full-batch loss is the cross-entropy on the whole set, whatever the key
    fb = FullBatch(lambda p, x: dense_stack(p["dense"], x))
    xy = {"x": jax.random.normal(key, (9, 7)), "y": jnp.arange(9) % 7}
    assert float(fb(params, xy, key)) == float(fb(params, xy, jax.random.PRNGKey(1)))


def test_generated_blocks_replace_only_their_own_text():
    text = "intro\n<!-- BEGIN GENERATED: presets -->\nold\n<!-- END GENERATED: presets -->\nkept\n"
    new = update_doc(text, {"presets": "NEW\n", "results": "R\n"})
    assert new == "intro\n<!-- BEGIN GENERATED: presets -->\nNEW\n<!-- END GENERATED: presets -->\nkept\n"
    table = render_presets()
    for m in ("digits-mlp", "digits-cnn", "char-transformer", "markov-lm"):
        assert f"| `{m}` | full |" in table and f"| `{m}` | quick |" in table
    assert "0-23 (24)" in table and "100-103 (4)" in table
