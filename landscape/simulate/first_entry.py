r"""The loss at first entry (C1's record): what a run looks like at the first step its deployed point is in.

:func:`record_first_entry` wraps a rule (like :func:`landscape.simulate.chatter.chatter_monitor`): the
wrapped rule trains exactly as the rule itself, and at the first step :math:`T` with
:math:`\rho(q_T) \le r` (``radius`` :math:`r`, default the basin radius :math:`r_b`; the point and its
loss finite) it stores

* ``entry_time`` -- :math:`T` (-1: never entered within the steps seen);
* ``loss_at_entry`` -- :math:`L(q_T)`;
* ``river_loss_at_entry`` -- :math:`\ell(s(w_T))`, the river loss at the latent's projection;
* ``mismatch_at_entry`` -- :math:`s(q_T) - s(w_T)`, the along-river quantization error at entry;
* ``rho_q_at_entry``, ``rho_w_at_entry`` -- :math:`\rho(q_T)`, :math:`\rho(w_T)`,

all NaN while (or if never) entered. The record lands in the trajectory's ``extras`` at every row;
:func:`first_entry` reads the last row. Recording is off unless the rule is wrapped: the driver's code and
its default path are untouched. The steps seen are those whose gradient the rule takes, t = 0 ..
``num_steps - 1`` (the driver's ``hit_time`` also checks the final point t = ``num_steps``); keep a row
every step (``run``'s default) so that the last row is t = ``num_steps - 1``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscape._errors import LandscapeError, check_positive
from landscape.qat.base import Rule, probe_of
from landscape.simulate.wrapped import WrappedRule

__all__ = ["FirstEntryRecorder", "record_first_entry", "first_entry", "ENTRY_FIELDS"]

#: the scalars a wrapped rule records (extras keys), in order
ENTRY_FIELDS = ("entry_time", "loss_at_entry", "river_loss_at_entry", "mismatch_at_entry",
                "rho_q_at_entry", "rho_w_at_entry")


class _Entry(NamedTuple):
    t: jax.Array  # the step whose deployed point is seen next
    time: jax.Array  # T, or -1
    loss_q: jax.Array
    river_w: jax.Array
    mismatch: jax.Array
    rho_q: jax.Array
    rho_w: jax.Array


class FirstEntryRecorder(WrappedRule):
    """``rule`` with the first-entry record in its state: same name, deployed points and updates as ``rule``.

    ``radius``: the target radius r (a traced leaf; None: the landscape's basin radius r_b).
    """

    radius: float | None = None

    def init(self, w0, quantizer):
        """The wrapped rule's (params, state) and an empty record (T = -1, NaN values)."""
        params, aux = self.rule.init(w0, quantizer)
        nan = jnp.full((), jnp.nan, jnp.result_type(w0))
        i32 = jnp.int32
        return params, (aux, _Entry(jnp.zeros((), i32), jnp.full((), -1, i32), nan, nan, nan, nan, nan))

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """The wrapped rule's gradient; the record filled at the first step with rho(q_t) <= r."""
        if not (hasattr(landscape, "river_loss") and hasattr(landscape, "s")):
            raise LandscapeError(
                "record_first_entry needs a river landscape (with s and river_loss); got "
                f"{type(landscape).__name__}.")
        inner, e = state
        w = self.rule.latent(params)
        q = self.rule.deploy(params, inner, quantizer)
        pr = probe_of(landscape, q) if probe is None else probe
        r = landscape.basin_radius if self.radius is None else self.radius
        ok = jnp.isfinite(pr.loss) & jnp.all(jnp.isfinite(w))
        first = (e.time < 0) & ok & (pr.rho <= r)
        s_w = landscape.s(w)

        def keep(new, old):
            return jnp.where(first, jnp.asarray(new, old.dtype), old)

        entry = _Entry(e.t + 1, jnp.where(first, e.t, e.time), keep(pr.loss, e.loss_q),
                       keep(landscape.river_loss(s_w), e.river_w), keep(landscape.s(q) - s_w, e.mismatch),
                       keep(pr.rho, e.rho_q), keep(landscape.rho(w), e.rho_w))
        grads, inner = self.rule.gradient(landscape, params, inner, quantizer, key, probe)
        return grads, (inner, entry)

    def extras(self, params, state):
        """The wrapped rule's extras and the record (:data:`ENTRY_FIELDS`)."""
        out = dict(self.rule.extras(params, state[0]))
        e = state[1]
        values = (e.time, e.loss_q, e.river_w, e.mismatch, e.rho_q, e.rho_w)
        out.update(zip(ENTRY_FIELDS, values, strict=True))
        return out


def record_first_entry(rule: Rule, radius: float | None = None) -> FirstEntryRecorder:
    """``rule`` wrapped so that the run records T, L(q_T) and C1's terms at the first entry (see module)."""
    if not isinstance(rule, Rule):
        raise LandscapeError(f"rule must be a landscape Rule; got {type(rule).__name__}.")
    if radius is not None:
        check_positive("radius", radius)
    return FirstEntryRecorder(rule, radius)


def first_entry(traj) -> dict:
    """The record of a run of a wrapped rule (its last row): {field: value} over :data:`ENTRY_FIELDS`."""
    missing = [f for f in ENTRY_FIELDS if f not in traj.extras]
    if missing:
        raise LandscapeError(
            f"the trajectory has no extras {missing}: run a rule wrapped by record_first_entry(rule), with "
            "rows (run's default SaveAt, or SaveAt(every=1)).")
    return {f: traj.extras[f][..., -1] for f in ENTRY_FIELDS}
