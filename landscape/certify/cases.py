r"""What the recovery certificates cover: the landscape, grid and rule of a case as per-row float64 arrays.

:func:`landscape_case` accepts a straight isotropic river, an unbounded uniform grid, one of the four
walls and a linear (or no) drift; :func:`learning_rate` accepts STE (or BinaryConnect) with plain SGD at a
constant learning rate. Anything else comes back as ``(None, why)``: the certificate then says "unknown".
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError

__all__ = ["VERDICTS", "TOL", "learning_rate", "landscape_case", "starts"]

VERDICTS = ("certified", "refuted", "unknown")
TOL = 1e-9  # relative slack of every inequality the certificate tests (conservative side)

def learning_rate(rule):
    """The constant SGD learning rate of an STE rule, or (None, why) when the theorems do not cover it."""
    from landscape.qat import STE, BinaryConnect
    from landscape.qat.optim import Optimizer

    if type(rule) not in (STE, BinaryConnect):
        return None, f"rule {type(rule).__name__}: the theorems cover STE (and BinaryConnect) only"
    opt = rule.optimizer
    import optax

    if not isinstance(opt, Optimizer) or opt.factory is not optax.sgd:
        return None, "optimizer: the theorems cover plain SGD"
    extra = {k: v for k, v in opt.hyper if k != "learning_rate" and v not in (None, 0.0, False)}
    lr = opt.get("learning_rate")
    if extra or not isinstance(lr, float):
        return None, "optimizer: the theorems cover plain SGD with a constant learning rate"
    return lr, ""


def landscape_case(landscape, quantizer, b_n=1, landscape_axis=None, quantizer_axis=None):
    """Per-row arrays of a covered case, or (None, why): normals (B, k, d), c0 (B, k), step and offset
    (B, d), drift slope (B,), river_dir (B, d); the wall (one, shared by the rows)."""
    from landscape.geometry import Landscape
    from landscape.geometry.river import ConstantCenter, LinearDrift, ZeroDrift
    from landscape.quantizers.uniform import UniformGrid

    if not isinstance(landscape, Landscape) or not isinstance(landscape.center, ConstantCenter):
        return None, "landscape: the theorems cover straight rivers (constant centre)"
    if not np.all(np.asarray(landscape.aniso) == 1.0):
        return None, "landscape: the theorems cover isotropic basins"
    if not getattr(landscape.wall, "theorems_cover", False):  # the wall says what the theorems cover
        return None, "wall: the theorems cover the quadratic, softplus, power and exp walls"
    if not isinstance(landscape.river_loss, (ZeroDrift, LinearDrift)):
        return None, "river loss: the theorems cover no drift or a linear drift"
    if not isinstance(quantizer, UniformGrid) or quantizer.bounded:
        return None, "quantizer: the theorems cover unbounded uniform grids"
    la, qa = landscape_axis is not None, quantizer_axis is not None

    n = np.asarray(landscape.normals, np.float64)
    k, d = n.shape[-2:]
    n = np.broadcast_to(n, (b_n, k, d)) if not la else n.reshape(b_n, k, d)
    c0 = np.asarray(landscape.center.c0, np.float64)
    c0 = np.broadcast_to(c0, (b_n, k)) if not la else c0.reshape(b_n, k)
    u = np.asarray(landscape.river_dir, np.float64)
    u = np.broadcast_to(u, (b_n, d)) if not la else u.reshape(b_n, d)
    drift = (
        np.zeros(b_n)
        if isinstance(landscape.river_loss, ZeroDrift)
        else np.broadcast_to(np.asarray(landscape.river_loss.rate, np.float64).reshape(-1), (b_n,))
    )
    wall = landscape.wall
    if la:
        leaves = [np.asarray(x) for x in jax.tree.leaves(wall)]
        if any(
            x.ndim and not np.all(x == x.reshape(x.shape[0], -1)[:1].reshape(x.shape[1:])) for x in leaves
        ):
            raise LandscapeError(
                "certify_recovery with landscape_axis needs one wall shared by the batch "
                "(the rows may differ in normals, centre and drift)."
            )
        wall = jax.tree.map(lambda x: jnp.asarray(np.asarray(x).reshape(-1)[0]), wall)
    if not qa:
        quantizer.check_dim(d, "w0")
    step, off = (np.asarray(x, np.float64) for x in (quantizer.step, quantizer.offset))
    if qa:
        step, off = (x.reshape(b_n, -1) for x in (step, off))
    step = np.broadcast_to(step.reshape(-1) if not qa else step, (b_n, d) if qa else (d,))
    off = np.broadcast_to(off.reshape(-1) if not qa else off, (b_n, d) if qa else (d,))
    step, off = np.broadcast_to(step, (b_n, d)).copy(), np.broadcast_to(off, (b_n, d)).copy()
    return (n.copy(), c0.copy(), step, off, np.asarray(drift, np.float64).copy(), u.copy(), wall), ""


def starts(w0, d):
    """The starts as (B, d) float64 (and whether one start was given); bad shapes or values raise."""
    w = np.asarray(w0, np.float64)
    if w.ndim not in (1, 2) or w.shape[-1] != d:
        raise LandscapeError(f"w0 must have shape ({d},) or (B, {d}); got {w.shape}.")
    if not np.all(np.isfinite(w)):
        raise LandscapeError("w0 must be finite; it holds NaN or inf.")
    return w.reshape(-1, d), w.ndim == 1
