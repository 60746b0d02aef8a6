"""What a figure shows, as an ``xarray.Dataset``: a landscape's mesh in a frame, and a run in that frame.

Every drawing function of :mod:`landscape.plot` accepts either the live objects (a landscape, a
quantizer, a :class:`~landscape.Trajectory`) or one of these views, so that a figure drawn in a
notebook and the same figure redrawn from a saved ``.nc`` file are one code path.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from landscape._errors import LandscapeError
from landscape.plot.frame import evaluate, frame_for
from landscape.plot.labels import optimizer_label, rule_label, run_label

__all__ = ["landscape_view", "run_view", "points_view", "is_view"]


def is_view(obj) -> bool:
    """Whether ``obj`` is a Dataset view (as opposed to a live landscape or trajectory)."""
    return isinstance(obj, xr.Dataset)


def _extent(center, half_width):
    cx, cy = (float(c) for c in center)
    hw = np.broadcast_to(np.asarray(half_width, float), (2,))
    return (cx - hw[0], cx + hw[0]), (cy - hw[1], cy + hw[1])


def landscape_view(
    landscape, quantizer=None, *, frame=None, center=None, half_width=None, w_ref=None, n: int = 121
) -> xr.Dataset:
    """L and rho on an n x n mesh of the plane ``frame`` around ``center``, with the river and the grid.

    ``center`` and ``half_width`` are in plot coordinates (default: the projection of ``w_ref``, or the
    origin, and 3 r_b, at least the grid step). ``w_ref`` (d,) fixes the flat part of the slice.
    """
    fr = frame_for(landscape, frame, w_ref)
    rb = float(np.asarray(landscape.basin_radius)) if hasattr(landscape, "basin_radius") else float("nan")
    if center is None:
        center = fr.project(landscape, fr.w_ref)[0] if w_ref is not None else np.zeros(2)
    if half_width is None:
        step = _max_step(quantizer)
        half_width = max(3.0 * rb if np.isfinite(rb) else 1.0, 1.6 * step if step else 0.0)
    xlim, ylim = _extent(center, half_width)
    if fr.name == "river" and int(landscape.normals.shape[0]) >= 2:
        ylim = (0.0, ylim[1] - ylim[0])  # rho >= 0
    x, y = np.linspace(*xlim, n), np.linspace(*ylim, n)
    gx, gy = np.meshgrid(x, y)
    loss, rho = evaluate(landscape, fr.lift(landscape, gx.ravel(), gy.ravel()))
    river = fr.river_curve(landscape, xlim, ylim)
    grid = fr.grid_points(quantizer, xlim, ylim)
    ds = xr.Dataset(
        {
            "loss": (("y", "x"), loss.reshape(n, n), {"long_name": "loss L(w)", "units": "loss"}),
            "rho": (
                ("y", "x"),
                rho.reshape(n, n),
                {"long_name": "normal distance rho(w) to the river", "units": "weight units"},
            ),
            "river_x": (("river",), river[:, 0], {"long_name": "river rho = 0, x", "units": "weight units"}),
            "river_y": (("river",), river[:, 1], {"long_name": "river rho = 0, y", "units": "weight units"}),
            "grid_x": (("grid",), grid[:, 0], {"long_name": "grid point, x", "units": "weight units"}),
            "grid_y": (("grid",), grid[:, 1], {"long_name": "grid point, y", "units": "weight units"}),
        },
        coords={
            "x": ("x", x, {"long_name": fr.xlabel, "units": "weight units"}),
            "y": ("y", y, {"long_name": fr.ylabel, "units": "weight units"}),
        },
    )
    ds.attrs.update(
        frame=fr.name,
        xlabel=fr.xlabel,
        ylabel=fr.ylabel,
        basin_radius=rb,
        dim=int(landscape.dim),
        k=int(landscape.normals.shape[0]) if hasattr(landscape, "normals") else 0,
        landscape=repr(landscape),
        quantizer=repr(quantizer) if quantizer is not None else "",
        w_ref=np.asarray(fr.w_ref, np.float64),
    )
    if quantizer is not None:
        ds.attrs.update(_grid_geometry(landscape, quantizer))
    return ds


def _max_step(quantizer) -> float:
    if quantizer is None or not hasattr(quantizer, "step"):
        return 0.0
    return float(np.max(np.asarray(quantizer.step)))


def _grid_geometry(landscape, quantizer) -> dict:
    """delta_perp and max flip size of the grid against N (omitted where the quantizer has no fixed step)."""
    from landscape.quantizers import delta_perp, flip_size  # noqa: PLC0415

    if not hasattr(landscape, "normals"):
        return {}
    try:
        dp = delta_perp(quantizer, landscape.normals)
        return {
            "delta_perp": float(dp.value),
            "delta_perp_exact": int(bool(dp.exact)),
            "max_flip_size": float(np.max(flip_size(quantizer, landscape.normals))),
        }
    except (LandscapeError, ValueError, TypeError):
        return {}


def points_view(landscape, points: dict, *, frame=None, w_ref=None) -> xr.Dataset:
    """Named points (name -> w (d,)) in plot coordinates, with their loss, rho and basin membership."""
    fr = frame_for(landscape, frame, w_ref)
    names = list(points)
    w = np.stack([np.asarray(points[p], np.float64).reshape(-1) for p in names])
    xy = fr.project(landscape, w)
    loss, rho = evaluate(landscape, w)
    rb = float(np.asarray(landscape.basin_radius))
    return xr.Dataset(
        {
            "point_x": (("point",), xy[:, 0], {"long_name": "point, x", "units": "weight units"}),
            "point_y": (("point",), xy[:, 1], {"long_name": "point, y", "units": "weight units"}),
            "point_rho": (("point",), rho, {"long_name": "rho of the point", "units": "weight units"}),
            "point_loss": (("point",), loss, {"long_name": "loss of the point", "units": "loss"}),
            "point_in_basin": (
                ("point",),
                (rho <= rb).astype(np.int8),
                {"long_name": "point in the basin (rho <= r_b)", "units": "1"},
            ),
        },
        coords={"point": names},
    )


def run_view(
    traj,
    landscape=None,
    quantizer=None,
    rule=None,
    *,
    frame=None,
    mesh: bool = True,
    n: int = 121,
    half_width=None,
    num_steps=None,
) -> xr.Dataset:
    """One run as a Dataset: series over t, paths in the frame (if recorded), and the mesh around them.

    ``traj`` is one trajectory (index a batch first: ``traj[i]``). ``rule`` labels the run (its name and
    optimizer); ``landscape`` is needed for the paths and the mesh.
    """
    if getattr(traj, "batch_shape", ()) != ():
        raise LandscapeError(
            f"run_view draws one run; this Trajectory holds a batch of shape {traj.batch_shape}. "
            "Select one with traj[i]."
        )
    t = np.asarray(traj.t)
    data = {}
    for src, name, long, units in (
        ("loss", "loss_q", "deployed loss L(q_t)", "loss"),
        ("rho_w", "rho_w", "rho(w_t), latent distance to the river", "weight units"),
        ("rho_q", "rho_q", "rho(q_t), deployed distance to the river", "weight units"),
        ("in_basin", "in_basin", "q_t in the basin", "1"),
    ):
        v = getattr(traj, src, None)
        if v is not None:
            v = np.asarray(v)
            data[name] = (
                ("t",),
                v.astype(np.int8) if v.dtype == bool else v,
                {"long_name": long, "units": units},
            )
    ds = xr.Dataset(data, coords={"t": ("t", t, {"long_name": "QAT step t", "units": "steps"})})
    hit = int(np.asarray(traj.hit_time))
    settle = int(np.asarray(traj.settle_time))
    div = int(np.asarray(traj.diverge_time))
    sw = getattr(traj, "switches", None)
    n_steps = int(num_steps) if num_steps is not None else (int(t[-1]) + 1 if t.size else 0)
    ds.attrs.update(
        hit_time=hit,
        settle_time=settle,
        diverge_time=div,
        switches=-1 if sw is None else int(np.asarray(sw)),
        num_steps=n_steps,
        final_rho_q=float(np.asarray(traj.final_rho_q)),
    )
    if rule is not None:
        ds.attrs.update(
            rule=rule.name,
            rule_label=rule_label(rule),
            optimizer=optimizer_label(rule),
            run_label=run_label(rule),
        )
    if landscape is not None and hasattr(landscape, "basin_radius"):
        ds.attrs["basin_radius"] = float(np.asarray(landscape.basin_radius))
    has_paths = traj.w_path is not None and traj.q_path is not None
    if landscape is None or not has_paths:
        ds.attrs["paths"] = 0
        return ds
    w, q = np.asarray(traj.w_path, np.float64), np.asarray(traj.q_path, np.float64)
    w = w.reshape(w.shape[0], -1)
    q = q.reshape(q.shape[0], -1)
    w_all = np.concatenate([w, np.asarray(traj.final_w, np.float64).reshape(1, -1)])
    q_all = np.concatenate([q, np.asarray(traj.final_q, np.float64).reshape(1, -1)])
    fr = frame_for(landscape, frame, w_all[0])
    pw, pq = fr.project(landscape, w_all), fr.project(landscape, q_all)
    tp = np.concatenate([t, [n_steps]])
    ds = ds.assign_coords(tp=("tp", tp, {"long_name": "step of the path point", "units": "steps"}))
    for nm, arr, who in (("w", pw, "latent w_t"), ("q", pq, "deployed q_t")):
        ds[f"path_{nm}_x"] = (("tp",), arr[:, 0], {"long_name": f"{who}, x", "units": "weight units"})
        ds[f"path_{nm}_y"] = (("tp",), arr[:, 1], {"long_name": f"{who}, y", "units": "weight units"})
    ds.attrs["paths"] = 1
    if mesh:
        both = np.concatenate([pw, pq])
        center = 0.5 * (both.min(0) + both.max(0))
        step = _max_step(quantizer)
        rb = ds.attrs.get("basin_radius", 1.0)
        if half_width is None:
            span = both.max(0) - both.min(0)
            half_width = np.maximum(0.5 * span + max(0.8 * step, rb), max(1.2 * step, 2 * rb))
        view = landscape_view(
            landscape, quantizer, frame=fr.name, center=center, half_width=half_width, w_ref=w_all[0], n=n
        )
        attrs = {**view.attrs, **ds.attrs}
        ds = xr.merge([ds, view], combine_attrs="drop")
        ds.attrs = attrs
    return ds
