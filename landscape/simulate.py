r"""One ``lax.scan`` driver for every training rule; metrics recorded per step.

:func:`run` returns a :class:`Trajectory`. Row ``i`` of the recorded arrays describes step
``t = i * record_every``: the latent :math:`w_t`, the deployed point :math:`q_t`, and the
update :math:`w_{t+1} - w_t` applied at that step.

* ``loss`` -- :math:`L(q_t)`, the loss at the deployed point;
* ``rho_w``, ``rho_q`` -- :math:`\rho(w_t)`, :math:`\rho(q_t)`;
* ``in_basin`` -- :math:`\rho(q_t) \le r_b`;
* ``inward`` -- the inward component of the applied step,
  :math:`\langle w_{t+1} - w_t,\ -N^\top v(w_t)/\lVert v(w_t)\rVert\rangle` (0 on the river):
  positive when the step moves the latent towards the river;
* ``hit_time`` -- :math:`T`, the first :math:`t \in [0, \text{num\_steps}]` with
  :math:`q_t` in the basin, checked at every step whatever ``record_every`` is; -1 if never;
* ``switches`` -- the number of steps with :math:`q_{t+1} \ne q_t` (cell switches).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from landscape._checks import LandscapeError, check_finite, check_int_at_least, is_concrete
from landscape.qat import QATRule

__all__ = ["Trajectory", "run", "run_batch", "check_compatible"]


class Trajectory(NamedTuple):
    """What one run records (see the module docstring for each field's definition)."""

    t: jax.Array
    loss: jax.Array
    rho_w: jax.Array
    rho_q: jax.Array
    in_basin: jax.Array
    inward: jax.Array
    extras: dict
    w_path: Any
    q_path: Any
    hit_time: jax.Array
    loss_at_hit: jax.Array
    switches: jax.Array
    final_w: jax.Array
    final_q: jax.Array
    final_loss: jax.Array
    final_rho_q: jax.Array
    final_params: Any


def check_compatible(landscape, quantizer, w, name: str = "w0") -> None:
    """Raise if w's shape, the landscape's dim and the quantizer's steps disagree, or w is not finite."""
    if not is_concrete(w):
        return
    d = landscape.dim
    shape = np.shape(w)
    if shape[-1:] != (d,):
        raise LandscapeError(
            f"{name} has shape {shape}, but the landscape has dim = {d}: the last axis must be {d}."
        )
    check_finite(name, w)
    for field in ("step", "offset", "scale"):
        val = getattr(quantizer, field, None)
        if val is None or not is_concrete(val):
            continue
        vs = np.shape(val)
        try:
            np.broadcast_shapes(vs, (d,))
        except ValueError:
            raise LandscapeError(
                f"quantizer.{field} has shape {vs}, which does not broadcast to the landscape's dim ({d},)."
            ) from None
        if len(vs) == 1 and vs[0] not in (1, d):
            raise LandscapeError(f"quantizer.{field} has {vs[0]} entries; need 1 or dim = {d}.")


def _step(landscape, quantizer, rule: QATRule, carry, t):
    params, aux, opt_state, key, hit, loss_hit, switches = carry
    key, sub = jax.random.split(key)
    w = rule.latent(params)
    q = rule.deploy(params, aux, quantizer)
    loss_q = landscape.loss(q)
    in_b = landscape.in_basin(q)
    first = (hit < 0) & in_b
    hit = jnp.where(first, t, hit)
    loss_hit = jnp.where(first, loss_q, loss_hit)
    grads, new_aux = rule.gradient(landscape.loss, params, aux, quantizer, sub)
    updates, opt_state = rule.tx.update(grads, opt_state, params)
    new_params = optax.apply_updates(params, updates)
    # a cell switch: q_{t+1} != q_t, tested in the same pass as the update (no stored q_t)
    switched = jnp.any(rule.deploy(new_params, new_aux, quantizer) != q)
    switches = switches + switched.astype(switches.dtype)
    dw = rule.latent(new_params) - w
    rec = {
        "loss": loss_q,
        "rho_w": landscape.rho(w),
        "rho_q": landscape.rho(q),
        "in_basin": in_b,
        "inward": jnp.dot(dw, landscape.inward_dir(w)),
        "extras": rule.extras(params, new_aux),
        "w": w,
        "q": q,
    }
    return (new_params, new_aux, opt_state, key, hit, loss_hit, switches), rec


def _run(landscape, quantizer, w0, key, *, rule, num_steps, record_every, record_path):
    params, aux = rule.init(w0, quantizer)
    opt_state = rule.tx.init(params)
    carry = (params, aux, opt_state, key, jnp.array(-1), jnp.array(jnp.nan, w0.dtype), jnp.array(0))
    step = lambda c, t: _step(landscape, quantizer, rule, c, t)  # noqa: E731

    def block(carry, t0):
        carry, rec = step(carry, t0)
        if not record_path:
            rec = {k: v for k, v in rec.items() if k not in ("w", "q")}
        if record_every > 1:
            carry = jax.lax.fori_loop(1, record_every, lambda i, c: step(c, t0 + i)[0], carry)
        return carry, rec

    n_blocks = num_steps // record_every
    ts = jnp.arange(n_blocks) * record_every
    carry, recs = jax.lax.scan(block, carry, ts)
    params, aux, _, _, hit, loss_hit, switches = carry
    q = rule.deploy(params, aux, quantizer)
    loss_q = landscape.loss(q)
    first = (hit < 0) & landscape.in_basin(q)
    hit = jnp.where(first, num_steps, hit)
    loss_hit = jnp.where(first, loss_q, loss_hit)
    return Trajectory(
        t=ts,
        loss=recs["loss"],
        rho_w=recs["rho_w"],
        rho_q=recs["rho_q"],
        in_basin=recs["in_basin"],
        inward=recs["inward"],
        extras=recs["extras"],
        w_path=recs.get("w"),
        q_path=recs.get("q"),
        hit_time=hit,
        loss_at_hit=loss_hit,
        switches=switches,
        final_w=rule.latent(params),
        final_q=q,
        final_loss=loss_q,
        final_rho_q=landscape.rho(q),
        final_params=params,
    )


_run_jit = jax.jit(_run, static_argnames=("rule", "num_steps", "record_every", "record_path"))


def _check_run_args(landscape, quantizer, rule, w0, num_steps, record_every):
    if not isinstance(rule, QATRule):
        raise TypeError(f"rule must be a QATRule (e.g. landscape.qat.ste()); got {type(rule).__name__}.")
    check_int_at_least("num_steps", num_steps, 1)
    check_int_at_least("record_every", record_every, 1)
    if num_steps % record_every:
        raise LandscapeError(
            f"record_every must divide num_steps; got num_steps = {num_steps}, record_every = {record_every}."
        )
    check_compatible(landscape, quantizer, w0)


def run(
    landscape,
    quantizer,
    rule: QATRule,
    w0,
    num_steps: int,
    *,
    key=None,
    record_every: int = 1,
    record_path: bool = False,
) -> Trajectory:
    """Run ``rule`` for ``num_steps`` steps from ``w0`` (shape (d,)) and return the trajectory.

    ``record_every = m`` keeps every m-th row (m must divide ``num_steps``) so that very
    large d fits in memory; ``record_path`` also keeps w_t and q_t (shape (n_rec, d)).
    ``key`` drives stochastic rules (default ``PRNGKey(0)``). Pure and jit/vmap friendly:
    under ``vmap`` validation of traced values is skipped.
    """
    _check_run_args(landscape, quantizer, rule, w0, num_steps, record_every)
    key = jax.random.PRNGKey(0) if key is None else key
    w0 = jnp.asarray(w0, dtype=jnp.result_type(float))
    return _run_jit(
        landscape,
        quantizer,
        w0,
        key,
        rule=rule,
        num_steps=num_steps,
        record_every=record_every,
        record_path=record_path,
    )


def run_batch(
    landscape,
    quantizer,
    rule: QATRule,
    w0s,
    num_steps: int,
    *,
    key=None,
    record_every: int = 1,
    record_path: bool = False,
    landscape_axis=None,
    quantizer_axis=None,
) -> Trajectory:
    """``vmap`` of :func:`run` over a batch of starts w0s (B, d), one PRNG key each.

    ``landscape_axis`` / ``quantizer_axis`` = 0 also maps over batched landscapes or
    quantizers (pytrees whose leaves carry a leading batch axis).
    """
    w0s = jnp.asarray(w0s, dtype=jnp.result_type(float))
    if w0s.ndim != 2:
        raise LandscapeError(f"w0s must have shape (batch, d); got shape {w0s.shape}.")
    if landscape_axis is None:
        _check_run_args(landscape, quantizer, rule, w0s, num_steps, record_every)
    key = jax.random.PRNGKey(0) if key is None else key
    keys = jax.random.split(key, w0s.shape[0])
    return _run_batch_jit(
        landscape, quantizer, w0s, keys,
        rule=rule, num_steps=num_steps, record_every=record_every, record_path=record_path,
        landscape_axis=landscape_axis, quantizer_axis=quantizer_axis,
    )


def _run_batch(landscape, quantizer, w0s, keys, *, landscape_axis, quantizer_axis, **static):
    fn = lambda ls_, qz, w, k: _run(ls_, qz, w, k, **static)  # noqa: E731
    return jax.vmap(fn, in_axes=(landscape_axis, quantizer_axis, 0, 0))(landscape, quantizer, w0s, keys)


_run_batch_jit = jax.jit(
    _run_batch,
    static_argnames=("rule", "num_steps", "record_every", "record_path", "landscape_axis", "quantizer_axis"),
)
