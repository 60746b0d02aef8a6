"""The values of one sweep parameter (:class:`Axis`) and how a TOML value becomes one.

A number is a fixed parameter; a list of numbers, ``{linspace = [start, stop, num]}`` or
``{logspace = [start_exp, stop_exp, num]}`` (base 10, as :func:`numpy.logspace`) is an **axis**, a named
dimension of the result. Shared by the TOML config (:mod:`landscape.sweep.config`), the resolved spec
(:mod:`landscape.sweep.spec`) and the grid (:mod:`landscape.sweep.grid`).
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = ["Axis", "FloatAxis", "IntAxis", "StrAxis", "float_axis", "int_axis", "str_axis", "check_range"]


_AXIS_HELP = (
    "a number, a list of numbers, {linspace = [start, stop, num]} or {logspace = [start_exp, stop_exp, num]}"
)


class Axis(BaseModel):
    """The values of one sweepable parameter; ``swept`` when it is a dimension of the result."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    values: tuple[Any, ...]
    swept: bool

    def __len__(self) -> int:
        return len(self.values)


def _is_num(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _space(kind: str, spec) -> tuple[float, ...]:
    if not (isinstance(spec, (list, tuple)) and len(spec) == 3):
        raise ValueError(f"{kind} must be [start, stop, num]; got {spec!r}")
    a, b, n = spec
    if not (_is_num(a) and _is_num(b) and math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"{kind} start and stop must be finite numbers; got {spec!r}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{kind} num must be an integer >= 1; got {n!r}")
    fn = np.linspace if kind == "linspace" else np.logspace
    return tuple(float(v) for v in fn(a, b, n))


def float_axis(value) -> Axis:
    if isinstance(value, Axis):
        return value
    if isinstance(value, dict) and value.get("swept") in (True, False) and "values" in value:
        return Axis(values=tuple(float(v) for v in value["values"]), swept=bool(value["swept"]))
    if _is_num(value):
        vals, swept = (float(value),), False
    elif isinstance(value, (list, tuple)):
        if not value or not all(_is_num(v) for v in value):
            raise ValueError(
                f"must be {_AXIS_HELP}; got the list {value!r} (need a non-empty list of numbers)"
            )
        vals, swept = tuple(float(v) for v in value), True
    elif isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("linspace", "logspace"):
        kind, spec = next(iter(value.items()))
        vals, swept = _space(kind, spec), True
    else:
        raise ValueError(f"must be {_AXIS_HELP}; got {value!r}")
    if not all(math.isfinite(v) for v in vals):
        raise ValueError(f"must hold finite numbers; got {value!r}")
    return Axis(values=vals, swept=swept)


def int_axis(value) -> Axis:
    if isinstance(value, Axis):
        return value
    if isinstance(value, dict) and value.get("swept") in (True, False) and "values" in value:
        return Axis(values=tuple(int(v) for v in value["values"]), swept=bool(value["swept"]))
    ok = lambda v: isinstance(v, int) and not isinstance(v, bool)  # noqa: E731
    if ok(value):
        return Axis(values=(value,), swept=False)
    if isinstance(value, (list, tuple)) and value and all(ok(v) for v in value):
        return Axis(values=tuple(value), swept=True)
    raise ValueError(f"must be an integer or a non-empty list of integers; got {value!r}")


def str_axis(value) -> Axis:
    if isinstance(value, Axis):
        return value
    if isinstance(value, dict) and value.get("swept") in (True, False) and "values" in value:
        return Axis(values=tuple(str(v) for v in value["values"]), swept=bool(value["swept"]))
    if isinstance(value, str):
        return Axis(values=(value,), swept=False)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return Axis(values=tuple(value), swept=True)
    raise ValueError(f"must be a string or a non-empty list of strings; got {value!r}")


FloatAxis = Annotated[Axis, BeforeValidator(float_axis)]
IntAxis = Annotated[Axis, BeforeValidator(int_axis)]
StrAxis = Annotated[Axis, BeforeValidator(str_axis)]


def check_range(name: str, axis: Axis, low=None, high=None, *, open_low=False, open_high=False) -> None:
    for v in axis.values:
        bad = (low is not None and (v <= low if open_low else v < low)) or (
            high is not None and (v >= high if open_high else v > high)
        )
        if bad:
            lo = "-inf" if low is None else f"{low:g}"
            hi = "inf" if high is None else f"{high:g}"
            left = "(" if open_low or low is None else "["
            right = ")" if open_high or high is None else "]"
            rng = f"{left}{lo}, {hi}{right}"
            raise ValueError(f"{name} must lie in {rng}; got {v!r}")
