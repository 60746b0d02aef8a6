"""Sweeps at scale: a validated TOML description -> batched, jitted, sharded, resumable runs.

``load_config(path)`` validates a description; ``run_sweep(cfg, out)`` computes (or
resumes) it chunk by chunk into ``out`` and returns one ``xarray.Dataset`` with the
manifest. See ``docs/sweeps.md``.
"""

from landscape.sweep.blocked import micro_batch_size
from landscape.sweep.config import SweepConfig, SweepConfigError, config_hash, load_config, parse_config
from landscape.sweep.distributed import ProcessSettings, process_settings
from landscape.sweep.execute import OUTPUTS
from landscape.sweep.grid import Grid, make_grid
from landscape.sweep.rules import available_rules, get_rule, register_rule
from landscape.sweep.runner import RESULT_NAME, run_sweep

__all__ = [
    "SweepConfig",
    "SweepConfigError",
    "config_hash",
    "load_config",
    "parse_config",
    "ProcessSettings",
    "process_settings",
    "OUTPUTS",
    "Grid",
    "make_grid",
    "available_rules",
    "get_rule",
    "register_rule",
    "RESULT_NAME",
    "run_sweep",
    "micro_batch_size",
]
