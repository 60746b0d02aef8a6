r"""Recovery of PTQ-failed points by QAT rules: first hitting times, chattering, and sweeps.

A *case* (:class:`RecoveryConfig`) fixes a landscape (a 2-D rotated river or a random straight
river with k sharp directions in d dimensions, quadratic wall of slope ``kappa`` beyond
``basin_radius`` :math:`r_b`, river drift), a uniform grid of step :math:`\Delta`, a learning
rate :math:`\eta` (plain SGD unless ``optimizer`` names another optax optimizer) and a number of
steps. :func:`recovery_experiment`:

1. samples ``n_points`` trained points :math:`w^*` on the river (:math:`s \sim U(s\_range)`);
2. applies PTQ (``"rtn"``, ``"gptq"`` or any ``fn(landscape, quantizer, w_stars) -> q``) and marks
   the *failed* points, :math:`\rho(q) > r_b`;
3. runs every rule from every sampled point (fixed batch shape, so one compilation serves every
   cell of a sweep), watched by the driver's chattering monitor
   (``SaveAt(monitors=(CycleMonitor(window),))``, :mod:`landscape.simulate.chatter`);
4. returns an ``xarray.Dataset`` (dims ``rule``, ``start``, ``t``) whose statistics are taken over
   the failed starts only, with the manifest in ``attrs``.

**Starting latent.** For RTN the latent starts at :math:`w_0 = w^*` (then :math:`Q(w_0) = \mathrm{RTN}(w^*)`
is the failed point and the latent keeps the trained weights, as QAT from a checkpoint does); for any other
PTQ at :math:`w_0 = q_{\rm ptq}` (on the grid, so :math:`Q(w_0) = q_{\rm ptq}`). The baseline ``ptq+ste``
starts at the PTQ point itself in both cases; ``fp`` (full precision, then RTN) deploys :math:`Q(w_t)`.

**Default cases** (:func:`rotated2d_case`, :func:`highdim_case`; seed 0, 2000 trained points,
``landscape recover``):

* ``rotated_2d`` (older name ``rotated2d``): theta = 0.3, Delta = 0.2, r_b = 0.05, kappa = 10, eta = 0.05,
  1000 steps. The flip sizes are Delta sin(theta) = 0.059 = 1.2 r_b and Delta cos(theta) = 0.191 = 3.8
  r_b, so max flip_size > 2 r_b. RTN fails for 860 / 2000 points; from those, STE enters the basin for 8.1
  % and chatters (recurrent cycle of 2-3 grid points outside the basin) for 91.9 %.
* ``random_river`` (older name ``highdim``): d = 256, k = 4 (random N, PRNGKey(seed)), Delta = 0.1, r_b =
  0.03, kappa = 10, eta = 0.05, 200 steps: max flip_size = 0.78 r_b < 2 r_b and r_b < Delta sqrt(k/12) =
  0.058 (RTN's typical normal error). RTN fails for 1460 / 2000 points; STE recovers 99.9 % of them,
  median T = 4 steps (90 % quantile 14): a few steps, faster than the "few dozen" of the prototype of
  DESIGN.md section 2.

**Recovered** means :math:`T \ge 0`: some :math:`q_t`, :math:`0 \le t \le` ``num_steps``, lies in the
basin (for LSQ, on the grid of its learned step); T's median and quantiles are over the recovered failed
starts (NaN when none). :func:`sweep` runs one :func:`landscape.sweep` per rule over one axis.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import jax
import numpy as np
import xarray as xr
from pydantic import field_validator, model_validator

from landscape import geometry, qat, quantizers, simulate
from landscape._errors import LandscapeError
from landscape.config import Record, field
from landscape.geometry.walls import quadratic_wall
from landscape.manifest import manifest
from landscape.registry import CASE_ALIASES, OPTIMIZERS, default_rules, get_optimizer_factory
from landscape.simulate.chatter import CycleMonitor, chatters, cycle_size
from landscape.simulate.outcomes import OUTCOME_CODES, outcomes
from landscape.studies.starts import ptq_starts, resolve_ptq
from landscape.sweep import sweep as run_sweep
from landscape.sweep.summary import summarize as sweep_summary

__all__ = ["CASE_NAMES", "case_name", "case_config", "RecoveryConfig", "rotated2d_case", "highdim_case",
           "make_case", "resolve_ptq", "ptq_starts", "run_rules", "recovery_experiment", "summarize", "sweep",
           "SWEEP_AXES"]


#: the default cases by landscape family name (``landscape recover --case``; older names in CASE_ALIASES)
CASE_NAMES = ("rotated_2d", "random_river")


def case_name(case: str) -> str:
    """The registry family name of a recovery case (the one translation of the older names)."""
    name = CASE_ALIASES.get(case, case)
    if name not in CASE_NAMES:
        raise LandscapeError(
            f"case must be one of {', '.join(CASE_NAMES)} (or the older rotated2d, highdim); got {case!r}."
        )
    return name


class RecoveryConfig(Record):
    """One recovery case: landscape, grid, PTQ, optimizer and run sizes (see the module docstring)."""

    case: str = "random_river"  # "rotated_2d" or "random_river" (older names: "rotated2d", "highdim")
    dim: int = field("dim", 256)
    k: int = field("k", 4)
    theta: float = field("theta", 0.3)  # river angle of the rotated 2-D case (radians)
    step: float = field("step", 0.1)  # Delta
    basin_radius: float = field("basin_radius", 0.03)  # r_b
    kappa: float = field("kappa", 10.0)  # wall slope (quadratic wall curvature)
    drift: float = field("drift", 0.0)  # ell(s) = -drift * s
    learning_rate: float = field("learning_rate", 0.05)  # eta
    optimizer: str = "sgd"  # an optax optimizer name of landscape.registry.OPTIMIZERS
    num_steps: int = field("num_steps", 200)
    n_points: int = field("n_points", 1000, kind="int", low=1, long_name="trained points")
    s_range: tuple[float, float] = (-5.0, 5.0)
    ptq: Any = "rtn"  # "rtn", "gptq" or fn(landscape, quantizer, w_stars) -> q
    bits: int | None = field("bits", None)  # None: unbounded grid; b: signed b-bit integer grid
    window: int = field("window", 50, kind="int", low=1, long_name="chatter window")  # steps
    n_paths: int = field("n_paths", 16, kind="int", low=0, long_name="kept paths")
    record_every: int = field("record_every", 4, kind="int", low=1, long_name="recording stride")
    seed: int = field("seed", 0)

    @field_validator("case", mode="before")
    @classmethod
    def _case(cls, case):
        return case_name(case)

    @field_validator("optimizer")
    @classmethod
    def _optimizer(cls, name):
        if name not in OPTIMIZERS:
            raise LandscapeError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}.")
        return name

    @model_validator(mode="after")
    def _check(self):
        if self.num_steps % self.record_every:
            raise LandscapeError(
                f"record_every must divide num_steps; got {self.record_every} and {self.num_steps}."
            )
        if self.window >= self.num_steps:
            raise LandscapeError(
                f"window must lie in [1, num_steps - 1]; got {self.window} (num_steps {self.num_steps})."
            )
        if self.case == "random_river" and not 1 <= self.k < self.dim:
            raise LandscapeError(f"k must lie in [1, dim - 1] = [1, {self.dim - 1}]; got {self.k}.")
        return self

    def rule_optimizer(self):
        """The optimizer the rules run under: None for SGD (a rule's default), else the optax one at eta."""
        if self.optimizer == "sgd":
            return None
        return qat.optimizer(get_optimizer_factory(self.optimizer), learning_rate=self.learning_rate)


def rotated2d_case(**changes) -> RecoveryConfig:
    """The 2-D rotated river, max flip_size > 2 r_b: theta 0.3, Delta 0.2, r_b 0.05, kappa 10, eta 0.05.

    flip sizes Delta |sin theta| = 0.059 and Delta cos theta = 0.191 = 3.8 r_b; 1000 steps, window 200.
    """
    base = dict(case="rotated_2d", dim=2, k=1, theta=0.3, step=0.2, basin_radius=0.05, kappa=10.0,
                learning_rate=0.05, num_steps=1000, window=200, record_every=10)  # fmt: skip
    return RecoveryConfig(**{**base, **changes})


def highdim_case(**changes) -> RecoveryConfig:
    """d = 256, k = 4: Delta = 0.1, r_b = 0.03 (max flip_size about 0.78 r_b < 2 r_b, and r_b below
    RTN's typical normal error Delta sqrt(k/12) = 0.058), kappa = 10, eta = 0.05, 200 steps, window 50."""
    return RecoveryConfig(**{"case": "random_river", **changes})


def case_config(case: str, **changes) -> RecoveryConfig:
    """The default recovery case called ``case`` (:data:`CASE_NAMES`; older names accepted), with changes."""
    return {"rotated_2d": rotated2d_case, "random_river": highdim_case}[case_name(case)](**changes)


def _river(case: str):
    """The case's river as a function of its parameters (and ``key``): the experiment's and the sweep's."""
    if case == "rotated_2d":
        return lambda theta, drift: geometry.rotated_river_2d(theta, river_loss=float(drift))
    return lambda key, dim, k, drift: geometry.random_river(key, int(dim), int(k), river_loss=float(drift))


def _case_params(cfg: RecoveryConfig, key=None) -> dict:
    """The river's parameters of a case (with ``key`` for the random river when given)."""
    if cfg.case == "rotated_2d":
        return {"theta": cfg.theta, "drift": cfg.drift}
    return {"dim": cfg.dim, "k": cfg.k, "drift": cfg.drift, **({"key": key} if key is not None else {})}


def make_case(cfg: RecoveryConfig):
    """(landscape, quantizer): rotated_river_2d(theta) or random_river(PRNGKey(seed), d, k), and the grid."""
    ls = _river(cfg.case)(**_case_params(cfg, jax.random.PRNGKey(cfg.seed)))
    ls = ls.replace(wall=quadratic_wall(cfg.basin_radius, cfg.kappa))
    qz = (
        quantizers.uniform_grid(cfg.step) if cfg.bits is None else quantizers.integer_grid(cfg.bits, cfg.step)
    )
    return ls, qz


def run_rules(
    landscape, quantizer, rules: dict, w0s, num_steps: int, key, *, window=50, record_every=1, progress=None
) -> dict:
    """{name: Trajectory} of every rule from every start, watched by the driver monitor CycleMonitor(window).

    All rules share the same PRNG keys per start. Each is one call of :func:`landscape.run_batch`: rules
    are values, so rules of one class share one compiled program whatever their hyperparameters.
    ``progress(name)`` is called after each rule (the CLI prints a line).
    """
    out = {}
    save = simulate.SaveAt(every=record_every, monitors=(CycleMonitor(window),))
    for name, rule in rules.items():  # a loop over rules (a handful), not over steps or starts
        out[name] = simulate.run_batch(landscape, quantizer, rule, w0s, num_steps, key=key, save=save)
        if progress is not None:
            progress(name)
    return out


def _geometry_attrs(landscape, quantizer, cfg: RecoveryConfig) -> dict:
    f = quantizers.flip_size(quantizer, landscape.normals)
    dp = quantizers.delta_perp(quantizer, landscape.normals)
    rb = cfg.basin_radius
    return {
        "max_flip_over_rb": float(np.max(f) / rb),
        "step_over_rb": float(cfg.step / rb),
        "delta_perp": float(dp.value),
        "delta_perp_exact": int(dp.exact),
        "rtn_typical_normal_error": float(cfg.step * np.sqrt(landscape.k / 12.0)),
    }


def recovery_experiment(cfg: RecoveryConfig, rules: dict | None = None, progress=None) -> xr.Dataset:
    """Run every rule from the case's sampled starts; per-start results, summary per rule, manifest.

    Variables (dims): hit_time, recovered, loss_at_hit, final_loss, final_rho_q, switches,
    cycle_size, chatters, last_<extra> (a rule's extras at the last recorded row, e.g. last_step for
    LSQ; NaN for other rules) (rule, start); rho_w, rho_q, inward, loss paths (rule, path, t) for the
    first ``n_paths`` failed starts; failed, rho_ptq (start); and the :func:`summarize` variables.
    ``progress(name)`` is called after each rule's run.
    """
    rules = default_rules(cfg.learning_rate, cfg.rule_optimizer()) if rules is None else rules
    ls, qz = make_case(cfg)
    k_start, k_run = jax.random.split(jax.random.PRNGKey(cfg.seed + 1))
    st = ptq_starts(ls, qz, k_start, cfg.n_points, cfg.ptq, cfg.s_range)
    trajs = run_rules(
        ls, qz, rules, st["w0"], cfg.num_steps, k_run, window=cfg.window, record_every=cfg.record_every,
        progress=progress,
    )
    failed = np.asarray(st["failed"])
    path_idx = np.flatnonzero(failed)[: cfg.n_paths]
    names = list(rules)

    def stack(fn):
        return np.stack([np.asarray(fn(trajs[n])) for n in names])

    t_rec = np.asarray(trajs[names[0]].t[0])
    ds = xr.Dataset(
        {
            "hit_time": (("rule", "start"), stack(lambda tr: tr.hit_time)),
            "loss_at_hit": (("rule", "start"), stack(lambda tr: tr.loss_at_hit)),
            "final_loss": (("rule", "start"), stack(lambda tr: tr.final_loss)),
            "final_rho_q": (("rule", "start"), stack(lambda tr: tr.final_rho_q)),
            "switches": (("rule", "start"), stack(lambda tr: tr.switches)),
            "settle_time": (("rule", "start"), stack(lambda tr: tr.settle_time)),
            "diverge_time": (("rule", "start"), stack(lambda tr: tr.diverge_time)),
            "cycle_size": (("rule", "start"), stack(cycle_size)),
            "chatters": (("rule", "start"), stack(chatters)),
            "failed": (("start",), failed),
            "rho_ptq": (("start",), np.asarray(st["rho_ptq"])),
            "rho_w": (("rule", "path", "t"), stack(lambda tr: tr.rho_w[path_idx])),
            "rho_q": (("rule", "path", "t"), stack(lambda tr: tr.rho_q[path_idx])),
            "inward": (("rule", "path", "t"), stack(lambda tr: tr.inward[path_idx])),
            "loss": (("rule", "path", "t"), stack(lambda tr: tr.loss[path_idx])),
        },
        coords={"rule": names, "start": np.arange(cfg.n_points), "path": path_idx, "t": t_rec},
    )
    ds["diverged"] = ds["diverge_time"] >= 0
    code = xr.apply_ufunc(outcomes, ds["hit_time"], ds["diverge_time"])
    ds["recovered"] = code == OUTCOME_CODES["recovered"]
    keys = sorted({k for n in names for k in trajs[n].extras if k != "cycle_size"})
    for k in keys:  # rule extras at the last recorded row (e.g. LSQ's learned step), NaN for other rules
        nan = np.full(cfg.n_points, np.nan)
        vals = [np.asarray(trajs[n].extras[k][:, -1], float) if k in trajs[n].extras else nan for n in names]
        ds[f"last_{k}"] = (("rule", "start"), np.stack(vals))
    ds = ds.merge(summarize(ds))
    ds.attrs.update(_geometry_attrs(ls, qz, cfg))
    ds.attrs["ptq_failure_rate"] = float(failed.mean())
    ds.attrs["n_failed"] = int(failed.sum())
    ds.attrs["manifest"] = _manifest_json(cfg.as_dict(), cfg.seed, rules=names)
    return ds


def _manifest_json(config: dict, seed: int, **extra) -> str:
    """The manifest as JSON for ``attrs["manifest"]`` (the format of ``landscape.manifest.save_dataset``)."""
    return json.dumps(manifest(config, seed, **extra))


#: recovery's names of the variables of :func:`landscape.sweep.summarize` (the one summary of outcomes)
_SUMMARY_NAMES = {"p_recovered": "p_recover", "p_lo": "p_recover_lo", "p_hi": "p_recover_hi",
                  "median_T": "T_median", "q90_T": "T_q90", "p_diverged": "p_diverged",
                  "p_censored": "p_censored"}


def summarize(ds: xr.Dataset) -> xr.Dataset:
    """Per rule, over the failed starts: recovered / censored / diverged, p_recover with its Wilson
    interval, T quantiles over the recovered starts, p_chatter, p_stall.

    *Recovered*: entered the basin and never became non-finite; *diverged* runs are counted apart and
    never as recovered; *censored*: finite, never in the basin within num_steps. p_chatter: fraction with
    a recurrent cycle of >= 2 grid points over the last ``window`` steps and T = -1; p_stall: fraction
    never recovered whose q_t stayed on one grid point over that window. The counts, p_recover, its
    interval, T_median and T_q90 are :func:`landscape.sweep.summarize`'s (over ``start``, counting the
    ``failed`` starts).
    """
    per_run = ds[["hit_time", "diverge_time"]].assign(failed=ds["failed"].broadcast_like(ds["hit_time"]))
    base = sweep_summary(per_run, over=("start",), failed="failed")
    f = ds["failed"].values.astype(bool)
    ht = ds["hit_time"].values[:, f]
    code = outcomes(ht, ds["diverge_time"].values[:, f])
    n = int(f.sum())
    nan = np.full(ht.shape[0], np.nan)
    tq = np.where(code == 0, ht.astype(float), np.nan)
    with warnings.catch_warnings():  # all-NaN rows (no recovered start) give NaN quantiles, as documented
        warnings.simplefilter("ignore", RuntimeWarning)
        q10 = np.nanpercentile(tq, 10, axis=1) if n else nan
    cs = ds["cycle_size"].values[:, f]
    out = {
        **{new: base[old].values for old, new in _SUMMARY_NAMES.items()},
        "p_settled": ((ds["settle_time"].values[:, f] >= 0) & (code == 0)).mean(1) if n else nan,
        "T_q10": q10,
        "p_chatter": ds["chatters"].values[:, f].mean(1) if n else nan,
        "p_stall": ((cs == 1) & (code == 1)).mean(1) if n else nan,
        "median_switches": np.median(ds["switches"].values[:, f], 1) if n else nan,
        "median_final_loss": np.median(ds["final_loss"].values[:, f], 1) if n else nan,
    }
    res = xr.Dataset(
        {k_: (("rule",), np.asarray(v, float)) for k_, v in out.items()}, coords={"rule": ds["rule"].values}
    )
    res["n_failed"] = n
    return res


SWEEP_AXES = ("step_over_rb", "flip_over_rb", "kappa", "learning_rate", "drift", "dim", "k")


def _sweep_values(base: RecoveryConfig, axis: str, values: list) -> tuple[str, list]:
    """(parameter of landscape.sweep, its values) for a recovery axis (the grid step for the two ratios)."""
    if axis == "step_over_rb":
        return "step", [float(v) * base.basin_radius for v in values]
    if axis == "flip_over_rb":  # max_j f_j = Delta max_j ||N[:, j]||, on the sweep's landscape of base.seed
        return "step", [float(v) * base.basin_radius / _max_column(base) for v in values]
    if axis in ("dim", "k"):
        if base.case != "random_river":
            raise LandscapeError(f"axis {axis!r} needs the 'random_river' case; got {base.case!r}.")
        return axis, [int(v) for v in values]
    if axis in ("kappa", "learning_rate", "drift"):
        return axis, [float(v) for v in values]
    raise LandscapeError(f"axis must be one of {SWEEP_AXES}; got {axis!r}.")


def sweep(base: RecoveryConfig, axis: str, values, rules: Callable | None = None) -> xr.Dataset:
    """Summary per rule over a one-axis sweep around ``base`` (dims ``axis``, rule), with manifest.

    Built on :func:`landscape.sweep` (one sweep per rule, ``base.n_points`` starts of seed ``base.seed``,
    the sweep's keys) and summarised by :func:`landscape.sweep.summarize` (its variable names: n,
    recovered, censored, diverged, p_recovered [p_lo, p_hi], p_censored, p_diverged, median_T, q90_T,
    ptq_exit_fraction), plus max_flip_over_rb and step_over_rb per cell. ``axis`` in SWEEP_AXES:
    step_over_rb (Delta / r_b), flip_over_rb (max_j f_j / r_b, by scaling Delta), kappa, learning_rate,
    drift, dim, k. ``rules(learning_rate) -> {name: Rule}`` (default
    :func:`~landscape.registry.default_rules`). PTQ by name (``rtn``, ``gptq``), not a callable.
    """
    if axis not in SWEEP_AXES:
        raise LandscapeError(f"axis must be one of {SWEEP_AXES}; got {axis!r}.")
    values = list(values)
    if not values:
        raise LandscapeError("values must hold at least one value.")
    if not isinstance(base.ptq, str):
        raise LandscapeError(f"ptq must be a PTQ method's name for a sweep (rtn, gptq); got {base.ptq!r}.")
    name, swept = _sweep_values(base, axis, values)
    rules = (default_rules if rules is None else rules)(base.learning_rate)
    fixed = {"basin_radius": base.basin_radius, "kappa": base.kappa, "mu": 0.0, "step": base.step,
             **_case_params(base)}  # fmt: skip
    grid = {"quantizer": "uniform"} if base.bits is None else {"quantizer": "integer", "bits": base.bits}
    cells = []
    for label, rule in rules.items():  # a loop over rules (a handful): each is one sweep over the axis
        ds = run_sweep(landscape=_river(base.case), wall="quadratic", rule=rule, ptq=base.ptq,
                       num_steps=base.num_steps, seeds=[base.seed], starts=base.n_points,
                       s_range=tuple(base.s_range), name=f"recovery-{label}",
                       **grid, **{**fixed, name: swept})  # fmt: skip
        cells.append(sweep_summary(ds).expand_dims(rule=[label]))
    out = xr.concat(cells, dim="rule").rename({name: axis} if name != axis else {})
    out = out.assign_coords({axis: np.asarray(values)}).transpose(axis, "rule", ...)
    steps = np.asarray(swept if name == "step" else [base.step] * len(values), float)
    cols = [_max_column(base.replace(**{axis: int(v)}) if axis in ("dim", "k") else base) for v in values]
    out["step_over_rb"] = ((axis,), steps / base.basin_radius)
    out["max_flip_over_rb"] = ((axis,), steps * np.asarray(cols) / base.basin_radius)
    cfg = dict(base.as_dict(), sweep_axis=axis, sweep_values=[float(v) for v in values])
    out.attrs["manifest"] = _manifest_json(cfg, base.seed, rules=list(rules))
    return out


def _max_column(cfg: RecoveryConfig) -> float:
    """max_j ||N[:, j]|| of the sweep's landscape of the case (its key: fold_in(PRNGKey(seed), 0))."""
    land = _river(cfg.case)(**_case_params(cfg, jax.random.fold_in(jax.random.PRNGKey(cfg.seed), 0)))
    return float(np.max(np.linalg.norm(np.asarray(land.normals, np.float64), axis=0)))
