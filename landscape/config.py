"""One config system: the parameter records (:class:`Param`, :data:`RECORDS`) and the pydantic base of
every config (:class:`Record`).

A *record* is a parameter's kind, range, meaning and units, written once in :data:`RECORDS`; the
registry (:mod:`landscape.registry`) attaches records to every named thing, and a config field made by
:func:`field` carries one, so the sweeps (TOML and Python), the study configs and the explorer check the
same ``basin_radius``, ``kappa`` or ``learning_rate`` against the same range, with the same message::

    class Case(Record):
        kappa: float = field("kappa", 10.0)
        num_steps: int = field("num_steps", 200)

    Case(kappa=-1.0)   # LandscapeError: Case: kappa must lie in [0, inf]; got -1.0.

A :class:`Record` is frozen, refuses unknown keys, and raises :class:`~landscape._errors.LandscapeError`
(naming the field, its value and the allowed range) before any work.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from landscape._errors import LandscapeError

__all__ = ["Param", "RECORDS", "PARAM_INFO", "record", "params_of", "Record", "field", "Builder"]

@dataclasses.dataclass(frozen=True)
class Param:
    """One parameter: kind ("float" or "int"), default, range [low, high] (``open_low``: (low, high]),
    long name and units."""

    kind: str = "float"
    default: float | int | None = None
    low: float | None = None
    high: float | None = None
    open_low: bool = False
    long_name: str = ""
    units: str = "1"

    def describe_range(self) -> str:
        """The allowed range as text, e.g. ``(0, inf]``."""
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"{'(' if self.open_low or self.low is None else '['}{lo}, {hi}]"

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
        if lo_bad or (self.high is not None and v > self.high):
            raise LandscapeError(f"{name} must lie in {self.describe_range()}; got {value!r}.")

    def check_concrete(self, name: str, value) -> None:
        """:meth:`check` for Python and NumPy scalars; arrays and traced values pass (builders check them)."""
        if value is not None and isinstance(value, (bool, int, float, np.integer, np.floating)):
            self.check(name, value)



def _r(long_name, units="1", kind="float", low=None, high=None, open_low=False):
    return Param(kind, None, low, high, open_low, long_name, units)


#: every named parameter's kind, range, meaning and units (one home; entries and configs take these)
RECORDS = {
    "theta": _r("river angle theta", "rad"),
    "dim": _r("parameter dimension d", kind="int", low=2),
    "k": _r("number of sharp directions k", kind="int", low=1),
    "basin_radius": _r("basin radius r_b", "weight units", low=0, open_low=True),
    "kappa": _r("wall slope kappa", "loss per weight unit^2", low=0),
    "mu": _r("floor curvature mu", "loss per weight unit^2", low=0),
    "power": _r("wall power p", low=2),
    "tau": _r("wall softness tau", "weight units", low=0, open_low=True),
    "step": _r("grid step Delta", "weight units", low=0, open_low=True),
    "offset": _r("grid offset", "weight units"),
    "scale": _r("codebook scale", "weight units", low=0, open_low=True),
    "bits": _r("bits b", kind="int", low=2, high=25),
    "learning_rate": _r("learning rate eta", low=0, open_low=True),
    "num_steps": _r("QAT steps", "steps", kind="int", low=1),
    "amplitude": _r("meander amplitude", "weight units"),
    "omega": _r("meander frequency omega", "rad per weight unit"),
    "phase": _r("meander phase", "rad"),
    "radius": _r("arc radius", "weight units", low=0, open_low=True),
    "drift": _r("river loss drift", "loss per weight unit"),
    "ratio": _r("anisotropy a_k / a_1", low=0, open_low=True),
    "seed": _r("seed", kind="int", low=0),
    "start": _r("index of the trained start w* on the river", kind="int", low=0),
    "rows": _r("weight matrix rows", kind="int", low=1),
    "cols": _r("weight matrix columns", kind="int", low=1),
    "group_size": _r("quantization group size", kind="int", low=1),
    "clip": _r("clipped STE range [-clip, clip]", "weight units", low=0, open_low=True),
    "beta": _r("error feedback fraction beta", low=0, high=1),
    "mu0": _r("ProxConnect initial proximal weight", low=0),
    "mu_rate": _r("ProxConnect proximal weight growth per step", low=0),
    "grad_scale": _r("LSQ step gradient scale", low=0, open_low=True),
    "strength": _r("oscillation dampening strength", low=0),
    "threshold": _r("freezing frequency threshold", low=0, open_low=True),
    "momentum": _r("freezing EMA momentum", low=0, high=1, open_low=True),
    "rate": _r("river loss rate c", "loss per weight unit", low=0),
    "width": _r("lake width", "weight units", low=0, open_low=True),
    "s0": _r("lake position s0", "weight units"),
}

#: meaning and units of every record (``(long_name, units)``; read by the sweep store)
PARAM_INFO = {n: (p.long_name, p.units) for n, p in RECORDS.items()}


def record(name: str, default=None, **changes) -> Param:
    """The shared record of parameter ``name`` with ``default`` (and any field changed)."""
    base = RECORDS.get(name, Param(long_name=name))
    return dataclasses.replace(base, default=default, **changes)


def params_of(fn: Callable, skip=("key", "learning_rate", "optimizer")) -> dict:
    """Records for a function's keyword parameters (the shared record where one exists, else no range)."""
    out = {}
    for n, p in inspect.signature(fn).parameters.items():
        if n in skip or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.default is p.empty:
            continue
        d = p.default if isinstance(p.default, (int, float)) and not isinstance(p.default, bool) else None
        kind = "int" if isinstance(d, int) else RECORDS[n].kind if n in RECORDS else "float"
        out[n] = record(n, d, kind=kind)
    return out



def field(name: str, default=None, *, slider=None, **changes):
    """A pydantic field carrying the record of ``name`` (range checked by :class:`Record`).

    ``changes`` override the shared record (e.g. ``low=1``); ``slider`` = (min, max, step) is the
    explorer's window on the range (a display choice, not a validity range).
    """
    num = isinstance(default, (int, float)) and not isinstance(default, bool)
    prm = record(name, default if num else None, **changes)
    extra = {"record": dataclasses.asdict(prm), "units": prm.units}
    if slider is not None:
        extra["slider"] = tuple(slider)
    return Field(default, description=prm.long_name, json_schema_extra=extra)


def _scalars(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _scalars(v)
    elif value is not None:
        yield value


def _message(err: ValidationError, owner: type) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            allowed = ", ".join(owner.model_fields)
            lines.append(f"unknown parameter {key!r} (got {e.get('input')!r}); it takes {allowed}.")
        elif e["type"] == "value_error":  # a record's or a validator's message names the field itself
            lines.append(msg)
        else:
            lines.append(f"{key or 'input'}: {msg[:1].lower() + msg[1:]}; got {e.get('input')!r}.")
    return f"{owner.__name__}: " + " ".join(lines)


class Record(BaseModel):
    """Base of every config: frozen, unknown keys refused, every :func:`field` checked against its record."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def __init__(self, **data):
        try:
            super().__init__(**data)
        except ValidationError as err:
            raise LandscapeError(_message(err, type(self))) from None

    @model_validator(mode="after")
    def _check_records(self):
        for name in type(self).model_fields:
            prm = self.record_of(name)
            if prm is not None:
                for v in _scalars(getattr(self, name)):
                    prm.check(name, v)
        return self

    @classmethod
    def record_of(cls, name: str) -> Param | None:
        """The record of field ``name`` (None for a field without one)."""
        extra = cls.model_fields[name].json_schema_extra
        return Param(**extra["record"]) if isinstance(extra, dict) and "record" in extra else None

    @classmethod
    def sliders(cls) -> dict:
        """{field: (min, max, step)} of the fields that give an explorer window."""
        out = {}
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and "slider" in extra:
                out[name] = tuple(extra["slider"])
        return out

    def replace(self, **changes):
        """A copy with some fields changed (validated again)."""
        return type(self)(**{**{n: getattr(self, n) for n in type(self).model_fields}, **changes})

    def as_dict(self) -> dict:
        """The fields as a plain dict (tuples kept; for manifests)."""
        return self.model_dump()


class _FnSignature:
    """The signature of a Builder's function (None on the class, so the class keeps its own)."""

    def __get__(self, obj, owner=None):
        return None if obj is None else inspect.signature(obj.fn)


@dataclasses.dataclass(frozen=True)
class Builder:
    """A named constructor and its parameters (``keyed``: it also takes a PRNG ``key`` from the seed).

    Calling a Builder calls its function unchanged (a rule's factory, an optax optimizer, ...);
    :meth:`build` fills in defaults and checks every value first. ``attrs`` holds what code switches on
    (e.g. a PTQ method's ``max_dim``).
    """

    name: str
    fn: Callable
    params: dict
    doc: str = ""
    keyed: bool = False
    attrs: dict = dataclasses.field(default_factory=dict, compare=False)

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    __signature__ = _FnSignature()  # inspect.signature(builder) is the function's (the sweep reads it)

    def check(self, values: dict, *, allowed=()) -> None:
        """Raise LandscapeError for an unknown name or a concrete value out of its range."""
        unknown = set(values) - set(self.params) - set(allowed)
        if unknown:
            raise LandscapeError(
                f"{self.name} takes {', '.join(self.params) or 'no parameters'}; "
                f"got unknown {sorted(unknown)}."
            )
        for n, v in values.items():
            if n in self.params:
                self.params[n].check_concrete(n, v)

    def build(self, key=None, **values):
        """Call the constructor with defaults filled in (checking every value first)."""
        self.check(values)
        kw = {n: p.default for n, p in self.params.items() if p.default is not None}
        kw.update(values)
        for n, v in kw.items():
            self.params[n].check(n, v)
            kw[n] = int(v) if self.params[n].kind == "int" else float(v)
        if self.keyed and key is None:
            import jax  # noqa: PLC0415  (the records and configs do not import JAX)

            key = jax.random.PRNGKey(0)
        if self.keyed:
            kw["key"] = key
        return self.fn(**kw)
