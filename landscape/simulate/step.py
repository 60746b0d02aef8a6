r"""One step of one trajectory, shared by :func:`landscape.run` and :func:`landscape.run_batch`.

The carry (:class:`_Carry`) holds the rule's parameters and state, the optimizer state, the PRNG key, the
deployed point when switches are counted, and the summaries (hit, streak start, divergence, switches,
L(q_T)). :func:`_step` probes q_t once (loss, gradient, rho, basin test), updates the summaries, and applies
the rule's update; :func:`_loop` runs it for ``num_steps`` with rows every ``SaveAt.every`` steps;
:func:`_finish` checks the final point. The definitions are those of :mod:`landscape.simulate.record`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from landscape.qat.base import probe_of
from landscape.simulate.record import SaveAt, Trajectory

__all__ = []


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
    monitors: tuple = ()  # the states of SaveAt.monitors


def _finite(w) -> jax.Array:
    """All of w finite: for small d an unrolled and-chain (fused), else a reduction."""
    if w.shape[-1] <= 16:
        ok = jnp.isfinite(w[..., 0])
        for j in range(1, w.shape[-1]):
            ok = ok & jnp.isfinite(w[..., j])
        return ok
    # one reduction pass, nothing materialised: 0 * w is 0 where w is finite, NaN where it is inf or NaN
    return jnp.isfinite(jnp.sum(w * 0, axis=-1))


def _row(landscape, rule, save, w, q, probe, params, new_params, state, monitors=()):
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
    if save.monitors:
        rec["extras"] = dict(rec.get("extras", {}))
        for m, s in zip(save.monitors, monitors, strict=True):
            rec["extras"].update(m.record(s))
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
    mons = ()
    if save.monitors:
        q0 = q_first if save.switches else rule.deploy(params, state, quantizer)
        mons = tuple(m.init(q0) for m in save.monitors)
    return _Carry(params, state, opt_state, key, q_first, m1, m1, m1, jnp.array(0, i32),
                  jnp.array(jnp.nan, dt), mons)


def _observe(c: _Carry, t, w, probe, save: SaveAt):
    """(hit, streak, div, loss_hit) after checking the deployed point of step t (only the tracked times)."""
    times = save.times
    if "diverge" in times:
        bad = ~(jnp.isfinite(probe.rho) & _finite(w))
        div = jnp.where((c.div < 0) & bad, t, c.div)
        good = probe.in_basin & (div < 0)
    else:  # not tracked: a hit needs a finite latent at that step (the basin test already needs finite rho)
        div = c.div
        good = probe.in_basin & _finite(w) if ("hit" in times or "settle" in times) else None
    hit, loss_hit, streak = c.hit, c.loss_hit, c.streak
    if "hit" in times:
        first = (c.hit < 0) & good
        hit = jnp.where(first, t, c.hit)
        loss_hit = jnp.where(first, probe.loss, c.loss_hit) if save.loss_at_hit else c.loss_hit
    if "settle" in times:
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
    mons = tuple(m.observe(s, t, q=q, w=w, probe=probe, landscape=landscape)
                 for m, s in zip(save.monitors, c.monitors, strict=True))
    new = _Carry(params, state, opt_state, key, q_next, hit, streak, div, switches, loss_hit, mons)
    rec = _row(landscape, rule, save, w, q, probe, c.params, params, state, mons) if record else None
    return new, rec


def _finish(landscape, quantizer, rule, c: _Carry, save: SaveAt, num_steps: int) -> dict:
    """The summaries and the final point of one trajectory (the check at t = num_steps included)."""
    w = rule.latent(c.params)
    q = c.q if save.switches else rule.deploy(c.params, c.state, quantizer)
    probe = probe_of(landscape, q)
    hit, streak, div, loss_hit = _observe(c, jnp.asarray(num_steps, jnp.int32), w, probe, save)
    times = save.times
    final_monitors = {}  # the monitors' records of the final state (the extras of a run without rows)
    for m, s in zip(save.monitors, c.monitors, strict=True):
        final_monitors.update(m.record(s))
    return dict(
        monitor_extras=final_monitors,
        hit_time=hit if "hit" in times else None,
        settle_time=streak if "settle" in times else None,
        diverge_time=div if "diverge" in times else None,
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
    summary = dict(summary)
    final_monitors = summary.pop("monitor_extras", {})
    return Trajectory(
        t=ts,
        loss=recs.get("loss"),
        rho_w=recs.get("rho_w"),
        rho_q=recs.get("rho_q"),
        in_basin=recs.get("in_basin"),
        inward=recs.get("inward"),
        extras=recs.get("extras") or final_monitors,
        w_path=recs.get("w"),
        q_path=recs.get("q"),
        **summary,
    )
