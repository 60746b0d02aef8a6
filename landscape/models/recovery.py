r"""STE-QAT (and its full-precision control) on real networks, batched on the engine's one driver.

A run starts from a latent :math:`w_0` (``w*`` for the RTN start, so that :math:`Q(w_0)` is the RTN
point; the GPTQ point itself for the GPTQ start) and follows a rule of :mod:`landscape.qat` on the
network's :class:`~landscape.simulate.LossSurface` (full batch on the fit set):

* ``ste`` -- :math:`w_{t+1} = w_t + \mathrm{opt}(\nabla L(Q(w_t)))`, the gradient at the deployed point;
* ``fp`` -- the control with the gradient at the latent, :math:`\nabla L(w_t)` (full-precision fine-tuning),
  deployed by RTN: :math:`q_t = Q(w_t)`.

The optimizer is a :class:`QATConfig`: SGD or Adam, constant or cosine-decayed learning rate (decay to 0
over the run). Runs that share the rule's static parts (kind, optimizer, steps) are one
``landscape.run_batch`` call, batched over seeds (the surfaces' ``data``), grids (the quantizers) and
learning rates and schedules (the rules): ``landscape_axis = quantizer_axis = rule_axis = 0``.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections import defaultdict

import jax
import jax.numpy as jnp
import numpy as np
import optax

from landscape._errors import LandscapeError, check_int_at_least, check_positive
from landscape.models.losses import stack

__all__ = ["OPTIMIZERS", "SCHEDULES", "KINDS", "QATConfig", "make_rule", "RunSpec", "run_specs"]

OPTIMIZERS = ("sgd", "adam")
SCHEDULES = ("constant", "cosine")
KINDS = ("ste", "fp")


@dataclasses.dataclass(frozen=True)
class QATConfig:
    """One optimizer setting of the protocol: optimizer, schedule and (initial) learning rate."""

    optimizer: str = "sgd"
    schedule: str = "constant"
    learning_rate: float = 0.1

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise LandscapeError(f"optimizer must be one of {OPTIMIZERS}; got {self.optimizer!r}.")
        if self.schedule not in SCHEDULES:
            raise LandscapeError(f"schedule must be one of {SCHEDULES}; got {self.schedule!r}.")
        check_positive("learning_rate", self.learning_rate)

    @property
    def label(self) -> str:
        """e.g. ``sgd-cosine lr=1``."""
        return f"{self.optimizer}-{self.schedule} lr={self.learning_rate:g}"

    def as_dict(self) -> dict:
        """JSON-ready fields."""
        return dataclasses.asdict(self)


def make_rule(kind: str, optimizer: str, schedules, learning_rates, num_steps: int, batch_loss=None):
    """The rule ``ste`` or ``fp`` with SGD/Adam and a constant or cosine rate; ``learning_rates`` may be (B,).

    Both schedules are ``optax.cosine_decay_schedule`` with ``alpha`` = 1 (constant) or 0 (cosine decay to
    0 over ``num_steps``): ``schedules`` (a name or one per run) is traced data, one compiled driver for both.

    With ``batch_loss`` (a :class:`~landscape.models.minibatch.MinibatchLoss`) the gradient is a fresh
    minibatch per step (:class:`~landscape.models.minibatch.MinibatchSTE`); otherwise full batch.
    """
    import landscape as ls

    if kind not in KINDS:
        raise LandscapeError(f"kind must be one of {KINDS}; got {kind!r}.")
    lr = jnp.asarray(learning_rates, jnp.float32)
    names = [schedules] * max(1, lr.size) if isinstance(schedules, str) else list(schedules)
    bad = [s for s in names if s not in SCHEDULES]
    if bad:
        raise LandscapeError(f"schedule must be one of {SCHEDULES}; got {bad[0]!r}.")
    alpha = jnp.asarray([1.0 if s == "constant" else 0.0 for s in names], jnp.float32).reshape(lr.shape)
    lr = ls.schedule(optax.cosine_decay_schedule, init_value=lr, decay_steps=int(num_steps), alpha=alpha)
    opt = ls.sgd(lr) if optimizer == "sgd" else ls.optimizer(optax.adam, learning_rate=lr)
    if batch_loss is not None:
        from landscape.models.minibatch import MinibatchSTE

        return MinibatchSTE(opt, batch_loss, kind == "fp")
    return ls.ste(optimizer=opt) if kind == "ste" else ls.full_precision(optimizer=opt)


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One run: keys of its network surface, start ``w0`` and quantizer; its rule (kind, config, steps)."""

    net: object
    start: object
    quantizer: object
    kind: str
    config: QATConfig
    num_steps: int


def _plain(x):
    """Tuples and lists as tuples, numpy scalars as Python scalars (a repr that does not depend on types)."""
    if isinstance(x, (tuple, list)):
        return tuple(_plain(v) for v in x)
    return x.item() if isinstance(x, np.generic) else x


def spec_key(spec: RunSpec) -> int:
    """A run's identity as a 31-bit integer: CRC-32 of the repr of (net, start, quantizer, kind, setting, T).

    Stable across processes and Python versions (no ``hash`` randomisation); the batches of a minibatch
    run are drawn from the caller's key folded with it.
    """
    ident = _plain((spec.net, spec.start, spec.quantizer, spec.kind, spec.config.label, spec.num_steps))
    return zlib.crc32(repr(ident).encode()) & 0x7FFFFFFF


def spec_keys(key, specs) -> jax.Array:
    """One PRNG key per spec (``(len(specs), 2)``): ``fold_in(key, spec_key(spec))``."""
    salts = jnp.asarray([spec_key(s) for s in specs], jnp.uint32)
    return jax.vmap(lambda d: jax.random.fold_in(key, d))(salts)


def run_specs(
    specs,
    surfaces: dict,
    starts: dict,
    quantizers: dict,
    *,
    paths: bool = False,
    max_batch: int = 16,
    reduce=None,
    batch_loss=None,
    key=None,
) -> list:
    """Run every spec on the driver, batched by the rule's static parts; ``reduce(spec, traj)`` per spec.

    ``surfaces[net]``, ``starts[start]``, ``quantizers[quantizer]`` are looked up per spec; ``max_batch``
    bounds
    the runs per driver call (the path memory is ``2 (T+1) d`` floats per run when ``paths``). ``reduce``
    (default: keep the numpy Trajectory) runs right after each driver call, so paths need not be kept.
    ``batch_loss``: minibatch gradients (a language model's stream); ``key`` seeds their batches. Each
    run's key is ``key`` folded with its spec's identity (:func:`spec_key`), so a run's batches do not
    depend on which other runs share its list, its group or its position.
    """
    from landscape.simulate import SaveAt, run_batch

    check_int_at_least("max_batch", max_batch, 1)
    save = SaveAt(every=1, fields=("loss", "in_basin"), paths=paths, extras=False, switches=True)
    groups = defaultdict(list)
    for i, s in enumerate(specs):
        groups[(s.kind, s.config.optimizer, s.num_steps)].append(i)
    out = [None] * len(specs)
    for (kind, opt, steps), idx in groups.items():
        for lo in range(0, len(idx), max_batch):
            chunk = idx[lo : lo + max_batch]
            pad = chunk + [chunk[-1]] * (min(max_batch, len(idx)) - len(chunk))  # one shape per group
            sp = [specs[i] for i in pad]
            rule = make_rule(
                kind,
                opt,
                [s.config.schedule for s in sp],
                [s.config.learning_rate for s in sp],
                steps,
                batch_loss,
            )
            keys = spec_keys(jax.random.PRNGKey(0) if key is None else key, sp)
            tr = run_batch(
                stack([surfaces[s.net] for s in sp]),
                stack([quantizers[s.quantizer] for s in sp]),
                rule,
                jnp.stack([starts[s.start] for s in sp]),
                steps,
                save=save,
                landscape_axis=0,
                quantizer_axis=0,
                rule_axis=0,
                key=keys,
            )
            tr = jax.tree_util.tree_map(np.asarray, tr)
            for j, i in enumerate(chunk):
                out[i] = tr[j] if reduce is None else reduce(specs[i], tr[j])
            del tr
    return out


def loss_rows(traj) -> np.ndarray:
    """L(q_t) for t = 0..T (the recorded rows and the final point)."""
    return np.concatenate([np.asarray(traj.loss), np.asarray(traj.final_loss)[None]])


def q_rows(traj) -> np.ndarray:
    """q_t for t = 0..T (needs ``paths``)."""
    if traj.q_path is None:
        raise LandscapeError("the run recorded no paths; pass paths=True to run_specs.")
    return np.concatenate([np.asarray(traj.q_path), np.asarray(traj.final_q)[None]])


__all__ += ["loss_rows", "q_rows"]
