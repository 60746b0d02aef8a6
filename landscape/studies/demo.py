"""The built-in default study behind ``landscape demo``.

Two landscapes: a 2-D river rotated by theta against the grid, and a d = 256, k = 4 random
straight river. For each: trained points spread along the river, RTN's exit fraction
(share of Q(w*) outside the basin), then STE-QAT from every RTN failure (latent w0 = w*,
so Q(w0) is RTN's point): recovery fraction (Q(w_t) enters the basin within the budget)
and median first hitting time T among the recovered.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from landscape.config import Record, field
from landscape.geometry import random_river, rotated_river_2d
from landscape.geometry.walls import quadratic_wall
from landscape.qat import ste
from landscape.quantizers import delta_perp, flip_size, uniform_grid
from landscape.simulate import run, run_batch
from landscape.simulate.outcomes import recovery_stats

__all__ = ["DemoConfig", "CaseResult", "run_case", "run_demo", "plot_demo"]


class DemoConfig(Record):
    """Parameters of the demo (all lengths in the units of the grid step)."""

    seed: int = field("seed", 0)
    step: float = field("step", 1.0)
    basin_radius: float = field("basin_radius", 0.3)
    kappa: float = field("kappa", 10.0)
    learning_rate: float = field("learning_rate", 0.05)
    theta: float = field("theta", 0.3)
    dim: int = field("dim", 256)
    k: int = field("k", 4)
    n_points: int = field("n_points", 2000, kind="int", low=1, long_name="trained points")
    num_steps: int = field("num_steps", 500)
    s_range: tuple[float, float] = (-50.0, 50.0)
    spread: float = field("spread", 3.0, low=0, long_name="spread across the basin floor", units="steps")


@dataclasses.dataclass
class CaseResult:
    """Measured figures of one landscape: exit fraction, recovery, T, geometry."""

    name: str
    n_points: int
    rtn_exit_fraction: float
    n_failed: int
    ste_recovery_fraction: float
    median_hit_time: float
    delta_perp: float
    delta_perp_exact: bool
    max_flip_size: float
    basin_radius: float


def run_case(name, landscape, quantizer, cfg: DemoConfig, key, spread=0.0):
    """RTN exit fraction over trained points, then STE from each RTN failure."""
    k_pts, k_run = jax.random.split(key)
    w_star = landscape.sample_river(k_pts, cfg.n_points, s_range=cfg.s_range, spread=spread)
    q = quantizer.quantize(w_star)
    exits = ~jax.vmap(landscape.in_basin)(q)
    failed = np.asarray(w_star)[np.asarray(exits)]
    hit = div = np.array([], dtype=int)
    if failed.shape[0]:
        tr = run_batch(
            landscape,
            quantizer,
            ste(cfg.learning_rate),
            failed,
            cfg.num_steps,
            key=k_run,
        )
        hit, div = np.asarray(tr.hit_time), np.asarray(tr.diverge_time)
    st = recovery_stats(hit_time=hit, diverge_time=div)  # a diverged run is never a recovery
    dp = delta_perp(quantizer, landscape.normals)
    res = CaseResult(
        name=name,
        n_points=cfg.n_points,
        rtn_exit_fraction=float(np.mean(np.asarray(exits))),
        n_failed=int(failed.shape[0]),
        ste_recovery_fraction=st.p_recovered,
        median_hit_time=st.median_T,
        delta_perp=dp.value,
        delta_perp_exact=dp.exact,
        max_flip_size=float(np.max(flip_size(quantizer, landscape.normals))),
        basin_radius=float(landscape.basin_radius),
    )
    return res, w_star, np.asarray(exits), hit


def run_demo(cfg: DemoConfig = DemoConfig()):
    """Both cases of the demo; returns (results, artefacts of the 2-D case for the figure)."""
    key = jax.random.PRNGKey(cfg.seed)
    k2, kh, kl = jax.random.split(key, 3)
    wall = quadratic_wall(cfg.basin_radius, cfg.kappa)
    grid = uniform_grid(cfg.step)
    l2 = rotated_river_2d(cfg.theta, wall=wall)
    r2, w2, exits2, hit2 = run_case(f"2-D, theta={cfg.theta:g}", l2, grid, cfg, k2)
    lh = random_river(kl, cfg.dim, cfg.k, wall=wall)
    rh, *_ = run_case(f"d={cfg.dim}, k={cfg.k}", lh, grid, cfg, kh, spread=cfg.spread)
    # the 2-D trajectory to draw: the first RTN failure that STE recovers (else the first failure)
    idx_failed = np.flatnonzero(exits2)
    pick = None
    if idx_failed.size:
        rec = np.flatnonzero(hit2 >= 0)
        pick = idx_failed[rec[0]] if rec.size else idx_failed[0]
    return [r2, rh], {"landscape": l2, "grid": grid, "w_star": w2, "pick": pick, "cfg": cfg}


def plot_demo(art, path: Path, num_steps: int = 60):
    """2-D contours of L, the basin, grid points, w*, RTN's point and one STE trajectory."""
    import matplotlib.pyplot as plt  # the user's backend: matplotlib.use() would hide Jupyter's figures

    land, grid, cfg = art["landscape"], art["grid"], art["cfg"]
    w_star = np.asarray(art["w_star"][art["pick"]]) if art["pick"] is not None else np.zeros(2)
    tr = run(land, grid, ste(cfg.learning_rate), jnp.asarray(w_star), num_steps, record_path=True)
    wp = np.vstack([np.asarray(tr.w_path), np.asarray(tr.final_w)[None]])
    qp = np.vstack([np.asarray(tr.q_path), np.asarray(tr.final_q)[None]])
    half = 2.5 * cfg.step
    cx, cy = w_star
    xs = np.linspace(cx - half, cx + half, 241)
    ys = np.linspace(cy - half, cy + half, 241)
    xx, yy = np.meshgrid(xs, ys)
    pts = jnp.asarray(np.stack([xx.ravel(), yy.ravel()], 1), dtype=jnp.float32)
    zz = np.asarray(jax.vmap(land.loss)(pts)).reshape(xx.shape)
    rho = np.asarray(jax.vmap(land.rho)(pts)).reshape(xx.shape)

    fig, ax = plt.subplots(figsize=(5.2, 4.6), constrained_layout=True)
    cs = ax.contourf(xx, yy, np.log1p(zz), levels=20, cmap="Blues")
    fig.colorbar(cs, ax=ax, label=r"$\log(1 + L(w))$")
    ax.contour(xx, yy, rho, levels=[float(land.basin_radius)], colors="#009E73", linewidths=1.5)
    gx = np.arange(np.floor((cx - half) / cfg.step), np.ceil((cx + half) / cfg.step) + 1) * cfg.step
    gy = np.arange(np.floor((cy - half) / cfg.step), np.ceil((cy + half) / cfg.step) + 1) * cfg.step
    gxx, gyy = np.meshgrid(gx, gy)
    ax.plot(gxx.ravel(), gyy.ravel(), "k.", ms=3, label="grid points")
    ax.plot(wp[:, 0], wp[:, 1], "-", color="#0072B2", lw=1.2, label=r"latent $w_t$ (STE)")
    ax.plot(qp[:, 0], qp[:, 1], "--o", color="#D55E00", ms=4, lw=1.0, label=r"deployed $Q(w_t)$")
    ax.plot(*w_star, "*", color="k", ms=11, label=r"trained $w^*$")
    ax.plot(*qp[0], "s", mfc="none", mec="#CC79A7", ms=11, mew=2, label=r"RTN $Q(w^*)$")
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal")
    ax.set_xlabel(r"$w_1$ (grid units)")
    ax.set_ylabel(r"$w_2$ (grid units)")
    ht = int(tr.hit_time)
    ax.set_title(
        rf"STE from an RTN failure: $\theta={cfg.theta:g}$, $r_b={cfg.basin_radius:g}\Delta$, "
        + (rf"$T={ht}$" if ht >= 0 else rf"no entry in {num_steps} steps"),
        fontsize=9,
    )
    ax.legend(loc="lower right", fontsize=7, framealpha=0.9)
    fig.text(0.01, 0.01, "green: basin boundary $\\rho = r_b$", fontsize=7)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=200)
    plt.close(fig)
    return path
