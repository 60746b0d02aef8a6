r"""Batched 2-D STE-QAT: ours (``landscape.run_batch``) vs a vectorised NumPy peer and PyTorch eager.

The problem: B trajectories, each on its own 2-D straight river at angle
:math:`\theta_b` (normal :math:`n_b = (-\sin\theta_b, \cos\theta_b)`), quadratic wall
:math:`\phi(\rho) = \tfrac{\kappa}{2}(\rho - r_b)_+^2`, unbounded grid of step
:math:`\Delta`; start :math:`w^*_b = s_b u_b` on the river; T steps of
:math:`w \leftarrow w - \eta\nabla L(Q(w))`. Every implementation records the same
things per trajectory: the first hitting time T (checked at every step, and after the
last), the loss at the hit, the number of cell switches, and the final loss and
:math:`\rho(q)`.

The peers are what a researcher would write: float32 arrays, the whole batch updated
by array operations per step (one Python loop over steps), the analytic gradient
:math:`\nabla_q L = \phi'(|v|)\,\mathrm{sign}(v)\,n` with :math:`v = n\cdot q`, in-place
updates where the library makes them idiomatic. Ours is the general engine (k x d
normals, any wall, any rule) jitted with ``lax.scan``, run by
:func:`landscape.sweep.blocked.run_blocked` (``vmap`` over cache-sized micro-batches, as
sweeps run it).
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import landscape as ls
from landscape.geometry import Landscape
from landscape.river import ConstantCenter, ZeroDrift
from landscape.walls import QuadraticWall

__all__ = ["problem", "ours", "numpy_peer", "torch_peer", "agreement", "bench_ste2d"]

STEP, RB, KAPPA, LR = 0.5, 0.2, 10.0, 0.05


def problem(batch: int, seed: int = 0) -> dict:
    """Angles theta (B,) in [0, pi/4] and starts w0 (B, 2) on each river, float32."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0.0, np.pi / 4, batch).astype(np.float32)
    s = rng.uniform(-50.0, 50.0, batch).astype(np.float32)
    u = np.stack([np.cos(theta), np.sin(theta)], 1)
    return {"theta": theta, "w0": (s[:, None] * u).astype(np.float32)}


def _landscapes(theta: np.ndarray) -> Landscape:
    b = theta.shape[0]
    normals = np.stack([-np.sin(theta), np.cos(theta)], 1)[:, None, :]
    river = np.stack([np.cos(theta), np.sin(theta)], 1)
    f = lambda x: jnp.asarray(x, jnp.float32)  # noqa: E731
    return Landscape(
        normals=f(normals),
        river_dir=f(river),
        center=ConstantCenter(f(np.zeros((b, 1)))),
        wall=QuadraticWall(f(np.full(b, RB)), f(np.full(b, KAPPA)), f(np.zeros(b))),
        river_loss=ZeroDrift(),
        aniso=f(np.ones((b, 1))),
    )


def ours(prob: dict, steps: int):
    """Return a callable running the batch with the engine (compiled on first call)."""
    land = _landscapes(prob["theta"])
    grid = ls.uniform_grid(STEP)
    rule = ls.ste(learning_rate=LR)
    w0 = jnp.asarray(prob["w0"])

    def call():
        tr = ls.run_batch(land, grid, rule, w0, steps, landscape_axis=0, save=ls.SaveAt.summary())
        jax.block_until_ready(tr.final_loss)
        return {f: np.asarray(getattr(tr, f)) for f in ("hit_time", "switches", "final_loss", "final_rho_q")}

    return call


def numpy_peer(prob: dict, steps: int) -> dict:
    """Vectorised NumPy STE: one array update of the whole batch per step."""
    theta, w = prob["theta"], prob["w0"].copy()
    n = np.stack([-np.sin(theta), np.cos(theta)], 1).astype(np.float32)
    b = w.shape[0]
    step, rb, kappa, lr = np.float32(STEP), np.float32(RB), np.float32(KAPPA), np.float32(LR)
    hit = np.full(b, -1, np.int64)
    loss_hit = np.full(b, np.nan, np.float32)
    switches = np.zeros(b, np.int64)
    q_prev = np.round(w / step) * step

    def observe(q, t):
        v = np.einsum("bi,bi->b", n, q)
        rho = np.abs(v)
        excess = np.maximum(rho - rb, 0)
        first = (hit < 0) & (rho <= rb)
        np.copyto(hit, t, where=first)
        np.copyto(loss_hit, 0.5 * kappa * excess**2, where=first)
        return v, rho, excess

    for t in range(steps):
        q = np.round(w / step) * step
        v, rho, excess = observe(q, t)
        if t > 0:
            switches += np.any(q != q_prev, axis=1)
        w -= (lr * kappa * excess * np.sign(v))[:, None] * n
        q_prev = q
    q = np.round(w / step) * step
    v, rho, excess = observe(q, steps)
    switches += np.any(q != q_prev, axis=1)
    return {"hit_time": hit, "switches": switches, "final_loss": 0.5 * kappa * excess**2, "final_rho_q": rho}


def torch_peer(prob: dict, steps: int) -> dict:
    """PyTorch eager STE on CPU (no autograd: the analytic gradient, in-place updates)."""
    import torch

    with torch.no_grad():
        theta = torch.from_numpy(prob["theta"])
        w = torch.from_numpy(prob["w0"].copy())
        n = torch.stack([-torch.sin(theta), torch.cos(theta)], 1)
        b = w.shape[0]
        step, rb, kappa, lr = STEP, RB, KAPPA, LR
        hit = torch.full((b,), -1, dtype=torch.int64)
        loss_hit = torch.full((b,), float("nan"))
        switches = torch.zeros(b, dtype=torch.int64)
        q_prev = torch.round(w / step) * step

        def observe(q, t):
            v = (n * q).sum(1)
            rho = v.abs()
            excess = (rho - rb).clamp_min(0)
            first = (hit < 0) & (rho <= rb)
            hit.masked_fill_(first, t)
            torch.where(first, 0.5 * kappa * excess**2, loss_hit, out=loss_hit)
            return v, rho, excess

        for t in range(steps):
            q = torch.round(w / step) * step
            v, rho, excess = observe(q, t)
            if t > 0:
                switches += (q != q_prev).any(1)
            w.sub_((lr * kappa * excess * torch.sign(v)).unsqueeze(1) * n)
            q_prev = q
        q = torch.round(w / step) * step
        v, rho, excess = observe(q, steps)
        switches += (q != q_prev).any(1)
        return {
            "hit_time": hit.numpy(),
            "switches": switches.numpy(),
            "final_loss": (0.5 * kappa * excess**2).numpy(),
            "final_rho_q": rho.numpy(),
        }


def agreement(a: dict, b: dict) -> dict:
    """Fractions of trajectories on which two implementations agree."""
    return {
        "hit_time_equal": float(np.mean(a["hit_time"] == b["hit_time"])),
        "switches_equal": float(np.mean(a["switches"] == b["switches"])),
        "final_rho_q_close": float(
            np.mean(np.isclose(a["final_rho_q"], b["final_rho_q"], rtol=1e-4, atol=1e-5))
        ),
    }


def _best(fn, repeats: int) -> tuple[float, dict]:
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def bench_ste2d(batch: int, steps: int, repeats: int = 1) -> dict:
    """Time ours, NumPy and (if installed) PyTorch on the same problem; ratios and agreement."""
    prob = problem(batch)
    run_ours = ours(prob, steps)
    t0 = time.perf_counter()
    ref = run_ours()  # compile + first run
    compile_s = time.perf_counter() - t0
    t_ours, ref = _best(run_ours, max(repeats, 2))
    numpy_peer(problem(min(batch, 1000), seed=1), 5)  # warm-up, not timed
    t_np, out_np = _best(lambda: numpy_peer(prob, steps), repeats)
    res = {
        "batch": batch,
        "steps": steps,
        "ours_s": t_ours,
        "ours_compile_and_first_run_s": compile_s,
        "numpy_s": t_np,
        "speedup_vs_numpy": t_np / t_ours,
        "agreement_numpy": agreement(ref, out_np),
        "torch_s": None,
        "speedup_vs_torch": None,
        "agreement_torch": None,
        "torch": None,
    }
    try:
        import torch
    except ImportError:
        res["torch"] = "not installed (pip install -e '.[bench]')"
        return res
    # PyTorch gets its best thread setting: its default, or one thread (on a small or busy
    # machine the default intra-op pool can be several times slower).
    default = torch.get_num_threads()
    timings = {}
    warm = problem(min(batch, 1000), seed=1)
    try:
        for threads in sorted({default, 1}, reverse=True):
            torch.set_num_threads(threads)
            torch_peer(warm, 5)  # first-call initialisation is not timed
            timings[threads] = _best(lambda: torch_peer(prob, steps), repeats)
    finally:
        torch.set_num_threads(default)
    threads = min(timings, key=lambda n: timings[n][0])
    t_t, out_t = timings[threads]
    res["torch"] = f"{torch.__version__}, best of {sorted(timings)} threads: {threads}"
    res["torch_s_by_threads"] = {str(n): t for n, (t, _) in timings.items()}
    res.update(torch_s=t_t, speedup_vs_torch=t_t / t_ours, agreement_torch=agreement(ref, out_t))
    return res
