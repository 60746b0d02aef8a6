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
from landscape.ptq import oracle as ptq_oracle
from landscape.ptq import ptq_methods
from landscape.studies.figures_data import _loss_rho, mesh_2d, point_vars, sample_river
from landscape.studies.starts import in_basin_rows

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
    methods, oracle = ptq_methods, ptq_oracle
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
            rates.append(1.0 - float(np.mean(np.asarray(in_basin_rows(lw, jnp.asarray(qa))))))
            sames.append(float(np.mean(np.all(qa == qb, axis=1))))
        res = oracle(lw, qz, w)
        qs["oracle"] = np.asarray(res.q)
        rates.append(1.0 - float(np.mean(np.asarray(in_basin_rows(lw, res.q)))))
        sames.append(float("nan"))
        labels.append(f"d={d}, k={k}")
        exit_rate.append(rates)
        same.append(sames)
        n_ok.append(bool(res.exact))
        if d == 2 and example is None:
            out_g = ~np.asarray(in_basin_rows(lw, jnp.asarray(qs["gptq"])))
            out_a = ~np.asarray(in_basin_rows(lw, jnp.asarray(qs["adaround"])))
            in_o = np.asarray(in_basin_rows(lw, jnp.asarray(qs["oracle"])))
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
        ds = (
            ds.merge(mesh)
            .assign(loss_free=(("y", "x"), free["loss"].values), **point_vars(lw, pts))
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


# --------------------------------------------------------------------------------------
# the planar valley: the twin picture with valley curvature (figure 3, panels a and b)
# --------------------------------------------------------------------------------------
VALLEY_METHODS = ("rtn", "obq", "gptq", "adaround", "proxy_min")


def _planar(basin_radius, kappa, mu, lam, center=None, offset=0.0):
    wall = L.quadratic_wall(basin_radius, kappa, mu)
    return L.valley_landscape_3d(np.pi / 4, wall=wall, curvature=lam, center=center, offset=offset)


def _methods_on(land, quant, w, key):
    qs = {m: np.asarray(ptq_methods[m](land, quant, w, key=key)) for m in VALLEY_METHODS}
    qs["oracle"] = np.asarray(L.oracle(land, quant, w).q)
    return qs


def valley_twin_dataset(step, basin_radius, kappa, mu, lambda_over_mu, n_points, key, *, n_mesh=121):
    """The planar valley with and without its wall: exit and identical-q rates, one example in the plane.

    Trained points on the river and the valley floor with uniformly random grid offsets (the residual is
    uniform on the cell); ``exit_rate`` and ``same_q`` per method. The example is a trained point where RTN
    and the oracle are inside the basin and GPTQ and the exact proxy minimiser outside (the first such
    point, else the most telling one); it is translated so that its grid has offset 0, and the (w1, w2)
    plane through it is meshed for both landscapes.
    """
    lam = lambda_over_mu * mu
    walled = _planar(basin_radius, kappa, mu, lam)
    free = walled.replace(wall=L.quadratic_wall(basin_radius, 0.0, mu))
    kw, ko, kq = jax.random.split(key, 3)
    w = np.asarray(walled.sample_river(kw, n_points, s_range=(-5.0, 5.0)))
    offs = np.asarray(jax.random.uniform(ko, (n_points, 3), minval=0.0, maxval=step))
    qz = L.uniform_grid(step, offset=offs)
    qs, qf = _methods_on(walled, qz, w, kq), _methods_on(free, qz, w, kq)
    outside = {m: ~np.asarray(in_basin_rows(walled, jnp.asarray(q))) for m, q in qs.items()}
    names = list(VALLEY_METHODS) + ["oracle"]
    exit_rate = np.array([outside[m].mean() for m in names])
    same = np.array([np.mean(np.all(qs[m] == qf[m], axis=1)) if m != "oracle" else np.nan for m in names])
    score = (8 * (~outside["rtn"] & outside["gptq"] & outside["proxy_min"] & ~outside["oracle"])
             + 4 * (outside["gptq"] & ~outside["oracle"]) + 2 * outside["proxy_min"] + outside["gptq"])
    i = int(np.argmax(score))
    # the example, translated so that its grid has offset 0 (the methods are translation-equivariant)
    w0 = w[i] - offs[i]
    nrm, edir = np.asarray(walled.normals[0]), np.asarray(walled.valley_dirs[0])
    lw = _planar(basin_radius, kappa, mu, lam, center=[float(nrm @ w0)], offset=float(edir @ w0))
    lf = lw.replace(wall=L.quadratic_wall(basin_radius, 0.0, mu))
    grid = L.uniform_grid(step)
    ex = {m: q[0] for m, q in _methods_on(lw, grid, w0[None], kq).items()}
    hw = 1.6 * step
    x = np.linspace(w0[0] - hw, w0[0] + hw, n_mesh)
    y = np.linspace(w0[1] - hw, w0[1] + hw, n_mesh)
    xx, yy = np.meshgrid(x, y)
    pts = np.stack([xx.ravel(), yy.ravel(), np.full(xx.size, w0[2])], -1)
    loss, rho = (np.asarray(a).reshape(n_mesh, n_mesh) for a in _loss_rho(lw, jnp.asarray(pts)))
    loss_free = np.asarray(_loss_rho(lf, jnp.asarray(pts))[0]).reshape(n_mesh, n_mesh)
    t = np.linspace(-4 * hw, 4 * hw, 201)
    river = w0[None, :2] + t[:, None] * edir[None, :2]  # rho = 0 in the plane: along e
    floor = w0[None, :2] + t[:, None] * nrm[None, :2]  # e.w = b in the plane: along n
    p = np.stack([w0] + [ex[m] for m in names])
    ds = xr.Dataset(
        {
            "loss": (("y", "x"), loss, {"long_name": "L(w), walled"}),
            "loss_free": (("y", "x"), loss_free, {"long_name": "L(w), wall-free twin"}),
            "rho": (("y", "x"), rho),
            "river_x": (("s",), river[:, 0]), "river_y": (("s",), river[:, 1]),
            "floor_x": (("s",), floor[:, 0]), "floor_y": (("s",), floor[:, 1]),
            **point_vars(lw, p, dtype=None),
            "exit_rate": (("ptq_method",), exit_rate, {"long_name": "q outside the walled basin"}),
            "exit_rate_se": (("ptq_method",), np.sqrt(exit_rate * (1 - exit_rate) / n_points)),
            "same_q": (("ptq_method",), same, {"long_name": "identical q, walled vs wall-free"}),
        },
        coords={"x": x, "y": y, "s": t, "point": ["trained"] + names, "ptq_method": names},
    )
    ds.attrs.update(theta=float(np.pi / 4), step=float(step), offset=0.0, basin_radius=float(basin_radius),
                    kappa=float(kappa), mu=float(mu), lambda_over_mu=float(lambda_over_mu),
                    n_points=int(n_points), example_index=i)
    return ds
