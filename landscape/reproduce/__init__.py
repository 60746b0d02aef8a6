"""``landscape reproduce``: the default study, its figures, datasets, report and summary.

>>> from landscape.reproduce import reproduce
>>> summary = reproduce("out", quick=True)   # doctest: +SKIP
"""

from landscape.reproduce.config import ReproduceConfig
from landscape.reproduce.runner import STAGES, reproduce
from landscape.reproduce.schema import SUMMARY_SCHEMA, validate_summary

__all__ = ["reproduce", "ReproduceConfig", "STAGES", "SUMMARY_SCHEMA", "validate_summary"]
