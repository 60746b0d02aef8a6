"""Data behind the engine-only figures (1, 4, 8): 2-D landscapes, meshes, RTN-failed starts.

Every function is deterministic given its arguments (PRNG keys are explicit); the datasets are
drawn by :mod:`landscape.plot` (runs are drawn from their :class:`~landscape.Trajectory`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

import landscape as L
from landscape.ptq import oracle
from landscape.studies.starts import rtn_failed_starts, sample_river


@jax.jit
def _loss_rho(landscape, pts):
    """(L, rho) at every row of pts (one compiled call)."""
    return jax.vmap(landscape.loss)(pts), jax.vmap(landscape.rho)(pts)


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
    p_loss, p_rho = _loss_rho(ls, jnp.asarray(pts, jnp.float32))
    ds = ds.assign(
        point_x=(("point",), pts[:, 0]),
        point_y=(("point",), pts[:, 1]),
        point_rho=(("point",), np.asarray(p_rho)),
        point_loss=(("point",), np.asarray(p_loss)),
    ).assign_coords(point=["trained", "rtn", "oracle"])
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
