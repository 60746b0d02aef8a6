r"""The loss at first entry (C1's record): what a run looks like at the first step its deployed point is in.

:class:`FirstEntryMonitor` is a driver monitor (``SaveAt(monitors=(FirstEntryMonitor(radius),))``): the run
trains exactly as without it, and at the first step :math:`T` with :math:`\rho(q_T) \le r` (``radius``
:math:`r`, default the basin radius :math:`r_b`; the point, its loss and the latent finite) it stores

* ``entry_time`` -- :math:`T` (-1: never entered within the steps seen);
* ``loss_at_entry`` -- :math:`L(q_T)`;
* ``river_loss_at_entry`` -- :math:`\ell(s(w_T))`, the river loss at the latent's projection;
* ``mismatch_at_entry`` -- :math:`s(q_T) - s(w_T)`, the along-river quantization error at entry;
* ``rho_q_at_entry``, ``rho_w_at_entry`` -- :math:`\rho(q_T)`, :math:`\rho(w_T)`,

all NaN while (or if never) entered. ``radius`` is data: the driver traces it, so runs at other radii reuse
one compiled program. The record lands in the trajectory's ``extras`` (at every row; a run without rows
keeps its final value); :func:`first_entry` reads it. The steps seen are those whose gradient the rule
takes, t = 0 .. ``num_steps - 1`` (the driver's ``hit_time`` also checks the final point t = ``num_steps``).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from landscape._errors import LandscapeError, check_positive, is_concrete
from landscape.simulate.monitor import Monitor, last_record

__all__ = ["FirstEntryMonitor", "first_entry", "ENTRY_FIELDS"]

#: the scalars the monitor records (extras keys), in order
ENTRY_FIELDS = ("entry_time", "loss_at_entry", "river_loss_at_entry", "mismatch_at_entry",
                "rho_q_at_entry", "rho_w_at_entry")


class _Entry(NamedTuple):
    time: jax.Array  # T, or -1
    loss_q: jax.Array
    river_w: jax.Array
    mismatch: jax.Array
    rho_q: jax.Array
    rho_w: jax.Array


class FirstEntryMonitor(Monitor):
    """The driver monitor of C1's record: T, L(q_T), ell(s(w_T)), s(q_T) - s(w_T), rho(q_T), rho(w_T).

    ``radius``: the target radius r (data: traced; None: the landscape's basin radius r_b).
    """

    radius: float | None = None

    def __check_init__(self):
        if self.radius is not None and is_concrete(self.radius):
            check_positive("radius", self.radius)

    def check(self, landscape) -> None:
        """The landscape must be a river landscape (it has s and river_loss)."""
        if not (hasattr(landscape, "river_loss") and hasattr(landscape, "s")):
            raise LandscapeError(
                "FirstEntryMonitor needs a river landscape (with s and river_loss); got "
                f"{type(landscape).__name__}.")

    def init(self, q0):
        """An empty record: T = -1, NaN values."""
        nan = jnp.full((), jnp.nan, jnp.result_type(q0))
        return _Entry(jnp.full((), -1, jnp.int32), nan, nan, nan, nan, nan)

    def observe(self, state, t, *, q, w, probe, landscape):
        """The record filled at the first step t with rho(q_t) <= r (q_t, its loss and w_t finite)."""
        e = state
        r = landscape.basin_radius if self.radius is None else self.radius
        ok = jnp.isfinite(probe.loss) & jnp.all(jnp.isfinite(w))
        first = (e.time < 0) & ok & (probe.rho <= r)
        s_w = landscape.s(w)

        def keep(new, old):
            return jnp.where(first, jnp.asarray(new, old.dtype), old)

        return _Entry(jnp.where(first, t, e.time), keep(probe.loss, e.loss_q),
                      keep(landscape.river_loss(s_w), e.river_w), keep(landscape.s(q) - s_w, e.mismatch),
                      keep(probe.rho, e.rho_q), keep(landscape.rho(w), e.rho_w))

    def record(self, state) -> dict:
        """{field: value} over :data:`ENTRY_FIELDS`."""
        return dict(zip(ENTRY_FIELDS, state, strict=True))


def first_entry(traj) -> dict:
    """The first-entry record of a run watched by :class:`FirstEntryMonitor`: {field: value} (last row)."""
    hint = "run with save=SaveAt(monitors=(FirstEntryMonitor(radius),)) (landscape.simulate.first_entry)."
    return last_record(traj, ENTRY_FIELDS, hint)
