r"""Batched 2-D STE-QAT: ``landscape.run_batch`` as a user calls it, against its peers, in one process.

The problem (issue 11): B starts on the river of ``rotated_river_2d(0.5)`` (``s ~ U(-50, 50)``), quadratic
wall ``r_b = 0.3, kappa = 10, mu = 0.05``, ``uniform_grid(1.0)``, ``ste(0.05)``, T steps, float32.

Implementations (:mod:`benchmarks.peers2d`): the engine as the README calls it,
``run_batch(land, grid, ste(learning_rate=0.05), w0, T)`` with no recording option (its default: hit,
settle and divergence times and the final state), and its variants (``record_every=T``; hit times only,
``SaveAt.summary(times=("hit",))``; ``SaveAt.summary(switches=True, loss_at_hit=True)``; tuned:
``threads=1``, ``chunk=8192``; the default and the hit times each part in one block, ``chunk=B``, as
before the parts' micro-batches of :func:`landscape.simulate.parallel.part_chunk`); hand-written JAX
kernels as the bound -- with the full bookkeeping and with hit times only, as a user would call them (one
jitted call), the full one as ``lax.map`` over chunks of 1024 trajectories (issue 23's kernel), and the full
one with the execution the engine uses (one part per core, dispatched from
threads, the same compiler options); two NumPy loops (hit times only, as a researcher writes it first; the
full bookkeeping); PyTorch eager; ``torch.compile``. The machine's floor is estimated as
:data:`~benchmarks.peers2d.OPS_PER_STEP` operations per trajectory-step at two vector operations per cycle
on every lane of every core (:func:`floor_estimate`): a bound no implementation reaches (a division and a
rounding cost more than one operation), stated with its assumptions.
Each implementation's summaries are compared with the engine's, trajectory by trajectory (counts of
disagreements are reported, not hidden). Timing: every implementation runs once untimed (compilation,
first-call set-up: reported as ``first_s``), then ``repeats`` rounds in which every implementation runs
once, interleaved; min and median over the rounds. Ratios are peer time / engine time (min over rounds).
"""

from __future__ import annotations

import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import landscape as ls
from benchmarks import peers2d
from benchmarks.timing import time_interleaved
from landscape.simulate import parallel

__all__ = ["PARAMS", "problem", "implementations", "agreement", "bench_ste2d", "time_interleaved", "best_of"]

PARAMS = {"theta": 0.5, "basin_radius": 0.3, "kappa": 10.0, "mu": 0.05, "step": 1.0, "learning_rate": 0.05}

#: the bookkeeping every peer does: hit, settle and divergence times
SUMMARY = ls.SaveAt.summary()
#: trajectories per chunk of the lax.map hand kernel (issue 23's)
CHUNK = 1024


def problem(batch: int, seed: int = 0) -> dict:
    """The engine's landscape, grid and rule, their float32 constants, and the starts w0 (B, 2)."""
    p = PARAMS
    land = ls.rotated_river_2d(p["theta"], wall=ls.quadratic_wall(p["basin_radius"], p["kappa"], p["mu"]))
    grid = ls.uniform_grid(p["step"])
    rng = np.random.default_rng(seed)
    s = rng.uniform(-50.0, 50.0, batch).astype(np.float32)
    w0 = (s[:, None] * np.asarray(land.river_dir, np.float32)[None]).astype(np.float32)
    return {"land": land, "grid": grid, "w0": w0, "consts": peers2d.constants(land, grid, p["learning_rate"])}


def _numpy_out(d: dict) -> dict:
    return {f: np.asarray(d[f]) for f in peers2d.FIELDS if d.get(f) is not None}


def implementations(prob: dict, steps: int, *, torch: bool = True) -> dict:
    """name -> a callable returning the summaries (numpy arrays). Only what is installed is included."""
    land, grid, w0, c = prob["land"], prob["grid"], prob["w0"], prob["consts"]
    lr = PARAMS["learning_rate"]
    w0j = jnp.asarray(w0)

    def engine(**options):
        def call():  # as the README calls it (a fresh rule each call), plus the variant's options
            tr = ls.run_batch(land, grid, ls.ste(learning_rate=lr), w0j, steps, **options)
            return _numpy_out({f: getattr(tr, f) for f in peers2d.FIELDS})
        return call

    pj = {k: jnp.asarray(v) for k, v in c.items()}
    xj, yj = jnp.asarray(w0[:, 0]), jnp.asarray(w0[:, 1])
    spec = {"plain": peers2d._plain_grid(c), "centred": bool(c["c0"] != 0)}
    plain = peers2d.hand_jax(steps, **spec)
    hits = peers2d.hand_jax(steps, hits_only=True, **spec)
    tuned = peers2d.hand_jax(steps, compiler_options=ls.simulate.driver.compiler_options(), **spec)
    mapped = peers2d.hand_jax(steps, chunk=CHUNK, **spec)
    n = parallel.parts_for(w0.shape[0], None, [xj])

    def hand(kernel, split):
        def call():
            if split > 1:
                (x, y), size = parallel.pad_batch((xj, yj), split)
                part = lambda i: (pj, x[i * size:(i + 1) * size], y[i * size:(i + 1) * size])  # noqa: E731
                out = parallel.split_run(kernel, part, split, w0.shape[0], {})
            else:
                out = jax.block_until_ready(kernel(pj, xj, yj))
            return _numpy_out(dict(zip(peers2d.FIELDS, out, strict=False)))
        return call

    impls = {
        "engine": engine(),
        "engine, record_every=num_steps": engine(record_every=steps),
        "engine, hit times only": engine(save=ls.SaveAt.summary(times=("hit",))),
        "engine, SaveAt.summary(switches=True, loss_at_hit=True)": engine(
            save=ls.SaveAt.summary(switches=True, loss_at_hit=True)
        ),
        "engine, tuned: threads=1 (one execution)": engine(threads=1),
        "engine, tuned: chunk=8192": engine(chunk=8192),
        # each part in one block (chunk >= the batch), as before the parts' micro-batches (part_chunk)
        "engine, without micro-batches: the default": engine(chunk=w0.shape[0]),
        "engine, without micro-batches: hit times only": engine(save=ls.SaveAt.summary(times=("hit",)),
                                                                chunk=w0.shape[0]),
        "hand JAX kernel, one call": hand(plain, 1),
        "hand JAX kernel, hit times only, one call": hand(hits, 1),
        f"hand JAX kernel, lax.map over chunks of {CHUNK}, one call": hand(mapped, 1),
        f"hand JAX kernel, engine's execution ({n} part(s))": hand(tuned, n),
        "NumPy, hit times only": lambda: peers2d.numpy_hits(w0, steps, c),
        "NumPy (careful)": lambda: peers2d.numpy_peer(w0, steps, c),
    }
    if torch:
        try:
            import torch as _torch  # noqa: F401
        except ImportError:
            return impls
        compiled = peers2d.torch_compiled(c)
        for threads in _torch_threads():
            eager = lambda: peers2d.torch_peer(w0, steps, c)  # noqa: E731
            impls[f"PyTorch eager ({threads} thread(s))"] = _with_threads(threads, eager)
            comp = lambda: compiled(w0, steps)  # noqa: E731
            impls[f"torch.compile ({threads} thread(s))"] = _with_threads(threads, comp)
    return impls


def _torch_threads() -> list[int]:
    """PyTorch runs with its default intra-op threads and with one (on a small or busy machine its
    spinning OpenMP pool can be many times slower); the summary takes the better of the two."""
    import torch

    return sorted({torch.get_num_threads(), 1}, reverse=True)


def _with_threads(n: int, fn):
    def call():
        import torch

        old = torch.get_num_threads()
        torch.set_num_threads(n)
        try:
            return fn()
        finally:
            torch.set_num_threads(old)
    return call


def best_of(rows: dict, prefix: str) -> tuple[str, dict] | None:
    """The fastest row whose name starts with ``prefix`` (e.g. the better PyTorch thread setting)."""
    named = [(k, v) for k, v in rows.items() if k.startswith(prefix)]
    return min(named, key=lambda kv: kv[1]["warm_min_s"]) if named else None


def agreement(ref: dict, out: dict) -> dict:
    """Per summary in ``out``: on how many trajectories it differs from ``ref`` (0 = identical)."""
    return {f: int(np.sum(np.asarray(ref[f]) != np.asarray(out[f]))) for f in peers2d.FIELDS if f in out}


def _cpu_ghz() -> float | None:
    try:
        with open("/proc/cpuinfo") as f:
            mhz = [float(line.split(":")[1]) for line in f if line.startswith("cpu MHz")]
        return max(mhz) / 1e3 if mhz else None
    except (OSError, ValueError):
        return None


def floor_estimate(batch: int, steps: int) -> dict:
    """The floor of the hit-times kernel: ops / (cores x lanes x 2 per cycle x clock) (assumptions kept)."""
    from landscape.simulate import xla

    lanes = 16 if xla.OPTIONS else 8  # float32 lanes of a 512-bit (AVX-512) or 256-bit (AVX2) vector
    cores, ghz = parallel.host_cores(), _cpu_ghz()
    ops = batch * steps * peers2d.OPS_PER_STEP
    per_s = None if ghz is None else cores * lanes * 2 * ghz * 1e9
    return {"ops_per_trajectory_step": peers2d.OPS_PER_STEP, "cores": cores, "float32_lanes": lanes,
            "vector_ops_per_cycle": 2, "clock_ghz": ghz, "seconds": None if per_s is None else ops / per_s}


def _recompile_check(prob: dict, steps: int) -> dict:
    """A fresh equal rule and a new learning rate at a warm shape: seconds per call, new compilations."""
    from landscape.simulate import driver

    land, grid = prob["land"], prob["grid"]
    w0 = jnp.asarray(prob["w0"][:64])
    jax.block_until_ready(ls.run_batch(land, grid, ls.ste(0.05), w0, steps, save=SUMMARY))
    before = driver._run_many._cache_size()
    out = {}
    for label, rule in (("fresh equal rule", ls.ste(0.05)), ("new learning rate", ls.ste(0.07))):
        t0 = time.perf_counter()
        jax.block_until_ready(ls.run_batch(land, grid, rule, w0, steps, save=SUMMARY))
        out[label + "_s"] = time.perf_counter() - t0
    out["batch"] = 64
    out["new_compilations"] = driver._run_many._cache_size() - before
    return out


def bench_ste2d(batch: int, steps: int, repeats: int = 3, torch: bool = True) -> dict:
    """All implementations on one problem: first-call and warm times, ratios to the engine, agreement."""
    prob = problem(batch)
    impls = implementations(prob, steps, torch=torch)
    load_before = os.getloadavg()
    first, warm, outs = time_interleaved(impls, repeats)
    ref = outs["engine"]
    rows = {}
    for name in impls:
        ts = warm[name]
        rows[name] = {
            "first_s": first[name],
            "warm_min_s": min(ts),
            "warm_median_s": statistics.median(ts),
            "warm_s": ts,
            "ratio_to_engine": min(ts) / min(warm["engine"]),
            "disagreements": agreement(ref, outs[name]),
        }
    res = {
        "batch": batch,
        "steps": steps,
        "repeats": repeats,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cores": parallel.host_cores(),
        "engine_parts": parallel.parts_for(batch, None, [jnp.zeros(1)]),
        "compiler_options": ls.simulate.driver.compiler_options(),
        "recovered_fraction": float(np.mean(ref["hit_time"] >= 0)),
        "implementations": rows,
        "recompile": _recompile_check(prob, steps),
        "floor": floor_estimate(batch, steps),
        # the peers round every a * b + c twice; XLA:CPU contracts some into fused multiply-adds. NumPy with
        # that rounding emulated (untimed) shows whether the disagreements above are rounding, not semantics
        "disagreements_numpy_fma_rounding": agreement(
            ref, peers2d.numpy_peer(prob["w0"], steps, prob["consts"], fma=True)),
    }
    if torch and best_of(rows, "torch.compile"):
        import torch as _torch

        res["torch"] = f"{_torch.__version__}, {_torch.get_num_threads()} threads"
    else:
        res["torch"] = "not installed (pip install -e '.[bench]')" if torch else "skipped"
    return res
