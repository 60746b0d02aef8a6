"""Hessian blindness (walled vs wall-free twin), the 2-D RTN exit law, and the ``landscape ptq`` command."""

import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import landscape as ls
from landscape.cli import app
from landscape.laws import rtn_exit_probability_2d
from landscape.ptq import HESSIAN_METHODS, ptq_methods
from landscape.studies.ptq_failure import rtn_exit_vs_theta
from landscape.testing import case_landscape, case_start, cases


def twin_pair(seed, dim, k, rb=0.2, mu=0.3):
    walled = ls.random_river(jax.random.key(seed), dim, k, wall=ls.quadratic_wall(rb, 25.0, mu))
    return walled, twin_of(walled)


def twin_of(land):
    """The wall-free twin of a landscape: the same river and basin, kappa = 0."""
    return land.replace(wall=ls.quadratic_wall(float(land.basin_radius), 0.0, float(land.wall.mu)))


@jax.jit
def _loss_grad_hess(land, w):
    return land.loss(w), land.grad(w), land.hessian(w)


@settings(max_examples=10, deadline=None)
@given(cases(shapes=((6, 1), (6, 2)), s_range=(-5.0, 5.0), spread=(0.0, 0.0), frac=st.floats(0.0, 0.95)))
def test_twin_identical_inside_the_basin(case):
    """Inside the basin (rho < r_b) the walled landscape and its twin have equal L, grad L, Hess L."""
    with jax.enable_x64(True):  # a case is plain numbers: its objects are built here, in float64
        walled = case_landscape(case, wall=ls.quadratic_wall(0.2, 25.0, 0.3))
        free = twin_of(walled)
        w_star, n_dir = case_start(case, walled, direction=True)
        frac, s = case["frac"], case["s0"]
        v = frac * walled.basin_radius * jnp.asarray(n_dir)
        w = jnp.asarray(w_star) + walled.normals.T @ v
        assert float(walled.rho(w)) < float(walled.basin_radius)
        lw, gw, hw = _loss_grad_hess(walled, w)
        lf, gf, hf = _loss_grad_hess(free, w)
        assert float(lw) == pytest.approx(float(lf), abs=1e-15)
        np.testing.assert_allclose(gw, gf, atol=1e-14)
        np.testing.assert_allclose(hw, hf, atol=1e-12)
        # outside, they differ: the twin really has no wall
        w_out = s * walled.river_dir + walled.normals.T @ (3.0 * v / max(frac, 0.1))
        if float(walled.rho(w_out)) > 1.05 * float(walled.basin_radius):
            assert float(walled.loss(w_out)) > float(free.loss(w_out))


def test_hessian_methods_return_identical_q_on_the_twins():
    walled, free = twin_pair(3, 12, 2, rb=0.1, mu=0.1)
    w = walled.sample_river(jax.random.key(4), 32, s_range=(-5, 5), spread=1.0)
    quant = ls.uniform_grid(0.25)  # step / r_b = 2.5: many RTN points leave the basin
    rho_rtn = jax.vmap(walled.rho)(quant.quantize(w))
    assert float(jnp.mean(rho_rtn > walled.basin_radius)) > 0.1
    for name in HESSIAN_METHODS:
        q_w = ptq_methods[name](walled, quant, w)
        q_f = ptq_methods[name](free, quant, w)
        np.testing.assert_array_equal(np.asarray(q_w), np.asarray(q_f), err_msg=name)
    # mu = 0: the Hessian in the basin is 0, lambda = damp, and every Hessian method is RTN
    flat = walled.replace(wall=ls.quadratic_wall(0.1, 25.0, 0.0))
    for name in HESSIAN_METHODS:
        q = ptq_methods[name](flat, quant, w)
        np.testing.assert_array_equal(np.asarray(q), np.asarray(quant.quantize(w)), err_msg=name)


@pytest.mark.parametrize("theta", [0.1, 0.4, 0.7, math.pi / 4])
@pytest.mark.parametrize("ratio", [1.5, 2.5, 4.0])
def test_rtn_exit_probability_2d_matches_monte_carlo(theta, ratio):
    rng = np.random.default_rng(0)
    n = 200_000
    e = rng.uniform(-ratio / 2, ratio / 2, size=(n, 2))  # units of r_b
    x = np.abs(-math.sin(theta) * e[:, 0] + math.cos(theta) * e[:, 1])
    p_mc = np.mean(x > 1.0)
    p = rtn_exit_probability_2d(theta, ratio, 1.0)
    assert abs(p - p_mc) <= 5 * math.sqrt(max(p * (1 - p), 1e-6) / n)
    assert rtn_exit_probability_2d(0.3, 1.0, 1.0) == 0.0  # delta_perp = (sin + cos)/2 < 1: never exits


def test_rtn_exit_along_the_river_equidistributes():
    """Trained points spread along a rotated river: exit fraction ~ residual Monte-Carlo ~ closed form."""
    ds = rtn_exit_vs_theta(thetas=(0.3, 0.6), step_over_rb=2.5, n_points=4000, n_mc=20_000, seeds=(0,))
    assert ds["exit_fraction"].dims == ("theta", "seed")
    sim = ds["exit_fraction"].values[:, 0]
    closed = ds["closed_form_exit"].values
    se = np.sqrt(closed * (1 - closed) / 4000)
    assert np.all(np.abs(sim - closed) <= 5 * se + 0.01)
    assert np.all(np.abs(ds["mc_residual_exit"].values[:, 0] - closed) <= 0.02)
    assert json.loads(ds.attrs["manifest"])["config"]["step_over_rb"] == 2.5


@pytest.mark.slow
def test_ptq_command_quick(tmp_path):
    res = CliRunner().invoke(app, ["ptq", "--quick", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "exit while oracle inside" in res.output
    # progress on stderr: a start line, then one line per finished measurement, counted (issue 21)
    steps = [ln for ln in res.stderr.splitlines() if ln.startswith("ptq ") and "/7: " in ln]
    assert [ln.split(":")[0] for ln in steps] == [f"ptq {i}/7" for i in range(1, 8)], res.stderr
    assert "compare_exact" in steps[3] and "valley_recovery" in steps[-1] and "exit while" not in res.stderr
    for name in ("rtn_exit_step", "rtn_exit_theta", "rtn_exit_dk", "compare_exact"):
        ds = xr.load_dataset(tmp_path / f"{name}.nc", engine="h5netcdf")
        man = ls.manifest.load_manifest(ds) if hasattr(ls, "manifest") else json.loads(ds.attrs["manifest"])
        assert {"config", "seed", "versions", "git_commit"} <= set(man)
    cmp = xr.load_dataset(tmp_path / "compare_exact.nc", engine="h5netcdf")
    assert cmp["exit_fraction"].dims == ("method", "step_over_rb", "seed")
    assert list(cmp["method"].values) == list(ptq_methods) + ["oracle"]
    assert np.all(cmp["hessian_max_diff"].values == 0.0)
    for name in HESSIAN_METHODS:  # blind to the wall: identical q on both landscapes
        assert np.all(cmp["same_q_fraction"].sel(method=name).values == 1.0)
    ex = cmp["exit_fraction"]
    # the oracle searches the corners of w*'s cell, where RTN, stochastic and AdaRound also land;
    # the walled loss is increasing in rho (no drift), so it exits no more often than they do
    for name in ("rtn", "stochastic", "adaround"):
        assert np.all(ex.sel(method="oracle").values <= ex.sel(method=name).values)
    assert np.all(cmp["exit_with_oracle_inside"].values <= ex.values)
    assert float(ex.sel(method="rtn").max()) > 0.0  # the failure mode is present in the quick config
