"""The valley failure: exact planar laws vs float64 simulation, S2V / S2L attacked, a wrong GPTQ caught,
the measurements' structure (Wilson intervals, blindness, recovery outcomes) and figure 3's functions."""

import importlib
import json
import math
from fractions import Fraction

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import landscape as ls
from landscape.cli import app
from landscape.laws import valley as valley_law
from landscape.plot.lint import text_overlaps, unlabelled_axes
from landscape.plot.valley import (
    draw_exit_vs_curvature,
    draw_planar_law,
    draw_valley_slice,
    plot_valley_failure,
)
from landscape.reproduce.figures import replot
from landscape.reproduce.stages.valley import prefixed, unprefixed
from landscape.studies import ptq_valley
from landscape.studies.ptq_study import valley_twin_dataset
from proofs.catalog import by_id, mutants
from proofs.core.falsify import attack, check_case

#: the module (the package proofs.valley exports a function of the same name)
valley_scenarios = importlib.import_module("proofs.valley.scenarios")


@pytest.mark.float64
@pytest.mark.parametrize("lam_over_mu,step_over_rb", [(100.0, 2.0), (5.0, 1.6), (1000.0, 3.0)])
def test_planar_law_matches_float64_simulation(lam_over_mu, step_over_rb):
    mu, rb, n = 0.1, 0.1, 20_000
    step = step_over_rb * rb
    wall = ls.quadratic_wall(rb, 1e3, mu)
    land = ls.valley_landscape_3d(math.pi / 4, wall=wall, curvature=lam_over_mu * mu)
    w = land.sample_river(jax.random.key(0), n, s_range=(-5.0, 5.0))
    offs = jax.random.uniform(jax.random.key(1), (n, 3), minval=0.0, maxval=step, dtype=jnp.float64)
    quant = ls.uniform_grid(step, offset=offs)
    rho, big_r = valley_law.planar_rho(rb, step), valley_law.planar_ratio(mu, lam_over_mu * mu)
    for name in ("rtn", "proxy_min", "gptq", "obq"):
        q = quant.quantize(w) if name == "rtn" else ls.ptq_methods[name](land, quant, w)
        p = float(jnp.mean(~jax.vmap(land.in_basin)(q)))
        law = float(valley_law.exit_probability(rho, name, big_r))
        assert abs(p - law) <= 5 * math.sqrt(law * (1 - law) / n) + 1 / n, (name, p, law)


def test_closed_forms_and_argument_checks():
    for rho in (Fraction(0), Fraction(3, 10), Fraction(1, 2), Fraction(7, 10), Fraction(1), Fraction(2)):
        assert valley_law.exit_probability(rho, "rtn") == valley_law.rtn_exit(rho)
        assert valley_law.exit_probability(rho, "min_corner") == max(0, 1 - 2 * rho)
    assert valley_law.proxy_limit_exit(0.25) == 0.75
    assert valley_law.planar_gamma(valley_law.planar_ratio(0.1, 0.1)) == 0.0
    with pytest.raises(ValueError, match="method"):
        valley_law.exit_probability(0.5, "nope")
    with pytest.raises(ValueError, match="ratio"):
        valley_law.exit_probability(0.5, "gptq", 0.0)
    with pytest.raises(ValueError, match="rho"):
        valley_law.exit_probability(-0.1)


@pytest.mark.parametrize("sid", ["S2V", "S2L"])
def test_valley_statements_hold_and_their_mutants_are_caught(sid):
    stmt = by_id(sid)
    assert stmt.regime == "ptq_failed"
    res = attack(stmt, max_examples=8)
    assert res.violations == 0 and res.cases >= 3, res
    for m in mutants(stmt):
        assert attack(m, max_examples=20).violations > 0, m.mutant_of


def test_a_gptq_without_error_feedback_is_caught(monkeypatch):
    """GPTQ replaced by RTN (no compensation): the exact GPTQ law of S2V refutes it."""
    case = {"seed": 3, "lam_over_mu": 1000.0, "mu": 0.1, "step_over_rb": 2.0, "rb": 0.1, "damp": 0.01}
    stmt = by_id("S2V")
    assert check_case(stmt, case).holds
    monkeypatch.setattr(valley_scenarios, "gptq", lambda land, quant, w, damp: quant.quantize(w))
    res = check_case(stmt, case)
    assert res.applicable and not res.holds and "law_gptq" in res.failed


def test_valley_exit_measurement_structure():
    ds = ptq_valley.valley_exit(dim=8, k=1, ms=(3,), lambda_over_mu=(0.0, 1000.0), step_over_rb=(2.0,),
                                n_points=64, seeds=(0, 1))
    assert list(ds["method"].values) == list(ptq_valley.VALLEY_METHODS)
    assert ds["exit_count"].dims == ("method", "m", "lambda_over_mu", "step_over_rb", "seed")
    lo, hi = ls.wilson_interval(ds["exit_count"].sum("seed"), 128)
    np.testing.assert_allclose(ds["exit_lo"].values, lo)
    assert np.all(ds["exit_lo"] <= ds["exit_pooled"]) and np.all(ds["exit_pooled"] <= ds["exit_hi"])
    for name in ("obq", "gptq", "adaround", "proxy_min"):  # blind to the wall
        assert np.all(ds["same_q_fraction"].sel({"method": name}).values == 1.0)
    assert np.all(ds["exit_with_corner_inside"] <= ds["exit_fraction"] + 1e-12)
    assert ds.attrs["corner_exact"] == 1
    assert {"config", "seed", "git_commit"} <= set(json.loads(ds.attrs["manifest"]))
    assert ptq_valley.valley_methods(64) == [m for m in ptq_valley.VALLEY_METHODS if m != "proxy_min"]


def test_ste_recovery_from_gptq_failures_counts_outcomes_apart():
    ds = ptq_valley.valley_recovery(dim=8, k=1, m=3, n_points=128, num_steps=100)
    st = json.loads(ds.attrs["stats"])
    assert st["n"] == ds.attrs["n_failed"] == ds.sizes["start"] > 0
    assert st["recovered"] + st["censored"] + st["diverged"] == st["n"]
    hit, div = ds["hit_time"].values, ds["diverge_time"].values
    assert st["recovered"] == int(np.sum((hit >= 0) & (div < 0)))
    assert np.all(ds["oracle_loss"].values <= ds["ptq_loss"].values + 1e-5)  # GPTQ's q: a corner or worse
    with pytest.raises(ls.LandscapeError, match="no trained point"):
        ptq_valley.valley_recovery(dim=8, k=1, m=3, n_points=16, num_steps=5, lambda_over_mu=0.0,
                                   step_over_rb=0.5)


@pytest.fixture(scope="module")
def fig3_data():
    twin = valley_twin_dataset(0.2, 0.1, 1e3, 0.1, 100.0, 64, jax.random.key(0), n_mesh=31)
    vx = ptq_valley.valley_exit(dim=6, k=1, ms=(2,), lambda_over_mu=(0.0, 100.0), step_over_rb=(2.0,),
                                n_points=32, seeds=(0,))
    pl = ptq_valley.planar_law(lambda_over_mu=(1.0, 100.0), step_over_rb=(2.0,), n_points=500)
    ds = twin.merge(prefixed(vx, "vx_")).merge(prefixed(pl, "pl_"))
    ds.attrs = {**twin.attrs, **prefixed(vx, "vx_").attrs, **prefixed(pl, "pl_").attrs}
    return twin, vx, pl, ds


def test_figure3_parts_come_back_from_the_merged_dataset(fig3_data):
    """The stage's numbers read panels (c) and (d) from the one saved Dataset: unprefixed gives them back."""
    twin, vx, pl, ds = fig3_data
    xr.testing.assert_identical(unprefixed(ds, "vx_"), vx)
    xr.testing.assert_identical(unprefixed(ds, "pl_"), pl)
    assert not any(str(v).startswith(("vx_", "pl_")) for v in unprefixed(ds, "vx_").variables)


def test_figure3_functions_are_axes_level_and_labelled(fig3_data, tmp_path):
    twin, vx, pl, ds = fig3_data
    for draw, data in ((draw_valley_slice, twin), (draw_exit_vs_curvature, vx), (draw_planar_law, pl)):
        fig, ax = plt.subplots()
        assert draw(data, ax=ax) is ax and ax.get_xlabel() and ax.get_ylabel()
        plt.close(fig)
    assert draw_planar_law(pl).figure is not None  # ax=None: drawn on a new figure
    plt.close("all")
    # the planar example: RTN inside, GPTQ and the proxy minimiser outside, identical on the twin
    assert float(twin["point_rho"].sel(point="rtn")) <= 0.1 < float(twin["point_rho"].sel(point="gptq"))
    assert np.all(twin["same_q"].sel(ptq_method=["obq", "gptq", "adaround", "proxy_min"]).values == 1.0)
    fig = plot_valley_failure(ds)
    assert not text_overlaps(fig) and not unlabelled_axes(fig)
    path = tmp_path / "fig3_hessian_blindness.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    again = replot("fig3_hessian_blindness", tmp_path)  # redrawn from the saved dataset
    assert len(again.axes) == 4
    plt.close("all")


@pytest.mark.slow
def test_ptq_command_valley_quick(tmp_path):
    res = CliRunner().invoke(app, ["ptq", "--quick", "--family", "valley", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    steps = [ln for ln in res.stderr.splitlines() if ln.startswith("ptq ") and "/3: " in ln]
    assert len(steps) == 3 and "valley_recovery" in steps[-1], res.stderr  # progress per measurement
    assert "95% Wilson" in res.output and "exact law" in res.output and "gptq-failed starts" in res.output
    for name in ("valley_exit", "valley_planar", "valley_recovery"):
        ds = xr.load_dataset(tmp_path / f"{name}.nc", engine="h5netcdf")
        assert {"config", "seed", "versions", "git_commit"} <= set(ls.manifest.load_manifest(ds))
