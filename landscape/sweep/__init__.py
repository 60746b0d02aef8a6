r"""Sweeps: any landscape, wall, quantizer, PTQ method, rule and optax optimizer, over axes and seeds.

From Python, ``landscape.sweep(...)`` (this module is callable) returns an ``xarray.Dataset`` in memory,
or, with ``store=DIR``, writes every chunk into ``DIR/result.zarr`` as it finishes and resumes a rerun;
chunks are tasks of a Dask cluster (``scheduler=``, :func:`run_sweep`)::

    import optax, landscape as ls
    ds = ls.sweep(landscape="rotated_2d", theta=0.5, basin_radius=0.3,
                  quantizer="uniform", step=ls.sweep.linspace(0.3, 1.2, 4),
                  rule="ste", optimizer=optax.adam, learning_rate=ls.sweep.logspace(-3, -1, 3),
                  seeds=1, starts=64, num_steps=200)
    ls.plot.phase_diagram(ds, x="step", y="learning_rate")

The TOML form (``landscape sweep CONFIG --out DIR``, :func:`load_config`) describes the same thing with
the same names (see ``docs/sweeps.md``); :func:`run_sweep` runs either.
"""

import inspect
import sys
import types

from landscape.sweep.axes import Axis
from landscape.sweep.blocked import micro_batch_size
from landscape.sweep.config import SweepConfig, SweepConfigError, config_hash, load_config, parse_config
from landscape.sweep.execute import OUTPUTS, static_axes
from landscape.sweep.grid import Grid
from landscape.sweep.rules import available_rules, get_rule, register_rule
from landscape.sweep.runner import RESULT_NAME, as_spec, run_sweep
from landscape.sweep.spec import SweepSpec, linspace, logspace, make_spec
from landscape.sweep.summary import summarize


def make_grid(cfg) -> Grid:
    """The grid of cases of a sweep (a SweepSpec or a TOML SweepConfig): axes, groups, chunks."""
    from landscape.sweep.grid import make_grid as _make  # noqa: PLC0415

    spec = as_spec(cfg)
    return _make(spec, static_axes(spec))


def sweep(
    *,
    landscape="rotated_2d",
    wall="default",
    quantizer="uniform",
    rule="ste",
    optimizer="sgd",
    ptq="rtn",
    num_steps=200,
    seeds=1,
    starts=16,
    store=None,
    progress: bool = False,
    scheduler=None,
    devices=None,
    s_range=(-50.0, 50.0),
    spread: float = 0.0,
    chunk_size: int = 4096,
    name: str = "sweep",
    **params,
):
    """Run a sweep and return its ``xarray.Dataset`` (one dimension per axis, plus ``seed`` and ``start``).

    * ``landscape``: a family name of :data:`landscape.registry.FAMILIES` (``"rotated_2d"``,
      ``"random_river"``, ``"meander"``, ...), a callable returning a Landscape (called with the
      parameters it names, and ``key`` from the seed if it takes one), or a Landscape;
    * ``wall``: a name of :data:`landscape.registry.WALLS`, a callable, a Wall, or None (the landscape's
      own); by default the quadratic wall when the landscape is a family name or a wall parameter is given;
    * ``quantizer``: a name of :data:`landscape.registry.QUANTIZERS`, a callable or a quantizer;
    * ``ptq``: a method of ``landscape.ptq.ptq_methods`` (QAT starts at w* for RTN, at q0 otherwise);
    * ``rule``: a rule name (``landscape.registry.RULES``), a callable or a Rule; ``optimizer``: an optax
      factory (``optax.adam``), its name, or a ``landscape.optimizer(...)`` value;
    * ``**params``: every other parameter, routed by name to the parts that take it (``theta``,
      ``basin_radius``, ``step``, ``learning_rate``, ``clip``...); a list / array / :func:`linspace` /
      :func:`logspace` makes it an axis, a scalar fixes it;
    * ``seeds`` (n or a list), ``starts`` (trained points per cell), ``num_steps`` (a number or an axis);
    * ``store``: a directory to keep every chunk in (``store/result.zarr``; a rerun resumes), or None
      (in memory);
    * ``scheduler``: where the chunks run (:func:`run_sweep`): None (a LocalCluster of processes for large
      sweeps, this process for small ones), ``"processes"``, ``"synchronous"``, an address or a Client.

    Summarise it with :func:`summarize` (outcomes counted apart, Wilson intervals) and draw it with
    :func:`landscape.plot.phase_diagram`.
    """
    spec = make_spec(
        landscape=landscape,
        wall=wall,
        quantizer=quantizer,
        rule=rule,
        optimizer=optimizer,
        ptq=ptq,
        num_steps=num_steps,
        seeds=seeds,
        starts=starts,
        s_range=s_range,
        spread=spread,
        chunk_size=chunk_size,
        name=name,
        **params,
    )
    return run_sweep(spec, store, progress=progress, scheduler=scheduler, devices=devices)


class _CallableModule(types.ModuleType):
    """``landscape.sweep`` is both this package and the function :func:`sweep` (its signature too)."""

    __signature__ = inspect.signature(sweep)  # what inspect.signature(landscape.sweep) and help() show

    def __call__(self, **kwargs):
        return sweep(**kwargs)


sys.modules[__name__].__class__ = _CallableModule

__all__ = [
    "sweep",
    "summarize",
    "linspace",
    "logspace",
    "make_spec",
    "SweepSpec",
    "Axis",
    "SweepConfig",
    "SweepConfigError",
    "config_hash",
    "load_config",
    "parse_config",
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
