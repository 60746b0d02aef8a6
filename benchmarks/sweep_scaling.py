"""Sweep throughput on the synchronous scheduler (this process) and on Dask LocalClusters of 1 and 2 workers.

For each scheduler the sweep runs once to warm it (workers compile, or load from the persistent
compilation cache), into a scratch directory, then again, timed, into another: the reported cases/s
exclude compilation but include task dispatch, moving results to this process, the Zarr region writes and
done markers, and opening the result. On a 2-core machine two workers share the cores with this process;
scaling beyond the cores is not expected.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["sweep_config", "bench_sweep"]


def sweep_config(quick: bool) -> str:
    """The TOML of the benchmark sweep (2-D, STE): 2^20 cases x 200 steps, or 2^13 x 50 when quick.

    Chunks hold 16 (quick: 4) micro-batches of 1024 2-D cases, so up to 16 (4) devices
    get whole micro-batches without padding.
    """
    n_theta, n_step, starts, steps, chunk = (8, 8, 128, 50, 4096) if quick else (64, 64, 256, 200, 16384)
    return f"""
[sweep]
name = "bench"
starts = {starts}
chunk_size = {chunk}
[landscape]
family = "rotated_2d"
theta = {{linspace = [0.0, 0.7853981633974483, {n_theta}]}}
[wall]
basin_radius = 0.2
[quantizer]
step = {{logspace = [-1.0, 0.0, {n_step}]}}
[qat]
rule = "ste"
num_steps = {steps}
"""


def _timed(cfg, tmp: Path, label: str, scheduler) -> dict:
    from landscape.sweep import run_sweep

    run_sweep(cfg, tmp / f"warm-{label}", scheduler=scheduler, progress=False)
    t0 = time.perf_counter()
    ds = run_sweep(cfg, tmp / f"run-{label}", scheduler=scheduler, progress=False)
    sec = time.perf_counter() - t0
    n_cases = int(json.loads(ds.attrs["manifest"])["n_cases"])
    return {"scheduler": label, "cases": n_cases, "seconds": sec, "cases_per_s": n_cases / sec}


def bench_sweep(quick: bool, workers=(1, 2)) -> dict:
    """Throughput (cases/s) on the synchronous scheduler and on LocalClusters of ``workers`` processes."""
    import tomllib

    from dask.distributed import Client, LocalCluster

    from landscape.sweep import parse_config

    cfg = parse_config(tomllib.loads(sweep_config(quick)))
    rows = []
    with tempfile.TemporaryDirectory(prefix="landscape-bench-") as tmp:
        rows.append(_timed(cfg, Path(tmp), "synchronous", "synchronous"))
        for n in workers:
            opts = dict(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
            with LocalCluster(**opts) as c, Client(c) as client:
                rows.append({**_timed(cfg, Path(tmp), f"LocalCluster, {n} worker(s)", client), "workers": n})
    base = rows[0]["cases_per_s"]
    for row in rows:
        row["speedup_vs_synchronous"] = row["cases_per_s"] / base
    return {"cpu_count": os.cpu_count(), "schedulers": rows}


if __name__ == "__main__":
    print(json.dumps(bench_sweep("--quick" in sys.argv), indent=2))
