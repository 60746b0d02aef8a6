"""One registry of named things: landscape families, walls, rivers, quantizers, PTQ methods, QAT rules,
optax optimizers and schedules, each with its parameters' ranges.

The CLI, the TOML and Python sweeps, the explorer, the configs (:mod:`landscape.config`) and
:mod:`landscape.testing` use these names and nothing else. Each entry is a :class:`Builder`: a function
and its parameters, each a :class:`Param` record (kind, default, allowed range, long name, units), so a bad
value is refused before any work with the parameter, its value and the range. The records shared by
several entries (``basin_radius``, ``kappa``, ``step``, ``learning_rate``, ...) live once, in
:data:`landscape.config.RECORDS`. Adding a wall, a rule or a PTQ method is one file plus one
:func:`register` call (``docs/extending.md``).

```python
import landscape.registry as r
sorted(r.FAMILIES)            # anisotropic_river, arc, axis_aligned, meander, random_river, ...
land = r.FAMILIES["rotated_2d"].build(theta=0.3)
rule = r.get_rule("ste", learning_rate=0.1)
```

This module sits above geometry, quantizers, ptq and qat; nothing in those imports it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np

from landscape import geometry, ptq, quantizers
from landscape import qat as _qat
from landscape._errors import LandscapeError
from landscape.config import PARAM_INFO, RECORDS, Builder, Param, params_of, record
from landscape.geometry import river as _river
from landscape.geometry import walls

__all__ = [
    "Param", "Builder", "RECORDS", "record", "params_of", "PARAM_INFO", "FAMILIES", "WALLS", "RIVERS",
    "QUANTIZERS", "PTQ", "RULES", "RULE_ALIASES", "RULE_NAMES", "OPTIMIZERS", "SCHEDULES", "REGISTRIES",
    "CASE_ALIASES", "register", "lookup", "family", "get_optimizer_factory", "register_rule", "get_rule",
    "available_rules", "default_rules",
]  # fmt: skip


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


def _b(name, fn, params, doc="", **kw):
    return Builder(
        name, fn, {n: p if isinstance(p, Param) else record(n, p) for n, p in params.items()}, doc, **kw
    )


_DIM, _K = record("dim", 2), record("k", 1)

#: landscape families: name -> Builder (the wall is set apart, see WALLS)
FAMILIES = {
    "rotated_2d": _b(
        "rotated_2d", geometry.rotated_river_2d, {"theta": 0.3}, "2-D straight river at angle theta"
    ),
    "random_river": _b(
        "random_river",
        geometry.random_river,
        {"dim": 256, "k": 4},
        "straight river with random orthonormal N (k x d) and u",
        keyed=True,
    ),
    "axis_aligned": _b(
        "axis_aligned",
        geometry.axis_aligned_river,
        {"dim": 16, "k": 1},
        "straight river with N = (e_1..e_k), u = e_{k+1}",
    ),
    "meander": _b(
        "meander",
        _meander,
        {"dim": _DIM, "k": _K, "amplitude": 0.5, "omega": 0.5, "phase": 0.0},
        "curved river c(s) = amplitude sin(omega s + phase)",
    ),
    "arc": _b("arc", _arc, {"dim": _DIM, "k": _K, "radius": 5.0}, "river along a circular arc"),
    "anisotropic_river": _b(
        "anisotropic_river",
        _aniso,
        {"dim": 16, "k": 2, "ratio": 3.0},
        "random straight river, basin radii r_b a_i with a_i from 1 to ratio",
        keyed=True,
    ),
    "wsd": _b(
        "wsd", _wsd, {"amplitude": 0.5, "omega": 0.5, "drift": 0.1}, "2-D meandering river valley (WSD toy)"
    ),
}

_WALL = {"basin_radius": 0.25, "kappa": 10.0, "mu": 0.0}

#: wall profiles phi: name -> Builder (what code switches on is an attribute of the Wall: ``flat_bottom``,
#: ``theorems_cover``, ``rational_slope()``)
WALLS = {
    "quadratic": _b("quadratic", walls.quadratic_wall, _WALL, "flat-bottom quadratic wall"),
    "softplus": _b("softplus", walls.softplus_wall, {**_WALL, "tau": None}, "smooth softplus wall"),
    "power": _b("power", walls.power_wall, {**_WALL, "power": 4.0}, "flat-bottom power wall"),
    "exp": _b("exp", walls.exp_wall, {**_WALL, "tau": None}, "flat-bottom exponential wall"),
}

#: river losses ell(s): name -> Builder (the families above set the river's shape c(s))
RIVERS = {
    "none": _b("none", _river.ZeroDrift, {}, "ell(s) = 0"),
    "drift": _b(
        "drift", lambda rate=0.1: _river.LinearDrift(walls._f(rate)), {"rate": 0.1}, "ell(s) = -rate s"
    ),
    "lake": _b(
        "lake", _river.Lake.make, {"rate": 1.0, "s0": 0.0, "width": 1.0}, "ell(s) = c w log cosh((s-s0)/w)"
    ),
}


def _per_group(step=0.5, rows=4, cols=16, group_size=8, bits=4):
    if cols % group_size:
        raise LandscapeError(f"group_size must divide cols; got group_size = {group_size}, cols = {cols}.")
    return quantizers.per_group_grid(
        np.full((rows, cols // group_size), step), (rows, cols), group_size, bits=bits
    )


_STEP, _SCALE = record("step", 0.5), {"scale": 1.0}

#: quantizers: name -> Builder
QUANTIZERS = {
    "uniform": _b(
        "uniform", quantizers.uniform_grid, {"step": _STEP, "offset": 0.0}, "unbounded grid offset + step Z"
    ),
    "integer": _b(
        "integer",
        quantizers.integer_grid,
        {"bits": 4, "step": _STEP, "offset": 0.0},
        "b-bit signed integer grid",
    ),
    "per_group": _b(
        "per_group",
        _per_group,
        {"step": _STEP, "rows": 4, "cols": 16, "group_size": 8, "bits": 4},
        "b-bit per-group grid on a (rows, cols) weight matrix (d = rows * cols)",
    ),
    "nf4": _b("nf4", quantizers.nf4, _SCALE, "NF4 codebook"),
    "fp4": _b("fp4", quantizers.fp4_e2m1, _SCALE, "FP4 E2M1 codebook"),
    "log2": _b("log2", quantizers.log2_codebook, _SCALE, "log2 codebook"),
    "ternary": _b("ternary", quantizers.ternary, _SCALE, "ternary {-s, 0, s}"),
    "binary": _b("binary", quantizers.binary, _SCALE, "binary {-s, s}"),
}

#: PTQ methods fn(source, quantizer, w_star, key) -> q: name -> Builder, derived from
#: ``landscape.ptq.ptq_methods``; attrs: ``max_dim`` (exact enumeration), ``hessian`` (second order)
PTQ = {
    n: Builder(
        n,
        fn,
        params_of(fn),
        (fn.__doc__ or "").strip().split("\n")[0],
        attrs={"max_dim": ptq.SMALL_DIM_METHODS.get(n), "hessian": n in ptq.HESSIAN_METHODS},
    )
    for n, fn in ptq.ptq_methods.items()
}


def _rule(name, fn):
    return Builder(
        name, fn, {"learning_rate": record("learning_rate", 0.05), **params_of(fn)}, fn.__doc__ or ""
    )


#: QAT rules: name -> Builder of ``factory(learning_rate=..., optimizer=..., **options) -> Rule``
RULES = {
    n: _rule(n, fn)
    for n, fn in {
        "fp": _qat.full_precision, "ste": _qat.ste, "clipped_ste": _qat.clipped_ste, "lsq": _qat.lsq,
        "proxconnect": _qat.prox_connect, "binaryconnect": _qat.binary_connect, "ef": _qat.error_feedback,
        "noise": _qat.noise_injection, "ptq+ste": _qat.ptq_ste, "dampen": _qat.oscillation_dampening,
        "freeze": _qat.iterative_freezing,
    }.items()
}  # fmt: skip
#: other spellings of rule names (the factories' names)
RULE_ALIASES = {
    "full_precision": "fp", "ptq_ste": "ptq+ste", "prox_connect": "proxconnect",
    "binary_connect": "binaryconnect", "error_feedback": "ef", "noise_injection": "noise",
    "oscillation_dampening": "dampen", "iterative_freezing": "freeze",
}  # fmt: skip
#: the rows of the recovery tables (:func:`default_rules`)
RULE_NAMES = (
    "fp", "ste", "clipped_ste", "lsq", "proxconnect", "binaryconnect", "ef", "ef(beta=0.5)", "noise",
    "ptq+ste",
)  # fmt: skip


def _optax(name, **params):
    import optax  # noqa: PLC0415

    fn = getattr(optax, name)
    return _b(name, fn, params, f"optax.{name}")


_LR = {"learning_rate": record("learning_rate", 0.05)}

#: optax optimizers accepted by sweeps and the CLI by name: name -> Builder (any optax factory works from
#: Python, and :func:`get_optimizer_factory` takes any optax name)
OPTIMIZERS = {
    n: _optax(n, **_LR)
    for n in ("sgd", "adam", "adamw", "rmsprop", "adagrad", "lion", "nadam", "lamb", "sign_sgd")
}

_V, _T = record("init_value", 0.05, low=0), record("decay_steps", 100, kind="int", low=1)
#: optax schedules (values of :func:`landscape.schedule`): name -> Builder
SCHEDULES = {
    "constant": _optax("constant_schedule", value=_V),
    "linear": _optax(
        "linear_schedule", init_value=_V, end_value=record("end_value", 0.0, low=0), transition_steps=_T
    ),
    "cosine_decay": _optax(
        "cosine_decay_schedule", init_value=_V, decay_steps=_T, alpha=record("alpha", 0.0, low=0, high=1)
    ),
    "exponential_decay": _optax(
        "exponential_decay",
        init_value=_V,
        transition_steps=_T,
        decay_rate=record("decay_rate", 0.5, low=0, open_low=True),
    ),
}

#: every registry by kind (the first argument of :func:`register` and :func:`lookup`)
REGISTRIES = {
    "family": FAMILIES, "wall": WALLS, "river": RIVERS, "quantizer": QUANTIZERS, "ptq": PTQ, "rule": RULES,
    "optimizer": OPTIMIZERS, "schedule": SCHEDULES,
}  # fmt: skip

#: the CLI's older case names, mapped to registry names
CASE_ALIASES = {"rotated2d": "rotated_2d", "highdim": "random_river"}


def register(
    kind: str, name: str, fn: Callable, params: dict | None = None, doc: str = "", **attrs
) -> Builder:
    """Register ``fn`` under ``name`` in the registry of ``kind`` (a key of :data:`REGISTRIES`).

    ``params``: name -> :class:`Param` or a default value (the shared :data:`RECORDS` range is used);
    None reads the keyword defaults of ``fn``'s signature. A rule also takes ``learning_rate``.
    """
    if kind not in REGISTRIES:
        raise LandscapeError(f"kind must be one of {', '.join(REGISTRIES)}; got {kind!r}.")
    if not isinstance(name, str) or not name:
        raise LandscapeError(f"name must be a non-empty string; got {name!r}.")
    if not callable(fn):
        raise LandscapeError(f"fn for {kind} {name!r} must be callable; got {fn!r}.")
    prm = params_of(fn) if params is None else params
    if kind == "rule":
        prm = {"learning_rate": record("learning_rate", 0.05), **prm}
    keyed = "key" in inspect.signature(fn).parameters and kind in ("family", "quantizer", "wall")
    entry = _b(name, fn, prm, doc or (fn.__doc__ or "").strip().split("\n")[0], keyed=keyed, attrs=attrs)
    REGISTRIES[kind][name] = entry
    return entry


def lookup(kind: str, name: str) -> Builder:
    """The entry ``name`` of the registry of ``kind`` (older family and rule names are mapped)."""
    if kind not in REGISTRIES:
        raise LandscapeError(f"kind must be one of {', '.join(REGISTRIES)}; got {kind!r}.")
    reg = REGISTRIES[kind]
    key = {"family": CASE_ALIASES, "rule": RULE_ALIASES}.get(kind, {}).get(name, name)
    if key not in reg:
        raise LandscapeError(f"{kind} must be one of {', '.join(sorted(reg))}; got {name!r}.")
    return reg[key]


def family(name: str) -> Builder:
    """The landscape family called ``name`` (an older CLI name is accepted and mapped)."""
    name = CASE_ALIASES.get(name, name)
    if name not in FAMILIES:
        raise LandscapeError(f"family must be one of {', '.join(sorted(FAMILIES))}; got {name!r}.")
    return FAMILIES[name]


def get_optimizer_factory(name: str):
    """The optax factory called ``name`` (``optax.<name>``); one of :data:`OPTIMIZERS` from a TOML file."""
    if name in OPTIMIZERS:
        return OPTIMIZERS[name].fn
    import optax  # noqa: PLC0415

    fn = getattr(optax, str(name), None)
    if fn is None or not callable(fn):
        raise LandscapeError(
            f"optimizer must name an optax optimizer, e.g. {', '.join(OPTIMIZERS)}; got {name!r}."
        )
    return fn


def register_rule(name: str, factory: Callable, params: dict | None = None) -> None:
    """Register ``factory(learning_rate=..., optimizer=..., **options) -> Rule`` under ``name``."""
    if not callable(factory):
        raise LandscapeError(f"factory for rule {name!r} must be callable; got {factory!r}.")
    register("rule", name, factory, params)


def available_rules() -> list[str]:
    """The rule names (and aliases) a sweep, the CLI or :func:`get_rule` accept."""
    return sorted(set(RULES) | set(RULE_ALIASES))


def get_rule(name: str, learning_rate=0.05, optimizer=None, **options) -> _qat.Rule:
    """The rule called ``name``, built with ``learning_rate`` (or ``optimizer``) and its ``options``."""
    entry = RULES.get(RULE_ALIASES.get(name, name))
    if entry is None:
        raise LandscapeError(f"rule must be one of {', '.join(available_rules())}; got {name!r}.")
    entry.check({"learning_rate": learning_rate, **options})
    rule = entry.fn(learning_rate=learning_rate, optimizer=optimizer, **options)
    if not isinstance(rule, _qat.Rule):
        raise LandscapeError(f"rule factory {name!r} returned {type(rule).__name__}, not a landscape Rule.")
    return rule


def default_rules(learning_rate=0.05, optimizer=None, *, clip=None, mu_rate=0.1, noise_scale=1.0) -> dict:
    """{label: Rule} for every rule of the recovery tables, all under one optimizer (equal eta)."""
    kw = {"learning_rate": learning_rate, "optimizer": optimizer}
    opts = {
        "clipped_ste": {"clip": clip},
        "proxconnect": {"mu_rate": mu_rate},
        "noise": {"scale": noise_scale},
    }
    out = {}
    for label in RULE_NAMES:
        name, beta = ("ef", 0.5) if label == "ef(beta=0.5)" else (label, 1.0 if label == "ef" else None)
        extra = {"beta": beta} if beta is not None else opts.get(name, {})
        out[label] = RULES[name].fn(**kw, **extra)
    labels = tuple(r.label if r.name != "proxconnect" else r.name for r in out.values())
    if labels != RULE_NAMES:
        raise AssertionError(f"default_rules labels {labels} != {RULE_NAMES}")
    return out
