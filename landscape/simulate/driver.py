r"""The one ``lax.scan`` driver: any landscape (or loss surface), any rule, any quantizer, any optimizer.

:func:`run` runs one start, :func:`run_batch` a batch; both trace the same per-trajectory step
(:func:`_trajectory`). Batching is ``vmap`` (also over batched landscapes, quantizers or rules: pass
``landscape_axis=0`` ...); ``chunk=m`` runs the batch as consecutive micro-batches of ``m`` trajectories
(each for all its steps, so the state stays in cache); ``devices=`` shards the batch over local devices.

Everything a user varies between calls -- learning rates, wall slopes, radii, steps, starts -- is a
traced leaf of a pytree argument, so a new value reuses the compiled program; only shapes, the rule's
class and static options, ``num_steps``, the :class:`SaveAt` spec and the execution options are static.
Validation (shapes, finiteness, the rule type) happens before tracing.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from landscape._checks import LandscapeError, check_finite, check_int_at_least, is_concrete
from landscape.geometry import SMALL_DIM
from landscape.qat.base import Rule, probe_of
from landscape.simulate import parallel
from landscape.simulate.record import SaveAt, Trajectory

__all__ = ["run", "run_batch", "check_compatible", "compiler_options"]


class _Carry(NamedTuple):
    params: object
    state: object
    opt_state: object
    key: object
    q: object  # q_t carried from the previous step (None unless switches are counted)
    hit: jax.Array
    streak: jax.Array  # start of the current in-basin streak (-1: outside)
    div: jax.Array
    switches: jax.Array
    loss_hit: jax.Array


def _flat_dim(landscape) -> int:
    return int(landscape.dim)


def check_compatible(landscape, quantizer, w, name: str = "w0", batched: bool = False) -> None:
    """Raise if w's shape, the landscape's dim and the quantizer's layout disagree, or w is not finite."""
    if not is_concrete(w):
        return
    d = _flat_dim(landscape)
    shape = tuple(np.shape(w))
    layout = tuple(quantizer.shape) if getattr(quantizer, "shape", None) is not None else None
    one = [(d,)] + ([layout] if layout and layout != (d,) else [])
    if batched:
        ok = any(len(shape) == len(s) + 1 and shape[1:] == s for s in one)
        want = " or ".join(f"(batch, {', '.join(map(str, s))})" for s in one)
    else:
        ok = shape in one
        want = " or ".join(str(s) for s in one)
    if not ok:
        hint = ""
        if not batched and len(shape) == 2 and shape[1:] == (d,):
            hint = " For a batch of starts use landscape.run_batch(...)."
        elif not batched and len(shape) == 2 and shape[0] == 1:
            hint = f" Drop the leading axis of length 1 (w0[0]) for one start of shape ({d},)."
        raise LandscapeError(
            f"{name} has shape {shape}, but the landscape has dim = {d}: expected {want}.{hint}"
        )
    check_finite(name, w)
    quantizer.check_dim(d, name)


def _finite(w) -> jax.Array:
    """All of w finite: for small d an unrolled and-chain (fused), else a reduction."""
    if w.shape[-1] <= 16:
        ok = jnp.isfinite(w[..., 0])
        for j in range(1, w.shape[-1]):
            ok = ok & jnp.isfinite(w[..., j])
        return ok
    # one reduction pass, nothing materialised: 0 * w is 0 where w is finite, NaN where it is inf or NaN
    return jnp.isfinite(jnp.sum(w * 0, axis=-1))


def _row(landscape, rule, save, w, q, probe, params, new_params, state):
    rec = {}
    if "loss" in save.fields:
        rec["loss"] = probe.loss
    if "rho_q" in save.fields:
        rec["rho_q"] = probe.rho
    if "in_basin" in save.fields:
        rec["in_basin"] = probe.in_basin
    if "rho_w" in save.fields:
        rec["rho_w"] = landscape.rho(w)
    if "inward" in save.fields:
        rec["inward"] = jnp.sum((rule.latent(new_params) - w) * landscape.inward_dir(w))
    if save.paths:
        rec["w"], rec["q"] = w, q
    if save.extras:
        rec["extras"] = rule.extras(params, state)  # the parameters used at step t, the state it produced
    return rec


def _init(landscape, quantizer, rule, w0, key, save: SaveAt) -> _Carry:
    """The carry at t = 0 of one trajectory."""
    del landscape
    params, state = rule.init(w0, quantizer)
    opt_state = rule.transformation().init(params)
    dt = jnp.result_type(w0)
    i32 = jnp.int32
    q_first = rule.deploy(params, state, quantizer) if save.switches else None
    m1 = jnp.array(-1, i32)
    return _Carry(params, state, opt_state, key, q_first, m1, m1, m1, jnp.array(0, i32),
                  jnp.array(jnp.nan, dt))


def _observe(c: _Carry, t, w, probe, save: SaveAt):
    """(hit, streak, div, loss_hit) after checking the deployed point of step t."""
    bad = ~(jnp.isfinite(probe.rho) & _finite(w))
    div = jnp.where((c.div < 0) & bad, t, c.div)
    good = probe.in_basin & (div < 0)
    first = (c.hit < 0) & good
    hit = jnp.where(first, t, c.hit)
    loss_hit = jnp.where(first, probe.loss, c.loss_hit) if save.loss_at_hit else c.loss_hit
    streak = jnp.where(good, jnp.where(c.streak < 0, t, c.streak), -1)
    return hit, streak, div, loss_hit


def _step(landscape, quantizer, rule, c: _Carry, t, save: SaveAt, record: bool):
    """One step of one trajectory: probe q_t, update the summaries, apply the rule's update."""
    tx = rule.transformation()
    w = rule.latent(c.params)
    q = c.q if save.switches else rule.deploy(c.params, c.state, quantizer)
    probe = probe_of(landscape, q)
    hit, streak, div, loss_hit = _observe(c, t, w, probe, save)
    if rule.stochastic:
        key, sub = jax.random.split(c.key)
    else:
        key, sub = c.key, c.key
    grads, state = rule.gradient(landscape, c.params, c.state, quantizer, sub, probe)
    updates, opt_state = tx.update(grads, c.opt_state, c.params)
    params = optax.apply_updates(c.params, updates)
    switches, q_next = c.switches, None
    if save.switches:
        q_next = rule.deploy(params, state, quantizer)
        switches = switches + jnp.any(q_next != q).astype(jnp.int32)
    new = _Carry(params, state, opt_state, key, q_next, hit, streak, div, switches, loss_hit)
    rec = _row(landscape, rule, save, w, q, probe, c.params, params, state) if record else None
    return new, rec


def _finish(landscape, quantizer, rule, c: _Carry, save: SaveAt, num_steps: int) -> dict:
    """The summaries and the final point of one trajectory (the check at t = num_steps included)."""
    w = rule.latent(c.params)
    q = c.q if save.switches else rule.deploy(c.params, c.state, quantizer)
    probe = probe_of(landscape, q)
    hit, streak, div, loss_hit = _observe(c, jnp.asarray(num_steps, jnp.int32), w, probe, save)
    return dict(
        hit_time=hit,
        settle_time=streak,
        diverge_time=div,
        switches=c.switches if save.switches else None,
        loss_at_hit=loss_hit if save.loss_at_hit else None,
        final_w=w,
        final_q=q,
        final_loss=probe.loss,
        final_rho_q=probe.rho,
        final_params=c.params,
    )


def _loop(step, carry, *, num_steps: int, save: SaveAt, unroll: int):
    """Run ``step(carry, t, record) -> (carry, row)`` for t < num_steps; rows every ``save.every`` steps."""
    i32 = jnp.int32
    n_rows = save.rows(num_steps)
    if not n_rows:
        carry = jax.lax.fori_loop(0, num_steps, lambda i, c: step(c, i.astype(i32), False)[0], carry,
                                  unroll=min(unroll, num_steps))
        return carry, None, {}
    m = save.every

    def block(c, t0):
        c, rec = step(c, t0, True)
        if m > 1:
            c = jax.lax.fori_loop(1, m, lambda i, cc: step(cc, t0 + i, False)[0], c,
                                  unroll=min(unroll, m - 1))
        return c, rec

    ts = jnp.arange(n_rows, dtype=i32) * m
    carry, recs = jax.lax.scan(block, carry, ts)
    return carry, ts, recs


def _trajectory_of(ts, recs, summary: dict) -> Trajectory:
    return Trajectory(
        t=ts,
        loss=recs.get("loss"),
        rho_w=recs.get("rho_w"),
        rho_q=recs.get("rho_q"),
        in_basin=recs.get("in_basin"),
        inward=recs.get("inward"),
        extras=recs.get("extras", {}),
        w_path=recs.get("w"),
        q_path=recs.get("q"),
        **summary,
    )


def _trajectory(landscape, quantizer, rule, w0, key, *, num_steps: int, save: SaveAt, unroll: int):
    """One trajectory (unbatched): the scan over steps, the summaries and the final point."""
    carry = _init(landscape, quantizer, rule, w0, key, save)
    step = partial(_step, landscape, quantizer, rule, save=save)
    carry, ts, recs = _loop(lambda c, t, record: step(c, t, record=record), carry,
                            num_steps=num_steps, save=save, unroll=unroll)
    return _trajectory_of(ts, recs, _finish(landscape, quantizer, rule, carry, save, num_steps))


def _run_one_impl(landscape, quantizer, rule, w0, key, *, num_steps, save, unroll):
    return _trajectory(landscape, quantizer, rule, w0, key, num_steps=num_steps, save=save, unroll=unroll)


def _batched(landscape, quantizer, rule, w0s, keys, *, num_steps, save, unroll, axes, soa):
    r"""A batch of trajectories: the scan runs over a ``vmap`` of one step (not a ``vmap`` of scans).

    With ``soa`` (small d) every per-trajectory array -- the starts, the keys, the batched leaves of the
    landscape, quantizer or rule, and the whole loop carry -- holds the batch axis *last* (a structure of
    arrays: coordinate j of all trajectories is one contiguous vector), which XLA's loop fusions vectorise
    without shuffles. The inputs arrive in that layout already (see :func:`_to_layout`).
    """
    ax = -1 if soa else 0
    al, aq, ar = (None if a is None else ax for a in axes)
    carry = jax.vmap(partial(_init, save=save), in_axes=(al, aq, ar, ax, ax), out_axes=ax)(
        landscape, quantizer, rule, w0s, keys)
    c_axes = jax.tree_util.tree_map(lambda _: ax, carry)

    def step(c, t, record):
        one = lambda L, Q, R, cc: _step(L, Q, R, cc, t, save, record)  # noqa: E731
        vstep = jax.vmap(one, in_axes=(al, aq, ar, c_axes), out_axes=(c_axes, 0))
        return vstep(landscape, quantizer, rule, c)

    carry, ts, recs = _loop(step, carry, num_steps=num_steps, save=save, unroll=unroll)
    recs = jax.tree_util.tree_map(lambda x: jnp.moveaxis(x, 0, 1), recs)  # (rows, B, ...) -> (B, rows, ...)
    fin = partial(_finish, save=save, num_steps=num_steps)
    summary = jax.vmap(fin, in_axes=(al, aq, ar, c_axes))(landscape, quantizer, rule, carry)
    if ts is not None:
        ts = jnp.broadcast_to(ts, (w0s.shape[ax], ts.shape[0]))
    return _trajectory_of(ts, recs, summary)


def _to_layout(tree, soa: bool):
    """Per-trajectory inputs with the batch axis first -> the driver's layout (batch axis last if soa)."""
    if not soa:
        return tree
    return jax.tree_util.tree_map(lambda a: jnp.moveaxis(a, 0, -1), tree)


def _run_many_impl(landscape, quantizer, rule, w0s, keys, *, num_steps, save, unroll, axes, chunk, soa=False):
    """The batch (inputs in the driver's layout, :func:`_to_layout`), optionally in micro-batches (``chunk``).

    Outputs are batch-first whatever the layout.
    """
    fn = partial(_batched, num_steps=num_steps, save=save, unroll=unroll, axes=axes, soa=soa)
    ax = -1 if soa else 0
    b = w0s.shape[ax]
    if chunk is None or chunk >= b:
        return fn(landscape, quantizer, rule, w0s, keys)
    batched = {"w0": w0s, "key": keys}
    for name, obj, a in zip(_ARG_NAMES, (landscape, quantizer, rule), axes, strict=True):
        if a is not None:
            batched[name] = obj
    pad = -b % chunk
    if pad:
        edge = lambda a: jax.lax.slice_in_dim(a, b - 1, b, axis=ax)  # noqa: E731
        batched = jax.tree_util.tree_map(
            lambda a: jnp.concatenate([a, jnp.repeat(edge(a), pad, axis=ax)], axis=ax), batched)

    def one(i):  # micro-batch i: a contiguous slice along the batch axis, whatever the layout
        x = jax.tree_util.tree_map(lambda a: jax.lax.dynamic_slice_in_dim(a, i * chunk, chunk, axis=ax),
                                   batched)
        return fn(x.get("landscape", landscape), x.get("quantizer", quantizer), x.get("rule", rule),
                  x["w0"], x["key"])

    out = jax.lax.map(one, jnp.arange((b + pad) // chunk))
    return jax.tree_util.tree_map(lambda a: a.reshape(-1, *a.shape[2:])[:b], out)


def _host_has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " avx512f" in line for line in f)
    except OSError:
        return False


#: XLA options the driver compiles with. On a host with AVX-512, LLVM is asked for 512-bit vectors (its
#: default prefers 256): the step's loop fusions are arithmetic-bound, and this makes them about 1.5x faster
#: (docs/performance.md). The option changes only the vector width, not an operation or its rounding.
_OPTIONS = {"xla_cpu_prefer_vector_width": 512} if _host_has_avx512() else {}
_OPTIONS_OK: bool | None = None

_STATIC_ONE = ("num_steps", "save", "unroll")
_STATIC_MANY = ("num_steps", "save", "unroll", "axes", "chunk", "soa")
_run_one_fast = jax.jit(_run_one_impl, static_argnames=_STATIC_ONE, compiler_options=_OPTIONS or None)
_run_one_plain = jax.jit(_run_one_impl, static_argnames=_STATIC_ONE)
_run_many = jax.jit(_run_many_impl, static_argnames=_STATIC_MANY, compiler_options=_OPTIONS or None)
_run_many_plain = jax.jit(_run_many_impl, static_argnames=_STATIC_MANY)


def compiler_options() -> dict:
    """The XLA compiler options the driver's programs are built with ({} where this XLA lacks them)."""
    global _OPTIONS_OK
    if _OPTIONS_OK is None:
        _OPTIONS_OK = True
        if _OPTIONS:
            try:  # once, at the first run (not at import: the user may still configure jax)
                jax.jit(lambda x: x + 1, compiler_options=_OPTIONS).lower(np.float32(0)).compile()
            except Exception:  # an XLA without the option: build without it
                _OPTIONS_OK = False
    return dict(_OPTIONS) if _OPTIONS_OK else {}


def _jitted(fast, plain):
    return fast if compiler_options() == _OPTIONS else plain


def _save_spec(save, record_every, record_path) -> SaveAt:
    if save is None:
        save = SaveAt()
    if not isinstance(save, SaveAt):
        raise LandscapeError(f"save must be a landscape.SaveAt; got {type(save).__name__}.")
    if record_every is not None or record_path is not None:
        import dataclasses

        changes = {}
        if record_every is not None:
            check_int_at_least("record_every", record_every, 1)
            changes["every"] = record_every
        if record_path is not None:
            changes["paths"] = bool(record_path)
        save = dataclasses.replace(save, **changes)
    return save


def _check_common(landscape, quantizer, rule, num_steps, save, unroll):
    if not isinstance(rule, Rule):
        raise LandscapeError(
            f"rule must be a landscape Rule (e.g. landscape.ste(0.05)); got {type(rule).__name__} "
            f"{rule!r:.60}."
        )
    check_int_at_least("num_steps", num_steps, 1)
    check_int_at_least("unroll", unroll, 1)
    save.rows(num_steps)
    save.check_landscape(landscape)


def _as_float(w0):
    return jnp.asarray(w0, dtype=jnp.result_type(float))


def run(landscape, quantizer, rule, w0, num_steps: int, *, key=None, save: SaveAt | None = None,
        record_every: int | None = None, record_path: bool | None = None, unroll: int = 1) -> Trajectory:
    """Run ``rule`` for ``num_steps`` steps from one start ``w0`` (shape (d,), or the quantizer's layout).

    ``save`` is the recording spec (:class:`SaveAt`; default: every step, no paths); ``record_every`` and
    ``record_path`` are shortcuts for ``SaveAt(every=..., paths=...)``. ``key`` drives stochastic rules
    (default ``PRNGKey(0)``). ``unroll`` unrolls the step loop (2-4 helps small problems on CPU).
    Pure and jit/vmap friendly: under ``vmap`` or ``jit`` validation of traced values is skipped.
    """
    save = _save_spec(save, record_every, record_path)
    _check_common(landscape, quantizer, rule, num_steps, save, unroll)
    check_compatible(landscape, quantizer, w0)
    w0 = _as_float(w0).reshape(-1) if is_concrete(w0) else jnp.reshape(w0, (-1,))
    key = jax.random.PRNGKey(0) if key is None else key
    if not is_concrete(w0) or not is_concrete(key):  # inside a user's jit/vmap: trace inline
        return _trajectory(landscape, quantizer, rule, w0, key, num_steps=num_steps, save=save, unroll=unroll)
    run_one = _jitted(_run_one_fast, _run_one_plain)
    return run_one(landscape, quantizer, rule, w0, key, num_steps=num_steps, save=save, unroll=unroll)


def run_batch(landscape, quantizer, rule, w0s, num_steps: int, *, key=None, save: SaveAt | None = None,
              record_every: int | None = None, record_path: bool | None = None, unroll: int = 1,
              chunk: int | None = None, devices=None, threads: int | None = None, landscape_axis=None,
              quantizer_axis=None, rule_axis=None) -> Trajectory:
    """:func:`run` over a batch of starts ``w0s`` (B, d), one PRNG key each (``split(key, B)``).

    ``landscape_axis`` / ``quantizer_axis`` / ``rule_axis`` = 0 also maps over batched landscapes,
    quantizers or rules (pytrees whose leaves carry a leading batch axis of size B: e.g. one learning
    rate per start). ``chunk = m`` runs consecutive micro-batches of m starts, each for all its steps;
    ``devices`` (a list of local devices, or ``"all"``) shards the batch over them. On the CPU a large
    batch is split over the host's cores, one execution per core dispatched from a thread
    (:mod:`landscape.simulate.parallel`); ``threads = n`` sets the number of parts (1: one execution).
    """
    save = _save_spec(save, record_every, record_path)
    _check_common(landscape, quantizer, rule, num_steps, save, unroll)
    w0s = _as_float(w0s)
    if w0s.ndim < 2:
        raise LandscapeError(
            f"w0s must have shape (batch, d); got shape {w0s.shape}. For one start use landscape.run.")
    if landscape_axis is None:
        check_compatible(landscape, quantizer, w0s, name="w0s", batched=True)
    else:
        check_finite("w0s", w0s)
    w0s = w0s.reshape(w0s.shape[0], -1)
    if chunk is not None:
        check_int_at_least("chunk", chunk, 1)
    if threads is not None:
        check_int_at_least("threads", threads, 1)
    key = jax.random.PRNGKey(0) if key is None else key
    keys = jax.random.split(key, w0s.shape[0])
    axes = (landscape_axis, quantizer_axis, rule_axis)
    args = [landscape, quantizer, rule]
    for i, a in enumerate(axes):  # batched arguments: the batch axis first
        if a not in (None, 0):
            args[i] = jax.tree_util.tree_map(lambda x, a=a: jnp.moveaxis(x, a, 0), args[i])
    axes = tuple(None if a is None else 0 for a in axes)
    soa = w0s.shape[-1] <= SMALL_DIM
    batch = {"w0": w0s, "key": keys}
    batch.update({n: args[i] for i, n in enumerate(_ARG_NAMES) if axes[i] is not None})
    static = dict(num_steps=num_steps, save=save, unroll=unroll, axes=axes, chunk=chunk, soa=soa)

    def call_args(part):
        part = _to_layout(part, soa)
        if devices is not None:
            part = _shard(part, devices, soa)
        return (*(part.get(n, args[i]) for i, n in enumerate(_ARG_NAMES)), part["w0"], part["key"])

    b = w0s.shape[0]
    leaves = jax.tree_util.tree_leaves((args, w0s, keys))
    n = 1 if devices is not None else parallel.parts_for(b, threads, leaves)
    run_many = _jitted(_run_many, _run_many_plain)
    if n == 1:
        return run_many(*call_args(batch), **static)
    padded, size = parallel.pad_batch(batch, n)
    part = lambda i: call_args(  # noqa: E731
        jax.tree_util.tree_map(lambda a: a[i * size:(i + 1) * size], padded))
    return parallel.split_run(run_many, part, n, b, static)


_ARG_NAMES = ("landscape", "quantizer", "rule")


def _shard(batch, devices, soa: bool):
    """Every per-trajectory array sharded along its batch axis over ``devices``."""
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    devs = jax.local_devices() if devices == "all" else list(devices)
    if not devs:
        raise LandscapeError("devices must name at least one device.")
    b = batch["w0"].shape[-1 if soa else 0]
    if b % len(devs):
        raise LandscapeError(f"the batch ({b}) must be divisible by the number of devices ({len(devs)}).")
    mesh = Mesh(np.asarray(devs), ("batch",))

    def put(a):
        spec = P(*([None] * (a.ndim - 1)), "batch") if soa else P("batch")
        return jax.device_put(a, NamedSharding(mesh, spec))

    return jax.tree_util.tree_map(put, batch)
