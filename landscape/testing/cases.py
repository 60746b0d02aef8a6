r"""Cases: hypothesis strategies of plain parameters, and the builders that turn a case into objects.

A *case* is a dict of Python scalars and lists (JSON-ready), so that a counterexample can be saved and
replayed exactly; the builders make the engine's objects from it. The proof layer (``proofs/scenarios*.py``)
draws every case from these fields and builds with these functions; the object strategies of
:mod:`landscape.testing` build their walls with :func:`wall_named`.

Fields of a river case (each group a function returning ``{name: strategy}``, to be merged with a
statement's own fields):

* :func:`river_fields` -- ``shape`` (d, k) from a fixed set, ``seed`` of the random N and u;
* :func:`grid_fields` -- ``step`` (log-uniform), per-coordinate ``step_mult`` and ``offset_frac``;
* :func:`start_fields` -- ``s0`` (river coordinate), ``dir_seed`` and ``flat`` (flat-direction spread, in
  grid steps) of the trained point;
* :func:`wall_fields` -- ``wall`` (family), ``rb``, ``kappa`` (log-uniform), ``mu``.

Builders: :func:`case_landscape`, :func:`case_steps`, :func:`case_grid`, :func:`case_start` and
:func:`wall_named`.

Example (a property test; run it with pytest)::

    from hypothesis import given, strategies as st
    from landscape import quadratic_wall
    from landscape.testing import case_grid, case_landscape, case_start, cases

    @given(cases(shapes=((3, 1), (4, 2)), rb=st.floats(0.1, 1.0)))
    def test_trained_points_are_on_the_river(case):
        land = case_landscape(case, wall=quadratic_wall(case["rb"], 5.0))
        w, _ = case_start(case, land)
        assert float(land.rho(w)) < 1e-5
        assert case_grid(case, land.dim).quantize(w).shape == w.shape
"""

from __future__ import annotations

import jax
import numpy as np
from hypothesis import strategies as st

from landscape.registry import WALLS

__all__ = [
    "WALL_FAMILIES",
    "log_uniform",
    "river_fields",
    "grid_fields",
    "start_fields",
    "wall_fields",
    "case_fields",
    "cases",
    "wall_named",
    "case_landscape",
    "case_steps",
    "case_grid",
    "case_start",
]

#: the wall families, in the order of the one registry of names (shrinking goes to the first)
WALL_FAMILIES = tuple(WALLS)


def log_uniform(lo, hi):
    """A float strategy exp(U(log lo, log hi)), log-uniform on [lo, hi] (shrinks to 1 when lo <= 1 <= hi)."""
    return st.floats(np.log(lo), np.log(hi)).map(lambda x: float(np.exp(x)))


def river_fields(shapes, *, seed_max: int = 2**16) -> dict:
    """``shape``: (d, k, ...) from ``shapes`` (shrinks to the first); ``seed``: the PRNG seed of N and u."""
    return {"shape": st.sampled_from(tuple(shapes)), "seed": st.integers(0, int(seed_max))}


def grid_fields(*, step=(0.05, 1.0), size: int = 12, step_mult=(0.5, 2.0), ties: bool = False) -> dict:
    """``step``: log-uniform in ``step``; ``step_mult``, ``offset_frac``: ``size`` per-coordinate factors.

    Coordinate j of the grid has step ``step * step_mult[j]`` and offset ``offset_frac[j]`` of that step;
    ``size`` bounds the dimensions a case can use. With ``ties`` an offset is often exactly 0, 1/4 or 1/2
    of a step (where rounding ties and cell corners line up with the river), else uniform.
    """
    frac = st.floats(0.0, 1.0)
    if ties:
        frac = st.sampled_from((0.5, 0.25, 0.0)) | frac
    return {
        "step": log_uniform(*step),
        "step_mult": st.lists(st.floats(*step_mult), min_size=int(size), max_size=int(size)),
        "offset_frac": st.lists(frac, min_size=int(size), max_size=int(size)),
    }


def start_fields(*, s_range=(-20.0, 20.0), spread=(0.0, 3.0)) -> dict:
    """``s0`` in ``s_range`` (river coordinate of w*), ``dir_seed`` and ``flat`` (flat spread, in steps)."""
    return {"s0": st.floats(*s_range), "dir_seed": st.integers(0, 2**16), "flat": st.floats(*spread)}


def wall_fields(*, families=WALL_FAMILIES, basin_radius=None, kappa=None, mu=(0.0, 0.1, 1.0)) -> dict:
    """``wall`` from ``families``, ``rb`` uniform in ``basin_radius``, ``kappa`` log-uniform, ``mu`` a choice.

    A bound given as None leaves its field out (a statement that derives r_b or kappa from the geometry).
    """
    out = {"wall": st.sampled_from(tuple(families))}
    if basin_radius is not None:
        out["rb"] = st.floats(*basin_radius)
    if kappa is not None:
        out["kappa"] = log_uniform(*kappa)
    if mu is not None:
        out["mu"] = st.sampled_from(tuple(mu))
    return out


def case_fields(shapes, *, step=(0.05, 1.0), size=12, s_range=(-20.0, 20.0), spread=(0.0, 3.0), ties=False):
    """The fields of a river case: :func:`river_fields`, :func:`grid_fields` and :func:`start_fields`."""
    return {
        **river_fields(shapes),
        **grid_fields(step=step, size=size, ties=ties),
        **start_fields(s_range=s_range, spread=spread),
    }


def cases(
    shapes=((2, 1), (3, 2), (4, 1)),
    *,
    step=(0.05, 1.0),
    size: int = 12,
    s_range=(-20.0, 20.0),
    spread=(0.0, 3.0),
    ties: bool = False,
    **extra,
):
    """A river case (a dict): :func:`case_fields` (same keywords) plus ``extra`` fields (name=strategy)."""
    fields = case_fields(shapes, step=step, size=size, s_range=s_range, spread=spread, ties=ties)
    return st.fixed_dictionaries({**fields, **extra})


def wall_named(kind: str, basin_radius: float, kappa: float, mu: float = 0.0, *, power: float = 4.0):
    """The wall of family ``kind`` (quadratic, softplus, power (exponent ``power``), exp): r_b, kappa, mu.

    Built by the one registry of wall names, :data:`landscape.registry.WALLS`.
    """
    if kind not in WALL_FAMILIES:
        raise ValueError(f"kind must be one of {WALL_FAMILIES}; got {kind!r}.")
    extra = {"power": power} if "power" in WALLS[kind].params else {}
    return WALLS[kind].build(basin_radius=basin_radius, kappa=kappa, mu=mu, **extra)


def case_landscape(case, *, wall=None, drift: float = 0.0, k: int | None = None):
    """The straight river of a case: random N, u from ``seed`` (axis-aligned when ``case["axis"]``).

    ``k`` overrides the case's ``shape[1]``; ``wall`` and ``drift`` (river-loss slope) as in
    :func:`landscape.random_river`.
    """
    from landscape import geometry  # noqa: PLC0415

    d, kk = case["shape"][0], case["shape"][1] if k is None else k
    kw = {"river_loss": float(drift)} if wall is None else {"wall": wall, "river_loss": float(drift)}
    if case.get("axis", False):
        return geometry.axis_aligned_river(d, kk, **kw)
    return geometry.random_river(jax.random.PRNGKey(case["seed"]), d, kk, **kw)


def case_steps(case, dim: int | None = None):
    """(steps, offsets): the float64 per-coordinate steps and offsets of a case's grid in ``dim`` coordinates.

    ``dim`` defaults to d = shape[0]; coordinate j has step ``step * step_mult[j]`` and offset
    ``offset_frac[j]`` of that step.
    """
    d = int(case["shape"][0] if dim is None else dim)
    if d > len(case["step_mult"]):
        raise ValueError(f"dim must be at most len(step_mult) = {len(case['step_mult'])}; got {d}.")
    steps = case["step"] * np.asarray(case["step_mult"][:d], np.float64)
    return steps, steps * np.asarray(case["offset_frac"][:d], np.float64)


def case_grid(case, dim: int | None = None):
    """The uniform grid of a case in ``dim`` coordinates (default shape[0]): see :func:`case_steps`."""
    from landscape import quantizers  # noqa: PLC0415

    steps, offsets = case_steps(case, dim)
    return quantizers.uniform_grid(steps, offset=offsets)


def case_start(case, landscape, *, direction: bool = False):
    """(w*, n_dir): the trained point s0 u + a flat spread (in units of ``step``), a unit normal direction.

    The flat spread is a Gaussian vector from ``dir_seed`` projected off N and u, scaled by
    ``flat * step``; with ``direction`` a unit vector of R^k (the normal space's coordinates) is drawn
    first from the same seed, else ``n_dir`` is None. Values are float64 NumPy arrays.
    """
    n = np.asarray(landscape.normals, np.float64)
    u = np.asarray(landscape.river_dir, np.float64)
    rng = np.random.default_rng(case["dir_seed"])
    n_dir = None
    if direction:
        n_dir = rng.normal(size=n.shape[0])
        n_dir /= np.linalg.norm(n_dir)
    flat = rng.normal(size=n.shape[1])
    flat = flat - n.T @ (n @ flat) - u * (u @ flat)
    return case["s0"] * u + case["flat"] * case["step"] * flat, n_dir
