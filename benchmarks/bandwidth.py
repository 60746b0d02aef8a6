r"""Memory bandwidth: a STREAM-style NumPy measurement vs one high-dimensional STE trajectory.

STREAM (McCalpin) kernels on float32 arrays far larger than the caches, best of
``repeats``: copy ``a = b`` (8 bytes per element moved), scale ``a = 3 b`` (8), add
``a = b + c`` (12). NumPy runs them on one thread.

The trajectory: a straight river in :math:`d` dimensions with :math:`k` sharp directions,
STE with ``landscape.run`` for ``steps`` steps. Its **useful traffic** per step is the
least any implementation must move: read the latent :math:`w` (4d bytes), the normals
:math:`N` (4kd) and the river direction :math:`u` (4d), write :math:`w` (4d), i.e.
:math:`4d(k+3)` bytes. Achieved bandwidth = useful bytes / time; the ratio to the best
STREAM kernel is the fraction of the machine's measured bandwidth the engine reaches.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import landscape as ls

__all__ = ["stream", "highd_trajectory", "minimal_jax_trajectory", "bench_bandwidth"]


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


def highd_trajectory(d: int, k: int, steps: int, repeats: int = 2) -> dict:
    """Time an STE trajectory in d dimensions (k sharp directions); useful bytes per second."""
    normals, river = _orthonormal_rows(d, k)
    # r_b below the typical RTN normal error (about 0.01 here): RTN leaves the basin, STE works
    land = ls.straight_river(normals, river, wall=ls.quadratic_wall(0.005, 10.0))
    grid = ls.uniform_grid(0.02)
    rule = ls.ste(learning_rate=0.05)
    w0 = land.sample_river(jax.random.PRNGKey(0), 1)[0]
    run = lambda w: ls.run(land, grid, rule, w, steps, record_every=steps)  # noqa: E731
    t0 = time.perf_counter()
    tr = run(w0)
    jax.block_until_ready(tr.final_w)
    first = time.perf_counter() - t0
    best = float("inf")
    for i in range(repeats):
        w = w0 + jnp.float32(1e-3 * (i + 1)) * land.river_dir
        t0 = time.perf_counter()
        tr = run(w)
        jax.block_until_ready(tr.final_w)
        best = min(best, time.perf_counter() - t0)
    useful = 4 * d * (k + 3) * steps
    return {
        "d": d,
        "k": k,
        "steps": steps,
        "seconds": best,
        "compile_and_first_run_s": first,
        "useful_bytes_per_step": 4 * d * (k + 3),
        "bytes_per_s": useful / best,
        "hit_time": int(tr.hit_time),
    }


def minimal_jax_trajectory(d: int, k: int, steps: int, repeats: int = 2) -> dict:
    """Reference: the same STE trajectory hand-written for this one landscape (not the engine).

    Straight river through 0, quadratic wall, unbounded grid; per step
    q = Q(w), v = N q, g = phi'(|v|) N^T v / |v|, w <- w - eta g, plus the hit test.
    It bounds what a specialised JAX program reaches on this machine.
    """
    normals, _ = _orthonormal_rows(d, k)
    n = jnp.asarray(normals)
    step, rb, kappa, lr = 0.02, 0.05, 10.0, 0.05

    @jax.jit
    def traj(w):
        def body(t, carry):
            w, hit = carry
            q = jnp.round(w / step) * step
            v = n @ q
            rho = jnp.sqrt(jnp.sum(v * v))
            hit = jnp.where((hit < 0) & (rho <= rb), t, hit)
            coef = kappa * jnp.maximum(rho - rb, 0.0) / jnp.where(rho > 0, rho, 1.0)
            return w - lr * coef * (v @ n), hit

        return jax.lax.fori_loop(0, steps, body, (w, jnp.int32(-1)))

    w0 = jnp.asarray(_orthonormal_rows(d, k)[1]) * 3.0
    jax.block_until_ready(traj(w0))
    best = float("inf")
    for i in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(traj(w0 + 1e-3 * (i + 1)))
        best = min(best, time.perf_counter() - t0)
    return {"seconds": best, "bytes_per_s": 4 * d * (k + 3) * steps / best}


def bench_bandwidth(d: int, k: int, steps: int, stream_n: int, repeats: int = 2) -> dict:
    """STREAM and the high-d trajectory measured in one run; the fraction of bandwidth reached."""
    st = stream(stream_n)
    tr = highd_trajectory(d, k, steps, repeats)
    ref = minimal_jax_trajectory(d, k, steps, repeats)
    ref["fraction_of_stream"] = ref["bytes_per_s"] / st["best"]
    return {
        "stream": st,
        "trajectory": tr,
        "fraction_of_stream": tr["bytes_per_s"] / st["best"],
        "reference_minimal_jax": ref,
    }
