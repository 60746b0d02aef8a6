"""Sweeps on a Dask cluster: a LocalCluster on loopback with a worker killed mid-sweep, read back lazily."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest
import xarray as xr

import landscape as ls
from landscape.sweep import RESULT_NAME, make_spec, run_sweep


def _spec():
    """8 chunks of 256 cases x 50,000 steps (about 1e7 trajectory-steps, 0.05-0.5 s each): the first chunk
    stored leaves the others running, so the worker is killed mid-sweep."""
    return make_spec(landscape="rotated_2d", theta=ls.sweep.linspace(0.1, 0.7, 8), basin_radius=0.2, step=0.5,
                     rule="ste", seeds=1, starts=256, num_steps=50_000, chunk_size=256, name="killed")


def test_a_worker_killed_mid_sweep_costs_only_its_chunks_and_the_result_is_the_local_one(tmp_path):
    from dask.distributed import Client, LocalCluster

    spec = _spec()
    ref = run_sweep(spec, None, scheduler="synchronous", progress=False)
    out = tmp_path / "dask"
    box: dict = {}

    def sweep(address):
        try:  # the cluster by its scheduler's address, as `landscape sweep --scheduler ADDRESS` passes it
            box["ds"] = run_sweep(spec, out, scheduler=address, progress=False)
        except BaseException as err:  # noqa: BLE001 - re-raised in the test's thread
            box["error"] = err

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        pids = client.run(os.getpid)
        worker = threading.Thread(target=sweep, args=(cluster.scheduler_address,))
        worker.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and worker.is_alive() and not list((out / "done").glob("c*.json")):
            time.sleep(0.002)
        stored_at_kill = len(list((out / "done").glob("c*.json")))
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        worker.join(timeout=240)
    assert "error" not in box, box.get("error")
    assert 1 <= stored_at_kill < 8, "the worker must be killed part-way through the sweep"
    ds = box["ds"]
    assert isinstance(ds.hit_time.data, __import__("dask").array.Array)  # opened lazily
    assert sorted(p.name for p in (out / "done").glob("c*.json")) == [f"c{i:06d}.json" for i in range(8)]
    xr.testing.assert_equal(ds.load(), ref)
    again = xr.open_zarr(out / RESULT_NAME)
    xr.testing.assert_equal(again.load(), ref)
    assert np.isnan(ref.hit_time).any() and (ref.hit_time >= 0).any()  # both outcomes occur


def test_resume_computes_only_the_missing_chunks(tmp_path, capsys):
    spec = make_spec(landscape="rotated_2d", theta=[0.2, 0.5, 0.7], basin_radius=0.2, step=0.5, starts=8,
                     num_steps=50, chunk_size=8)
    out = tmp_path / "r"
    full = run_sweep(spec, out, scheduler="synchronous", progress=False).load()
    (out / "done" / "c000001.json").unlink()
    from rich.console import Console

    again = run_sweep(spec, out, scheduler="synchronous", progress=True, console=Console(stderr=True))
    assert "resumed 2 of 3 chunks" in capsys.readouterr().err
    xr.testing.assert_equal(again.load(), full)
    with pytest.raises(ls.LandscapeError, match="holds results of a different sweep"):
        run_sweep(make_spec(landscape="rotated_2d", theta=0.2, starts=8, num_steps=51), out, progress=False)


def test_a_sweep_records_every_parameter_it_used_and_warns_about_a_clipped_range():
    with pytest.warns(UserWarning, match=r"clip range \[-1\.2, 0\.9\]"):
        spec = make_spec(landscape="rotated_2d", quantizer="integer", bits=3, step=0.3, starts=4, num_steps=5)
    ds = run_sweep(spec, None, progress=False)
    # defaults nobody passed: the family's theta, the wall's radius, slope and floor, the grid's offset, the
    # rule's learning rate -- in the coordinates and the manifest
    for name, value in {"theta": 0.3, "basin_radius": 0.25, "kappa": 10.0, "mu": 0.0, "offset": 0.0,
                        "learning_rate": 0.05}.items():
        assert float(ds[name]) == pytest.approx(value)
        assert __import__("json").loads(ds.attrs["manifest"])["config"]["values"][name] == value
    assert ds.hit_time.attrs["units"] == "steps"
    h = ds.hit_time.values
    assert float(ds.hit_time.mean()) == pytest.approx(np.nanmean(h))  # NaN (never) is not averaged as -1


def test_ctrl_c_says_what_is_stored_and_a_rerun_resumes(tmp_path, monkeypatch, capsys):
    from rich.console import Console

    from landscape.sweep import runner

    spec = make_spec(landscape="rotated_2d", theta=[0.2, 0.5, 0.7], basin_radius=0.2, step=0.5, starts=8,
                     num_steps=30, chunk_size=8)
    real, calls = runner.compute_chunk, []

    def interrupted(*args):
        calls.append(args[1])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(runner, "compute_chunk", interrupted)
    out = tmp_path / "cc"
    with pytest.raises(KeyboardInterrupt):
        run_sweep(spec, out, scheduler="synchronous", progress=True, console=Console(stderr=True))
    err = capsys.readouterr().err
    assert f"interrupted: 1 of 3 chunks are stored in {out / RESULT_NAME}" in err
    monkeypatch.setattr(runner, "compute_chunk", real)
    ds = run_sweep(spec, out, scheduler="synchronous", progress=True, console=Console(stderr=True))
    assert "resumed 1 of 3 chunks" in capsys.readouterr().err
    xr.testing.assert_equal(ds.load(), run_sweep(spec, None, scheduler="synchronous", progress=False))
