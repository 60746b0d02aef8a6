r"""What a run records: the recording spec :class:`SaveAt` and the :class:`Trajectory` it fills.

Row ``i`` of the recorded arrays describes step :math:`t = i \cdot m` (``m = SaveAt.every``): the latent
:math:`w_t`, the deployed point :math:`q_t`, and the update :math:`w_{t+1} - w_t` applied at that step.

* ``loss`` -- :math:`L(q_t)`; ``rho_w``, ``rho_q`` -- :math:`\rho(w_t)`, :math:`\rho(q_t)`;
* ``in_basin`` -- :math:`q_t` in the basin (False for a non-finite point);
* ``inward`` -- :math:`\langle w_{t+1} - w_t,\ -N^\top v(w_t)/\lVert v(w_t)\rVert\rangle` (0 on the river);
* ``w_path``, ``q_path`` -- :math:`w_t`, :math:`q_t` (``SaveAt(paths=True)``);
* ``extras`` -- the rule's recorded scalars.

Summaries, checked at *every* step :math:`t \in [0, \text{num\_steps}]` whatever ``every`` is:

* ``hit_time`` :math:`T` -- the first :math:`t` with :math:`q_t` in the basin and the run finite so far
  (-1 if never);
* ``settle_time`` :math:`T_{\rm settle}` -- the last entry: :math:`q_s` is in the basin for every
  :math:`s \in [T_{\rm settle}, \text{num\_steps}]`; -1 if the run ends outside (or diverged);
* ``diverge_time`` -- the first :math:`t` at which :math:`w_t` or :math:`L(q_t)` is not finite (-1: never);
  ``diverged`` = ``diverge_time >= 0``. A diverged run is never counted as a hit after it diverged,
  and never settles;
* ``switches`` -- the number of steps with :math:`q_{t+1} \ne q_t` (``SaveAt(switches=True)``);
* ``loss_at_hit`` -- :math:`L(q_T)` (NaN if never).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import equinox as eqx
import jax
import numpy as np

from landscape._errors import LandscapeError, check_int_at_least
from landscape._typing import Paths, Points, RowFlags, Rows, Steps, Times, Values

__all__ = ["SaveAt", "Trajectory", "ROW_FIELDS"]

#: per-row fields a SaveAt may ask for, and what each needs of the landscape
ROW_FIELDS = {
    "loss": None,
    "rho_q": None,
    "in_basin": None,
    "rho_w": "rho",
    "inward": "inward_dir",
}


class SaveAt(eqx.Module):
    """The recording spec of a run (an equinox Module whose fields are all static: hashable): which rows, how
    often, which summaries.

    * ``every`` -- keep a row every m-th step (m must divide num_steps); ``None``: no rows, summaries only;
    * ``fields`` -- the per-row scalars (a subset of ``loss, rho_q, in_basin, rho_w, inward``);
    * ``paths`` -- also keep w_t and q_t (rows of d floats); ``extras`` -- the rule's recorded scalars;
    * ``switches`` -- count cell switches (carries q_t from step to step); ``loss_at_hit`` -- L(q_T);
    * ``monitors`` -- driver monitors (:mod:`landscape.simulate.monitor`, e.g. the chattering monitor
      :class:`~landscape.simulate.chatter.CycleMonitor`): their records join ``extras`` at every row.

    Hit, settle and divergence times are always computed (a few scalar operations per step).
    """

    every: int | None = eqx.field(default=1, static=True)
    fields: tuple = eqx.field(default=("loss", "rho_w", "rho_q", "in_basin", "inward"), static=True)
    paths: bool = eqx.field(default=False, static=True)
    extras: bool = eqx.field(default=True, static=True)
    switches: bool = eqx.field(default=True, static=True)
    loss_at_hit: bool = eqx.field(default=True, static=True)
    monitors: tuple = eqx.field(default=(), static=True)

    def __post_init__(self):
        if self.every is not None:
            check_int_at_least("every", self.every, 1)
        fields = tuple(self.fields)
        bad = [f for f in fields if f not in ROW_FIELDS]
        if bad:
            raise LandscapeError(f"SaveAt.fields must be among {', '.join(ROW_FIELDS)}; got {bad}.")
        object.__setattr__(self, "fields", fields)
        object.__setattr__(self, "monitors", tuple(self.monitors))

    def __repr__(self):
        return f"SaveAt({', '.join(f'{f.name}={getattr(self, f.name)!r}' for f in dataclasses.fields(self))})"

    @classmethod
    def summary(cls, *, switches: bool = False, loss_at_hit: bool = False, **kw) -> SaveAt:
        """No rows: hit, settle and divergence times and the final point (the fast path).

        ``switches=True`` adds the cell-switch counter and ``loss_at_hit=True`` keeps L(q_T); each carries
        more state through the scan (together about 1.8x the time of the 2-D benchmark).
        """
        return cls(every=None, fields=(), extras=False, switches=switches, loss_at_hit=loss_at_hit, **kw)

    def rows(self, num_steps: int) -> int:
        """Number of recorded rows for a run of num_steps."""
        if self.every is None:
            return 0
        if num_steps % self.every:
            raise LandscapeError(
                f"SaveAt.every (record_every) must divide num_steps; got num_steps = {num_steps}, "
                f"every = {self.every}."
            )
        return num_steps // self.every

    def check_landscape(self, landscape) -> None:
        """Raise if a requested row field needs something the landscape does not provide."""
        for f in self.fields:
            need = ROW_FIELDS[f]
            if need is not None and not hasattr(landscape, need):
                raise LandscapeError(
                    f"SaveAt.fields asks for {f!r}, which needs landscape.{need}; "
                    f"{type(landscape).__name__} has none. "
                    f"Drop it from fields."
                )


def _describe(x) -> str:
    if x is None:
        return "None"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in x.items()) + "}"
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        dt = str(x.dtype).replace("float", "f").replace("int", "i").replace("bool", "bool")
        return f"{dt}{list(x.shape)}"
    leaves = jax.tree_util.tree_leaves(x)
    return f"<{len(leaves)} leaves>" if leaves else repr(x)


@jax.tree_util.register_dataclass
@dataclasses.dataclass(frozen=True, repr=False)
class Trajectory:
    """What one run (or a batch of runs: leading axes) records; see the module docstring.

    A field that the :class:`SaveAt` did not ask for is ``None`` (``extras``: ``{}``).
    """

    t: Steps | None
    loss: Rows | None
    rho_w: Rows | None
    rho_q: Rows | None
    in_basin: RowFlags | None
    inward: Rows | None
    extras: dict[str, Rows]
    w_path: Paths | None
    q_path: Paths | None
    hit_time: Times
    settle_time: Times
    diverge_time: Times
    switches: Times | None
    loss_at_hit: Values | None
    final_w: Points
    final_q: Points
    final_loss: Values
    final_rho_q: Values
    final_params: dict[str, Any]

    @property
    def diverged(self):
        """Whether the run became non-finite (``diverge_time >= 0``)."""
        return self.diverge_time >= 0

    @property
    def recovered(self):
        """Entered the basin and never diverged (``hit_time >= 0`` and not diverged)."""
        return (self.hit_time >= 0) & (self.diverge_time < 0)

    @property
    def settled(self):
        """In the basin from ``settle_time`` to the end (and never diverged)."""
        return self.settle_time >= 0

    @property
    def batch_shape(self) -> tuple:
        """The leading (batch) axes: () for one run."""
        return tuple(np.shape(self.hit_time))

    def __repr__(self):
        shown = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if v is None or (isinstance(v, dict) and not v):
                continue
            shown.append(f"{f.name}={_describe(v)}")
        return "Trajectory(" + ", ".join(shown) + ")"

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(repr(self))

    def replace(self, **changes) -> Trajectory:
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **changes)

    def __getitem__(self, idx) -> Trajectory:
        """Index the batch axes (``traj[3]``, ``traj[mask]``): every array field is indexed alike."""
        return jax.tree_util.tree_map(lambda a: a[idx], self)
