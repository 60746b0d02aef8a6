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
from landscape.qat.base import Rule, probe_of
from landscape.simulate.record import SaveAt, Trajectory

__all__ = ["run", "run_batch", "check_compatible"]


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
        if not batched and len(shape) == 2 and shape == (1, d):
            hint = f" Drop the leading axis of length 1 (w0[0]) for one start of shape ({d},)."
        elif not batched and len(shape) == 2 and shape[1:] == (d,):
            hint = " For a batch of starts use landscape.run_batch(...)."
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
    return jnp.all(jnp.isfinite(w), axis=-1)


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


def _trajectory(landscape, quantizer, rule, w0, key, *, num_steps: int, save: SaveAt, unroll: int):
    """One trajectory (unbatched): the scan over steps, the summaries and the final point."""
    params, state = rule.init(w0, quantizer)
    tx = rule.transformation()
    opt_state = tx.init(params)
    dt = jnp.result_type(w0)
    i32 = jnp.int32
    q_first = rule.deploy(params, state, quantizer) if save.switches else None
    carry = _Carry(params, state, opt_state, key, q_first, jnp.array(-1, i32), jnp.array(-1, i32),
                   jnp.array(-1, i32), jnp.array(0, i32), jnp.array(jnp.nan, dt))

    def observe(c: _Carry, t, w, q, probe):
        bad = ~(jnp.isfinite(probe.rho) & _finite(w))
        div = jnp.where((c.div < 0) & bad, t, c.div)
        good = probe.in_basin & (div < 0)
        first = (c.hit < 0) & good
        hit = jnp.where(first, t, c.hit)
        loss_hit = jnp.where(first, probe.loss, c.loss_hit) if save.loss_at_hit else c.loss_hit
        streak = jnp.where(good, jnp.where(c.streak < 0, t, c.streak), -1)
        return hit, streak, div, loss_hit

    def step(c: _Carry, t, record: bool):
        w = rule.latent(c.params)
        q = c.q if save.switches else rule.deploy(c.params, c.state, quantizer)
        probe = probe_of(landscape, q)
        hit, streak, div, loss_hit = observe(c, t, w, q, probe)
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
            switches = switches + jnp.any(q_next != q).astype(i32)
        new = _Carry(params, state, opt_state, key, q_next, hit, streak, div, switches, loss_hit)
        rec = _row(landscape, rule, save, w, q, probe, c.params, params, state) if record else None
        return new, rec

    n_rows = save.rows(num_steps)
    if n_rows:
        m = save.every

        def block(c, t0):
            c, rec = step(c, t0, True)
            if m > 1:
                c = jax.lax.fori_loop(1, m, lambda i, cc: step(cc, t0 + i, False)[0], c, unroll=min(unroll, m - 1))
            return c, rec

        ts = jnp.arange(n_rows, dtype=i32) * m
        carry, recs = jax.lax.scan(block, carry, ts)
    else:
        ts, recs = None, {}
        carry = jax.lax.fori_loop(0, num_steps, lambda i, c: step(c, i.astype(i32), False)[0], carry, unroll=unroll)

    # the final deployed point, t = num_steps
    w = rule.latent(carry.params)
    q = carry.q if save.switches else rule.deploy(carry.params, carry.state, quantizer)
    probe = probe_of(landscape, q)
    hit, streak, div, loss_hit = observe(carry, jnp.asarray(num_steps, i32), w, q, probe)
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
        hit_time=hit,
        settle_time=streak,
        diverge_time=div,
        switches=carry.switches if save.switches else None,
        loss_at_hit=loss_hit if save.loss_at_hit else None,
        final_w=w,
        final_q=q,
        final_loss=probe.loss,
        final_rho_q=probe.rho,
        final_params=carry.params,
    )


@partial(jax.jit, static_argnames=("num_steps", "save", "unroll"))
def _run_one(landscape, quantizer, rule, w0, key, *, num_steps, save, unroll):
    return _trajectory(landscape, quantizer, rule, w0, key, num_steps=num_steps, save=save, unroll=unroll)


def _vmapped(axes, num_steps, save, unroll):
    fn = partial(_trajectory, num_steps=num_steps, save=save, unroll=unroll)
    return jax.vmap(fn, in_axes=(*axes, 0, 0))


@partial(jax.jit, static_argnames=("num_steps", "save", "unroll", "axes", "chunk"))
def _run_many(landscape, quantizer, rule, w0s, keys, *, num_steps, save, unroll, axes, chunk):
    fn = _vmapped(axes, num_steps, save, unroll)
    if chunk is None or chunk >= w0s.shape[0]:
        return fn(landscape, quantizer, rule, w0s, keys)
    b = w0s.shape[0]
    pad = -b % chunk
    batched = {"w0": w0s, "key": keys}
    for name, obj, ax in zip(("landscape", "quantizer", "rule"), (landscape, quantizer, rule), axes, strict=True):
        if ax is not None:
            batched[name] = obj
    if pad:
        batched = jax.tree_util.tree_map(lambda a: jnp.concatenate([a, jnp.repeat(a[-1:], pad, axis=0)]), batched)
    batched = jax.tree_util.tree_map(lambda a: a.reshape(-1, chunk, *a.shape[1:]), batched)

    def one(x):
        return fn(x.get("landscape", landscape), x.get("quantizer", quantizer), x.get("rule", rule), x["w0"], x["key"])

    out = jax.lax.map(one, batched)
    return jax.tree_util.tree_map(lambda a: a.reshape(-1, *a.shape[2:])[:b], out)


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
            f"rule must be a landscape Rule (e.g. landscape.ste(0.05)); got {type(rule).__name__} {rule!r:.60}."
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
    return _run_one(landscape, quantizer, rule, w0, key, num_steps=num_steps, save=save, unroll=unroll)


def run_batch(landscape, quantizer, rule, w0s, num_steps: int, *, key=None, save: SaveAt | None = None,
              record_every: int | None = None, record_path: bool | None = None, unroll: int = 1,
              chunk: int | None = None, devices=None, landscape_axis=None, quantizer_axis=None,
              rule_axis=None) -> Trajectory:
    """:func:`run` over a batch of starts ``w0s`` (B, d), one PRNG key each (``split(key, B)``).

    ``landscape_axis`` / ``quantizer_axis`` / ``rule_axis`` = 0 also maps over batched landscapes,
    quantizers or rules (pytrees whose leaves carry a leading batch axis of size B: e.g. one learning
    rate per start). ``chunk = m`` runs consecutive micro-batches of m starts, each for all its steps;
    ``devices`` (a list of local devices, or ``"all"``) shards the batch over them.
    """
    save = _save_spec(save, record_every, record_path)
    _check_common(landscape, quantizer, rule, num_steps, save, unroll)
    w0s = _as_float(w0s)
    if w0s.ndim < 2:
        raise LandscapeError(f"w0s must have shape (batch, d); got shape {w0s.shape}. For one start use landscape.run.")
    if landscape_axis is None:
        check_compatible(landscape, quantizer, w0s, name="w0s", batched=True)
    else:
        check_finite("w0s", w0s)
    w0s = w0s.reshape(w0s.shape[0], -1)
    if chunk is not None:
        check_int_at_least("chunk", chunk, 1)
    key = jax.random.PRNGKey(0) if key is None else key
    keys = jax.random.split(key, w0s.shape[0])
    axes = (landscape_axis, quantizer_axis, rule_axis)
    if devices is not None:
        w0s, keys = _shard(w0s, keys, devices)
    return _run_many(landscape, quantizer, rule, w0s, keys, num_steps=num_steps, save=save, unroll=unroll,
                     axes=axes, chunk=chunk)


def _shard(w0s, keys, devices):
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    devs = jax.local_devices() if devices == "all" else list(devices)
    if not devs:
        raise LandscapeError("devices must name at least one device.")
    b = w0s.shape[0]
    if b % len(devs):
        raise LandscapeError(f"the batch ({b}) must be divisible by the number of devices ({len(devs)}).")
    sh = NamedSharding(Mesh(np.asarray(devs), ("batch",)), P("batch"))
    return jax.device_put(w0s, sh), jax.device_put(keys, sh)
