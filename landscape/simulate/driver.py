r"""The one ``lax.scan`` driver: any landscape (or loss surface), any rule, any quantizer, any optimizer.

:func:`run` runs one start, :func:`run_batch` a batch; both run the same per-trajectory step
(:func:`_init`, :func:`_step`, :func:`_finish`). A batch is a scan over a ``vmap`` of that step (also over
batched landscapes, quantizers or rules: pass ``landscape_axis=0`` ...), with the batch axis last for small
d (a structure of arrays). On the CPU a large batch is split over the cores, one execution per core from
threads, each part in micro-batches (:mod:`landscape.simulate.parallel`); ``chunk=m`` runs micro-batches
of ``m`` trajectories (each for all its steps, so the state stays in cache); ``devices=`` shards the batch
over local devices. ``docs/performance.md`` has the measurements and the HLO behind these choices.

Everything a user varies between calls -- learning rates, wall slopes, radii, steps, starts -- is a
traced leaf of a pytree argument, so a new value reuses the compiled program; only shapes, the rule's
class and static options, ``num_steps``, the :class:`SaveAt` spec and the execution options are static.
Validation (shapes, finiteness, the rule type) happens before tracing.
"""

from __future__ import annotations

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_finite, check_int_at_least, is_concrete
from landscape.geometry import SMALL_DIM
from landscape.qat.base import Rule
from landscape.simulate import parallel, xla
from landscape.simulate.record import SaveAt, Trajectory
from landscape.simulate.step import _finish, _init, _loop, _step, _trajectory_of

__all__ = ["run", "run_batch", "check_compatible", "compiler_options", "compiled_count", "ROWS_WARN_BYTES"]


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


def _trajectory(landscape, quantizer, rule, w0, key, *, num_steps: int, save: SaveAt, unroll: int):
    """One trajectory (unbatched): the scan over steps, the summaries and the final point."""
    carry = _init(landscape, quantizer, rule, w0, key, save)
    step = partial(_step, landscape, quantizer, rule, save=save)
    carry, ts, recs = _loop(lambda c, t, record: step(c, t, record=record), carry,
                            num_steps=num_steps, save=save, unroll=unroll)
    return _trajectory_of(ts, recs, _finish(landscape, quantizer, rule, carry, save, num_steps))


def _run_one_impl(landscape, quantizer, rule, w0, key, monitor_data=None, *, num_steps, save, unroll):
    return _trajectory(landscape, quantizer, rule, w0, key, num_steps=num_steps,
                       save=save.with_data(monitor_data), unroll=unroll)


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
    """Per-trajectory inputs with the batch axis first -> the driver's layout (batch axis last if soa).

    Outside the driver's program (a transpose inside it makes XLA lay the loop carry out column-major,
    ``docs/performance.md``); on the host with NumPy where that is exact and free (a CPU array), so that a
    first call compiles no small programs for it.
    """
    if not soa:
        return tree
    return jax.tree_util.tree_map(lambda a: parallel.host_op(a, lambda x: np.moveaxis(x, 0, -1),
                                                             lambda x: jnp.moveaxis(x, 0, -1)), tree)


def _part_keys(key, offset, *, total: int, size: int, soa: bool):
    """Keys ``offset .. offset + size - 1`` of ``split(key, total)`` (``PRNGKey(0)`` for None), the last one
    repeated past the end (as :func:`landscape.simulate.parallel.pad_batch` pads), in the driver's layout.

    Split inside the driver's program: a first call in a fresh process then traces and compiles no small
    programs for the keys (they were 3 of the 7 programs of a first ``run_batch``).
    """
    keys = jax.random.split(jax.random.PRNGKey(0) if key is None else key, total)
    if size != total:
        keys = keys[jnp.minimum(offset + jnp.arange(size), total - 1)]
    return jnp.moveaxis(keys, 0, -1) if soa else keys


def _run_many_impl(landscape, quantizer, rule, w0s, keys, offset=None, monitor_data=None, *, num_steps, save,
                   unroll, axes, chunk, soa=False, split_keys=None):
    """The batch (inputs in the driver's layout, :func:`_to_layout`), optionally in micro-batches (``chunk``).

    ``split_keys = total``: ``keys`` is one key (or None) and this part's keys are trajectories
    ``offset ..`` of ``split(keys, total)`` (:func:`_part_keys`). Outputs are batch-first whatever the layout.
    """
    fn = partial(_batched, num_steps=num_steps, save=save.with_data(monitor_data), unroll=unroll, axes=axes,
                 soa=soa)
    ax = -1 if soa else 0
    b = w0s.shape[ax]
    if split_keys is not None:
        keys = _part_keys(keys, offset, total=split_keys, size=b, soa=soa)
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


_STATIC_ONE = ("num_steps", "save", "unroll")
_STATIC_MANY = ("num_steps", "save", "unroll", "axes", "chunk", "soa", "split_keys")
_OPTS = xla.OPTIONS or None
_run_one_fast = jax.jit(_run_one_impl, static_argnames=_STATIC_ONE, compiler_options=_OPTS)
_run_one_plain = jax.jit(_run_one_impl, static_argnames=_STATIC_ONE)
_run_many = jax.jit(_run_many_impl, static_argnames=_STATIC_MANY, compiler_options=_OPTS)
_run_many_plain = jax.jit(_run_many_impl, static_argnames=_STATIC_MANY)
compiler_options = xla.compiler_options


def compiled_count() -> int:
    """Number of driver programs compiled so far in this process (all variants): a test of "no recompile"."""
    return sum(f._cache_size() for f in (_run_one_fast, _run_one_plain, _run_many, _run_many_plain))


def _jitted(fast, plain, args):
    """The driver's jitted program: with the host's compiler options at the top level; without them when a
    leaf of ``args`` is traced (inside a user's grad, vmap or jit: XLA takes compiler options only on a
    top-level jit), or where this XLA lacks them (found at the first call: :func:`_call`)."""
    if not all(is_concrete(x) for x in jax.tree_util.tree_leaves(args)):
        return plain
    return fast if xla.options_in_use() else plain


def _call(fast, plain, leaves, *args, **static):
    """The driver's program on ``args``; where this XLA rejects the host's compiler options (known only when
    it compiles them), it is built without them from then on (no probe program in a fresh process)."""
    fn = _jitted(fast, plain, leaves)
    if fn is plain:
        return fn(*args, **static)
    try:
        out = fn(*args, **static)
    except Exception as exc:  # noqa: BLE001 - only an unknown compiler option is retried
        if not xla.rejected(exc):
            raise
        return plain(*args, **static)
    xla.accepted()
    return out


#: rows above this many bytes warn before the run (a batched request that would fill memory)
ROWS_WARN_BYTES = 1 << 30


def _save_spec(save, record_every, record_path, *, batched: bool = False) -> SaveAt:
    """The SaveAt of a call: ``save``, else the default of :func:`run` (rows) or :func:`run_batch` (summary).

    For a batch the shortcuts ask for rows on top of the summary: ``record_every=m`` keeps the default row
    fields every m steps (no switch counter, no L(q_T): ask with ``save=SaveAt(...)``), ``record_path``
    adds w_t and q_t (every step unless ``record_every`` says otherwise).
    """
    if save is not None and not isinstance(save, SaveAt):
        raise LandscapeError(f"save must be a landscape.SaveAt; got {type(save).__name__}.")
    if record_every is not None:
        check_int_at_least("record_every", record_every, 1)
    if save is None and batched:
        if record_every is None and not record_path:
            return SaveAt.summary()
        save = SaveAt(switches=False, loss_at_hit=False)
    elif save is None:
        save = SaveAt()
    changes = {}
    if record_every is not None:
        changes["every"] = record_every
    if record_path is not None:
        changes["paths"] = bool(record_path)
    return dataclasses.replace(save, **changes) if changes else save


def _warn_rows(save: SaveAt, num_steps: int, batch: int, dim: int) -> None:
    """Warn (before any work) when the requested rows of a batch exceed ROWS_WARN_BYTES."""
    size = save.row_bytes(num_steps, batch, dim)
    if size > ROWS_WARN_BYTES:
        import warnings

        warnings.warn(
            f"run_batch: the requested rows take {size / 2**30:.2f} GiB (more than "
            f"{ROWS_WARN_BYTES / 2**30:.0f} GiB: {save.rows(num_steps)} rows x {batch} starts); the default "
            "(no recording arguments) keeps only hit, settle and divergence times and the final state.",
            ResourceWarning, stacklevel=3)


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


def _specialized(quantizer):
    """The quantizer with its concrete structure compiled in (e.g. a uniform grid without clip), if any."""
    spec = getattr(quantizer, "specialized", None)
    return spec() if callable(spec) else quantizer


def _as_float(w0):
    return jnp.asarray(w0, dtype=jnp.result_type(float))


def run(landscape, quantizer, rule, w0, num_steps: int, *, key=None, save: SaveAt | None = None,
        record_every: int | None = None, record_path: bool | None = None, unroll: int = 1) -> Trajectory:
    """Run ``rule`` for ``num_steps`` steps from one start ``w0`` (shape (d,), or the quantizer's layout).

    ``save`` is the recording spec (:class:`SaveAt`; default for one start: a row every step, no paths,
    which plots want); ``record_every`` and ``record_path`` = ``SaveAt(every=..., paths=...)``.
    ``key`` drives stochastic rules (default ``PRNGKey(0)``). ``unroll`` unrolls the step loop (2-4 helps
    small problems on CPU).
    Pure and jit/vmap friendly: under ``vmap`` or ``jit`` validation of traced values is skipped.
    """
    save = _save_spec(save, record_every, record_path)
    _check_common(landscape, quantizer, rule, num_steps, save, unroll)
    check_compatible(landscape, quantizer, w0)
    w0 = _as_float(w0).reshape(-1) if is_concrete(w0) else jnp.reshape(w0, (-1,))
    key = jax.random.PRNGKey(0) if key is None else key
    quantizer = _specialized(quantizer)
    if not is_concrete(w0) or not is_concrete(key):  # inside a user's jit/vmap: trace inline
        return _trajectory(landscape, quantizer, rule, w0, key, num_steps=num_steps, save=save, unroll=unroll)
    save, monitor_data = save.split_data()
    return _call(_run_one_fast, _run_one_plain, (landscape, quantizer, rule), landscape, quantizer, rule, w0,
                 key, monitor_data, num_steps=num_steps, save=save, unroll=unroll)


def run_batch(landscape, quantizer, rule, w0s, num_steps: int, *, key=None, save: SaveAt | None = None,
              record_every: int | None = None, record_path: bool | None = None, unroll: int = 1,
              chunk: int | None = None, devices=None, threads: int | None = None, landscape_axis=None,
              quantizer_axis=None, rule_axis=None) -> Trajectory:
    """:func:`run` over a batch of starts ``w0s`` (B, d), one PRNG key each (``split(key, B)``, or ``key`` of
    shape (B, 2): one key per start).

    By default it records the summary only (:meth:`SaveAt.summary`: hit, settle and divergence times and the
    final state), the fast path. Rows are kept on request: ``record_every=m`` (the default row fields every m
    steps), ``record_path=True`` (w_t and q_t), or ``save=SaveAt(...)``; a request whose rows exceed
    :data:`ROWS_WARN_BYTES` warns with their size before the run.

    ``landscape_axis`` / ``quantizer_axis`` / ``rule_axis`` = 0 also maps over batched landscapes,
    quantizers or rules (pytrees whose leaves carry a leading batch axis of size B: e.g. one learning
    rate per start). ``chunk = m`` runs consecutive micro-batches of m starts, each for all its steps;
    ``devices`` (a list of local devices, or ``"all"``) shards the batch over them. On the CPU a large
    batch is split over the host's cores, one execution per core dispatched from a thread
    (:mod:`landscape.simulate.parallel`; each in micro-batches of about 4096 starts unless ``chunk`` is
    given); ``threads = n`` sets the number of parts (1: one execution).
    """
    save = _save_spec(save, record_every, record_path, batched=True)
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
    _warn_rows(save, num_steps, w0s.shape[0], w0s.shape[1])
    b = w0s.shape[0]
    # one key (or None): split inside the driver's program (no small programs in a fresh process); a key per
    # start: passed as it is, with the starts
    one_key = not _holds_keys(key, b)
    axes = (landscape_axis, quantizer_axis, rule_axis)
    args = [landscape, _specialized(quantizer), rule]
    for i, a in enumerate(axes):  # batched arguments: the batch axis first
        if a not in (None, 0):
            args[i] = jax.tree_util.tree_map(lambda x, a=a: jnp.moveaxis(x, a, 0), args[i])
    axes = tuple(None if a is None else 0 for a in axes)
    soa = w0s.shape[-1] <= SMALL_DIM
    batch = {"w0": w0s} if one_key else {"w0": w0s, "key": key}
    batch.update({n: args[i] for i, n in enumerate(_ARG_NAMES) if axes[i] is not None})

    def call_args(part, offset=0):
        part = _to_layout(part, soa)
        if devices is not None:
            part = parallel.shard(part, devices, soa)
        keys = (key, np.int32(offset)) if one_key else (part["key"], None)
        return (*(part.get(n, args[i]) for i, n in enumerate(_ARG_NAMES)), part["w0"], *keys, monitor_data)

    leaves = jax.tree_util.tree_leaves((args, w0s, key))
    n = 1 if devices is not None else parallel.parts_for(b, threads, leaves)
    chunk = parallel.part_chunk(-(-b // n)) if chunk is None and n > 1 and soa else chunk  # a part per core
    save, monitor_data = save.split_data()
    static = dict(num_steps=num_steps, save=save, unroll=unroll, axes=axes, chunk=chunk, soa=soa,
                  split_keys=b if one_key else None)
    if n == 1:
        return _call(_run_many, _run_many_plain, leaves, *call_args(batch), **static)
    padded, size = parallel.pad_batch(batch, n)
    part = lambda i: call_args(  # noqa: E731
        jax.tree_util.tree_map(lambda a: parallel.host_op(a, lambda x: x[i * size:(i + 1) * size]), padded),
        i * size)
    return parallel.split_run(partial(_call, _run_many, _run_many_plain, leaves), part, n, b, static)


_ARG_NAMES = ("landscape", "quantizer", "rule")


def _holds_keys(key, b: int) -> bool:
    """Whether ``key`` holds one PRNG key per start (else it is one key, or None: split into b keys)."""
    if key is None:
        return False
    shape = tuple(np.shape(key))
    typed = jnp.issubdtype(getattr(key, "dtype", np.uint32), jax.dtypes.prng_key)
    batched = (len(shape) == 1 and typed) or (len(shape) == 2 and not typed)
    if batched and shape[0] != b:
        raise LandscapeError(f"key holds {shape[0]} keys (shape {shape}) but w0s holds {b} starts; pass one "
                             "key, or one per start.")
    return batched
