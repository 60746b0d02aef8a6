r"""One high-dimensional STE trajectory (d = 1e7, k = 4): the engine per step vs a hand kernel, the traffic
floor and the machine's STREAM bandwidth, measured in one run.

The landscape: a straight river in d dimensions with k random orthonormal sharp directions N (k x d),
quadratic wall (``r_b = 0.005``, below the typical RTN normal error, so RTN leaves the basin and STE moves),
``uniform_grid(0.02)``, ``ste(0.05)``, summaries only (hit, settle, divergence).

**Traffic floor.** Per step any implementation must read N (4kd bytes) and w (4d) and write w (4d): for
k = 4 that is 24 d bytes (the river direction u is not needed on a straight river without drift). A single
pass reaching it would fuse the update :math:`w - \eta N^\top c(Nq)` with the next step's :math:`N Q(w)`;
XLA cannot (no multi-output fusion on CPU), so an XLA program needs two passes over N: about
``4d`` (q) + ``4d + 16d`` (N q) + ``16d + 8d`` (the fused update) bytes, plus ``4d`` for the engine's
finiteness check. ``floor_s`` = 24 d bytes / the best STREAM bandwidth.

**STREAM** (McCalpin) kernels on float32 arrays far larger than the private caches, NumPy (one thread):
copy ``a = b`` (8 bytes per element), scale ``a = 3 b`` (8), add ``a = b + c`` (12); best of ``repeats``.

**Hand kernel**: the same trajectory written for this one landscape in ``lax`` (q = Q(w); v = N q;
coefficient; ``w + (-eta) sum_i N_i c_i`` unrolled so that it fuses; the same bookkeeping), the bound.
"""

from __future__ import annotations

import os
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np

import landscape as ls
from benchmarks.bookkeeping import record_step
from benchmarks.timing import time_interleaved

__all__ = ["stream", "bench_bandwidth", "hand_highd"]

SUMMARY = ls.SaveAt.summary()
RB, STEP, KAPPA, LR = 0.005, 0.02, 10.0, 0.05


def stream(n: int, repeats: int = 5) -> dict:
    """Best bandwidth (bytes/s) of the copy, scale and add kernels on float32 arrays of n elements."""
    a = np.zeros(n, np.float32)
    b = np.full(n, 1.0, np.float32)
    c = np.full(n, 2.0, np.float32)
    kernels = {
        "copy": (lambda: np.copyto(a, b), 8),
        "scale": (lambda: np.multiply(b, np.float32(3.0), out=a), 8),
        "add": (lambda: np.add(b, c, out=a), 12),
    }
    out = {}
    for name, (fn, bytes_per) in kernels.items():
        fn()
        best = float("inf")
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        out[name] = bytes_per * n / best
    out["best"] = max(out.values())
    return out


def _orthonormal_rows(d: int, k: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """k + 1 random orthonormal rows in R^d (Gram-Schmidt, twice, in float64): N and u."""
    rng = np.random.default_rng(seed)
    rows = rng.standard_normal((k + 1, d))
    for _ in range(2):
        for i in range(k + 1):
            for j in range(i):
                rows[i] -= (rows[i] @ rows[j]) * rows[j]
            rows[i] /= np.linalg.norm(rows[i])
    rows = rows.astype(np.float32)
    return rows[:k], rows[k]


def hand_highd(steps: int):
    """A jitted ``(params, N, w) -> (w, hit, settle, div)`` STE kernel for a straight river through 0."""

    def observe(w, hit, settle, div, t, p, n):
        q = p["step"] * jnp.round(w / p["step"])
        v = n @ q
        rho = jnp.sqrt(jnp.sum(v * v))
        finite = jnp.isfinite(rho) & jnp.isfinite(jnp.sum(w * 0))
        return v, rho, *record_step(hit, settle, div, t, rho <= p["rb"], finite)

    def kernel(p, n, w):
        def body(t, c):
            w, hit, settle, div = c
            v, rho, hit, settle, div = observe(w, hit, settle, div, t, p, n)
            coef = p["kappa"] * jnp.maximum(rho - p["rb"], 0.0) / jnp.maximum(rho, p["rb"]) * v
            g = n[0] * coef[0]
            for i in range(1, n.shape[0]):
                g = g + n[i] * coef[i]
            return w + p["neg_lr"] * g, hit, settle, div

        m1 = jnp.int32(-1)
        w, hit, settle, div = jax.lax.fori_loop(0, steps, body, (w, m1, m1, m1))
        _, _, hit, settle, div = observe(w, hit, settle, div, jnp.int32(steps), p, n)
        return w, hit, settle, div

    return jax.jit(kernel)


def bench_bandwidth(d: int, k: int, steps: int, stream_n: int, repeats: int = 3) -> dict:
    """STREAM, the engine and the hand kernel in one run; per-step times, ratios, fraction of the floor."""
    load_before = os.getloadavg()
    st = stream(stream_n)
    normals, river = _orthonormal_rows(d, k)
    land = ls.straight_river(normals, river, wall=ls.quadratic_wall(RB, KAPPA))
    grid = ls.uniform_grid(STEP)
    w0 = land.sample_river(jax.random.PRNGKey(0), 1)[0]
    n = jnp.asarray(normals)
    p = {"step": jnp.float32(STEP), "rb": jnp.float32(RB), "kappa": jnp.float32(KAPPA),
         "neg_lr": jnp.float32(-LR)}
    hand = hand_highd(steps)

    def engine():
        tr = ls.run(land, grid, ls.ste(LR), w0, steps, save=SUMMARY)
        return jax.block_until_ready((tr.final_w, tr.hit_time))

    impls = {"engine": engine, "hand kernel": lambda: jax.block_until_ready(hand(p, n, w0)[:2])}
    first, warm, outs = time_interleaved(impls, repeats)
    warm = {name: [t / steps for t in ts] for name, ts in warm.items()}  # seconds per step
    floor_bytes = 4 * d * (k + 2)
    floor_s = floor_bytes / st["best"]
    rows = {}
    for name in impls:
        per = min(warm[name])
        rows[name] = {
            "first_call_s": first[name],
            "per_step_min_s": per,
            "per_step_median_s": statistics.median(warm[name]),
            "floor_bytes_per_s": floor_bytes / per,
            "fraction_of_stream": floor_bytes / per / st["best"],
            "times_floor": per / floor_s,
        }
    ew, eh = outs["engine"]
    hw, hh = outs["hand kernel"]
    return {
        "d": d, "k": k, "steps": steps, "repeats": repeats,
        "stream": st,
        "floor_bytes_per_step": floor_bytes,
        "floor_s_per_step": floor_s,
        "implementations": rows,
        "engine_over_hand": rows["engine"]["per_step_min_s"] / rows["hand kernel"]["per_step_min_s"],
        "hit_time": {"engine": int(eh), "hand kernel": int(hh)},
        "final_w_max_abs_diff": float(jnp.max(jnp.abs(ew - hw))),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
