r"""One sweep chunk: its cases' trained points and PTQ points, then QAT through :func:`landscape.run_batch`.

A **case** is (landscape, wall, quantizer, PTQ method, rule, seed, trained start). Its trained point
:math:`w^*` is drawn on the river with :meth:`Landscape.sample_river`; PTQ maps it to
:math:`q_0`; the QAT rule then runs for ``num_steps`` steps, from :math:`w_0 = w^*` for RTN (so that
:math:`Q(w_0) = q_0`) and from :math:`w_0 = q_0` for the other PTQ methods, on the one driver:
:func:`landscape.run_batch` over the chunk's cases (batched landscapes, quantizers and rules, one PRNG key
per case, the summary only, in cache-sized micro-batches). Recorded per case (:data:`OUTPUTS`):
``ptq_exit``, ``ptq_rho``, ``hit_time`` (T), ``settle_time`` (T_settle), ``diverge_time``, ``final_loss``,
``final_rho_q``, ``switches``. Times are float64 with NaN for "never" (exact integers); a diverged case is
never counted as recovered (:mod:`landscape.simulate.outcomes`).

**Banks.** Each part is built once per combination of the parameters it takes (a random river once per
seed), and the parts of a group are stacked on a leading axis; a case holds an index into each bank.
A parameter is *static* when changing it changes the structure of a part (its pytree definition or a
leaf's shape: a rule name, an optimizer, ``dim``, ``k``) or is ``num_steps`` / ``ptq``; every other
parameter is a traced leaf, so one compiled program serves all its values.

Randomness is a pure function of the case coordinates: keyed parts use ``fold_in(PRNGKey(seed), 0)``,
the start ``fold_in(fold_in(PRNGKey(seed), 1), start)`` and the rule ``fold_in(fold_in(PRNGKey(seed), 2),
start)``. Results therefore do not depend on chunking, workers or devices.
"""

from __future__ import annotations

import itertools
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError
from landscape.simulate import SaveAt, run_batch
from landscape.sweep.blocked import micro_batch_size
from landscape.sweep.grid import Chunk, Grid, make_grid

__all__ = ["OUTPUTS", "TIMES", "static_axes", "case_start", "GroupRunner", "compute_chunk"]

#: name -> (dtype, long name, units) of what each case records.
OUTPUTS = {
    "ptq_exit": (np.bool_, "PTQ point q0 outside the basin: rho(q0) > r_b", "1"),
    "ptq_rho": (np.float32, "rho(q0), normal distance of the PTQ point", "weight units"),
    "hit_time": (np.float64, "T: first step t with rho(q_t) <= r_b (NaN: never within num_steps)", "steps"),
    "final_loss": (np.float32, "L(q) at the final deployed point", "loss"),
    "final_rho_q": (np.float32, "rho(q) at the final deployed point", "weight units"),
    "switches": (np.int32, "number of steps at which the deployed point q_t changed", "1"),
    "settle_time": (
        np.float64,
        "T_settle: last entry into the basin, in it until num_steps (NaN: ends outside)",
        "steps",
    ),
    "diverge_time": (np.float64, "first step at which w_t or L(q_t) is not finite (NaN: never)", "steps"),
}

#: the outputs that are times: float, NaN for "never"
TIMES = ("hit_time", "settle_time", "diverge_time")

_ROLES = ("landscape", "wall", "quantizer", "rule")


def _structure(obj):
    leaves, tree = jax.tree_util.tree_flatten(obj)
    return tree, tuple((tuple(np.shape(x)), str(getattr(x, "dtype", type(x).__name__))) for x in leaves)


def _first(spec) -> dict:
    return {n: a.values[0] for n, a in spec.values.items()}


def static_axes(spec) -> tuple:
    """The swept parameters that change a part's structure (plus num_steps, ptq and string-valued axes)."""
    out = []
    base = _first(spec)
    for name, ax in spec.axes.items():
        if name in ("num_steps", "ptq") or any(isinstance(v, str) or callable(v) for v in ax.values):
            out.append(name)
            continue
        for part in spec.parts.values():
            if name not in part.params:
                continue
            keys = {_structure(part.build({**base, name: v}, spec.seeds[0])) for v in ax.values}
            if len(keys) > 1:
                out.append(name)
                break
    return tuple(out)


def _bank_axes(part, grid: Grid) -> tuple:
    """The dynamic grid axes a part's bank runs over (its swept dynamic parameters, and seed if keyed)."""
    names = [n for n in grid.dynamic_names if n in part.params and grid.axes[n].swept]
    if part.keyed:
        names.append("seed")
    return tuple(names)


def build_banks(spec, grid: Grid, static: dict) -> tuple[dict, dict]:
    """({role: stacked pytree}, {role: bank axes}) of one group (static values ``static``)."""
    banks, axes = {}, {}
    fixed = _first(spec) | static
    for role, part in spec.parts.items():
        names = _bank_axes(part, grid)
        items = []
        for combo in itertools.product(*(grid.axes[n].values for n in names)):
            vals = fixed | dict(zip(names, combo, strict=True))
            items.append(part.build(vals, vals.get("seed", spec.seeds[0])))
        struct = {_structure(x) for x in items}
        if len(struct) > 1:
            raise LandscapeError(
                f"the {role} part ({part.label}) changes structure along {', '.join(names)} in a way the "
                "sweep could not group; sweep that parameter in separate calls."
            )
        banks[role] = jax.tree_util.tree_map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *items)
        axes[role] = names
    return banks, axes


def _take(bank, i):
    return jax.tree_util.tree_map(lambda x: x[i], bank)


def _ptq_point(method: str, land, qz, w, key):
    if method == "rtn":
        return qz.quantize(w)
    from landscape.registry import PTQ  # noqa: PLC0415  (registered methods run too)

    return PTQ[method](land, qz, w[None, :], key=key)[0]


def case_start(banks, x: dict, *, ptq: str, s_range, spread: float):
    """One case's parts, start w0, rule key and PTQ outputs (unbatched; ``x``: bank indices, seed, start)."""
    land = _take(banks["landscape"], x["landscape"])
    if "wall" in banks:
        land = land.replace(wall=_take(banks["wall"], x["wall"]))
    qz = _take(banks["quantizer"], x["quantizer"])
    rule = _take(banks["rule"], x["rule"])
    key = jax.random.PRNGKey(x["seed"])
    start = x["start"]
    k_start = jax.random.fold_in(jax.random.fold_in(key, 1), start)
    k_rule = jax.random.fold_in(jax.random.fold_in(key, 2), start)
    w_star = land.sample_river(k_start, 1, s_range=s_range, spread=spread)[0]
    if qz.shape is not None:
        w_star = w_star.reshape(-1)
    q0 = _ptq_point(ptq, land, qz, w_star, jax.random.fold_in(key, 3))
    w0 = w_star if ptq == "rtn" else q0
    ptq_out = {"ptq_exit": jnp.logical_not(land.in_basin(q0)), "ptq_rho": land.rho(q0)}
    return land, qz, rule, w0, k_rule, ptq_out


class GroupRunner:
    """Computes the chunks of one group: the cases' starts in one jitted ``vmap``, QAT in one ``run_batch``.

    Every chunk is padded to the group's largest chunk (by repeating its last case), so one compiled
    program serves the group; ``devices`` (several local devices) shards each batch over them.
    """

    def __init__(self, spec, grid: Grid, group: int, devices=None):
        self.grid, self.group = grid, group
        self.static = grid.group_static(group)
        self.devices = list(devices) if devices is not None and len(devices) > 1 else None
        banks, self.bank_axes = build_banks(spec, grid, self.static)
        self._banks = banks
        fixed = _first(spec) | self.static
        self.num_steps = int(fixed["num_steps"])
        dim = int(_take(banks["landscape"], 0).dim)
        self.micro = micro_batch_size(dim)
        largest = max(grid.chunk(i).size for i in range(group * grid.chunks_per_group,
                                                          (group + 1) * grid.chunks_per_group))
        n_dev = len(self.devices) if self.devices else 1
        self.batch = -(-largest // n_dev) * n_dev
        one = partial(case_start, ptq=str(fixed["ptq"]), s_range=tuple(spec.s_range),
                      spread=float(spec.spread))
        self._start = jax.jit(jax.vmap(one, in_axes=(None, 0)))

    def inputs(self, chunk: Chunk) -> dict:
        """Host arrays of the chunk's per-case inputs (bank indices, seed, start), padded to the batch."""
        idx = self.grid.case_indices(chunk)
        pad = self.batch - chunk.size
        out = {}
        for role, names in self.bank_axes.items():
            if names:
                shape = tuple(len(self.grid.axes[n]) for n in names)
                out[role] = np.ravel_multi_index(tuple(idx[n] for n in names), shape).astype(np.int32)
            else:
                out[role] = np.zeros(chunk.size, np.int32)
        out["seed"] = np.asarray(self.grid.axes["seed"].values, np.uint32)[idx["seed"]]
        out["start"] = idx["start"].astype(np.int32)
        return {n: np.concatenate([v, np.repeat(v[-1:], pad)]) if pad else v for n, v in out.items()}

    def run(self, chunk: Chunk) -> dict[str, np.ndarray]:
        """The chunk's outputs as host arrays (padding dropped; times float64 with NaN for never)."""
        land, qz, rule, w0, keys, out = self._start(self._banks, self.inputs(chunk))
        micro = self.micro if self.batch > self.micro else None
        tr = run_batch(land, qz, rule, w0, self.num_steps, key=keys, save=SaveAt.summary(switches=True),
                       landscape_axis=0, quantizer_axis=0, rule_axis=0, chunk=micro, devices=self.devices)
        out = {**out, "hit_time": tr.hit_time, "settle_time": tr.settle_time, "diverge_time": tr.diverge_time,
               "final_loss": tr.final_loss, "final_rho_q": tr.final_rho_q, "switches": tr.switches}
        host = {n: np.asarray(out[n])[: chunk.size] for n in OUTPUTS}
        for n in TIMES:
            host[n] = np.where(host[n] >= 0, host[n], np.nan)
        return {n: v.astype(OUTPUTS[n][0]) for n, v in host.items()}


_RUNNERS: dict[tuple, GroupRunner] = {}
_MAX_RUNNERS = 8


def _runner(spec, grid: Grid, group: int, devices=None) -> GroupRunner:
    """The compiled runner of a group, reused by later chunks (and calls) of the sweep in this process."""
    key = (spec.hash, group, None if devices is None else tuple(d.id for d in devices))
    if key not in _RUNNERS:
        while len(_RUNNERS) >= _MAX_RUNNERS:
            _RUNNERS.pop(next(iter(_RUNNERS)))
        _RUNNERS[key] = GroupRunner(spec, grid, group, devices)
    return _RUNNERS[key]


def compute_chunk(spec, index: int, devices=None) -> tuple[int, dict, float]:
    """(index, outputs, seconds) of chunk ``index`` of the sweep ``spec``: the task a Dask worker runs."""
    t0 = time.perf_counter()
    grid = make_grid(spec, static_axes(spec))
    chunk = grid.chunk(index)
    outputs = _runner(spec, grid, chunk.group, devices).run(chunk)
    return index, outputs, time.perf_counter() - t0
