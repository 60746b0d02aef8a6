"""Recovery experiments: datasets, statistics, sweeps, the two regimes of the issue, the CLI."""

from __future__ import annotations

import json

import jax
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import landscape as L
from landscape.cli import app
from landscape.manifest import load_manifest, save_dataset
from landscape.qat import full_precision, ste
from landscape.studies.recovery import (
    highdim_case,
    make_case,
    ptq_starts,
    recovery_experiment,
    rotated2d_case,
    sweep,
)

TINY = highdim_case(dim=32, k=2, n_points=40, num_steps=40, window=10, record_every=4, n_paths=4)


def tiny_rules(lr):
    """Two rules; rules are values, so fresh objects reuse the compilation."""
    return {"ste": ste(lr), "fp": full_precision(lr)}


def test_dataset_statistics_are_those_of_the_failed_starts(tmp_path):
    ds = recovery_experiment(TINY, tiny_rules(TINY.learning_rate))
    assert ds["hit_time"].dims == ("rule", "start") and ds.sizes["start"] == 40
    assert ds["rho_w"].dims == ("rule", "path", "t") and ds.sizes["t"] == 10
    f = ds["failed"].values
    np.testing.assert_array_equal(f, ds["rho_ptq"].values > TINY.basin_radius)
    assert ds.attrs["n_failed"] == f.sum() > 0
    for r in ("ste", "fp"):
        ht = ds["hit_time"].sel(rule=r).values[f]
        assert float(ds["p_recover"].sel(rule=r)) == pytest.approx((ht >= 0).mean())
        if (ht >= 0).any():
            assert float(ds["T_median"].sel(rule=r)) == pytest.approx(np.median(ht[ht >= 0]))
    # every failed start has T != 0; the rule sees the failed RTN point first
    assert np.all(ds["hit_time"].values[:, f] != 0)
    assert np.all(ds["hit_time"].values[:, ~f] == 0)
    path = save_dataset(ds, tmp_path / "rec.nc")
    back = xr.load_dataset(path, engine="h5netcdf")
    man = load_manifest(back)
    assert man["config"]["dim"] == 32 and man["seed"] == 0 and "git_commit" in man
    np.testing.assert_array_equal(back["hit_time"].values, ds["hit_time"].values)


def test_same_config_and_seed_give_the_same_numbers():
    a = recovery_experiment(TINY, tiny_rules(TINY.learning_rate))
    b = recovery_experiment(TINY, tiny_rules(TINY.learning_rate))
    np.testing.assert_array_equal(a["hit_time"].values, b["hit_time"].values)
    np.testing.assert_array_equal(a["final_loss"].values, b["final_loss"].values)
    c = recovery_experiment(TINY.replace(seed=1), tiny_rules(TINY.learning_rate))
    assert not np.array_equal(a["rho_ptq"].values, c["rho_ptq"].values)


def test_gptq_starts_are_grid_points():
    ls, qz = make_case(TINY)
    st = ptq_starts(ls, qz, jax.random.PRNGKey(0), 4, "gptq")
    q = np.asarray(st["w0"])
    np.testing.assert_allclose(q / TINY.step, np.round(q / TINY.step), atol=1e-4)
    np.testing.assert_array_equal(np.asarray(st["w0"]), np.asarray(st["q_ptq"]))


def test_sweep_has_one_cell_per_value_and_a_manifest():
    out = sweep(TINY, "kappa", [5.0, 20.0], rules=tiny_rules)
    assert out["p_recovered"].dims == ("kappa", "rule")
    assert list(out["kappa"].values) == [5.0, 20.0] and list(out["rule"].values) == ["ste", "fp"]
    assert np.all((out["p_lo"].values <= out["p_recovered"].values) & (out["p_recovered"].values <= 1))
    assert json.loads(out.attrs["manifest"])["config"]["sweep_axis"] == "kappa"
    fl = sweep(TINY, "flip_over_rb", [0.5, 1.5], rules=tiny_rules)
    np.testing.assert_allclose(fl["max_flip_over_rb"].values, [0.5, 1.5], rtol=1e-5)
    with pytest.raises(L.LandscapeError, match="ptq"):
        sweep(TINY.replace(ptq=lambda ls, qz, w: qz.quantize(w)), "kappa", [5.0], rules=tiny_rules)


def test_sweep_is_the_public_sweep_summarised():
    """The recovery sweep's cells are landscape.sweep's (same keys and cases), summarised by its summarize."""
    out = sweep(TINY, "step_over_rb", [2.0, 4.0], rules=lambda lr: {"ste": ste(lr)})
    ds = L.sweep(landscape=lambda key, dim, k, drift: L.random_river(key, dim, k, river_loss=drift),
                 wall="quadratic", basin_radius=TINY.basin_radius, kappa=TINY.kappa, mu=0.0, dim=32, k=2,
                 drift=0.0, quantizer="uniform", step=[2.0 * TINY.basin_radius, 4.0 * TINY.basin_radius],
                 rule=ste(TINY.learning_rate), num_steps=TINY.num_steps, seeds=[0], starts=TINY.n_points,
                 s_range=TINY.s_range)  # fmt: skip
    want = L.sweep.summarize(ds)
    got = out.sel(rule="ste")
    for v in ("n", "recovered", "censored", "diverged", "p_recovered", "median_T", "ptq_exit_fraction"):
        np.testing.assert_array_equal(got[v].values, want[v].values)
    np.testing.assert_allclose(out["step_over_rb"].values, [2.0, 4.0])
    assert int(got["n"].sum()) > 0  # PTQ failures were counted


@pytest.mark.parametrize(
    "change, match",
    [
        ({"case": "3d"}, "case"),
        ({"basin_radius": 0.0}, "basin_radius"),
        ({"k": 40}, "k"),
        ({"num_steps": 41}, "record_every"),
        ({"window": 40}, "window"),
    ],
)
def test_bad_configs_name_the_argument(change, match):
    with pytest.raises(L.LandscapeError, match=match):
        TINY.replace(**change)


def test_bad_sweep_axis():
    with pytest.raises(L.LandscapeError, match="axis"):
        sweep(TINY, "temperature", [1.0])


@pytest.mark.slow
def test_the_two_regimes_of_the_issue():
    """rotated2d: STE chatters for most RTN-failed starts; highdim: RTN fails mostly, STE recovers fast."""
    rot = recovery_experiment(rotated2d_case(n_points=100), {"ste": ste(0.05)})
    assert rot.attrs["max_flip_over_rb"] > 2
    assert float(rot["p_chatter"].sel(rule="ste")) > 0.6
    assert float(rot["p_recover"].sel(rule="ste")) < 0.3
    hd = recovery_experiment(highdim_case(n_points=100), {"ste": ste(0.05)})
    assert hd.attrs["max_flip_over_rb"] < 2
    assert hd.attrs["rtn_typical_normal_error"] > highdim_case().basin_radius
    assert hd.attrs["ptq_failure_rate"] > 0.5
    assert float(hd["p_recover"].sel(rule="ste")) > 0.9
    assert float(hd["T_median"].sel(rule="ste")) <= 30


@pytest.mark.slow
def test_cli_recover_prints_every_rule_and_writes_the_dataset(tmp_path):
    args = ["recover", "--case", "rotated2d", "--n-points", "12", "--out", str(tmp_path)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    for name in ("fp", "ste", "lsq", "proxconnect", "ef", "noise", "ptq+ste"):
        assert name in res.output
    # progress on stderr: one line per finished rule, counted (issue 21)
    steps = [ln for ln in res.stderr.splitlines() if ln.startswith("recover ") and "/10: " in ln]
    assert [ln.split(":")[0] for ln in steps] == [f"recover {i}/10" for i in range(1, 11)], res.stderr
    assert "P(recover)" not in res.stderr  # the table stays on stdout
    ds = xr.load_dataset(tmp_path / "recovery_rotated_2d_rtn.nc", engine="h5netcdf")
    assert ds.sizes["rule"] == 10 and ds.sizes["start"] == 12
    summary = json.loads((tmp_path / "recovery_rotated_2d_rtn.json").read_text())
    assert len(summary["rules"]) == 10


def test_cli_recover_rejects_an_unknown_case():
    res = CliRunner().invoke(app, ["recover", "--case", "3d"])
    assert res.exit_code != 0
    assert "case" in res.output
