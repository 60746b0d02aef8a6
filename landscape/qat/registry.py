"""One registry of rule names, shared by the CLI, TOML sweeps and Python (``landscape.get_rule``)."""

from __future__ import annotations

from collections.abc import Callable

from landscape._errors import LandscapeError
from landscape.qat.base import Rule
from landscape.qat.feedback import error_feedback, noise_injection
from landscape.qat.lsq import lsq
from landscape.qat.oscillation import iterative_freezing, oscillation_dampening
from landscape.qat.prox import prox_connect
from landscape.qat.ste import binary_connect, clipped_ste, full_precision, ptq_ste, ste

__all__ = ["RULES", "RULE_NAMES", "register_rule", "get_rule", "available_rules", "default_rules"]

#: name -> factory(learning_rate=..., optimizer=..., **options) -> Rule
RULES: dict[str, Callable[..., Rule]] = {
    "fp": full_precision,
    "ste": ste,
    "clipped_ste": clipped_ste,
    "lsq": lsq,
    "proxconnect": prox_connect,
    "binaryconnect": binary_connect,
    "ef": error_feedback,
    "noise": noise_injection,
    "ptq+ste": ptq_ste,
    "dampen": oscillation_dampening,
    "freeze": iterative_freezing,
}
_ALIASES = {
    "full_precision": "fp",
    "ptq_ste": "ptq+ste",
    "prox_connect": "proxconnect",
    "binary_connect": "binaryconnect",
    "error_feedback": "ef",
    "noise_injection": "noise",
    "oscillation_dampening": "dampen",
    "iterative_freezing": "freeze",
}

#: the rows of the recovery tables (:func:`default_rules`)
RULE_NAMES = (
    "fp",
    "ste",
    "clipped_ste",
    "lsq",
    "proxconnect",
    "binaryconnect",
    "ef",
    "ef(beta=0.5)",
    "noise",
    "ptq+ste",
)


def register_rule(name: str, factory: Callable[..., Rule]) -> None:
    """Register ``factory(learning_rate=..., optimizer=..., **options) -> Rule`` under ``name``."""
    if not callable(factory):
        raise LandscapeError(f"factory for rule {name!r} must be callable; got {factory!r}.")
    RULES[name] = factory


def available_rules() -> list[str]:
    """The rule names (and aliases) a sweep, the CLI or :func:`get_rule` accept."""
    return sorted(set(RULES) | set(_ALIASES))


def get_rule(name: str, learning_rate=0.05, optimizer=None, **options) -> Rule:
    """The rule called ``name``, built with ``learning_rate`` (or ``optimizer``) and its ``options``."""
    factory = RULES.get(_ALIASES.get(name, name))
    if factory is None:
        raise LandscapeError(f"rule must be one of {', '.join(available_rules())}; got {name!r}.")
    rule = factory(learning_rate=learning_rate, optimizer=optimizer, **options)
    if not isinstance(rule, Rule):
        raise LandscapeError(f"rule factory {name!r} returned {type(rule).__name__}, not a landscape Rule.")
    return rule


def default_rules(learning_rate=0.05, optimizer=None, *, clip=None, mu_rate=0.1, noise_scale=1.0) -> dict:
    """{label: Rule} for every rule of the recovery tables, all under one optimizer (equal eta)."""
    kw = {"learning_rate": learning_rate, "optimizer": optimizer}
    rules = [
        full_precision(**kw),
        ste(**kw),
        clipped_ste(**kw, clip=clip),
        lsq(**kw),
        prox_connect(**kw, mu_rate=mu_rate),
        binary_connect(**kw),
        error_feedback(**kw, beta=1.0),
        error_feedback(**kw, beta=0.5),
        noise_injection(**kw, scale=noise_scale),
        ptq_ste(**kw),
    ]
    out = {r.label if r.name != "proxconnect" else r.name: r for r in rules}
    if tuple(out) != RULE_NAMES:
        raise AssertionError(f"default_rules labels {tuple(out)} != {RULE_NAMES}")
    return out
