"""PTQ-failed starts: trained points w* on the river (or at a given normal offset from it, inside the basin)
whose PTQ point q = PTQ(w*) lies outside the basin.

The one sampler of such starts for the studies, the reproduce figures, the notebooks and ``landscape
recover``: trained points are drawn by :meth:`Landscape.sample_river` (one compiled call per shape), PTQ maps
them to grid points, and ``rho(q) > r_b`` marks the failures (DESIGN.md section 2: ``rho``, ``basin_radius``).
The proof layer draws its starts from :mod:`landscape.testing` instead (JSON-ready cases); figure 5's phase
study (:mod:`landscape.studies.phase_study`) and its k >= 2 panel
(:func:`landscape.studies.figures_data.sharp_panel_dataset`, with normal offsets from
:func:`landscape.laws.basin_floor_offsets`) call :func:`ptq_starts` under ``jax.enable_x64`` for the float64
points their exact certificates need.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_positive
from landscape.ptq import gptq, oracle

__all__ = ["resolve_ptq", "sample_river", "in_basin_rows", "rtn_outside", "ptq_starts", "rtn_failed_starts"]


def resolve_ptq(ptq) -> tuple[str, Callable]:
    """(name, fn) with fn(landscape, quantizer, w_stars (n, d)) -> q (n, d): 'rtn', 'gptq', or a callable."""
    if callable(ptq):
        return getattr(ptq, "__name__", "custom"), ptq
    if ptq == "rtn":
        return "rtn", lambda ls, qz, w: qz.quantize(w)
    if ptq == "gptq":
        return "gptq", lambda ls, qz, w: gptq(ls, qz, w)
    raise LandscapeError(
        f"ptq must be 'rtn', 'gptq' or a callable fn(landscape, quantizer, w_stars); got {ptq!r}."
    )


_sample_jit = jax.jit(lambda ls, key, n, sr, sp: ls.sample_river(key, n, sr, sp), static_argnums=(2, 3))


@jax.jit
def _offset_rows(landscape, w, offsets):
    return w + offsets @ landscape.normals


def sample_river(landscape, key, n, s_range, spread=0.0, offsets=None):
    """Trained points w* on the river (``Landscape.sample_river``): one compiled call per shape and s_range;
    ``spread`` is data (checked >= 0 here), so a sweep over it compiles once.

    ``offsets`` (n, k): normal offsets ``v`` added along the sharp directions, ``w* + v N``, so that
    ``N w* - c(s) = v`` and ``rho(w*) = ||v||`` (in-basin trained points: :func:`landscape.laws.
    basin_floor_offsets`); None keeps the points on the river's centre.
    """
    check_positive("spread", spread, allow_zero=True)
    w = _sample_jit(landscape, key, int(n), tuple(float(x) for x in s_range), jnp.asarray(spread, float))
    if offsets is None:
        return w
    offsets = jnp.asarray(offsets, w.dtype)
    if offsets.shape != (int(n), landscape.normals.shape[0]):
        raise LandscapeError(
            f"offsets must have shape (n, k) = ({int(n)}, {landscape.normals.shape[0]}); got {offsets.shape}."
        )
    return _offset_rows(landscape, w, offsets)


@jax.jit
def _rho_rows(landscape, q):
    return jax.vmap(landscape.rho)(q)


@jax.jit
def in_basin_rows(landscape, q):
    """rho(q) <= r_b for every row of q: the one basin test of the samplers and the studies."""
    return jax.vmap(landscape.in_basin)(q)


@jax.jit
def rtn_outside(landscape, quantizer, w):
    """rho(Q(w)) > r_b for every row of w: RTN's point leaves the basin (one compiled call)."""
    return ~in_basin_rows(landscape, quantizer.quantize(w))


def ptq_starts(
    landscape, quantizer, key, n: int, ptq="rtn", s_range=(-5.0, 5.0), spread=0.0, offsets=None
) -> dict:
    """Trained points w* on the river, PTQ points q, rho(q), failed = rho(q) > r_b, and the latent w0.

    ``w0`` is the QAT start: w* for RTN (the latent is the trained point), q for any other PTQ method.
    ``offsets`` (n, k): the trained points' normal offsets (:func:`sample_river`; None: on the river).
    """
    name, fn = resolve_ptq(ptq)
    w_star = sample_river(landscape, key, n, s_range, spread, offsets)
    q = jnp.asarray(fn(landscape, quantizer, w_star))
    w0 = w_star if name == "rtn" else q
    failed = ~in_basin_rows(landscape, q)
    return {"w_star": w_star, "q_ptq": q, "rho_ptq": _rho_rows(landscape, q), "failed": failed, "w0": w0}


def rtn_failed_starts(
    landscape, quantizer, key, n, *, s_range=(-20.0, 20.0), want_oracle_inside=False, pool=4096
):
    """n trained points on the river whose RTN point lies outside the basin (the first ones of a pool).

    With ``want_oracle_inside`` only points whose best cell corner (:func:`landscape.ptq.oracle`) is inside
    the basin. Raises :class:`LandscapeError` if the pool holds fewer than n such points.
    """
    st = ptq_starts(landscape, quantizer, key, pool, "rtn", s_range)
    w = np.asarray(st["w_star"])[np.asarray(st["failed"])]
    if want_oracle_inside:
        w = w[: 8 * n]
        best = oracle(landscape, quantizer, jnp.asarray(w, jnp.float32)).q
        w = w[np.asarray(in_basin_rows(landscape, jnp.asarray(best, jnp.float32)))]
    if w.shape[0] < n:
        raise LandscapeError(f"only {w.shape[0]} of {pool} river points satisfy the request; need {n}.")
    return w[:n]
