r"""What a sweep computes, resolved: the parts of a case, the value of every parameter, the axes.

A **case** is (landscape, wall, quantizer, PTQ method, rule with its optimizer, seed, trained start).
Each *part* is built by a registry name (:mod:`landscape.registry`, :data:`landscape.registry.RULES`), a
callable taking some of the parameters by name, or a fixed value. A parameter given as a list, a
NumPy array or :func:`linspace` / :func:`logspace` is an **axis** (a dimension of the result); a scalar
is fixed. Each parameter is routed to the parts whose constructor takes it (by name); one that no part
takes is an error naming the parameter and what each part accepts.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import math
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from landscape import registry as B
from landscape._errors import LandscapeError
from landscape.sweep.axes import Axis
from landscape.sweep.registry_checks import check_ranges, record_defaults, warn_clipped

__all__ = ["linspace", "logspace", "Part", "SweepSpec", "make_spec", "spec_from_config", "RESERVED"]

#: the learning rate of a rule named without one
DEFAULT_LEARNING_RATE = 0.05

RESERVED = ("seeds", "starts", "num_steps", "ptq", "s_range", "spread", "chunk_size", "name")


def linspace(start: float, stop: float, num: int) -> Axis:
    """An axis of ``num`` values evenly spaced from ``start`` to ``stop`` (as :func:`numpy.linspace`)."""
    return Axis(values=tuple(float(v) for v in np.linspace(start, stop, int(num))), swept=True)


def logspace(start_exp: float, stop_exp: float, num: int) -> Axis:
    """An axis of ``num`` log-spaced values from 10**start_exp to 10**stop_exp (:func:`numpy.logspace`)."""
    return Axis(values=tuple(float(v) for v in np.logspace(start_exp, stop_exp, int(num))), swept=True)


def as_axis(name: str, value) -> Axis:
    """An Axis from a scalar (fixed), a list / tuple / array (swept) or an Axis."""
    if isinstance(value, Axis):
        return value
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if not value:
            raise LandscapeError(f"{name} is an empty list; give at least one value.")
        vals = tuple(_scalar(name, v) for v in value)
        return Axis(values=vals, swept=True)
    return Axis(values=(_scalar(name, value),), swept=False)


def _scalar(name, v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        v = float(v)
    if isinstance(v, float) and not math.isfinite(v):
        raise LandscapeError(f"{name} must hold finite numbers; got {v!r}.")
    return v


def _accepts(fn) -> tuple[set, bool]:
    """(explicit parameter names, whether it takes ``key``) of a callable."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return set(), False
    names = {p.name for p in sig.parameters.values() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    return names - {"key"}, "key" in names


def _qualname(obj) -> str:
    return f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', type(obj).__name__)}"


@dataclasses.dataclass(frozen=True)
class Part:
    """One part of a case: its role, how it was named, the parameters it takes, and its constructor."""

    role: str
    label: str
    params: tuple
    keyed: bool
    make: Callable  # make(values: dict, key) -> object

    def build(self, values: dict, seed: int = 0):
        """The part for these parameter values (and seed, if keyed)."""
        key = jax.random.fold_in(jax.random.PRNGKey(int(seed)), 0) if self.keyed else None
        return self.make({p: values[p] for p in self.params if p in values}, key)


def _builder_part(role: str, b: B.Builder) -> Part:
    return Part(role, b.name, tuple(b.params), b.keyed, lambda v, key: b.build(key=key, **v))


def _callable_part(role: str, fn) -> Part:
    names, keyed = _accepts(fn)
    return Part(
        role,
        _qualname(fn),
        tuple(sorted(names)),
        keyed,
        lambda v, key: fn(**v, **({"key": key} if keyed else {})),
    )


def _value_part(role: str, obj) -> Part:
    return Part(role, repr(obj), (), False, lambda v, key: obj)


def _landscape_part(spec) -> Part:
    if isinstance(spec, str):
        return _builder_part("landscape", B.family(spec))
    if callable(spec) and not hasattr(spec, "loss"):
        return _callable_part("landscape", spec)
    if not hasattr(spec, "sample_river"):
        raise LandscapeError(
            f"landscape must be a family name ({', '.join(sorted(B.FAMILIES))}), a callable returning a "
            f"Landscape, or a Landscape (with sample_river); got {type(spec).__name__}."
        )
    return _value_part("landscape", spec)


def _registry_part(role: str, spec, registry: dict) -> Part:
    if isinstance(spec, str):
        if spec not in registry:
            raise LandscapeError(f"{role} must be one of {', '.join(sorted(registry))}; got {spec!r}.")
        return _builder_part(role, registry[spec])
    if callable(spec) and not hasattr(spec, "quantize") and not hasattr(spec, "value"):
        return _callable_part(role, spec)
    return _value_part(role, spec)


def _optimizer_hyper(names) -> set:
    out = set()
    for n in names:
        fac = B.get_optimizer_factory(n) if isinstance(n, str) else n
        out |= _accepts(fac)[0]
    return out - {"learning_rate"}


def _rule_part(rule, optimizer, rule_names, opt_values) -> Part:
    """The rule part: by registry name (with learning_rate, optimizer, options), a callable, or a Rule."""
    from landscape.qat import Optimizer, Rule  # noqa: PLC0415
    from landscape.registry import RULE_ALIASES as _ALIASES  # noqa: PLC0415
    from landscape.registry import RULES, get_rule  # noqa: PLC0415

    if isinstance(rule, Rule):

        def make(v, key, rule=rule):
            r = rule
            if "learning_rate" in v:
                r = r.with_learning_rate(v["learning_rate"])
            return r

        return Part("rule", rule.label, ("learning_rate",), False, make)
    if callable(rule) and not isinstance(rule, str):
        return _callable_part("rule", rule)
    options = set()
    for n in rule_names:
        fac = RULES.get(_ALIASES.get(n, n))
        if fac is None:
            raise LandscapeError(
                f"rule must be one of {', '.join(sorted(set(RULES) | set(_ALIASES)))}; got {n!r}."
            )
        options |= _accepts(fac)[0] - {"learning_rate", "optimizer"}
    hyper = _optimizer_hyper(
        [o for o in opt_values if isinstance(o, str) or callable(o)]
        if not isinstance(optimizer, Optimizer)
        else []
    )

    def make(v, key, options=frozenset(options), hyper=frozenset(hyper)):
        name = v.get("rule", rule if isinstance(rule, str) else "ste")
        lr = v.get("learning_rate", DEFAULT_LEARNING_RATE)
        opt = v.get("optimizer", optimizer)
        if isinstance(opt, Optimizer):
            o = opt.replace(learning_rate=lr) if "learning_rate" in v else opt
        elif opt is None:
            o = None
        else:
            fac = B.get_optimizer_factory(opt) if isinstance(opt, str) else opt
            o = Optimizer(fac, learning_rate=lr, **{h: v[h] for h in hyper if h in v})
        own = _accepts(RULES.get(_ALIASES.get(name, name), get_rule))[0]
        kw = {n: v[n] for n in options if n in v and n in own}
        return get_rule(name, learning_rate=lr, optimizer=o, **kw)

    params = ("rule", "optimizer", "learning_rate", *sorted(options), *sorted(hyper))
    label = rule if isinstance(rule, str) else "rules"
    return Part("rule", label, params, False, make)


@dataclasses.dataclass
class SweepSpec:
    """A resolved sweep: the parts, every parameter's Axis, PTQ, seeds, starts and the static options."""

    name: str
    parts: dict  # role -> Part
    values: dict  # parameter -> Axis (fixed or swept), in the order given
    seeds: tuple
    starts: int
    s_range: tuple
    spread: float
    chunk_size: int
    description: dict  # JSON-ready: what this spec is (names, qualnames, values)

    @property
    def axes(self) -> dict:
        """The swept parameters (dimensions of the result, besides seed and start)."""
        return {n: a for n, a in self.values.items() if a.swept}

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical JSON description (what a store directory is bound to)."""
        blob = json.dumps(self.description, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


def _jsonable_axis(a: Axis):
    vals = [
        v if isinstance(v, (int, float, str, bool)) else _qualname(v) if callable(v) else repr(v)
        for v in a.values
    ]
    return vals if a.swept else vals[0]


def make_spec(
    *,
    landscape: Any = "rotated_2d",
    wall: Any = "default",
    quantizer: Any = "uniform",
    rule: Any = "ste",
    optimizer: Any = "sgd",
    ptq: Any = "rtn",
    num_steps: Any = 200,
    seeds: Any = 1,
    starts: int = 16,
    s_range=(-50.0, 50.0),
    spread: float = 0.0,
    chunk_size: int = 4096,
    name: str = "sweep",
    **params,
) -> SweepSpec:
    """Resolve a sweep description (:func:`landscape.sweep`) into a :class:`SweepSpec`, checking it all."""
    from landscape.qat import Optimizer  # noqa: PLC0415

    if isinstance(seeds, bool) or not isinstance(seeds, (int, list, tuple, np.ndarray)):
        raise LandscapeError(
            f"seeds must be an integer n >= 1 (seeds 0..n-1) or a list of seeds; got {seeds!r}."
        )
    seed_vals = (
        tuple(range(int(seeds))) if isinstance(seeds, (int, np.integer)) else tuple(int(s) for s in seeds)
    )
    if not seed_vals or len(set(seed_vals)) != len(seed_vals) or min(seed_vals) < 0:
        raise LandscapeError(
            f"seeds must be >= 1, or a non-empty list of distinct integers >= 0; got {seeds!r}."
        )
    if isinstance(starts, bool) or not isinstance(starts, (int, np.integer)) or starts < 1:
        raise LandscapeError(f"starts must be an integer >= 1; got {starts!r}.")
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise LandscapeError(f"chunk_size must be an integer >= 1; got {chunk_size!r}.")
    lo, hi = (float(x) for x in s_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise LandscapeError(f"s_range must be (low, high) with finite low < high; got {s_range!r}.")
    if not (isinstance(spread, (int, float)) and spread >= 0):
        raise LandscapeError(f"spread must be a number >= 0; got {spread!r}.")

    values: dict[str, Axis] = {}
    rule_axis = as_axis("rule", rule) if isinstance(rule, (str, list, tuple)) else None
    opt_axis = (
        as_axis("optimizer", optimizer)
        if isinstance(optimizer, (str, list, tuple))
        or (callable(optimizer) and not isinstance(optimizer, Optimizer))
        else None
    )
    if rule_axis is not None:
        values["rule"] = rule_axis
    if opt_axis is not None and isinstance(rule, (str, list, tuple)):
        values["optimizer"] = opt_axis
    for n, v in params.items():
        values[n] = as_axis(n, v)
    values["ptq"] = as_axis("ptq", ptq)
    values["num_steps"] = as_axis("num_steps", num_steps)
    for m in values["ptq"].values:
        if m not in B.PTQ:
            raise LandscapeError(f"ptq must be one of {', '.join(B.PTQ)}; got {m!r}.")
    for s in values["num_steps"].values:
        if isinstance(s, bool) or not isinstance(s, int) or s < 1:
            raise LandscapeError(f"num_steps must be an integer >= 1 (or a list of them); got {s!r}.")

    wall_params = {n for b in B.WALLS.values() for n in b.params}  # every registered wall's parameters
    if isinstance(wall, str) and wall == "default":
        wall = "quadratic" if (isinstance(landscape, str) or wall_params & set(params)) else None
    parts = {"landscape": _landscape_part(landscape)}
    if wall is not None:
        parts["wall"] = _registry_part("wall", wall, B.WALLS)
    parts["quantizer"] = _registry_part("quantizer", quantizer, B.QUANTIZERS)
    rule_names = rule_axis.values if rule_axis is not None else ()
    opt_vals = opt_axis.values if opt_axis is not None else ()
    parts["rule"] = _rule_part(
        rule_axis.values[0] if rule_axis and not rule_axis.swept else rule,
        optimizer if not isinstance(optimizer, (list, tuple)) else None,
        rule_names,
        opt_vals,
    )

    # route every parameter to the parts that take it
    taken = {"ptq", "num_steps"}
    for p in parts.values():
        taken |= set(p.params)
    unknown = [n for n in values if n not in taken]
    if unknown:
        accepts = "; ".join(f"{r} ({p.label}): {', '.join(p.params) or 'none'}" for r, p in parts.items())
        raise LandscapeError(f"no part of the sweep takes the parameter(s) {unknown}. Accepted: {accepts}.")
    check_ranges(parts, values)
    record_defaults(parts, values, DEFAULT_LEARNING_RATE)
    warn_clipped(parts, values, (lo, hi), seed_vals[0])
    desc = {
        "name": name,
        "parts": {r: p.label for r, p in parts.items()},
        "values": {n: _jsonable_axis(a) for n, a in values.items()},
        "seeds": list(seed_vals),
        "starts": int(starts),
        "s_range": [lo, hi],
        "spread": float(spread),
        "chunk_size": int(chunk_size),
    }
    return SweepSpec(
        name, parts, values, seed_vals, int(starts), (lo, hi), float(spread), int(chunk_size), desc
    )


def spec_from_config(cfg) -> SweepSpec:
    """The sweep of a validated TOML config (:class:`~landscape.sweep.config.SweepConfig`), resolved."""

    def one(axis):
        return list(axis.values) if axis.swept else axis.values[0]

    # options of several rules share one namespace; each rule takes only its own names
    opts = {k: v for o in cfg.qat.options.values() for k, v in o.items()}
    params = {**cfg.landscape.params(), **cfg.wall.params(), **cfg.quantizer.params(), **opts}
    return make_spec(
        landscape=cfg.landscape.family,
        wall=cfg.wall.profile,
        quantizer=cfg.quantizer.kind,
        rule=one(cfg.qat.rule),
        optimizer=one(cfg.qat.optimizer),
        ptq=one(cfg.ptq.rule),
        num_steps=cfg.qat.num_steps,
        seeds=list(cfg.sweep.seed_values),
        starts=cfg.sweep.starts,
        s_range=cfg.landscape.s_range,
        spread=cfg.landscape.spread,
        chunk_size=cfg.sweep.chunk_size,
        name=cfg.sweep.name,
        learning_rate=cfg.qat.learning_rate,
        **params,
    )
