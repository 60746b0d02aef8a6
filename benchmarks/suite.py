"""All benchmarks in one run on one machine, printed as ratios against their peers.

* ``ste2d`` -- batched 2-D STE-QAT (issue 11's problem): ``run_batch`` vs a hand-written JAX kernel, a careful
  NumPy loop, PyTorch eager and ``torch.compile``; trajectory-by-trajectory agreement;
* ``bandwidth`` -- one d = 1e7, k = 4 STE trajectory: the engine per step vs a hand kernel, against the
  24 d-byte traffic floor at the machine's STREAM bandwidth;
* ``sweep`` -- sweep throughput in this process and on Dask LocalClusters of 1 and 2 worker processes;
* ``warmstart`` -- the first ``run_batch`` of fresh processes sharing a new persistent cache (cold, then
  warm), with ``import jax`` apart and the driver's stages (trace, lower, compile, run).

``run_suite(quick)`` returns a JSON-ready dict; ``quick`` uses small sizes and skips PyTorch (a check of
the machinery in well under a minute, not a measurement to quote).
"""

from __future__ import annotations

import platform
import time

__all__ = ["SIZES", "SECTIONS", "run_suite", "summary_rows"]

SECTIONS = ("ste2d", "bandwidth", "sweep", "warmstart")

SIZES = {
    False: {
        "ste2d": {"batch": 100_000, "steps": 1000, "repeats": 3, "torch": True},
        "bandwidth": {"d": 10_000_000, "k": 4, "steps": 10, "stream_n": 1 << 25, "repeats": 3},
        "sweep": {"workers": (1, 2)},
        "warmstart": {"batch": 1000, "steps": 1000, "processes": 3},
    },
    True: {
        "ste2d": {"batch": 2000, "steps": 50, "repeats": 1, "torch": False},
        "bandwidth": {"d": 1 << 18, "k": 4, "steps": 5, "stream_n": 1 << 22, "repeats": 1},
        "sweep": {"workers": (1, 2)},
        "warmstart": {"batch": 100, "steps": 50, "processes": 2},
    },
}


def run_suite(quick: bool = False, sections=SECTIONS, log=print) -> dict:
    """Run the chosen sections; return sizes, results and the machine description."""
    import jax

    from benchmarks.bandwidth import bench_bandwidth
    from benchmarks.ste2d import bench_ste2d
    from benchmarks.sweep_scaling import bench_sweep
    from benchmarks.warmstart import bench_warmstart

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
            res = bench_sweep(quick, tuple(sizes[name]["workers"]))
        elif name == "warmstart":
            res = bench_warmstart(**sizes[name])
        else:
            raise ValueError(f"unknown benchmark section {name!r}; allowed: {', '.join(SECTIONS)}.")
        out["results"][name] = res
        out["seconds"][name] = time.perf_counter() - t0
    return out


def _fmt(x, unit=""):
    return "n/a" if x is None else f"{x:,.3g}{unit}"


#: 2-D peers shown in the summary (row name prefix -> target for peer time / engine time)
PEER_TARGETS = (
    ("hand JAX kernel, one call", ">= 1 (the default at least as fast)"),
    ("hand JAX kernel, lax.map over chunks", ">= 1 (the default at least as fast)"),
    ("hand JAX kernel, hit times only, one call", "(report; vs the engine's hit-times spec below)"),
    ("hand JAX kernel, engine's execution", ">= 0.67 (ours within 1.5x of the bound)"),
    ("NumPy, hit times only", ">= 4"),
    ("NumPy (careful)", ">= 10"),
    ("torch.compile", ">= 1"),
    ("PyTorch eager", "(report)"),
    ("engine, record_every=num_steps", "<= 1.1 (no more than the default)"),
    ("engine, hit times only", "<= 1 (hit times cost only hit times)"),
    ("engine, SaveAt.summary(switches=True, loss_at_hit=True)", "(cost of the switch counter and L(q_T))"),
    ("engine, tuned: threads=1", "(report: a tuned variant)"),
    ("engine, tuned: chunk=", "(report: a tuned variant)"),
    ("engine, without micro-batches: the default", "(report: each part in one block, as before)"),
    ("engine, without micro-batches: hit times only", "(report: each part in one block, as before)"),
)


def summary_rows(report: dict) -> list[tuple[str, str, str, str, str]]:
    """(measurement, ours, peer, peer / ours, target) rows of a report, for printing."""
    from benchmarks.ste2d import best_of

    rows = []
    r = report["results"]
    if "ste2d" in r:
        s = r["ste2d"]
        impls = s["implementations"]
        eng = impls["engine"]
        size = f"{s['batch']:,} x {s['steps']} steps"
        rows.append((f"2-D STE, run_batch as the README calls it ({size}): first call (compile + run) | warm",
                     _fmt(eng["first_s"], " s"), _fmt(eng["warm_min_s"], " s"), "", ""))
        for prefix, target in PEER_TARGETS:
            best = best_of(impls, prefix)
            if best is None:
                rows.append((f"  vs {prefix}", _fmt(eng["warm_min_s"], " s"), "n/a", "n/a", target))
                continue
            name, row = best
            rows.append((f"  vs {name}", _fmt(eng["warm_min_s"], " s"), _fmt(row["warm_min_s"], " s"),
                         _fmt(row["ratio_to_engine"]), target))
        fl = s.get("floor")
        if fl and fl.get("seconds"):
            rows.append((f"  vs the machine floor ({fl['ops_per_trajectory_step']} ops per trajectory-step, "
                         f"{fl['cores']} cores x {fl['float32_lanes']} lanes x 2 per cycle at "
                         f"{fl['clock_ghz']:.2f} GHz)", _fmt(eng["warm_min_s"], " s"),
                         _fmt(fl["seconds"], " s"), _fmt(fl["seconds"] / eng["warm_min_s"]),
                         "(report; 1 = the floor)"))
        rc = s["recompile"]
        rows.append((f"  fresh equal rule | new learning rate (B = {rc['batch']}, warm shape)",
                     _fmt(rc["fresh equal rule_s"], " s"), _fmt(rc["new learning rate_s"], " s"),
                     f"{rc['new_compilations']} compilations", "< 0.1 s, 0 compilations"))
    if "bandwidth" in r:
        b = r["bandwidth"]
        e, h = b["implementations"]["engine"], b["implementations"]["hand kernel"]
        rows.append((f"STE d={b['d']:,}, k={b['k']}, per step: engine vs hand kernel",
                     _fmt(e["per_step_min_s"] * 1e3, " ms"), _fmt(h["per_step_min_s"] * 1e3, " ms"),
                     _fmt(h["per_step_min_s"] / e["per_step_min_s"]), ">= 0.67 (ours within 1.5x)"))
        rows.append((f"  vs the {b['floor_bytes_per_step'] / b['d']:.0f} d-byte floor at STREAM "
                     f"{b['stream']['best'] / 1e9:.3g} GB/s", _fmt(e["per_step_min_s"] * 1e3, " ms"),
                     _fmt(b["floor_s_per_step"] * 1e3, " ms"),
                     _fmt(b["floor_s_per_step"] / e["per_step_min_s"]), "(report; 1 = the floor)"))
    if "warmstart" in r:
        w = r["warmstart"]
        size = f"{w['batch']:,} x {w['steps']} steps"
        rows.append((f"first run_batch of a fresh process ({size}), warm cache | cold cache",
                     _fmt(w["first_call_warm_min_s"], " s"), _fmt(w["first_call_cold_s"], " s"),
                     f"{len(w['programs_warm'])} program(s)", "< 0.5 s warm"))
        st = w["stages"]
        rows.append(("  its stages: trace | lower | compile (cache hit) | run",
                     " | ".join(_fmt(st[k], " s") for k in ("trace", "lower", "compile", "run")), "", "",
                     "(report)"))
        rows.append(("  before it: import jax | import landscape and build the objects",
                     _fmt(w["import_jax_min_s"], " s"), _fmt(w["import_landscape_min_s"], " s"), "",
                     "(report: import jax is a floor)"))
    if "sweep" in r:
        w = r["sweep"]
        base = w["schedulers"][0]
        for row in w["schedulers"][1:]:
            rows.append((f"sweep on a Dask {row['scheduler']} vs in this process, {w['cpu_count']} cores",
                         _fmt(row["cases_per_s"], " cases/s"), _fmt(base["cases_per_s"], " cases/s"),
                         _fmt(row["speedup_vs_synchronous"], "x"), "near-linear up to the cores"))
    return rows
