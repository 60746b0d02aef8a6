"""One registry of names: landscape families, walls, quantizers, PTQ methods and optax optimizers.

The CLI, the TOML sweeps and :func:`landscape.sweep` use these names and nothing else (rules have their
own registry, :data:`landscape.qat.RULES`). Each entry is a :class:`Builder`: a function and its
parameters, each with a kind (float / int), a default, an allowed range, a long name and units, so that
a bad value is refused before any work with the parameter, its value and the range.

```python
import landscape.registry as b
sorted(b.FAMILIES)            # anisotropic_river, arc, axis_aligned, meander, random_river, ...
land = b.FAMILIES["rotated_2d"].build(theta=0.3)
```
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import jax
import numpy as np

from landscape import geometry, quantizers
from landscape._errors import LandscapeError
from landscape.geometry import walls

__all__ = [
    "Param",
    "Builder",
    "FAMILIES",
    "WALLS",
    "QUANTIZERS",
    "PTQ",
    "OPTIMIZERS",
    "CASE_ALIASES",
    "family",
    "get_optimizer_factory",
    "PARAM_INFO",
]


@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter of a builder: kind ("float" or "int"), default, range [low, high], meaning, units."""

    kind: str = "float"
    default: float | int | None = None
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    long_name: str = ""
    units: str = "1"

    def check(self, name: str, value) -> None:
        """Raise LandscapeError unless value is of the right kind and in range."""
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise LandscapeError(f"{name} must be an integer; got {value!r}.")
        elif isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise LandscapeError(f"{name} must be a number; got {value!r}.")
        v = float(value)
        if not math.isfinite(v):
            raise LandscapeError(f"{name} must be finite; got {value!r}.")
        lo_bad = self.low is not None and (v <= self.low if self.open_low else v < self.low)
        hi_bad = self.high is not None and v > self.high
        if lo_bad or hi_bad:
            lo = "-inf" if self.low is None else f"{self.low:g}"
            hi = "inf" if self.high is None else f"{self.high:g}"
            left = "(" if self.open_low or self.low is None else "["
            raise LandscapeError(f"{name} must lie in {left}{lo}, {hi}]; got {value!r}.")


@dataclasses.dataclass(frozen=True)
class Builder:
    """A named constructor and its parameters (``keyed``: it also takes a PRNG ``key`` from the seed)."""

    name: str
    fn: Callable
    params: dict
    doc: str = ""
    keyed: bool = False

    def build(self, key=None, **values):
        """Call the constructor with defaults filled in (checking every value first)."""
        unknown = set(values) - set(self.params)
        if unknown:
            raise LandscapeError(
                f"{self.name} takes {', '.join(self.params) or 'no parameters'}; "
                f"got unknown {sorted(unknown)}."
            )
        kw = {n: p.default for n, p in self.params.items() if p.default is not None}
        kw.update(values)
        for n, v in kw.items():
            self.params[n].check(n, v)
            kw[n] = int(v) if self.params[n].kind == "int" else float(v)
        if self.keyed:
            kw["key"] = jax.random.PRNGKey(0) if key is None else key
        return self.fn(**kw)


def _f(default=None, low=None, high=None, open_low=False, long_name="", units="1"):
    return Param("float", default, low, high, open_low, long_name, units)


def _i(default=None, low=None, high=None, long_name=""):
    return Param("int", default, low, high, False, long_name, "1")


#: meaning and units of every parameter name used by the registries and the sweeps
PARAM_INFO = {
    "theta": ("river angle theta", "rad"),
    "dim": ("parameter dimension d", "1"),
    "k": ("number of sharp directions k", "1"),
    "basin_radius": ("basin radius r_b", "weight units"),
    "kappa": ("wall slope kappa", "loss per weight unit^2"),
    "mu": ("floor curvature mu", "loss per weight unit^2"),
    "step": ("grid step Delta", "weight units"),
    "offset": ("grid offset", "weight units"),
    "scale": ("codebook scale", "weight units"),
    "learning_rate": ("learning rate eta", "1"),
    "num_steps": ("QAT steps", "steps"),
    "amplitude": ("meander amplitude", "weight units"),
    "omega": ("meander frequency omega", "rad per weight unit"),
    "radius": ("arc radius", "weight units"),
    "drift": ("river loss drift", "loss per weight unit"),
    "ratio": ("anisotropy a_k / a_1", "1"),
    "bits": ("bits b", "1"),
    "seed": ("seed", "1"),
    "start": ("index of the trained start w* on the river", "1"),
}


def _p(name, kind="float", default=None, low=None, high=None, open_low=False):
    long, units = PARAM_INFO.get(name, (name, "1"))
    return Param(kind, default, low, high, open_low, long, units)


def _meander(dim=2, k=1, amplitude=0.5, omega=0.5, phase=0.0):
    eye = np.eye(dim)
    return geometry.meander_river(
        eye[1 : k + 1] if dim == 2 else eye[:k],
        eye[0] if dim == 2 else eye[k],
        amplitude=amplitude,
        omega=omega,
        phase=phase,
    )


def _arc(dim=2, k=1, radius=5.0):
    eye = np.eye(dim)
    return geometry.arc_river(
        eye[1 : k + 1] if dim == 2 else eye[:k], eye[0] if dim == 2 else eye[k], radius=radius
    )


def _aniso(key, dim=16, k=2, ratio=3.0):
    return geometry.random_river(key, dim, k, aniso=np.geomspace(1.0, ratio, k))


def _wsd(amplitude=0.5, omega=0.5, drift=0.1):
    return geometry.wsd_river_valley(amplitude=amplitude, omega=omega, drift=drift)


_DIM = _p("dim", "int", 2, 2)
_K = _p("k", "int", 1, 1)

#: landscape families: name -> Builder (the wall is set apart, see WALLS)
FAMILIES = {
    "rotated_2d": Builder(
        "rotated_2d",
        geometry.rotated_river_2d,
        {"theta": _p("theta", default=0.3)},
        "2-D straight river at angle theta",
    ),
    "random_river": Builder(
        "random_river",
        geometry.random_river,
        {"dim": _p("dim", "int", 256, 2), "k": _p("k", "int", 4, 1)},
        "straight river with random orthonormal N (k x d) and u",
        keyed=True,
    ),
    "axis_aligned": Builder(
        "axis_aligned",
        geometry.axis_aligned_river,
        {"dim": _p("dim", "int", 16, 2), "k": _p("k", "int", 1, 1)},
        "straight river with N = (e_1..e_k), u = e_{k+1}",
    ),
    "meander": Builder(
        "meander",
        _meander,
        {
            "dim": _DIM,
            "k": _K,
            "amplitude": _p("amplitude", default=0.5),
            "omega": _p("omega", default=0.5),
            "phase": _p("phase", default=0.0),
        },
        "curved river c(s) = amplitude sin(omega s + phase)",
    ),
    "arc": Builder(
        "arc",
        _arc,
        {"dim": _DIM, "k": _K, "radius": _p("radius", default=5.0, low=0, open_low=True)},
        "river along a circular arc",
    ),
    "anisotropic_river": Builder(
        "anisotropic_river",
        _aniso,
        {
            "dim": _p("dim", "int", 16, 2),
            "k": _p("k", "int", 2, 1),
            "ratio": _p("ratio", default=3.0, low=0, open_low=True),
        },
        "random straight river, basin radii r_b a_i with a_i from 1 to ratio",
        keyed=True,
    ),
    "wsd": Builder(
        "wsd",
        _wsd,
        {
            "amplitude": _p("amplitude", default=0.5),
            "omega": _p("omega", default=0.5),
            "drift": _p("drift", default=0.1),
        },
        "2-D meandering river valley (WSD toy)",
    ),
}

_RB = _p("basin_radius", default=0.25, low=0, open_low=True)
_KAPPA = _p("kappa", default=10.0, low=0)
_MU = _p("mu", default=0.0, low=0)

#: wall profiles phi: name -> Builder
WALLS = {
    "quadratic": Builder(
        "quadratic", walls.quadratic_wall, {"basin_radius": _RB, "kappa": _KAPPA, "mu": _MU}
    ),
    "softplus": Builder("softplus", walls.softplus_wall, {"basin_radius": _RB, "kappa": _KAPPA, "mu": _MU}),
    "power": Builder(
        "power",
        walls.power_wall,
        {
            "basin_radius": _RB,
            "kappa": _KAPPA,
            "mu": _MU,
            "power": _p("power", default=4.0, low=1, open_low=True),
        },
    ),
    "exp": Builder("exp", walls.exp_wall, {"basin_radius": _RB, "kappa": _KAPPA, "mu": _MU}),
}

_STEP = _p("step", default=0.5, low=0, open_low=True)
_SCALE = _p("scale", default=1.0, low=0, open_low=True)


def _per_group(step=0.5, rows=4, cols=16, group_size=8, bits=4):
    if cols % group_size:
        raise LandscapeError(f"group_size must divide cols; got group_size = {group_size}, cols = {cols}.")
    return quantizers.per_group_grid(
        np.full((rows, cols // group_size), step), (rows, cols), group_size, bits=bits
    )


#: quantizers: name -> Builder
QUANTIZERS = {
    "uniform": Builder(
        "uniform",
        quantizers.uniform_grid,
        {"step": _STEP, "offset": _p("offset", default=0.0)},
        "unbounded grid offset + step Z",
    ),
    "integer": Builder(
        "integer",
        quantizers.integer_grid,
        {"bits": _p("bits", "int", 4, 2, 25), "step": _STEP, "offset": _p("offset", default=0.0)},
        "b-bit signed integer grid",
    ),
    "per_group": Builder(
        "per_group",
        _per_group,
        {
            "step": _STEP,
            "rows": _p("rows", "int", 4, 1),
            "cols": _p("cols", "int", 16, 1),
            "group_size": _p("group_size", "int", 8, 1),
            "bits": _p("bits", "int", 4, 2, 25),
        },
        "b-bit per-group grid on a (rows, cols) weight matrix (d = rows * cols)",
    ),
    "nf4": Builder("nf4", quantizers.nf4, {"scale": _SCALE}, "NF4 codebook"),
    "fp4": Builder("fp4", quantizers.fp4_e2m1, {"scale": _SCALE}, "FP4 E2M1 codebook"),
    "log2": Builder("log2", quantizers.log2_codebook, {"scale": _SCALE}, "log2 codebook"),
    "ternary": Builder("ternary", quantizers.ternary, {"scale": _SCALE}, "ternary {-s, 0, s}"),
    "binary": Builder("binary", quantizers.binary, {"scale": _SCALE}, "binary {-s, s}"),
}


def _ptq():
    from landscape.ptq import ptq_methods  # noqa: PLC0415

    return dict(ptq_methods)


#: PTQ method names (``landscape.ptq.ptq_methods``)
PTQ = ("rtn", "stochastic", "obq", "gptq", "adaround")

#: optax optimizer names accepted by sweeps and the CLI (any other optax factory works from Python)
OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad", "lion", "nadam", "lamb", "sign_sgd")

#: the CLI's older case names, mapped to registry names
CASE_ALIASES = {"rotated2d": "rotated_2d", "highdim": "random_river"}


def family(name: str) -> Builder:
    """The landscape family called ``name`` (an older CLI name is accepted and mapped)."""
    name = CASE_ALIASES.get(name, name)
    if name not in FAMILIES:
        raise LandscapeError(f"family must be one of {', '.join(sorted(FAMILIES))}; got {name!r}.")
    return FAMILIES[name]


def get_optimizer_factory(name: str):
    """The optax factory called ``name`` (``optax.<name>``); one of :data:`OPTIMIZERS` from a TOML file."""
    import optax  # noqa: PLC0415

    fn = getattr(optax, str(name), None)
    if fn is None or not callable(fn):
        raise LandscapeError(
            f"optimizer must name an optax optimizer, e.g. {', '.join(OPTIMIZERS)}; got {name!r}."
        )
    return fn
