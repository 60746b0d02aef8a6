r"""One sweep case, batched with ``vmap`` and sharded over the local devices.

A **case** is (landscape, quantizer, trained start, rule). Its trained point
:math:`w^*` is drawn on the river with :meth:`Landscape.sample_river`; PTQ is RTN,
:math:`q_0 = Q(w^*)`; then the QAT rule runs for ``num_steps`` steps from :math:`w^*`
with :func:`landscape.simulate.run`. Recorded per case:

* ``rtn_exit`` -- :math:`\rho(Q(w^*)) > r_b` (RTN leaves the basin);
* ``rtn_rho`` -- :math:`\rho(Q(w^*))`;
* ``hit_time`` -- :math:`T`, first step with :math:`Q(w_t)` in the basin (-1 if never);
* ``final_loss`` -- :math:`L(q_T)` at the final deployed point; ``final_rho_q`` its :math:`\rho`;
* ``switches`` -- the number of steps at which the deployed point changed;
* ``settle_time`` -- :math:`T_{\rm settle}`, the last entry into the basin (-1 if the run ends outside);
* ``diverge_time`` -- the first step at which the run became non-finite (-1: never). A diverged case is
  never counted as recovered (see :mod:`landscape.simulate.outcomes`).

Randomness is a pure function of the case coordinates: the geometry of a random river
uses ``fold_in(PRNGKey(seed), 0)``, the start ``fold_in(fold_in(PRNGKey(seed), 1), start)``
and the rule's key ``fold_in(fold_in(PRNGKey(seed), 2), start)``. Results therefore do
not depend on chunking, devices or processes.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from landscape.geometry import random_river, rotated_river_2d
from landscape.quantizers import UniformGrid
from landscape.simulate import SaveAt, run
from landscape.sweep.blocked import micro_batch_size
from landscape.sweep.config import SweepConfig
from landscape.sweep.grid import Chunk, Grid
from landscape.sweep.rules import get_rule
from landscape.walls import QuadraticWall

__all__ = ["OUTPUTS", "geometry_bank", "case_result", "GroupRunner", "local_mesh"]

#: name -> (dtype, description) of what each case records.
OUTPUTS = {
    "rtn_exit": (np.bool_, "RTN point Q(w*) outside the basin: rho(Q(w*)) > r_b"),
    "rtn_rho": (np.float32, "rho(Q(w*)), normal distance of the RTN point"),
    "hit_time": (np.int32, "T: first step t with rho(Q(w_t)) <= r_b (-1: never within num_steps)"),
    "final_loss": (np.float32, "L(q) at the final deployed point"),
    "final_rho_q": (np.float32, "rho(q) at the final deployed point"),
    "switches": (np.int32, "number of steps at which the deployed point Q(w_t) changed"),
    "settle_time": (np.int32, "T_settle: last entry into the basin, in it until num_steps (-1: ends outside)"),
    "diverge_time": (np.int32, "first step at which w_t or rho(q_t) is not finite (-1: never)"),
}

_GEOMETRY_AXIS = {"rotated_2d": "theta", "random_river": "seed"}


def geometry_bank(cfg: SweepConfig, grid: Grid, static: dict):
    """The landscapes of a group stacked on a leading axis, built by the engine constructors.

    Indexed by ``theta`` (rotated_2d) or by ``seed`` (random_river).
    """
    fam = cfg.landscape.family
    if fam == "rotated_2d":
        items = [rotated_river_2d(th) for th in grid.axes["theta"].values]
    else:
        items = [
            random_river(jax.random.fold_in(jax.random.PRNGKey(s), 0), static["dim"], static["k"])
            for s in grid.axes["seed"].values
        ]
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *items)


def case_result(bank, inputs: dict, *, rule, num_steps: int, s_range, spread: float) -> dict:
    """The recorded outputs of one case (unbatched; ``inputs`` holds scalars)."""
    ls = jax.tree_util.tree_map(lambda x: x[inputs["geometry"]], bank)
    ls = ls.replace(wall=QuadraticWall(inputs["basin_radius"], inputs["kappa"], inputs["mu"]))
    inf = jnp.asarray(jnp.inf, inputs["step"].dtype)
    qz = UniformGrid(inputs["step"], inputs["offset"], -inf, inf)
    key = jax.random.PRNGKey(inputs["seed"])
    start = inputs["start"]
    k_start = jax.random.fold_in(jax.random.fold_in(key, 1), start)
    k_rule = jax.random.fold_in(jax.random.fold_in(key, 2), start)
    w0 = ls.sample_river(k_start, 1, s_range=s_range, spread=spread)[0]
    q0 = qz.quantize(w0)
    traj = run(ls, qz, rule, w0, num_steps, key=k_rule, save=SaveAt.summary(loss_at_hit=False))
    return {
        "rtn_exit": jnp.logical_not(ls.in_basin(q0)),
        "rtn_rho": ls.rho(q0),
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

    Each micro-batch of cases is laid out over the mesh with ``NamedSharding(mesh,
    P("cases"))``, one micro-batch per device, and every device runs its shard with the
    same single-device executable (compiled once per device, in parallel up to the number
    of CPU cores: a few seconds per device on CPU). The program a
    device runs is therefore identical on 1 or 8 devices, and so is every bit of the
    results: an SPMD-partitioned program (``shard_map`` over the mesh) is compiled
    differently from the one-device program and can round differently.
    """

    def __init__(self, cfg: SweepConfig, grid: Grid, group: int, mesh: Mesh):
        self.grid, self.group, self.mesh = grid, group, mesh
        static = grid.group_static(group)
        self.static = static
        rule = get_rule(
            static["rule"], learning_rate=static["learning_rate"], **cfg.qat.options.get(static["rule"], {})
        )
        self.devices = list(mesh.devices.flat)
        # cases vmapped together on one device: a function of the config only, never of the devices
        micro = micro_batch_size(int(static.get("dim", 2)), grid.chunk_size)
        self.micro = micro
        self.piece = micro * len(self.devices)
        self.batch = -(-grid.chunk_size // self.piece) * self.piece
        self.geometry_axis = _GEOMETRY_AXIS[cfg.landscape.family]
        self.values = {n: np.asarray(grid.axes[n].values) for n in grid.dynamic_names}
        self._shard = NamedSharding(mesh, P("cases"))
        bank = jax.device_put(geometry_bank(cfg, grid, static), NamedSharding(mesh, P()))
        self._banks = {
            d: jax.tree_util.tree_map(lambda a, d=d: _shard_on(a, d), bank) for d in self.devices
        }
        one = lambda b, x: case_result(  # noqa: E731
            b, x, rule=rule, num_steps=int(static["num_steps"]),
            s_range=tuple(cfg.landscape.s_range), spread=float(cfg.landscape.spread),
        )
        self._fn = jax.jit(jax.vmap(one, in_axes=(None, 0)))
        self._exe: dict | None = None

    def _compile(self, parts: dict) -> None:
        def build(d):
            return self._fn.lower(self._banks[d], parts[d]).compile()

        with ThreadPoolExecutor(max_workers=min(len(self.devices), os.cpu_count() or 1)) as pool:
            self._exe = dict(zip(self.devices, pool.map(build, self.devices), strict=True))

    def inputs(self, chunk: Chunk) -> dict:
        """Host arrays of the chunk's per-case inputs, padded to whole micro-batches on every device."""
        idx = self.grid.case_indices(chunk)
        pad = -chunk.size % self.piece
        out = {}
        for n, i in idx.items():
            vals = i if n == "start" else self.values[n][i]
            out[n] = vals
        out["geometry"] = idx[self.geometry_axis]
        for n in ("basin_radius", "kappa", "mu", "step", "offset"):
            out[n] = out[n].astype(np.float32)
        out["seed"] = out["seed"].astype(np.uint32)
        out["start"] = out["start"].astype(np.int32)
        out.pop("theta", None)
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
