r"""Figure 5's data: STE recovery over (step / r_b, max flip_size / r_b).

The family decouples the two axes: a straight river in :math:`d` dimensions with one
sharp direction :math:`n = \alpha e_1 + \sqrt{1-\alpha^2}\, m`, where :math:`m` spreads
equally (random signs) over coordinates :math:`2..d`. Then ``max flip_size`` is
:math:`\Delta\alpha` (when :math:`\alpha \ge \sqrt{(1-\alpha^2)/(d-1)}`) and
:math:`\delta_\perp = \tfrac{\Delta}{2}(\alpha + \sqrt{1-\alpha^2}\sqrt{d-1})`, so
``step / r_b`` and ``alpha * step / r_b`` are independent axes. In every cell, trained
points are drawn along the river (spread in the flat directions), those whose RTN point
lies outside the basin are kept, and STE runs from them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

import landscape as L

__all__ = ["alpha_normal", "phase_dataset", "delta_perp_alpha"]


def alpha_normal(dim: int, alpha: float, key) -> np.ndarray:
    """Unit normal (1, d): alpha on coordinate 1, sqrt(1 - alpha^2) spread with random signs on the rest."""
    signs = np.where(np.asarray(jax.random.bernoulli(key, 0.5, (dim - 1,))), 1.0, -1.0)
    n = np.concatenate([[alpha], np.sqrt(max(1.0 - alpha**2, 0.0)) * signs / np.sqrt(dim - 1)])
    return (n / np.linalg.norm(n))[None, :]


def delta_perp_alpha(dim: int, alpha, step_ratio):
    """delta_perp / r_b of the family: (step/r_b)/2 * (alpha + sqrt(1 - alpha^2) sqrt(d - 1))."""
    alpha = np.asarray(alpha, float)
    return (
        0.5
        * np.asarray(step_ratio, float)
        * (alpha + np.sqrt(np.clip(1 - alpha**2, 0, None)) * np.sqrt(dim - 1))
    )


def _stack(trees, repeats: int):
    """Stack pytrees along a new leading axis (in NumPy), each repeated ``repeats`` times."""
    return jax.tree.map(
        lambda *xs: jnp.asarray(np.repeat(np.stack([np.asarray(x) for x in xs]), repeats, 0)), *trees
    )


def phase_dataset(
    dim,
    step_ratios,
    alphas,
    n_starts,
    num_steps,
    key,
    *,
    basin_radius=0.25,
    kappa=10.0,
    learning_rate=0.05,
    progress=None,
) -> xr.Dataset:
    """Recovery probability and median T of STE from RTN-failed points on every (ratio, alpha) cell."""
    rb = float(basin_radius)
    cells, lss, qzs, w0s = [], [], [], []
    for i, r in enumerate(step_ratios):
        for j, a in enumerate(alphas):
            kc = jax.random.fold_in(key, 1000 * i + j)
            kn, ks = jax.random.split(kc)
            ls = L.straight_river(alpha_normal(dim, float(a), kn), wall=L.quadratic_wall(rb, kappa))
            qz = L.uniform_grid(float(r) * rb)
            w = ls.sample_river(ks, n_starts, s_range=(-200.0, 200.0), spread=10.0 * float(r) * rb)
            cells.append((i, j))
            lss.append(ls)
            qzs.append(qz)
            w0s.append(np.asarray(w))
    w0 = jnp.asarray(np.concatenate(w0s), jnp.float32)
    ls_b, qz_b = _stack(lss, n_starts), _stack(qzs, n_starts)
    rtn_out = ~np.asarray(jax.vmap(lambda ls, qz, w: ls.in_basin(qz.quantize(w)))(ls_b, qz_b, w0))
    tr = L.run_batch(
        ls_b,
        qz_b,
        L.ste(learning_rate),
        w0,
        num_steps,
        key=jax.random.fold_in(key, 99),
        landscape_axis=0,
        quantizer_axis=0,
        record_every=num_steps,
    )
    hit = np.asarray(tr.hit_time)
    div = np.asarray(tr.diverge_time)
    shape = (len(step_ratios), len(alphas))
    p_rec, med_t, p_rtn, n_fail = (np.full(shape, np.nan) for _ in range(4))
    for c, (i, j) in enumerate(cells):
        sl = slice(c * n_starts, (c + 1) * n_starts)
        fail = rtn_out[sl]
        n_fail[i, j] = fail.sum()
        p_rtn[i, j] = fail.mean()
        if fail.any():
            h = hit[sl][fail]
            ok = (h >= 0) & (div[sl][fail] < 0)  # a diverged run is never a recovery
            p_rec[i, j] = np.mean(ok)
            if ok.any():
                med_t[i, j] = np.median(h[ok])
    ratios = np.asarray(step_ratios, float)
    al = np.asarray(alphas, float)
    ds = xr.Dataset(
        {
            "recovery_prob": (
                ("step_ratio", "alpha"),
                p_rec,
                {"long_name": "P(STE enters the basin | RTN outside)"},
            ),
            "median_T": (("step_ratio", "alpha"), med_t, {"long_name": "median first hitting time T"}),
            "rtn_exit": (("step_ratio", "alpha"), p_rtn, {"long_name": "RTN exit fraction"}),
            "n_failed": (("step_ratio", "alpha"), n_fail, {"long_name": "RTN-failed starts in the cell"}),
            "flip_ratio": (
                ("step_ratio", "alpha"),
                ratios[:, None] * al[None, :],
                {"long_name": "max flip_size / r_b"},
            ),
            "hit_time": (
                ("step_ratio", "alpha", "start"),
                hit.reshape(*shape, n_starts),
                {"long_name": "first hitting time T (-1: never)"},
            ),
            "diverge_time": (
                ("step_ratio", "alpha", "start"),
                div.reshape(*shape, n_starts),
                {"long_name": "first step at which the run became non-finite (-1: never)"},
            ),
            "rtn_failed": (
                ("step_ratio", "alpha", "start"),
                rtn_out.reshape(*shape, n_starts).astype(np.int8),
                {"long_name": "RTN point outside the basin"},
            ),
            "delta_perp_ratio": (
                ("step_ratio", "alpha"),
                delta_perp_alpha(dim, al[None, :], ratios[:, None]),
                {"long_name": "delta_perp / r_b"},
            ),
        },
        coords={"step_ratio": ratios, "alpha": al},
    )
    ds.attrs.update(
        dim=int(dim),
        k=1,
        basin_radius=rb,
        kappa=float(kappa),
        learning_rate=float(learning_rate),
        num_steps=int(num_steps),
        n_starts=int(n_starts),
        rule="ste",
    )
    return ds
