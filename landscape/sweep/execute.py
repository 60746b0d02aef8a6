r"""One sweep case, batched with ``vmap`` and sharded over the local devices, for any parts.

A **case** is (landscape, wall, quantizer, PTQ method, rule, seed, trained start). Its trained point
:math:`w^*` is drawn on the river with :meth:`Landscape.sample_river`; PTQ maps it to
:math:`q_0`; the QAT rule then runs for ``num_steps`` steps with :func:`landscape.simulate.run`, from
:math:`w_0 = w^*` for RTN (so that :math:`Q(w_0) = q_0`) and from :math:`w_0 = q_0` for the other PTQ
methods. Recorded per case (:data:`OUTPUTS`): ``ptq_exit``, ``ptq_rho``, ``hit_time`` (T),
``settle_time`` (T_settle), ``diverge_time``, ``final_loss``, ``final_rho_q``, ``switches``. A diverged
case is never counted as recovered (:mod:`landscape.simulate.outcomes`).

**Banks.** Each part is built once per combination of the parameters it takes (a random river once per
seed), and the parts of a group are stacked on a leading axis; a case holds an index into each bank.
A parameter is *static* when changing it changes the structure of a part (its pytree definition or a
leaf's shape: a rule name, an optimizer, ``dim``, ``k``) or is ``num_steps`` / ``ptq``; every other
parameter is a traced leaf, so one compiled program serves all its values.

Randomness is a pure function of the case coordinates: keyed parts use ``fold_in(PRNGKey(seed), 0)``,
the start ``fold_in(fold_in(PRNGKey(seed), 1), start)`` and the rule ``fold_in(fold_in(PRNGKey(seed), 2),
start)``. Results therefore do not depend on chunking, devices or processes.
"""

from __future__ import annotations

import itertools
import os
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from landscape._errors import LandscapeError
from landscape.simulate import SaveAt, run
from landscape.sweep.blocked import micro_batch_size
from landscape.sweep.grid import Chunk, Grid

__all__ = ["OUTPUTS", "static_axes", "case_result", "GroupRunner", "local_mesh"]

#: name -> (dtype, long name, units) of what each case records.
OUTPUTS = {
    "ptq_exit": (np.bool_, "PTQ point q0 outside the basin: rho(q0) > r_b", "1"),
    "ptq_rho": (np.float32, "rho(q0), normal distance of the PTQ point", "weight units"),
    "hit_time": (np.int32, "T: first step t with rho(q_t) <= r_b (-1: never within num_steps)", "steps"),
    "final_loss": (np.float32, "L(q) at the final deployed point", "loss"),
    "final_rho_q": (np.float32, "rho(q) at the final deployed point", "weight units"),
    "switches": (np.int32, "number of steps at which the deployed point q_t changed", "1"),
    "settle_time": (
        np.int32,
        "T_settle: last entry into the basin, in it until num_steps (-1: ends outside)",
        "steps",
    ),
    "diverge_time": (np.int32, "first step at which w_t or L(q_t) is not finite (-1: never)", "steps"),
}

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
    from landscape.ptq import ptq_methods  # noqa: PLC0415

    return ptq_methods[method](land, qz, w[None, :], key=key)[0]


def case_result(banks, x: dict, *, ptq: str, num_steps: int, s_range, spread: float) -> dict:
    """The recorded outputs of one case (unbatched; ``x`` holds its bank indices, seed and start)."""
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
    traj = run(land, qz, rule, w0, num_steps, key=k_rule, save=SaveAt.summary(switches=True))
    return {
        "ptq_exit": jnp.logical_not(land.in_basin(q0)),
        "ptq_rho": land.rho(q0),
        "hit_time": traj.hit_time.astype(jnp.int32),
        "final_loss": traj.final_loss,
        "final_rho_q": traj.final_rho_q,
        "switches": traj.switches.astype(jnp.int32),
        "settle_time": traj.settle_time.astype(jnp.int32),
        "diverge_time": traj.diverge_time.astype(jnp.int32),
    }


def local_mesh(devices=None) -> Mesh:
    """A 1-D Mesh named ``"cases"`` over the local devices (all of them by default)."""
    devs = jax.local_devices() if devices is None else devices
    return Mesh(np.asarray(devs), ("cases",))


class GroupRunner:
    """Runs the chunks of one group, the batch axis sharded over the devices of ``mesh``.

    Each micro-batch of cases is laid out over the mesh with ``NamedSharding(mesh, P("cases"))``, one
    micro-batch per device, and every device runs its shard with the same single-device executable
    (compiled once per device). The program a device runs is therefore identical on 1 or 8 devices, and
    so is every bit of the results (an SPMD-partitioned program can round differently).
    """

    def __init__(self, spec, grid: Grid, group: int, mesh: Mesh):
        self.grid, self.group, self.mesh = grid, group, mesh
        static = grid.group_static(group)
        self.static = static
        self.devices = list(mesh.devices.flat)
        banks, self.bank_axes = build_banks(spec, grid, static)
        land = _take(banks["landscape"], 0)
        dim = int(land.dim)
        micro = micro_batch_size(dim, grid.chunk_size)
        self.micro = micro
        self.piece = micro * len(self.devices)
        self.batch = -(-grid.chunk_size // self.piece) * self.piece
        self._shard = NamedSharding(mesh, P("cases"))
        bank = jax.device_put(banks, NamedSharding(mesh, P()))
        self._banks = {d: jax.tree_util.tree_map(lambda a, d=d: _shard_on(a, d), bank) for d in self.devices}
        fixed = _first(spec) | static
        one = lambda b, x: case_result(  # noqa: E731
            b,
            x,
            ptq=str(fixed["ptq"]),
            num_steps=int(fixed["num_steps"]),
            s_range=tuple(spec.s_range),
            spread=float(spec.spread),
        )
        self._fn = jax.jit(jax.vmap(one, in_axes=(None, 0)))
        self._exe: dict | None = None

    def _compile(self, parts: dict) -> None:
        def build(d):
            return self._fn.lower(self._banks[d], parts[d]).compile()

        with ThreadPoolExecutor(max_workers=min(len(self.devices), os.cpu_count() or 1)) as pool:
            self._exe = dict(zip(self.devices, pool.map(build, self.devices), strict=True))

    def inputs(self, chunk: Chunk) -> dict:
        """Host arrays of the chunk's per-case inputs (bank indices, seed, start), padded to whole pieces."""
        idx = self.grid.case_indices(chunk)
        pad = -chunk.size % self.piece
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

    def launch(self, chunk: Chunk) -> list:
        """Start computing a chunk (asynchronously); returns, per piece, each device's outputs in order."""
        x = self.inputs(chunk)
        n = next(iter(x.values())).shape[0]
        calls = []
        for lo in range(0, n, self.piece):
            glob = jax.device_put({k: v[lo : lo + self.piece] for k, v in x.items()}, self._shard)
            parts = {d: {k: _shard_on(a, d) for k, a in glob.items()} for d in self.devices}
            if self._exe is None:
                self._compile(parts)
            calls.append([self._exe[d](self._banks[d], parts[d]) for d in self.devices])
        return calls

    @staticmethod
    def fetch(calls: list, chunk: Chunk) -> dict[str, np.ndarray]:
        """Wait for a launched chunk and return its outputs as host arrays (padding dropped)."""
        return {
            n: np.concatenate([np.asarray(out[n]) for piece in calls for out in piece])[: chunk.size].astype(
                OUTPUTS[n][0]
            )
            for n in OUTPUTS
        }


def _shard_on(arr: jax.Array, device) -> jax.Array:
    """The shard of a (sharded or replicated) global array that lives on ``device``."""
    for shard in arr.addressable_shards:
        if shard.device == device:
            return shard.data
    raise ValueError(f"array has no shard on {device}.")
