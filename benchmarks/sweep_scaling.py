"""Sweep throughput on 1, 2, 4 and 8 simulated CPU devices, and with 1 vs 2 processes.

Each measurement runs in a fresh subprocess (the device count is fixed when jax starts,
through ``XLA_FLAGS=--xla_force_host_platform_device_count=N``). Inside it the sweep
runs once to compile (into a scratch directory), then again, timed, into another: the
reported cases/s exclude compilation but include chunk writing, resumption checks and
the final assembly of the Dataset. On CPU the simulated devices share the real cores,
so scaling beyond ``os.cpu_count()`` devices is not expected. The one-process baseline
of the two-process run is a separate one-device process (``--quick``: the one-device row).

``python -m benchmarks.sweep_scaling worker CONFIG OUT --devices 1,2,4,8`` is the
subprocess; :func:`bench_sweep` drives it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["sweep_config", "bench_sweep", "worker"]

ROOT = Path(__file__).resolve().parent.parent


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


def worker(argv: list[str]) -> None:
    """Subprocess body: run the sweep for each device count (or as one of several processes); print JSON."""
    import argparse

    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("out")
    p.add_argument("--devices", default="1")
    p.add_argument("--coordinator")
    p.add_argument("--num-processes", type=int)
    p.add_argument("--process-id", type=int)
    a = p.parse_args(argv)
    from landscape.sweep import load_config, process_settings, run_sweep
    from landscape.sweep.distributed import initialize, shutdown

    settings = process_settings(a.coordinator, a.num_processes, a.process_id)
    initialize(settings)
    import jax

    cfg = load_config(a.config)
    local = jax.local_devices()
    rows = []
    for n in [int(x) for x in a.devices.split(",")]:
        devs = local[:n]
        run_sweep(cfg, Path(a.out) / f"warm-{n}", settings=settings, devices=devs, progress=False)
        t0 = time.perf_counter()
        ds = run_sweep(cfg, Path(a.out) / f"run-{n}", settings=settings, devices=devs, progress=False)
        sec = time.perf_counter() - t0
        if ds is not None:
            n_cases = int(json.loads(ds.attrs["manifest"])["n_cases"])
            rows.append({"devices": n, "processes": settings.num_processes, "cases": n_cases,
                         "seconds": sec, "cases_per_s": n_cases / sec})
    shutdown(settings)
    if rows:
        print("RESULT " + json.dumps(rows), flush=True)


def _env(devices: int) -> dict:
    env = dict(os.environ)
    env["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={devices}"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _parse(stdout: str) -> list[dict]:
    for line in stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"benchmark worker printed no result; output:\n{stdout[-2000:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_sweep(quick: bool, device_counts=(1, 2, 4, 8)) -> dict:
    """Throughput (cases/s) per device count and for 1 vs 2 processes, with ratios to one."""
    cmd = [sys.executable, "-m", "benchmarks.sweep_scaling", "worker"]
    with tempfile.TemporaryDirectory(prefix="landscape-bench-") as tmp:
        cfg = Path(tmp) / "bench.toml"
        cfg.write_text(sweep_config(quick))
        top = max(device_counts)
        res = subprocess.run(
            [*cmd, str(cfg), f"{tmp}/dev", "--devices", ",".join(map(str, device_counts))],
            env=_env(top), capture_output=True, text=True, timeout=1800, check=True, cwd=ROOT,
        )
        devices = _parse(res.stdout)
        if quick:  # one process on one device: the one-device row (saves a subprocess)
            proc1, baseline = devices[0], "the 1-device row of the device run"
        else:
            one = subprocess.run(
                [*cmd, str(cfg), f"{tmp}/p1"], env=_env(1), capture_output=True, text=True, timeout=1800,
                check=True, cwd=ROOT,
            )
            proc1, baseline = _parse(one.stdout)[0], "a separate process with one device"
        port = _free_port()
        procs = [
            subprocess.Popen(
                [*cmd, str(cfg), f"{tmp}/p2", "--coordinator", f"127.0.0.1:{port}", "--num-processes", "2",
                 "--process-id", str(i)],
                env=_env(1), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
            )
            for i in (0, 1)
        ]
        outs = [p.communicate(timeout=1800) for p in procs]
        if any(p.returncode for p in procs):
            raise RuntimeError(f"two-process benchmark failed: {[o[1][-2000:] for o in outs]}")
        proc2 = _parse(outs[0][0])[0]
    base = devices[0]["cases_per_s"]
    for row in devices:
        row["speedup_vs_1_device"] = row["cases_per_s"] / base
    return {
        "cpu_count": os.cpu_count(),
        "devices": devices,
        "processes": [proc1, proc2],
        "speedup_2_vs_1_process": proc2["cases_per_s"] / proc1["cases_per_s"],
        "process_baseline": baseline,
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker(sys.argv[2:])
    else:
        print(json.dumps(bench_sweep("--quick" in sys.argv), indent=2))
