"""Registry of QAT rules by name, so that a sweep config names a rule and new rules slot in.

``get_rule(name, learning_rate=..., **options)`` returns a :class:`landscape.qat.QATRule`.
Built in: ``ste`` and ``fp`` (alias ``full_precision``). A rule defined elsewhere is
found by :func:`register_rule`, or, when not registered, as a factory of that name in
``landscape.rules`` or ``landscape.qat`` that returns a ``QATRule``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from landscape import qat as _qat

__all__ = ["register_rule", "get_rule", "available_rules"]

_REGISTRY: dict[str, Callable] = {
    "ste": _qat.ste,
    "fp": _qat.full_precision,
    "full_precision": _qat.full_precision,
}

_MODULES = ("landscape.rules", "landscape.qat")


def register_rule(name: str, factory: Callable) -> None:
    """Register ``factory(learning_rate=..., **options) -> QATRule`` under ``name``."""
    if not callable(factory):
        raise TypeError(f"factory for rule {name!r} must be callable; got {factory!r}.")
    _REGISTRY[name] = factory


def _module_factories() -> dict[str, Callable]:
    found: dict[str, Callable] = {}
    for mod_name in _MODULES:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:
            continue
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            ann = getattr(obj, "__annotations__", {}).get("return")
            if callable(obj) and ann in ("QATRule", _qat.QATRule):
                found.setdefault(name, obj)
    return found


def available_rules() -> list[str]:
    """Names a sweep config may use in ``qat.rule``."""
    return sorted(set(_REGISTRY) | set(_module_factories()))


def get_rule(name: str, learning_rate: float = 0.05, **options) -> _qat.QATRule:
    """The QATRule called ``name``, built with ``learning_rate`` and rule-specific ``options``."""
    factory = _REGISTRY.get(name) or _module_factories().get(name)
    if factory is None:
        raise ValueError(f"unknown QAT rule {name!r}; allowed: {', '.join(available_rules())}.")
    rule = factory(learning_rate=learning_rate, **options)
    if not isinstance(rule, _qat.QATRule):
        raise TypeError(f"rule factory {name!r} returned {type(rule).__name__}, not a QATRule.")
    return rule
