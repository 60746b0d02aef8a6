"""Sweeps end to end: what a case computes, devices, kill-and-resume, config lock (Dask: test_sweep_dask).

Device counts are set with XLA_FLAGS before jax starts, so those runs are subprocesses of
the ``landscape sweep`` CLI on tiny sweeps.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest
import xarray as xr

import landscape as ls
from landscape.sweep import OUTPUTS, RESULT_NAME, load_config, make_grid, parse_config, run_sweep

SMALL = """
[sweep]
name = "small"
seeds = [0, 3]
starts = 12
chunk_size = 96

[landscape]
family = "random_river"
dim = 16
k = 1

[wall]
basin_radius = {linspace = [0.05, 0.3, 3]}
kappa = 10.0

[quantizer]
step = [0.1, 0.3]

[qat]
rule = ["ste", "fp"]
learning_rate = 0.1
num_steps = 40
"""

SLOW_2D = """
[sweep]
name = "slow-2d"
seeds = 1
starts = 512
chunk_size = 512

[landscape]
family = "rotated_2d"
theta = {linspace = [0.05, 0.75, 24]}

[wall]
basin_radius = 0.2

[quantizer]
step = 0.5

[qat]
rule = "ste"
num_steps = 12000
"""


CLI = [sys.executable, "-c", "from landscape.cli import app; app()"]


def _device_env(devices: int) -> dict:
    """This process's environment with ``devices`` host devices, beside the suite's XLA_FLAGS (conftest)."""
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}"
    return dict(os.environ, XLA_FLAGS=flags)


def _cli(config, out, *, devices=1, extra=(), check=True, env_extra=None, **kw):
    env = _device_env(devices)
    env.update(env_extra or {})
    cmd = [*CLI, "sweep", str(config), "--out", str(out), "--quiet", *extra]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=check, timeout=300, **kw)


def _data(path) -> xr.Dataset:
    with xr.open_zarr(Path(path) / RESULT_NAME) as ds:
        ds = ds.load()
    man = json.loads(ds.attrs.pop("manifest"))
    ds.attrs["manifest_keys"] = ",".join(sorted(man))
    return ds


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    cfg = root / "small.toml"
    cfg.write_text(SMALL)
    _cli(cfg, root / "one")
    return cfg, root, _data(root / "one")


def test_dataset_dims_vars_and_manifest(small):
    _, root, ds = small
    assert tuple(ds.sizes) == ("rule", "basin_radius", "step", "seed", "start")
    assert dict(ds.sizes) == {"rule": 2, "basin_radius": 3, "step": 2, "seed": 2, "start": 12}
    assert set(ds.data_vars) == set(OUTPUTS)
    assert ds.hit_time.dtype == np.float64 and ds.ptq_exit.dtype == bool and ds.final_loss.dtype == np.float32
    assert ds.hit_time.attrs["units"] == "steps" and "NaN: never" in ds.hit_time.attrs["long_name"]
    assert int(ds.dim) == 16 and int(ds.k) == 1 and float(ds.kappa) == 10.0
    assert ds.seed.values.tolist() == [0, 3]
    keys = set(ds.attrs["manifest_keys"].split(","))
    assert {"config", "seed", "versions", "git_commit", "devices", "wall_time_s", "config_hash"} <= keys
    # the full-precision rule never moves a point that starts on the river: T is 0 or never by RTN alone
    fp = ds.sel(rule="fp")
    assert ((fp.hit_time == 0) == ~fp.ptq_exit).all()
    assert (fp.hit_time.isnull() == fp.ptq_exit).all()
    # a mean over the times is a mean over the runs that entered (NaN: never), not one of -1 codes
    assert float(fp.hit_time.mean()) == 0.0
    assert (fp.switches == 0).all()
    # RTN leaves the small basins more often than the large ones
    exits = ds.ptq_exit.mean(["rule", "step", "seed", "start"]).values
    assert exits[0] > exits[-1]


def test_cases_match_independent_engine_runs(tmp_path):
    cfg = parse_config(
        {
            "sweep": {"seeds": [5], "starts": 3, "chunk_size": 4},
            "landscape": {"family": "rotated_2d", "theta": [0.2, 0.6]},
            "wall": {"basin_radius": 0.2, "kappa": [3.0, 10.0]},
            "quantizer": {"step": 0.45, "offset": 0.1},
            "qat": {"rule": "ste", "learning_rate": 0.07, "num_steps": 60},
        }
    )
    ds = run_sweep(cfg, tmp_path / "out", progress=False)
    assert ds.ptq_exit.any() and (ds.switches > 0).any()  # the cases below are not all trivial
    rule = ls.ste(learning_rate=0.07)
    for theta in (0.2, 0.6):
        for kappa in (3.0, 10.0):
            land = ls.rotated_river_2d(theta, wall=ls.quadratic_wall(0.2, kappa))
            grid = ls.uniform_grid(0.45, 0.1)
            for start in range(3):
                key = jax.random.PRNGKey(5)
                k_start = jax.random.fold_in(jax.random.fold_in(key, 1), start)
                k_rule = jax.random.fold_in(jax.random.fold_in(key, 2), start)
                w0 = land.sample_river(k_start, 1)[0]
                traj = ls.run(land, grid, rule, w0, 60, key=k_rule)
                got = ds.sel(theta=theta, kappa=kappa, seed=5, start=start, method="nearest")
                q0 = grid.quantize(w0)
                assert bool(got.ptq_exit) == (not bool(land.in_basin(q0)))
                assert float(got.ptq_rho) == pytest.approx(float(land.rho(q0)), rel=1e-5, abs=1e-6)
                hit = float(got.hit_time)
                assert (np.isnan(hit) and int(traj.hit_time) == -1) or hit == int(traj.hit_time)
                assert int(got.switches) == int(traj.switches)
                assert float(got.final_loss) == pytest.approx(float(traj.final_loss), rel=1e-5, abs=1e-6)
                assert float(got.final_rho_q) == pytest.approx(float(traj.final_rho_q), rel=1e-5, abs=1e-6)


@pytest.mark.slow
def test_four_devices_give_the_one_device_dataset(small):
    cfg, root, ref = small
    _cli(cfg, root / "four", devices=4, extra=("--devices", "4"))
    four = _data(root / "four")
    xr.testing.assert_equal(four, ref)


def test_changed_config_in_same_dir_is_refused(small, tmp_path):
    cfg, root, _ = small
    other = tmp_path / "other.toml"
    other.write_text(SMALL.replace("num_steps = 40", "num_steps = 41"))
    res = _cli(other, root / "one", check=False)
    assert res.returncode == 2
    assert "holds results of a different sweep" in res.stderr
    assert "Use a new --out" in res.stderr


def test_bad_config_exits_with_its_message(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.replace("kappa = 10.0", "kapa = 10.0"))
    res = _cli(bad, tmp_path / "out", check=False)
    assert res.returncode == 2
    assert "unknown key 'wall.kapa'" in res.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_kill_and_resume_give_the_clean_dataset(tmp_path):
    cfg = tmp_path / "slow.toml"
    cfg.write_text(SLOW_2D)
    grid = make_grid(load_config(cfg))
    n_chunks = grid.n_chunks
    assert n_chunks == 24
    out = tmp_path / "killed"
    env = _device_env(1)
    base = [*CLI, "sweep", str(cfg), "--out"]
    cmd = [*base, str(out), "--quiet", "--scheduler", "synchronous"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(list(out.glob("done/*.json"))) < 3:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    done = sorted(out.glob("done/*.json"))
    assert 3 <= len(done) < n_chunks, "the sweep must be interrupted part-way"
    before = done[0].stat().st_mtime_ns
    res = subprocess.run([*base, str(out), "--scheduler", "synchronous"], env=env, check=True,
                         capture_output=True, text=True, timeout=300)
    assert f"resumed {len(done)} of {n_chunks} chunks" in res.stderr
    assert done[0].stat().st_mtime_ns == before  # a stored chunk is not recomputed
    clean = tmp_path / "clean"
    subprocess.run([*base, str(clean), "--quiet", "--scheduler", "synchronous"], env=env, check=True,
                   capture_output=True, timeout=300)
    resumed = _data(out)
    assert int(resumed.switches.sum()) > 0 and bool(resumed.ptq_exit.any())
    xr.testing.assert_equal(resumed, _data(clean))
