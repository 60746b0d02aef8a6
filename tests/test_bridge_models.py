"""The real-model bridge end to end: trained models beat stated floors, PTQ degrades with fewer
bits, and the quick `landscape bridge` run finishes in minutes with a complete, recorded Dataset."""

import json
import time

import jax
import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from landscape.cli import app
from landscape.models.bridge import BridgeConfig, build_task
from landscape.models.cnn import cnn_inputs, patches
from landscape.models.figures import plot_profile_grid, plot_profiles, plot_qat, plot_qat_rho
from landscape.models.mlp import digits_mlp
from landscape.models.nets import flat_weights
from landscape.models.quant import channel_steps, gptq_point, rtn_point
from landscape.models.recovery import task_losses

BITS = (8, 4, 3, 2)

# Floors (stated in docs/bridge.md): digits MLP test accuracy >= 0.95 (chance 0.10);
# Markov LM test perplexity <= 1.10 x the optimal e^H and <= 0.5 x the vocabulary size.
DIGITS_MIN_ACCURACY = 0.95
LM_MAX_PPL_RATIO = 1.10


@pytest.fixture(scope="module")
def digits_task():
    return build_task(BridgeConfig.preset("digits-mlp", quick=True))


@pytest.fixture(scope="module")
def lm_task():
    return build_task(BridgeConfig.preset("markov-lm", quick=True))


@pytest.fixture(scope="module")
def cnn_task():
    return build_task(BridgeConfig.preset("digits-cnn", quick=True))


def test_cnn_im2col_equals_convolution_and_beats_floor(cnn_task):
    params = cnn_task.params
    x = cnn_task.data.x_test[:5]
    k = params["dense"][0]["w"]  # (channels, 9)
    ours = (patches(x) @ k.T).reshape(5, 6, 6, -1)
    ref = jax.lax.conv_general_dilated(x.reshape(5, 1, 8, 8), k.reshape(-1, 1, 3, 3), (1, 1), "VALID")
    np.testing.assert_allclose(np.asarray(ours), np.asarray(ref.transpose(0, 2, 3, 1)), atol=1e-5)
    assert cnn_task.info["test_accuracy"] >= DIGITS_MIN_ACCURACY
    assert [i.shape[1] for i in cnn_inputs(params, x)] == [9, 72, 32]


def test_digits_mlp_beats_accuracy_floor_and_is_reproducible(digits_task):
    info = digits_task.info
    assert info["test_accuracy"] >= DIGITS_MIN_ACCURACY
    assert info["train_loss"] < 0.05
    a = digits_mlp(seed=1, steps=50)
    b = digits_mlp(seed=1, steps=50)
    c = digits_mlp(seed=2, steps=50)
    for la, lb in zip(a.params["dense"], b.params["dense"], strict=True):
        np.testing.assert_array_equal(np.asarray(la["w"]), np.asarray(lb["w"]))
    assert not np.array_equal(np.asarray(a.params["dense"][0]["w"]), np.asarray(c.params["dense"][0]["w"]))


@pytest.mark.slow
def test_markov_lm_beats_perplexity_floor(lm_task):
    info = lm_task.info
    assert info["test_perplexity"] <= LM_MAX_PPL_RATIO * info["optimal_perplexity"]
    assert info["test_perplexity"] <= 0.5 * info["vocab"]
    assert info["optimal_perplexity"] < info["test_perplexity"] * 1.02  # nobody beats e^H by much on test


@pytest.mark.slow
@pytest.mark.parametrize("which", ["digits", "cnn", "lm"])
def test_ptq_loss_increases_as_bits_decrease(which, digits_task, cnn_task, lm_task):
    task = {"digits": digits_task, "cnn": cnn_task, "lm": lm_task}[which]
    train_loss, _ = task_losses(task)
    rtn = [float(train_loss(rtn_point(task.params, b))) for b in BITS]
    gptq = [float(train_loss(gptq_point(task, b, n_calib=512))) for b in BITS]
    loss_star = float(train_loss(flat_weights(task.params)))
    for losses in (rtn, gptq):
        assert all(lo < hi for lo, hi in zip(losses, losses[1:], strict=False)), losses
        assert losses[-1] > loss_star + 0.1  # 2 bits costs real loss
    # GPTQ (with the calibration Hessian) beats RTN at low bit widths
    assert gptq[2] < rtn[2] and gptq[3] < rtn[3]


def test_gptq_points_lie_on_the_per_channel_grid(digits_task):
    task = digits_task
    q = gptq_point(task, 3, n_calib=256)
    start = 0
    for layer in task.params["dense"]:
        rows, cols = layer["w"].shape
        ql = np.asarray(q[start:start + rows * cols]).reshape(rows, cols)
        start += rows * cols
        codes = ql / np.asarray(channel_steps(layer["w"], 3))
        np.testing.assert_allclose(codes, np.round(codes), atol=1e-3)
        assert np.round(codes).min() >= -4 and np.round(codes).max() <= 3


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bridge")
    t0 = time.perf_counter()
    result = CliRunner().invoke(app, ["bridge", "--quick", "--model", "digits-mlp", "--bits", "2,3,4,8",
                                      "--out", str(out)])
    wall = time.perf_counter() - t0
    return result, wall, out


@pytest.mark.slow
def test_quick_bridge_cli_runs_in_minutes_and_prints_verdicts(quick_run):
    result, wall, out = quick_run
    assert result.exit_code == 0, result.output
    assert wall < 180.0, f"quick bridge took {wall:.0f} s"
    for b in (2, 3, 4, 8):
        assert f"{b}-bit rtn:" in result.output and f"{b}-bit gptq:" in result.output
    assert "held" in result.output or "failed" in result.output
    assert (out / "bridge_digits-mlp_profiles.png").stat().st_size > 0
    assert (out / "bridge_digits-mlp_qat.png").stat().st_size > 0


@pytest.mark.slow
def test_quick_bridge_dataset_is_complete_and_consistent(quick_run):
    _, _, out = quick_run
    ds = xr.load_dataset(out / "bridge_digits-mlp.nc", engine="h5netcdf")
    man = json.loads(ds.attrs["manifest"])
    assert man["config"]["model"] == "digits-mlp" and man["seed"] == 0 and man["config"]["quick"]
    assert list(ds.bits.values) == [8, 4, 3, 2] and list(ds.ptq.values) == ["rtn", "gptq"]
    lam = ds.eigenvalue.values
    assert np.all(lam > 0) and np.all(np.diff(lam) <= 0)
    assert np.all(ds.ritz_residual.values < 1e-2 * lam[0])
    assert np.all(ds.width_minus.values > 0) and np.all(ds.width_plus.values > 0)
    # the profile crosses tau where the widths say (within the profile grid's resolution)
    tau = ds.attrs["tau"]
    for i in range(ds.sizes["direction"]):
        t, rise = ds.profile_t.values[i], ds.profile_rise.values[i]
        inside = (t > -ds.width_minus.values[i]) & (t < ds.width_plus.values[i])
        assert np.all(rise[inside] <= tau + 1e-6)
    # PTQ loss rises as bits fall; in-basin flag matches the stated definition
    for m in ("rtn", "gptq"):
        losses = ds.ptq_loss.sel(ptq=m).values
        assert np.all(np.diff(losses) > 0)
        expect = losses - ds.attrs["loss_star"] <= tau
        np.testing.assert_array_equal(ds.ptq_in_basin.sel(ptq=m).values, expect)
    # QAT: step 0 deploys the RTN point; hit_time is the first in-basin step
    np.testing.assert_allclose(ds.qat_loss.sel(ptq="rtn").values[:, 0], ds.ptq_loss.sel(ptq="rtn").values,
                               rtol=1e-5)
    for b in ds.bits.values:
        for m in ds.ptq.values:
            inside = ds.qat_in_basin.sel(bits=b, ptq=m).values
            hit = int(ds.hit_time.sel(bits=b, ptq=m))
            assert hit == (int(np.argmax(inside)) if inside.any() else -1)
            v = str(ds.verdict.sel(bits=b, ptq=m).values)
            assert v.startswith("held") or v.startswith("failed")
    # 8-bit is inside the basin for both methods
    assert bool(ds.ptq_in_basin.sel(bits=8).all())


@pytest.mark.slow
def test_figures_draw_from_the_dataset(quick_run):
    _, _, out = quick_run
    ds = xr.load_dataset(out / "bridge_digits-mlp.nc", engine="h5netcdf")
    fig, axes = plt.subplots(1, 3)
    plot_profiles(ds, axes[0], direction=1)
    # one profile line + one marker per (bits, ptq)
    assert len(axes[0].lines) == 1 + ds.sizes["bits"] * ds.sizes["ptq"] + 1  # + tau line
    plot_qat(ds, axes[1])
    assert len(axes[1].lines) >= ds.sizes["bits"] * ds.sizes["ptq"]
    plot_qat_rho(ds, axes[2])
    with pytest.raises(ValueError, match="direction must lie"):
        plot_profiles(ds, axes[0], direction=99)
    plt.close(fig)
    grid = plot_profile_grid(ds)
    assert len(grid.axes) == min(4, ds.sizes["direction"])
    plt.close(grid)
    jax.clear_caches()
