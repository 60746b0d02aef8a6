r"""Hypothesis strategies named after the objects they draw, for property tests of your own claims.

Each strategy takes keyword bounds and shrinks towards the simplest case (the smallest dimension, the
first wall family, the flattest wall, the point on the river at s = 0). Everything is built by the
engine's own constructors, in the default float dtype at draw time: float64 when ``jax_enable_x64`` is on
globally. A test that switches to float64 only inside ``with jax.enable_x64(True):`` should draw a
:func:`cases` dict and build its objects inside that block (a wall drawn outside holds float32 numbers).

Example (a property test; run it with pytest)::

    from hypothesis import given, strategies as st
    import landscape as ls
    from landscape.testing import landscapes, quantizers, rtn_failed_starts

    @given(st.data())
    def test_rtn_failures_are_outside_the_basin(data):
        land = data.draw(landscapes(dim=(2, 6)))
        grid = data.draw(quantizers(dim=land.dim, kinds=("uniform",)))
        w = data.draw(rtn_failed_starts(land, grid))
        assert not bool(land.in_basin(grid.quantize(w)))
        assert float(land.rho(w)) < 1e-4          # a trained point lies on the river

* :func:`walls` -- a wall profile phi (quadratic, softplus, power, exp);
* :func:`landscapes` -- a straight (or curved) river landscape with random N, u;
* :func:`quantizers` -- uniform grids (optionally offset, clipped to b bits) and codebooks;
* :func:`trained_points` -- points on the river of a landscape (and spread in its flat directions);
* :func:`rtn_failed_starts` -- trained points whose round-to-nearest point is outside the basin;
* :func:`rules` -- QAT rules of the registry with a learning rate and an optax optimizer.

Cases (:mod:`landscape.testing.cases`): the same objects drawn as plain, JSON-ready parameter dicts, for
counterexamples that must be saved and replayed (the proof layer draws from these): :func:`cases`,
the field groups :func:`river_fields`, :func:`grid_fields`, :func:`start_fields`, :func:`wall_fields`,
and the builders :func:`case_landscape`, :func:`case_steps`, :func:`case_grid`, :func:`case_start`,
:func:`wall_named`.

Dyadic cases (:mod:`landscape.testing.dyadic`): exact binary inputs where rounding ties happen
(power-of-two steps, bf16 starts, exact unit dyadic normals), :func:`dyadic_cases`, and their
independent exact judge ``exact_judge`` (rationals, round half to even).
"""

from __future__ import annotations

import jax
import numpy as np
from hypothesis import strategies as st

import landscape as _ls
from landscape.registry import QUANTIZERS, WALLS
from landscape.testing.cases import (
    WALL_FAMILIES,
    case_fields,
    case_grid,
    case_landscape,
    case_start,
    case_steps,
    cases,
    grid_fields,
    log_uniform,
    river_fields,
    start_fields,
    wall_fields,
    wall_named,
)
from landscape.testing.dyadic import dyadic_cases

__all__ = [
    "walls",
    "landscapes",
    "quantizers",
    "trained_points",
    "rtn_failed_starts",
    "rules",
    "points_near",
    "WALL_FAMILIES",
    "QUANTIZER_KINDS",
    "LAYOUTS",
    "cases",
    "case_fields",
    "river_fields",
    "grid_fields",
    "start_fields",
    "wall_fields",
    "log_uniform",
    "wall_named",
    "case_landscape",
    "case_steps",
    "case_grid",
    "case_start",
    "dyadic_cases",
]

#: the grids and the codebooks of one ``scale`` in the one registry (per-group grids need a matrix shape)
QUANTIZER_KINDS = tuple(
    n for n, b in QUANTIZERS.items() if n in ("uniform", "integer") or set(b.params) == {"scale"}
)


def _range(name, value, lo_ok=None):
    if isinstance(value, (int, float)):
        return float(value), float(value)
    lo, hi = value
    if lo > hi:
        raise ValueError(f"{name} must be (low, high) with low <= high; got {value!r}.")
    return float(lo), float(hi)


@st.composite
def walls(
    draw,
    *,
    basin_radius=(0.05, 2.0),
    kappa=(0.5, 50.0),
    mu=(0.0, 0.1, 1.0),
    families=WALL_FAMILIES,
    powers=(2.0, 3.0, 4.0),
):
    """A wall profile phi of one of ``families``, r_b in ``basin_radius``, slope ``kappa``, floor ``mu``.

    ``mu`` is a tuple of values to choose from (shrinks to the first); the ranges are (low, high).
    """
    rb = draw(st.floats(*_range("basin_radius", basin_radius), allow_nan=False))
    kap = draw(st.floats(*_range("kappa", kappa), allow_nan=False))
    m = draw(st.sampled_from(tuple(mu)))
    family = draw(st.sampled_from(tuple(families)))
    if family not in WALL_FAMILIES:
        raise ValueError(f"families must be among {WALL_FAMILIES}; got {family!r}.")
    power = draw(st.sampled_from(tuple(powers))) if "power" in WALLS[family].params else 4.0
    return wall_named(family, rb, kap, m, power=power)


@st.composite
def landscapes(
    draw, *, dim=(2, 12), k=None, wall=None, drift=(0.0, 0.05, -0.1), rivers=("straight",), max_dim=None
):
    """A river landscape with random orthonormal N (k x d) and u: d in ``dim``, k in ``k`` (default 1..d-1).

    ``wall`` is a strategy (default :func:`walls`); ``drift`` the river-loss slopes to choose from;
    ``rivers`` among "straight", "meander", "arc" (curved rivers have N, u along the coordinate axes).
    ``max_dim`` is the older spelling of ``dim=(2, max_dim)``.
    """
    lo, hi = (
        (2, int(max_dim)) if max_dim is not None else (int(_range("dim", dim)[0]), int(_range("dim", dim)[1]))
    )
    d = draw(st.integers(max(lo, 2), max(hi, 2)))
    if k is None:
        kk = draw(st.integers(1, d - 1))
    else:
        klo, khi = (int(x) for x in _range("k", k))
        kk = draw(st.integers(max(1, klo), max(1, min(khi, d - 1))))
    wall_v = draw(walls() if wall is None else wall)
    slope = draw(st.sampled_from(tuple(drift)))
    river = draw(st.sampled_from(tuple(rivers)))
    if river == "straight":
        seed = draw(st.integers(0, 2**31 - 1))
        return _ls.random_river(jax.random.PRNGKey(seed), d, kk, wall=wall_v, river_loss=slope)
    eye = np.eye(d)
    normals, u = (eye[1 : kk + 1], eye[0]) if d == kk + 1 else (eye[:kk], eye[kk])
    if river == "meander":
        amp = draw(st.floats(0.0, 1.0))
        omega = draw(st.floats(0.1, 1.0))
        return _ls.meander_river(normals, u, amplitude=amp, omega=omega, wall=wall_v, river_loss=slope)
    if river == "arc":
        radius = draw(st.floats(2.0, 20.0))
        return _ls.arc_river(normals, u, radius=radius, wall=wall_v, river_loss=slope)
    raise ValueError(f"rivers must be among straight, meander, arc; got {river!r}.")


#: the weight layouts :func:`quantizers` draws a uniform or integer grid in (with ``dim`` given)
LAYOUTS = ("tensor", "coordinate", "channel", "group")


def _divisors(n: int) -> list[int]:
    return [k for k in range(1, n + 1) if n % k == 0]


@st.composite
def quantizers(draw, *, dim=None, kinds=("uniform",), step=(0.05, 2.0), offset=True, bits=(2, 8),
               layouts=LAYOUTS):
    """A quantizer of one of ``kinds`` (see :data:`QUANTIZER_KINDS`) with step (or scale) in ``step``.

    With ``dim`` a uniform or integer grid is drawn in one of ``layouts`` (:data:`LAYOUTS`): one step
    (per tensor), one step per coordinate, per channel on either axis of a (rows, cols) matrix with
    rows * cols = dim (:func:`~landscape.per_channel_grid`), or per group along the rows
    (:func:`~landscape.per_group_grid`); without ``dim``, per tensor. ``offset`` allows a grid offset in
    [0, step) (per-tensor and per-coordinate layouts); "integer" draws b in ``bits`` (a clipped grid).
    """
    kind = draw(st.sampled_from(tuple(kinds)))
    lo, hi = _range("step", step)
    s = draw(st.floats(lo, hi, allow_nan=False))
    if kind in ("uniform", "integer"):
        b = draw(st.integers(*(int(x) for x in _range("bits", bits)))) if kind == "integer" else None
        layout = draw(st.sampled_from(tuple(layouts))) if dim is not None else "tensor"
        if layout not in LAYOUTS:
            raise ValueError(f"layouts must be among {LAYOUTS}; got {layout!r}.")
        if layout in ("channel", "group"):
            rows = draw(st.sampled_from(_divisors(int(dim))))
            cols = int(dim) // rows
            steps = lambda n: np.asarray(draw(st.lists(st.floats(lo, hi), min_size=n, max_size=n)))  # noqa: E731
            if layout == "channel":
                axis = draw(st.sampled_from((0, 1)))
                return _ls.per_channel_grid(steps((rows, cols)[axis]), (rows, cols), axis=axis, bits=b)
            group = draw(st.sampled_from(_divisors(cols)))
            per_row = steps(rows * (cols // group)).reshape(rows, cols // group)
            return _ls.per_group_grid(per_row, (rows, cols), group, bits=b)
        if layout == "coordinate":
            s = np.asarray(draw(st.lists(st.floats(lo, hi), min_size=int(dim), max_size=int(dim))))
        off = draw(st.floats(0.0, 0.999)) * s if offset else 0.0
        if kind == "uniform":
            return _ls.uniform_grid(s, offset=off)
        return _ls.integer_grid(b, s, offset=off)
    if kind not in QUANTIZER_KINDS:
        raise ValueError(f"kinds must be among {QUANTIZER_KINDS}; got {kind!r}.")
    return QUANTIZERS[kind].build(scale=s)  # a codebook of the registry, at scale s


def _river_point(landscape, s, flat):
    u = np.asarray(landscape.river_dir, np.float64)
    n = np.asarray(landscape.normals, np.float64)
    flat = np.asarray(flat, np.float64)
    flat = flat - n.T @ (n @ flat) - u * (u @ flat)
    c = np.asarray(landscape.center(np.asarray(s, np.asarray(landscape.river_dir).dtype)), np.float64)
    w = s * u + c @ n + flat
    return np.asarray(w, np.asarray(landscape.river_dir).dtype)


@st.composite
def trained_points(draw, landscape, *, s_range=(-20.0, 20.0), spread=(0.0, 3.0)):
    """A trained point w* (d,) on the river of ``landscape``: s in ``s_range``, flat offsets up to ``spread``.

    Shrinks to s = 0 with no flat offset (the point c(0) N on the river).
    """
    s = draw(st.floats(*_range("s_range", s_range), allow_nan=False))
    lo, hi = _range("spread", spread)
    d = int(landscape.dim)
    flat = (
        draw(st.lists(st.floats(-hi, hi, allow_nan=False), min_size=d, max_size=d)) if hi > 0 else [0.0] * d
    )
    return _river_point(landscape, s, flat)


def rtn_failed_starts(landscape, quantizer, **kwargs):
    """A trained point whose RTN point Q(w*) is outside the basin (``trained_points`` filtered).

    Hypothesis gives up (FailedHealthCheck) when such points are rare: widen ``s_range`` or use a
    grid step above the basin radius.
    """
    import jax.numpy as jnp  # noqa: PLC0415

    def failed(w):
        return not bool(landscape.in_basin(quantizer.quantize(jnp.asarray(w))))

    return trained_points(landscape, **kwargs).filter(failed)


DEFAULT_RULES = ("ste", "clipped_ste", "ef", "noise", "proxconnect", "binaryconnect", "fp")


@st.composite
def rules(draw, *, names=DEFAULT_RULES, learning_rate=(1e-3, 0.5), optimizers=("sgd", "adam")):
    """A QAT rule of the registry (``names``), a learning rate in ``learning_rate`` and an optax optimizer.

    Shrinks to the first name with plain SGD.
    """
    from landscape.registry import get_optimizer_factory  # noqa: PLC0415

    name = draw(st.sampled_from(tuple(names)))
    lr = draw(st.floats(*_range("learning_rate", learning_rate), allow_nan=False))
    opt = draw(st.sampled_from(tuple(optimizers)))
    optimizer = _ls.optimizer(get_optimizer_factory(opt), learning_rate=lr)
    return _ls.get_rule(name, learning_rate=lr, optimizer=optimizer)


def points_near(landscape, seed: int, n: int = 8, scale: float = 2.0):
    """n points near the river (river points plus Gaussian offsets of size ``scale``), for example tests."""
    rng = np.random.default_rng(seed)
    base = np.asarray(landscape.sample_river(jax.random.PRNGKey(seed), n, s_range=(-5, 5)))
    return base + scale * rng.standard_normal(base.shape)
