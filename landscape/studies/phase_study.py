r"""Figure 5's data: STE recovery from RTN-failed points over (step / r_b, max flip_size / r_b), with the
recovery certificate's verdicts (``landscape.certify_recovery``) next to the simulation.

The family decouples the two axes: a straight river in :math:`d` dimensions with one sharp direction
:math:`n = \alpha e_1 + \sqrt{1-\alpha^2}\, m`, where :math:`m` spreads equally (random signs) over
coordinates :math:`2..d`. Then ``max flip_size`` is :math:`\Delta\alpha` (when
:math:`\alpha \ge \sqrt{(1-\alpha^2)/(d-1)}`) and
:math:`\delta_\perp = \tfrac{\Delta}{2}(\alpha + \sqrt{1-\alpha^2}\sqrt{d-1})`, so ``step / r_b`` and
``alpha * step / r_b`` are independent axes. In every cell, trained points are drawn along the river
(spread in the flat directions) until ``n_starts`` of them are RTN-failed (or a sampling cap is
reached); STE runs from those, and the certificate judges each start in advance.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

import landscape as L
from landscape.geometry.river import ConstantCenter
from landscape.simulate.outcomes import OUTCOME_CODES, outcomes
from landscape.studies.starts import ptq_starts

__all__ = ["alpha_normal", "phase_dataset", "delta_perp_alpha", "certificate_record", "THEOREMS"]

#: certificate theorems that count as "proved in advance" (the 1-D orbit R1 is reported apart); the study
#: samples RTN-failed river starts, which S5 never certifies (2 delta_perp < r_b: RTN cannot fail there)
THEOREMS = ("T0", "K1", "K1P", "S5")


def alpha_normal(dim: int, alpha: float, key) -> np.ndarray:  # kept for callers; phase_dataset draws in NumPy
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


def _batch(normals, river_dir, steps, wall):
    """(landscapes, grids), float64, batched on axis 0: straight rivers N (b, 1, d), u (b, d), steps (b,)."""
    f64, b = jnp.float64, len(steps)
    ls_b = L.Landscape(
        normals=jnp.asarray(normals, f64),
        river_dir=jnp.asarray(river_dir, f64),
        center=ConstantCenter(jnp.zeros((b, 1), f64)),
        wall=jax.tree.map(lambda x: jnp.full((b,), float(x), f64), wall),
        river_loss=L.ZeroDrift(),
        aniso=jnp.ones((b, 1), f64),
    )
    qz_b = dataclasses.replace(
        L.uniform_grid(1.0),
        step=jnp.asarray(steps, f64),
        offset=jnp.zeros(b, f64),
        qmin=jnp.full(b, -jnp.inf, f64),
        qmax=jnp.full(b, jnp.inf, f64),
    )
    return ls_b, qz_b


def _failed_starts(normals, river_dir, steps, wall, n_starts, keys, cap):
    """Per cell, up to n_starts RTN-failed river points (float64) and the RTN exit fraction of those drawn.

    Drawn by the one sampler of PTQ-failed starts (:func:`landscape.studies.starts.ptq_starts`, vmapped over
    the cells): s ~ U(-200, 200) along the river, spread 10 * step in the flat directions, rounds of
    4 * n_starts points (a cell's round t keyed by ``fold_in(keys[cell], t)``) until n_starts have failed
    or ``cap`` rounds are drawn. Cells run in blocks of a fixed size (one compiled program).
    """
    n_cells, m = len(steps), 4 * n_starts
    if not n_cells:
        return [], []
    block = max(1, min(n_cells, 2**21 // (m * normals.shape[-1])))
    draw = jax.jit(jax.vmap(lambda ls, qz, k, sp: ptq_starts(ls, qz, k, m, "rtn", (-200.0, 200.0), sp)))
    got = [[] for _ in range(n_cells)]
    drawn, failed = np.zeros(n_cells, int), np.zeros(n_cells, int)
    for t in range(cap):
        active = np.flatnonzero(failed < n_starts)
        for lo in range(0, active.size, block):
            idx = active[lo : lo + block]
            pad = np.concatenate([idx, np.repeat(idx[-1:], block - idx.size)])
            ls_b, qz_b = _batch(normals[pad], river_dir[pad], steps[pad], wall)
            k_t = jax.vmap(jax.random.fold_in, in_axes=(0, None))(keys[pad], t)
            st = draw(ls_b, qz_b, k_t, jnp.asarray(10.0 * steps[pad]))
            bad, w = np.asarray(st["failed"]), np.asarray(st["w_star"], np.float64)
            for b, c in enumerate(idx):
                got[c].append(w[b][bad[b]])
                drawn[c] += m
                failed[c] += int(bad[b].sum())
    return [np.concatenate(g)[:n_starts] for g in got], failed / np.maximum(drawn, 1)


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
    sample_cap=16,
    progress=None,
) -> xr.Dataset:
    """Recovery probability, median T and certificate verdicts of STE from RTN-failed points per cell."""
    rb = float(basin_radius)
    n_r, n_a = len(step_ratios), len(alphas)
    wall = L.quadratic_wall(rb, kappa)
    rows_n, rows_u, rows_step, rows_w, valid, cells = [], [], [], [], [], []
    if progress is not None:
        progress("phase diagram: drawing RTN-failed starts")
    p_rtn = np.zeros((n_r, n_a))
    base = int(np.asarray(jax.random.randint(key, (), 0, 2**31 - 1)))
    for i, r in enumerate(step_ratios):
        for j, a in enumerate(alphas):
            cell_rng = np.random.default_rng((base, i, j))
            signs = cell_rng.choice([-1.0, 1.0], dim - 1)
            n = np.concatenate([[a], np.sqrt(max(1.0 - a * a, 0.0)) * signs / np.sqrt(dim - 1)])[None, :]
            n = n / np.linalg.norm(n)
            u = np.asarray(L.straight_river(n).river_dir, np.float64)
            step = float(r) * rb
            dp = delta_perp_alpha(dim, a, r) * rb
            cells.append((i, j, n, u, step, dp > rb))  # delta_perp <= r_b: RTN cannot fail (S1W)
    draws = [c for c in cells if c[5]]
    with jax.enable_x64(True):  # float64 starts: the certificate judges them exactly
        k_cell = jax.random.fold_in(key, 7)
        keys = jnp.asarray([jax.random.fold_in(jax.random.fold_in(k_cell, i), j) for i, j, *_ in draws])
        ws, fracs = _failed_starts(np.asarray([c[2] for c in draws]), np.asarray([c[3] for c in draws]),
                                   np.asarray([c[4] for c in draws]), wall, n_starts, keys, sample_cap)
    drawn_w = {(c[0], c[1]): (w, f) for c, w, f in zip(draws, ws, fracs, strict=True)}
    for i, j, n, u, step, _ in cells:
        w, frac = drawn_w.get((i, j), (np.zeros((0, dim)), 0.0))
        p_rtn[i, j] = frac
        m = w.shape[0]
        pad = np.concatenate([w, np.zeros((n_starts - m, dim))]) if m < n_starts else w
        rows_w.append(pad)
        valid.append(np.arange(n_starts) < m)
        rows_n.append(np.broadcast_to(n, (n_starts, 1, dim)))
        rows_u.append(np.broadcast_to(u, (n_starts, dim)))
        rows_step.append(np.full(n_starts, step))
    w_all = np.concatenate(rows_w)
    valid = np.concatenate(valid)
    keep = np.flatnonzero(valid)  # only the RTN-failed starts are simulated and certified (no padding)
    w0 = w_all[keep]
    with jax.enable_x64(True):  # the simulation that judges the certificate runs in float64
        f64 = jnp.float64
        ls_b, qz_b = _batch(np.concatenate(rows_n)[keep], np.concatenate(rows_u)[keep],
                            np.concatenate(rows_step)[keep], wall)  # fmt: skip
        rule = L.ste(learning_rate)
        tr = L.run_batch(
            ls_b,
            qz_b,
            rule,
            jnp.asarray(w0, f64),
            num_steps,
            key=jax.random.fold_in(key, 99),
            landscape_axis=0,
            quantizer_axis=0,
            chunk=4096,
        )
        hit_k, div_k = np.asarray(tr.hit_time), np.asarray(tr.diverge_time)
    cert_k = L.certify_recovery(
        ls_b, qz_b, w0, rule, landscape_axis=0, quantizer_axis=0, budget=max(4 * num_steps, 1024)
    )
    total = valid.shape[0]
    hit, div = np.full(total, -1, hit_k.dtype), np.full(total, -1, div_k.dtype)
    hit[keep], div[keep] = hit_k, div_k
    fields = {"verdict": "unknown", "t_bound": -1, "theorem": "", "reason": "padding (no RTN-failed start)"}
    full = {}
    for f, fill in fields.items():
        arr = np.full(total, fill, dtype=object if isinstance(fill, str) else np.int64)
        arr[keep] = np.asarray(getattr(cert_k, f))
        full[f] = arr
    cert = L.RecoveryCertificate(**full)
    shape = (n_r, n_a, n_starts)
    rec = certificate_record(hit, div, cert, num_steps, valid)
    ds = xr.Dataset(
        {
            "hit_time": (
                ("step_ratio", "alpha", "start"),
                hit.reshape(shape),
                {"long_name": "first hitting time T (-1: never)"},
            ),
            "diverge_time": (
                ("step_ratio", "alpha", "start"),
                div.reshape(shape),
                {"long_name": "first step at which the run became non-finite (-1: never)"},
            ),
            "valid": (
                ("step_ratio", "alpha", "start"),
                valid.reshape(shape).astype(np.int8),
                {"long_name": "an RTN-failed start (1) or padding (0)"},
            ),
            "verdict": (
                ("step_ratio", "alpha", "start"),
                np.asarray(cert.verdict, str).reshape(shape),
                {"long_name": "certificate verdict (certified / refuted / unknown)"},
            ),
            "theorem": (
                ("step_ratio", "alpha", "start"),
                np.asarray(cert.theorem, str).reshape(shape),
                {"long_name": "theorem behind the verdict"},
            ),
            "t_bound": (
                ("step_ratio", "alpha", "start"),
                np.asarray(cert.t_bound).reshape(shape),
                {"long_name": "certified bound on T (-1: none)"},
            ),
            "rtn_exit": (
                ("step_ratio", "alpha"),
                p_rtn,
                {"long_name": "RTN exit fraction of the trained points drawn"},
            ),
        },
        coords={"step_ratio": np.asarray(step_ratios, float), "alpha": np.asarray(alphas, float)},
    )
    ds = ds.assign(**cell_summary(ds))
    al, ratios = np.asarray(alphas, float), np.asarray(step_ratios, float)
    ds = ds.assign(
        flip_ratio=(
            ("step_ratio", "alpha"),
            ratios[:, None] * al[None, :],
            {"long_name": "max flip_size / r_b"},
        ),
        delta_perp_ratio=(
            ("step_ratio", "alpha"),
            delta_perp_alpha(dim, al[None, :], ratios[:, None]),
            {"long_name": "delta_perp / r_b"},
        ),
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
        **rec,
    )
    return ds


def cell_summary(ds) -> dict:
    """Per cell: RTN-failed starts, recovery probability, median T, certified / refuted fractions."""
    valid = ds["valid"].values.astype(bool)
    hit, div = ds["hit_time"].values, ds["diverge_time"].values
    verdict, theorem = ds["verdict"].values, ds["theorem"].values
    rec = (outcomes(hit, div) == 0) & valid
    n = valid.sum(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_rec = np.where(n > 0, rec.sum(-1) / n, np.nan)
        proved = valid & (verdict == "certified") & np.isin(theorem, THEOREMS)
        p_cert = np.where(n > 0, proved.sum(-1) / n, np.nan)
        p_cert_orbit = np.where(n > 0, (valid & (verdict == "certified")).sum(-1) / n, np.nan)
        p_ref = np.where(n > 0, (valid & (verdict == "refuted")).sum(-1) / n, np.nan)
    t = np.where(rec, hit, np.nan).astype(float)
    med = np.full(n.shape, np.nan)
    some = rec.any(-1)
    med[some] = np.nanmedian(t[some], axis=-1)
    dims = ("step_ratio", "alpha")
    return {
        "n_failed": (dims, n, {"long_name": "RTN-failed starts in the cell"}),
        "recovery_prob": (dims, p_rec, {"long_name": "P(STE enters the basin | RTN outside)"}),
        "median_T": (dims, med, {"long_name": "median first hitting time T"}),
        "certified_prob": (dims, p_cert, {"long_name": "fraction certified by a theorem (K1, K1P)"}),
        "certified_prob_orbit": (
            dims,
            p_cert_orbit,
            {"long_name": "fraction certified (theorems or the 1-D orbit)"},
        ),
        "refuted_prob": (dims, p_ref, {"long_name": "fraction refuted (empty band, exact cycle)"}),
    }


def certificate_record(hit, div, cert, num_steps, valid=None) -> dict:
    """Coverage and false certificates of ``cert`` against simulated runs (hit and divergence times).

    * ``false_certificates``: certified, but the run entered after ``t_bound``, or diverged before entering,
      or did not enter although ``t_bound <= num_steps`` (a certificate speaks of the first entry, so a run
      that entered by ``t_bound`` and diverged afterwards confirms it; those are counted apart as
      ``certified_entered_then_diverged``); ``unverifiable``: certified with ``t_bound > num_steps`` and not
      entered within the horizon (neither confirmed nor refuted); ``false_refutations``: refuted but entered.
    * ``coverage``: certified (with ``t_bound`` confirmed) among the recovered runs; ``coverage_theorems``:
      the same counting only the theorems (not the 1-D orbit).
    """
    hit, div = np.asarray(hit).reshape(-1), np.asarray(div).reshape(-1)
    verdict = np.asarray(cert.verdict).reshape(-1)
    theorem = np.asarray(cert.theorem).reshape(-1)
    tb = np.asarray(cert.t_bound).reshape(-1)
    ok = np.ones(hit.shape, bool) if valid is None else np.asarray(valid, bool).reshape(-1)
    rec = (outcomes(hit, div) == OUTCOME_CODES["recovered"]) & ok
    cer = (verdict == "certified") & ok
    late = cer & (((hit >= 0) & (hit > tb)) | ((hit < 0) & ((div >= 0) | (tb <= num_steps))))
    unver = cer & (hit < 0) & (div < 0) & (tb > num_steps)
    n_rec = int(rec.sum())
    return {
        "starts": int(ok.sum()),
        "recovered": n_rec,
        "certified": int(cer.sum()),
        "certified_by_theorems": int((cer & np.isin(theorem, THEOREMS)).sum()),
        "refuted": int(((verdict == "refuted") & ok).sum()),
        "false_certificates": int(late.sum()),
        "certified_entered_then_diverged": int((cer & (hit >= 0) & (hit <= tb) & (div >= 0)).sum()),
        "unverifiable_certificates": int(unver.sum()),
        "false_refutations": int(((verdict == "refuted") & ok & (hit >= 0)).sum()),
        "coverage": float((rec & cer).sum() / n_rec) if n_rec else float("nan"),
        "coverage_theorems": float((rec & cer & np.isin(theorem, THEOREMS)).sum() / n_rec)
        if n_rec
        else float("nan"),
    }
