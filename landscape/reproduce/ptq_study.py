"""Figure 3's data: Hessian blindness, with the PTQ methods of ``landscape.ptq`` (issue 3).

The walled landscape (quadratic wall of slope ``kappa`` beyond ``r_b``, floor curvature
``mu``) and its wall-free twin (``kappa = 0``) agree inside the basin, so their loss,
gradient and Hessian at a trained point on the river agree; a method that sees only the
second-order model at w* must return the same q for both. For each method the dataset
records how often q is identical, and how often q lies outside the walled basin, next to
the oracle (the best corner of w*'s cell, within one grid step in l_inf).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

import landscape as L
from landscape.reproduce.stage import require
from landscape.reproduce.studies import _inside, _loss_rho, mesh_2d, sample_river

__all__ = ["blindness_dataset", "METHODS"]

METHODS = ("rtn", "obq", "gptq", "adaround")


def _twins(d, k, theta, basin_radius, kappa, mu, key):
    def make(kap):
        wall = L.quadratic_wall(basin_radius, kap, mu)
        if d == 2:
            return L.rotated_river_2d(theta, wall=wall)
        return L.random_river(key, d, k, wall=wall)

    return make(kappa), make(0.0)


def blindness_dataset(
    cases, theta, step, basin_radius, kappa, mu, n_points, key, *, n_mesh=121
) -> xr.Dataset:
    """Exit rates and identical-choice rates of each PTQ method, walled vs wall-free, per (d, k) case."""
    ptq = require("landscape.ptq", "ptq_methods", "oracle")
    methods, oracle = ptq
    qz = L.uniform_grid(step)
    labels, exit_rate, same, n_ok = [], [], [], []
    example = None
    for ci, (d, k) in enumerate(cases):
        kc = jax.random.fold_in(key, ci)
        lw, lf = _twins(d, k, theta, basin_radius, kappa, mu, kc)
        w = sample_river(
            lw,
            jax.random.fold_in(kc, 1),
            n_points,
            (-50.0 * step, 50.0 * step),
            10.0 * step if d > 2 else 0.0,
        )
        rates, sames, qs = [], [], {}
        for m in METHODS:
            qa = np.asarray(methods[m](lw, qz, w, key=jax.random.fold_in(kc, 2)))
            qb = np.asarray(methods[m](lf, qz, w, key=jax.random.fold_in(kc, 2)))
            qs[m] = qa
            rates.append(1.0 - float(np.mean(np.asarray(_inside(lw, jnp.asarray(qa))))))
            sames.append(float(np.mean(np.all(qa == qb, axis=1))))
        res = oracle(lw, qz, w)
        qs["oracle"] = np.asarray(res.q)
        rates.append(1.0 - float(np.mean(np.asarray(_inside(lw, res.q)))))
        sames.append(float("nan"))
        labels.append(f"d={d}, k={k}")
        exit_rate.append(rates)
        same.append(sames)
        n_ok.append(bool(res.exact))
        if d == 2 and example is None:
            out_g = ~np.asarray(_inside(lw, jnp.asarray(qs["gptq"])))
            out_a = ~np.asarray(_inside(lw, jnp.asarray(qs["adaround"])))
            in_o = np.asarray(_inside(lw, jnp.asarray(qs["oracle"])))
            score = 4 * (out_g & in_o) + 2 * (out_a & in_o) + out_g  # prefer: both blind, oracle inside
            i = int(np.argmax(score))
            example = (lw, lf, np.asarray(w)[i], {m: q[i] for m, q in qs.items()})
    mnames = list(METHODS) + ["oracle"]
    er = np.asarray(exit_rate)
    ds = xr.Dataset(
        {
            "exit_rate": (
                ("case", "ptq_method"),
                er,
                {"long_name": "fraction of q outside the walled basin"},
            ),
            "exit_rate_se": (("case", "ptq_method"), np.sqrt(er * (1 - er) / n_points)),
            "same_q": (
                ("case", "ptq_method"),
                np.asarray(same),
                {"long_name": "fraction of trained points with identical q, walled vs wall-free"},
            ),
            "oracle_exact": (("case",), np.asarray(n_ok, np.int8)),
        },
        coords={"case": labels, "ptq_method": mnames},
    )
    if example is not None:
        lw, lf, w0, qs = example
        mesh = mesh_2d(lw, w0, 1.6 * step, n_mesh)
        pts = np.stack([w0] + [qs[m] for m in mnames])
        free = mesh_2d(lf, w0, 1.6 * step, n_mesh)
        pl, pr = _loss_rho(lw, jnp.asarray(pts, jnp.float32))
        ds = (
            ds.merge(mesh)
            .assign(
                loss_free=(("y", "x"), free["loss"].values),
                point_x=(("point",), pts[:, 0]),
                point_y=(("point",), pts[:, 1]),
                point_rho=(("point",), np.asarray(pr)),
                point_loss=(("point",), np.asarray(pl)),
            )
            .assign_coords(point=["trained"] + mnames)
        )
    ds.attrs.update(
        theta=float(theta),
        step=float(step),
        offset=0.0,
        basin_radius=float(basin_radius),
        kappa=float(kappa),
        mu=float(mu),
        n_points=int(n_points),
    )
    return ds
