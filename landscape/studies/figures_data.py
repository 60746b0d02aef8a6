"""Data behind the engine-only figures (1, 4, 8) and figure 5's k >= 2 panel (:func:`sharp_panel_dataset`).

Every function is deterministic given its arguments (PRNG keys are explicit); the datasets are
drawn by :mod:`landscape.plot` (runs are drawn from their :class:`~landscape.Trajectory`).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

import landscape as L
from landscape.laws import basin_floor_offsets
from landscape.ptq import oracle
from landscape.studies.phase_study import certificate_record
from landscape.studies.starts import ptq_starts, rtn_failed_starts, sample_river


@jax.jit
def _loss_rho(landscape, pts):
    """(L, rho) at every row of pts (one compiled call)."""
    return jax.vmap(landscape.loss)(pts), jax.vmap(landscape.rho)(pts)


def point_vars(landscape, pts, dtype=jnp.float32) -> dict:
    """The marked points of a 2-D picture as Dataset variables over ``point``: x, y, rho(w) and L(w)."""
    loss, rho = _loss_rho(landscape, jnp.asarray(pts, dtype))
    return {
        "point_x": (("point",), pts[:, 0]),
        "point_y": (("point",), pts[:, 1]),
        "point_rho": (("point",), np.asarray(rho)),
        "point_loss": (("point",), np.asarray(loss)),
    }


@jax.jit
def _river_points(landscape, s):
    """The river points s u + N^T c(s) for every s."""
    return jax.vmap(lambda t: t * landscape.river_dir + landscape.center(t) @ landscape.normals)(s)



__all__ = [
    "sample_river",
    "rotated_case",
    "mesh_2d",
    "best_grid_point",
    "anatomy_dataset",
    "rtn_failed_starts",
    "sharp_panel_dataset",
]


def rotated_case(theta: float, step: float, basin_radius: float, kappa: float = 10.0, mu: float = 0.0):
    """(landscape, quantizer): a 2-D river at angle theta with a quadratic wall, grid step * Z^2."""
    ls = L.rotated_river_2d(theta, wall=L.quadratic_wall(basin_radius, kappa, mu))
    return ls, L.uniform_grid(step)


def mesh_2d(landscape, center, half_width: float, n: int = 161) -> xr.Dataset:
    """L(w) and rho(w) on an n x n mesh of the square centred at ``center`` (2-D landscapes)."""
    cx, cy = (float(c) for c in center)
    x = np.linspace(cx - half_width, cx + half_width, n)
    y = np.linspace(cy - half_width, cy + half_width, n)
    pts = jnp.asarray(np.stack(np.meshgrid(x, y), -1).reshape(-1, 2), dtype=jnp.float32)
    loss, rho = (np.asarray(a).reshape(n, n) for a in _loss_rho(landscape, pts))
    s = np.linspace(-4 * half_width, 4 * half_width, 201) + float(landscape.s(jnp.asarray([cx, cy])))
    river = np.asarray(_river_points(landscape, jnp.asarray(s, jnp.float32)))
    return xr.Dataset(
        {
            "loss": (("y", "x"), loss, {"long_name": "L(w)"}),
            "rho": (("y", "x"), rho, {"long_name": "rho(w), normal distance to the river"}),
            "river_x": (("s",), river[:, 0]),
            "river_y": (("s",), river[:, 1]),
        },
        coords={"x": x, "y": y, "s": s},
    )


def best_grid_point(landscape, quantizer, w_star):
    """(q, source): the lowest-loss corner of w*'s rounding cell (landscape.ptq.oracle); (d,) or (n, d)."""
    res = oracle(landscape, quantizer, jnp.asarray(np.asarray(w_star, np.float32)))
    return np.asarray(res.q), "landscape.ptq.oracle, " + res.method


def anatomy_dataset(theta, step, basin_radius, kappa, key, *, n_mesh=161, half_width=None) -> xr.Dataset:
    """Figure 1's data: mesh, river, and the points w* (on the river, RTN outside), RTN, oracle."""
    ls, qz = rotated_case(theta, step, basin_radius, kappa)
    cands = rtn_failed_starts(ls, qz, key, 8, want_oracle_inside=True)
    w_star = cands[int(np.argmax(np.asarray(_loss_rho(ls, qz.quantize(jnp.asarray(cands)))[1])))]
    q_rtn = np.asarray(qz.quantize(jnp.asarray(w_star)))
    q_or, source = best_grid_point(ls, qz, w_star)
    hw = 1.6 * step if half_width is None else half_width
    ds = mesh_2d(ls, w_star, hw, n_mesh)
    pts = np.stack([w_star, q_rtn, q_or])
    ds = ds.assign(point_vars(ls, pts)).assign_coords(point=["trained", "rtn", "oracle"])
    along = np.linspace(-1.5 * step, 1.5 * step, 61)
    across = np.linspace(-(basin_radius + 0.8 * step), basin_radius + 0.8 * step, 81)
    u, nrm = np.asarray(ls.river_dir), np.asarray(ls.normals[0])
    grid = w_star[None, None, :] + along[None, :, None] * u + across[:, None, None] * nrm
    surf = np.asarray(_loss_rho(ls, jnp.asarray(grid.reshape(-1, 2), jnp.float32))[0]).reshape(grid.shape[:2])
    ds = ds.assign(loss_surface=(("across", "along"), surf)).assign_coords(along=along, across=across)
    ds.attrs.update(
        theta=float(theta),
        step=float(step),
        offset=0.0,
        basin_radius=float(basin_radius),
        kappa=float(kappa),
        oracle_source=source,
        delta_perp=float(L.delta_perp(qz, ls.normals).value),
        max_flip_size=float(np.max(L.flip_size(qz, ls.normals))),
    )
    return ds


def _failed_in_cell(landscape, step, rho, rb, n_starts, key, cell, rounds):
    """Up to n_starts RTN-failed trained points at normal distance ``rho <= rb`` (float64, as drawn).

    The one sampler of PTQ-failed starts (:func:`landscape.studies.starts.ptq_starts`): s ~ U(-200, 200) along
    the river, spread 10 * step in the flat directions, normal offsets of length ``rho`` in random directions
    (:func:`landscape.laws.basin_floor_offsets`); rounds of 8 * n_starts points (round t of cell (i, j)
    keyed by ``fold_in(fold_in(fold_in(fold_in(key, 1), i), j), t)``) until n_starts have failed or
    ``rounds`` rounds are drawn.
    """
    grid, m, got, n_got = L.uniform_grid(step), 8 * n_starts, [], 0
    k_cell = jax.random.fold_in(jax.random.fold_in(jax.random.fold_in(key, 1), cell[0]), cell[1])
    for t in range(rounds):
        k_pts, k_off = jax.random.split(jax.random.fold_in(k_cell, t))
        seed = int(np.asarray(jax.random.randint(k_off, (), 0, 2**31 - 1)))
        v = basin_floor_offsets(seed, m, landscape.normals.shape[0], rb, length=rho)
        st = ptq_starts(landscape, grid, k_pts, m, "rtn", (-200.0, 200.0), 10.0 * step, offsets=v)
        got.append(np.asarray(st["w_star"], np.float64)[np.asarray(st["failed"])])
        n_got += got[-1].shape[0]
        if n_got >= n_starts:
            break
    return np.concatenate(got)[:n_starts]


def sharp_panel_dataset(
    dim, k, step_ratios, rho_ratios, n_starts, num_steps, key, *, basin_radius=0.25, kappa=10.0,
    learning_rate=0.05, sample_cap=8,
) -> xr.Dataset:
    """Figure 5's k >= 2 panel: per cell (step / r_b, rho(w*) / r_b), RTN-failed trained points and verdicts.

    One straight river (``random_river``, ``dim`` x ``k``), a uniform grid of step ``step_ratio * r_b``
    (offset 0). A trained point sits at normal offset of length ``rho_ratio * r_b`` (random direction;
    ``rho_ratio = 0``: on the river, the regime ``ptq_failed``; ``0 < rho_ratio <= 1``: inside the basin,
    the paper's regime ``in_basin``), anywhere along the river and the flat directions; only those whose
    RTN point is outside the basin are kept (up to ``n_starts``; drawn by :func:`_failed_in_cell`, on the
    one sampler of PTQ-failed starts). Each is judged by
    ``landscape.certify_recovery`` before a float64 STE run of ``num_steps`` steps.
    """
    rb = float(basin_radius)
    ls = L.random_river(key, int(dim), int(k), wall=L.quadratic_wall(rb, kappa))
    shape = (len(step_ratios), len(rho_ratios), int(n_starts))
    w_all, steps, valid = np.zeros((*shape, dim)), np.ones(shape), np.zeros(shape, bool)
    with jax.enable_x64(True):  # float64 starts: the certificate judges them exactly
        ls64 = jax.tree.map(lambda x: jnp.asarray(x, jnp.float64), ls)
        for i, r in enumerate(step_ratios):
            step = float(r) * rb
            for j, rho in enumerate(rho_ratios):
                w = _failed_in_cell(ls64, step, float(rho) * rb, rb, int(n_starts), key, (i, j), sample_cap)
                w_all[i, j, : w.shape[0]], steps[i, j], valid[i, j, : w.shape[0]] = w, step, True
    keep = valid.reshape(-1)
    w0, st_k = w_all.reshape(-1, dim)[keep], steps.reshape(-1)[keep]
    total = keep.size
    hit, div = np.full(total, -1, np.int64), np.full(total, -1, np.int64)
    verdict, theorem = np.full(total, "", object), np.full(total, "", object)
    if w0.shape[0]:
        with jax.enable_x64(True):
            b_n, f64 = w0.shape[0], jnp.float64
            qz = dataclasses.replace(  # one grid per start (a batch of uniform grids, as phase_dataset)
                L.uniform_grid(1.0), step=jnp.asarray(st_k, f64), offset=jnp.zeros(b_n, f64),
                qmin=jnp.full(b_n, -jnp.inf, f64), qmax=jnp.full(b_n, jnp.inf, f64),
            )
            ls_b = jax.tree.map(lambda x: jnp.broadcast_to(jnp.asarray(x, f64), (b_n, *jnp.shape(x))), ls)
            rule, axes = L.ste(learning_rate), {"landscape_axis": 0, "quantizer_axis": 0}
            tr = L.run_batch(ls_b, qz, rule, jnp.asarray(w0), num_steps, **axes)
            hit[keep], div[keep] = np.asarray(tr.hit_time), np.asarray(tr.diverge_time)
            cert = L.certify_recovery(ls_b, qz, w0, rule, budget=max(num_steps, 256), **axes)
        verdict[keep], theorem[keep] = np.asarray(cert.verdict), np.asarray(cert.theorem)
    judged = certificate_record(hit[keep], div[keep], cert, num_steps) if w0.shape[0] else {}
    verdict, theorem = verdict.reshape(shape), theorem.reshape(shape)
    ok = valid
    n_ok = ok.sum(-1)
    rec = ok & (hit.reshape(shape) >= 0) & (div.reshape(shape) < 0)

    def frac(mask):
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n_ok > 0, (mask & ok).sum(-1) / n_ok, np.nan)

    dims = ("step_ratio", "rho_ratio")
    ds = xr.Dataset(
        {
            "n_failed": (dims, n_ok, {"long_name": "RTN-failed starts in the cell"}),
            "recovery_prob": (dims, frac(rec), {"long_name": "P(STE enters the basin | RTN outside)"}),
            "certified_prob": (dims, frac(verdict == "certified"), {"long_name": "fraction certified"}),
            "refuted_prob": (dims, frac(verdict == "refuted"), {"long_name": "fraction refuted"}),
            "unknown_prob": (dims, frac(verdict == "unknown"), {"long_name": "fraction unknown"}),
            "verdict": ((*dims, "start"), verdict.astype(str)),
            "theorem": ((*dims, "start"), theorem.astype(str)),
            "hit_time": ((*dims, "start"), hit.reshape(shape)),
            "valid": ((*dims, "start"), valid.astype(np.int8)),
            "delta_perp_ratio": (
                ("step_ratio",),
                np.asarray([float(L.delta_perp(L.uniform_grid(float(r) * rb), ls.normals).value) / rb
                            for r in step_ratios]),
                {"long_name": "delta_perp / r_b"},
            ),
        },
        coords={"step_ratio": np.asarray(step_ratios, float), "rho_ratio": np.asarray(rho_ratios, float)},
    )
    cer = ok & (verdict == "certified")
    ds.attrs.update(
        dim=int(dim), k=int(k), basin_radius=rb, kappa=float(kappa), learning_rate=float(learning_rate),
        num_steps=int(num_steps), n_starts=int(n_starts), starts=int(ok.sum()), recovered=int(rec.sum()),
        certified=int(cer.sum()), refuted=int((ok & (verdict == "refuted")).sum()),
        unknown=int((ok & (verdict == "unknown")).sum()),
        false_certificates=judged.get("false_certificates", 0),  # judged as phase_study's certificates
        unverifiable_certificates=judged.get("unverifiable_certificates", 0),
        false_refutations=judged.get("false_refutations", 0),
    )
    return ds
