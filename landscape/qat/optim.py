r"""Optax optimizers and schedules as *values* (equinox Modules): equal settings compare and hash equal,
numbers are traced.

An optax ``GradientTransformation`` is a pair of closures, so two ``optax.sgd(0.05)`` objects are
different objects and a jitted driver that took them as static arguments would compile once per
object. :class:`Optimizer` keeps the optax *factory* (``optax.sgd``, ``optax.adam``, any callable
returning a ``GradientTransformation``) and its keyword hyperparameters instead, and builds the
transformation inside the traced function:

* float hyperparameters (learning rates, momenta, ``eps``) are pytree **leaves**: a new learning
  rate reuses the compiled driver;
* everything else (ints such as ``decay_steps``, bools, strings, callables) is static metadata;
* a hyperparameter may itself be a :class:`Schedule` value (``optax.cosine_decay_schedule`` and
  friends with their keyword arguments), so schedules are data too.

``Optimizer(optax.adam, learning_rate=1e-3) == Optimizer(optax.adam, learning_rate=1e-3)`` and the two
hash equal. A raw ``GradientTransformation`` is accepted by :func:`as_optimizer`; it is static and
compared by identity (reuse the same object to avoid recompiling).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import equinox as eqx
import numpy as np
import optax

from landscape._errors import LandscapeError, is_concrete

__all__ = ["Optimizer", "Schedule", "StaticOptimizer", "as_optimizer", "sgd", "schedule", "optimizer"]


def _canonical(name: str, value):
    """Concrete numbers as Python floats (hashable, compared by value); tracers and arrays as they are."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, _Factory)) or callable(value):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if is_concrete(value) and np.ndim(value) == 0:
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return value


def _is_leaf_value(value) -> bool:
    """Floats, arrays and tracers are traced leaves; ints, bools, strings, callables are static."""
    if isinstance(value, (bool, int, str)) or value is None or callable(value):
        return False
    return True


class _Factory(eqx.Module):
    """A factory and its keyword arguments as an equinox Module: the factory and the names and values of the
    static hyperparameters are static fields (the structure); the float ones are leaves (traced)."""

    factory: Callable = eqx.field(static=True)
    names: tuple = eqx.field(static=True)  # the names of the traced hyperparameters, sorted
    values: tuple  # their values: floats, arrays, tracers or Schedules (leaves)
    fixed: tuple = eqx.field(static=True)  # (name, value) of the static ones: ints, bools, strings, callables

    def __init__(self, factory: Callable, /, **hyper):
        if not callable(factory):
            raise LandscapeError(f"factory must be callable (e.g. optax.adam); got {factory!r}.")
        items = sorted((k, _canonical(k, v)) for k, v in hyper.items())
        self.factory = factory
        self.names = tuple(k for k, v in items if _is_leaf_value(v))
        self.values = tuple(v for _, v in items if _is_leaf_value(v))
        self.fixed = tuple((k, v) for k, v in items if not _is_leaf_value(v))

    @property
    def hyper(self) -> tuple:
        """Every hyperparameter as sorted (name, value) pairs."""
        return tuple(sorted((*zip(self.names, self.values, strict=True), *self.fixed), key=lambda kv: kv[0]))

    def kwargs(self) -> dict:
        """The keyword arguments, with nested schedules built into callables."""
        return {k: (v.build() if isinstance(v, Schedule) else v) for k, v in self.hyper}

    def __repr__(self):
        fn = (
            getattr(self.factory, "__module__", "")
            + "."
            + getattr(self.factory, "__name__", repr(self.factory))
        )
        fn = fn.removeprefix("optax._src.alias.").removeprefix("optax.")
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.hyper)
        return (
            f"{type(self).__name__}({fn.split('.')[-1]}, {args})" if args else f"{type(self).__name__}({fn})"
        )

    def replace(self, **changes):
        """A copy with some hyperparameters changed."""
        return type(self)(self.factory, **{**dict(self.hyper), **changes})

    def get(self, name, default=None):
        """The hyperparameter ``name`` (e.g. ``"learning_rate"``)."""
        return dict(self.hyper).get(name, default)


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, _Factory):
        return repr(v)
    if hasattr(v, "shape"):
        return f"{getattr(v, 'dtype', '')}{list(v.shape)}"
    return repr(v)


class Schedule(_Factory):
    """An optax schedule as a value, e.g. ``Schedule(optax.cosine_decay_schedule, init_value=0.1, ...)``."""

    def build(self) -> Callable:
        """The optax schedule ``step -> value``."""
        return self.factory(**self.kwargs())


class Optimizer(_Factory):
    """An optax optimizer as a value: ``Optimizer(optax.adam, learning_rate=1e-3)``."""

    def build(self) -> optax.GradientTransformation:
        """The optax ``GradientTransformation`` (built inside the traced function: floats are traced)."""
        tx = self.factory(**self.kwargs())
        if not isinstance(tx, optax.GradientTransformation):
            raise LandscapeError(
                f"optimizer factory {self.factory!r} returned {type(tx).__name__}, "
                "not an optax GradientTransformation."
            )
        return tx

    @property
    def learning_rate(self):
        """The learning rate (a float or a :class:`Schedule`), if the optimizer has one."""
        return self.get("learning_rate")


class StaticOptimizer(eqx.Module):
    """A raw optax ``GradientTransformation``: static, compared by identity (no hyperparameter is traced)."""

    tx: Any = eqx.field(static=True)

    def build(self) -> optax.GradientTransformation:
        """The wrapped transformation."""
        return self.tx

    def __eq__(self, other):
        return type(other) is StaticOptimizer and other.tx is self.tx

    def __hash__(self):
        return id(self.tx)

    def __repr__(self):
        return "StaticOptimizer(<optax.GradientTransformation>)"

    learning_rate = None


def _check_learning_rate(learning_rate) -> None:
    """Raise unless the learning rate (a number, or an array for a batch of rules) lies in (0, inf)."""
    if isinstance(learning_rate, Schedule) or callable(learning_rate) or not is_concrete(learning_rate):
        return
    try:
        arr = np.asarray(learning_rate, dtype=np.float64)
    except (TypeError, ValueError):
        raise LandscapeError(
            f"learning_rate must be a number in (0, inf), a landscape.schedule(...) or an optax schedule; "
            f"got {learning_rate!r}."
        ) from None
    if arr.size == 0 or not np.all((arr > 0) & np.isfinite(arr)):
        raise LandscapeError(f"learning_rate must lie in (0, inf); got {learning_rate!r}.")


def sgd(learning_rate=0.05, **hyper) -> Optimizer:
    """``Optimizer(optax.sgd, learning_rate=...)``: plain gradient descent w <- w - eta g."""
    _check_learning_rate(learning_rate)
    return Optimizer(optax.sgd, learning_rate=learning_rate, **hyper)


def optimizer(factory: Callable, /, **hyper) -> Optimizer:
    """An optax optimizer as a value, e.g. ``optimizer(optax.adam, learning_rate=1e-3, b1=0.9)``.

    Refused at construction: a factory that is not callable, a required argument of the factory left out
    (``optimizer(optax.adam)`` has no learning rate) and an argument the factory does not take.
    """
    _check_factory_arguments(factory, hyper)
    if "learning_rate" in hyper:
        _check_learning_rate(hyper["learning_rate"])
    return Optimizer(factory, **hyper)


def _check_factory_arguments(factory, hyper: dict) -> None:
    """Raise unless ``factory(**hyper)`` binds: every required parameter given, no unknown one."""
    if not callable(factory):
        raise LandscapeError(f"optimizer needs an optax factory such as optax.adam; got {factory!r}.")
    try:
        sig = inspect.signature(factory)
    except (TypeError, ValueError):  # a builtin without a signature: checked when it is built
        return
    name = getattr(factory, "__name__", repr(factory))
    params = sig.parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = [k for k in hyper if k not in params and not takes_any]
    if unknown:
        raise LandscapeError(
            f"optimizer: {name} takes no argument {unknown[0]!r}; its arguments are "
            f"{', '.join(p for p in params if params[p].kind is not inspect.Parameter.VAR_KEYWORD)}."
        )
    missing = [
        p.name
        for p in params.values()
        if p.default is inspect.Parameter.empty
        and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        and p.name not in hyper
    ]
    if missing:
        raise LandscapeError(
            f"optimizer: {name} needs {', '.join(missing)}; e.g. optimizer({name}, {missing[0]}=0.01)"
            + (" (a positive number or an optax schedule)." if missing[0] == "learning_rate" else ".")
        )


def schedule(factory: Callable, /, **hyper) -> Schedule:
    """An optax schedule as a value, e.g. ``schedule(optax.cosine_decay_schedule, init_value=1.0, ...)``."""
    return Schedule(factory, **hyper)


def as_optimizer(opt=None, learning_rate=0.05) -> Optimizer | StaticOptimizer:
    """The optimizer of a rule: an :class:`Optimizer`, from ``opt`` if given, else ``sgd(learning_rate)``.

    ``opt`` may be an :class:`Optimizer`, an optax factory (``optax.adam``: built with ``learning_rate``)
    or a raw ``GradientTransformation`` (kept as a :class:`StaticOptimizer`, compared by identity).
    """
    if opt is None:
        return sgd(learning_rate)
    if isinstance(opt, (Optimizer, StaticOptimizer)):
        return opt
    if isinstance(opt, optax.GradientTransformation):
        return StaticOptimizer(opt)
    if callable(opt):
        _check_learning_rate(learning_rate)
        return Optimizer(opt, learning_rate=learning_rate)
    raise LandscapeError(
        f"optimizer must be a landscape Optimizer, an optax factory (e.g. optax.adam) or an optax "
        f"GradientTransformation; got {opt!r}."
    )
