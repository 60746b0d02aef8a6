"""The sweep's rule names are the project's one registry (:mod:`landscape.registry`)."""

from landscape.registry import available_rules, get_rule, register_rule

__all__ = ["register_rule", "get_rule", "available_rules"]
