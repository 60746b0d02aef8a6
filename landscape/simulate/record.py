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

``SaveAt.times`` chooses which of the three times are tracked (default all). A time not tracked is ``None``
in the Trajectory and costs nothing; without ``"diverge"``, a hit needs :math:`q_t` in the basin and
:math:`w_t` finite *at that step* (the check "finite so far" needs the divergence time).

The times stay int32 with -1 for "never" in a Trajectory (integer carries are exact and cheap in the
scan); datasets built from them (sweeps, studies) store float with NaN for "never".
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import equinox as eqx
import jax
import numpy as np

from landscape._errors import LandscapeError, check_int_at_least
from landscape._typing import Paths, Points, RowFlags, Rows, Steps, Times, Values

__all__ = ["SaveAt", "Trajectory", "ROW_FIELDS", "TIMES"]

#: the times a SaveAt may track (``SaveAt.times``)
TIMES = ("hit", "settle", "diverge")

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
    * ``times`` -- which of hit, settle and divergence times to track (a few scalar operations per step
      each; ``("hit",)`` costs only the hit time).
    * ``monitors`` -- driver monitors (:mod:`landscape.simulate.monitor`, e.g. the chattering monitor
      :class:`~landscape.simulate.chatter.CycleMonitor`): their records join ``extras`` at every row.
    """

    every: int | None = eqx.field(default=1, static=True)
    fields: tuple = eqx.field(default=("loss", "rho_w", "rho_q", "in_basin", "inward"), static=True)
    paths: bool = eqx.field(default=False, static=True)
    extras: bool = eqx.field(default=True, static=True)
    switches: bool = eqx.field(default=True, static=True)
    loss_at_hit: bool = eqx.field(default=True, static=True)
    times: tuple = eqx.field(default=TIMES, static=True)
    monitors: tuple = eqx.field(default=(), static=True)

    def __post_init__(self):
        if self.every is not None:
            check_int_at_least("every", self.every, 1)
        fields = tuple(self.fields)
        bad = [f for f in fields if f not in ROW_FIELDS]
        if bad:
            raise LandscapeError(f"SaveAt.fields must be among {', '.join(ROW_FIELDS)}; got {bad}.")
        object.__setattr__(self, "fields", fields)
        times = tuple(self.times)
        bad = [t for t in times if t not in TIMES]
        if bad or not times:
            raise LandscapeError(
                f"SaveAt.times must be a non-empty subset of {', '.join(TIMES)}; got {times}.")
        if self.loss_at_hit and "hit" not in times:
            raise LandscapeError("SaveAt(loss_at_hit=True) needs 'hit' in SaveAt.times.")
        object.__setattr__(self, "times", tuple(t for t in TIMES if t in times))
        object.__setattr__(self, "monitors", tuple(self.monitors))

    def __repr__(self):
        return f"SaveAt({', '.join(f'{f.name}={getattr(self, f.name)!r}' for f in dataclasses.fields(self))})"

    @classmethod
    def summary(cls, *, switches: bool = False, loss_at_hit: bool = False, **kw) -> SaveAt:
        """No rows: hit, settle and divergence times and the final point (the fast path; run_batch's default).

        ``switches=True`` adds the cell-switch counter and ``loss_at_hit=True`` keeps L(q_T); each carries
        more state through the scan (together about 1.8x the time of the 2-D benchmark). ``times=("hit",)``
        tracks only the hit time.
        """
        return cls(every=None, fields=(), extras=False, switches=switches, loss_at_hit=loss_at_hit, **kw)

    def row_bytes(self, num_steps: int, batch: int, dim: int, itemsize: int = 4) -> int:
        """Bytes the recorded rows of ``batch`` runs take (rule extras not counted): what a request costs."""
        per_row = len(self.fields) + (2 * dim if self.paths else 0)
        return self.rows(num_steps) * batch * per_row * itemsize

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

    def split_data(self):
        """(spec, data): the spec without its monitors' data (a static argument) and that data (traced)."""
        if not self.monitors:
            return self, None
        data, options = eqx.partition(self.monitors, lambda _: True)  # every leaf of a monitor is data
        return dataclasses.replace(self, monitors=options), data

    def with_data(self, data) -> SaveAt:
        """The spec with its monitors' data put back (inside the driver's program, where it is traced)."""
        if not self.monitors or data is None:
            return self
        with warnings.catch_warnings():  # traced data in a static field, inside the program only: intended
            warnings.filterwarnings("ignore", "A JAX array is being set as static")
            return dataclasses.replace(self, monitors=eqx.combine(data, self.monitors))

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
        for m in self.monitors:
            m.check(landscape)


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

    def _time(self, name: str):
        v = getattr(self, name)
        if v is None:
            raise LandscapeError(
                f"{name} was not tracked in this run: add {name.split('_')[0]!r} to SaveAt.times.")
        return v

    @property
    def diverged(self):
        """Whether the run became non-finite (``diverge_time >= 0``)."""
        return self._time("diverge_time") >= 0

    @property
    def recovered(self):
        """Entered the basin and never diverged (``hit_time >= 0`` and not diverged)."""
        hit = self._time("hit_time") >= 0
        return hit if self.diverge_time is None else hit & (self.diverge_time < 0)

    @property
    def settled(self):
        """In the basin from ``settle_time`` to the end (and never diverged)."""
        return self._time("settle_time") >= 0

    @property
    def batch_shape(self) -> tuple:
        """The leading (batch) axes: () for one run."""
        return tuple(np.shape(self.final_loss))

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

    def _repr_html_(self):  # Jupyter
        """The outcome (T, T_settle, divergence, final loss and rho) and the recorded fields, as HTML."""
        import numpy as np  # noqa: PLC0415

        from landscape._html import html_table, number  # noqa: PLC0415

        recorded = [f.name for f in dataclasses.fields(self) if getattr(self, f.name) is not None]
        try:
            hit, settle, div = (np.asarray(x) for x in (self.hit_time, self.settle_time, self.diverge_time))
        except Exception:  # noqa: BLE001 - traced: no numbers to show
            return html_table("Trajectory (traced)", [("fields", ", ".join(recorded))])
        if hit.ndim == 0:
            rows = [
                ("first hitting time T", f"{int(hit)}" if hit >= 0 else "never (-1)"),
                ("settle time T_settle", f"{int(settle)}" if settle >= 0 else "ends outside (-1)"),
                ("diverged", f"at step {int(div)}" if div >= 0 else "no"),
                ("final loss L(q)", number(self.final_loss)),
                ("final rho(q)", number(self.final_rho_q)),
            ]
            title = "Trajectory (one run)"
        else:
            n = hit.size
            rec = (hit >= 0) & (div < 0)
            rows = [
                ("recovered (T >= 0, finite)", f"{int(rec.sum())} of {n} ({rec.mean():.3f})"),
                ("never in the basin", f"{int(((hit < 0) & (div < 0)).sum())}"),
                ("diverged", f"{int((div >= 0).sum())}"),
                ("median T of recovered", f"{np.median(hit[rec]):g}" if rec.any() else "undefined (none)"),
                ("settled to the end", f"{int((settle >= 0).sum())}"),
            ]
            title = f"Trajectory (batch of {n} runs, shape {hit.shape})"
        return html_table(title, rows + [("recorded", ", ".join(recorded))])

    def replace(self, **changes) -> Trajectory:
        """A copy with some fields replaced."""
        return dataclasses.replace(self, **changes)

    def __getitem__(self, idx) -> Trajectory:
        """Index the batch axes (``traj[3]``, ``traj[mask]``): every array field is indexed alike."""
        return jax.tree_util.tree_map(lambda a: a[idx], self)
