"""All benchmarks of issue 6 in one run on one machine, printed as ratios against their peers.

* ``ste2d`` -- batched 2-D STE-QAT: ours vs vectorised NumPy and PyTorch eager (target: >= 10x, >= 3x);
* ``bandwidth`` -- one d = 1e7, k = 4 STE trajectory vs STREAM-style NumPy (target: >= 60%);
* ``sweep`` -- sweep throughput on 1/2/4/8 simulated devices and 1 vs 2 processes.

``run_suite(quick)`` returns a JSON-ready dict; ``quick`` uses small sizes (a check of
the machinery in well under a minute, not a measurement to quote).
"""

from __future__ import annotations

import platform
import time

__all__ = ["SIZES", "SECTIONS", "run_suite", "summary_rows"]

SECTIONS = ("ste2d", "bandwidth", "sweep")

SIZES = {
    False: {
        "ste2d": {"batch": 100_000, "steps": 1000, "repeats": 1},
        "bandwidth": {"d": 10_000_000, "k": 4, "steps": 10, "stream_n": 1 << 25, "repeats": 2},
        "sweep": {"device_counts": (1, 2, 4, 8)},
    },
    True: {
        "ste2d": {"batch": 2000, "steps": 50, "repeats": 1},
        "bandwidth": {"d": 1 << 18, "k": 4, "steps": 5, "stream_n": 1 << 22, "repeats": 1},
        "sweep": {"device_counts": (1, 2)},
    },
}


def run_suite(quick: bool = False, sections=SECTIONS, log=print) -> dict:
    """Run the chosen sections; return sizes, results and the machine description."""
    import jax

    from benchmarks.bandwidth import bench_bandwidth
    from benchmarks.ste2d import bench_ste2d
    from benchmarks.sweep_scaling import bench_sweep

    sizes = SIZES[bool(quick)]
    out = {
        "quick": bool(quick),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "jax_devices": [str(d) for d in jax.devices()],
            "backend": jax.default_backend(),
        },
        "sizes": {s: dict(sizes[s]) for s in sections},
        "results": {},
        "seconds": {},
    }
    for name in sections:
        log(f"running {name} {sizes[name]} ...")
        t0 = time.perf_counter()
        if name == "ste2d":
            res = bench_ste2d(**sizes[name])
        elif name == "bandwidth":
            res = bench_bandwidth(**sizes[name])
        elif name == "sweep":
            res = bench_sweep(quick, tuple(sizes[name]["device_counts"]))
        else:
            raise ValueError(f"unknown benchmark section {name!r}; allowed: {', '.join(SECTIONS)}.")
        out["results"][name] = res
        out["seconds"][name] = time.perf_counter() - t0
    return out


def _fmt(x, unit=""):
    return "n/a" if x is None else f"{x:,.3g}{unit}"


def summary_rows(report: dict) -> list[tuple[str, str, str, str, str]]:
    """(measurement, ours, peer, ratio, target) rows of a report, for printing."""
    rows = []
    r = report["results"]
    if "ste2d" in r:
        s = r["ste2d"]
        size = f"{s['batch']:,} x {s['steps']} steps"
        rows.append((f"2-D STE vs NumPy ({size})", _fmt(s["ours_s"], " s"), _fmt(s["numpy_s"], " s"),
                     _fmt(s["speedup_vs_numpy"], "x"), ">= 10x"))
        rows.append((f"2-D STE vs PyTorch eager ({size})", _fmt(s["ours_s"], " s"), _fmt(s["torch_s"], " s"),
                     _fmt(s["speedup_vs_torch"], "x"), ">= 3x"))
    if "bandwidth" in r:
        b = r["bandwidth"]
        t = b["trajectory"]
        rows.append((f"STE trajectory d={t['d']:,}, k={t['k']} vs STREAM",
                     _fmt(t["bytes_per_s"] / 1e9, " GB/s"), _fmt(b["stream"]["best"] / 1e9, " GB/s"),
                     f"{b['fraction_of_stream']:.1%}", ">= 60%"))
        ref = b.get("reference_minimal_jax")
        if ref:
            rows.append(("  reference: hand-written JAX STE for this landscape (not the engine)",
                         _fmt(ref["bytes_per_s"] / 1e9, " GB/s"), _fmt(b["stream"]["best"] / 1e9, " GB/s"),
                         f"{ref['fraction_of_stream']:.1%}", "(bound)"))
    if "sweep" in r:
        w = r["sweep"]
        for row in w["devices"]:
            rows.append((f"sweep, {row['devices']} simulated device(s), {w['cpu_count']} cores",
                         _fmt(row["cases_per_s"], " cases/s"),
                         _fmt(w["devices"][0]["cases_per_s"], " cases/s"),
                         _fmt(row["speedup_vs_1_device"], "x"), "near-linear up to the cores"))
        p1, p2 = w["processes"]
        rows.append(("sweep, 2 processes vs 1 (1 device each)", _fmt(p2["cases_per_s"], " cases/s"),
                     _fmt(p1["cases_per_s"], " cases/s"), _fmt(w["speedup_2_vs_1_process"], "x"),
                     "near-linear up to the cores"))
    return rows
