r"""A batch split over the host's CPU cores: one XLA execution per core, each dispatched from its own thread.

XLA:CPU parallelises a program by splitting each large loop fusion into tasks on its intra-op thread pool
and joining them again before the next kernel starts. A trajectory loop runs several small kernels per
step, so every step pays several fork/join barriers, and on a shared machine each barrier waits for the
slowest core. Measured on the 2-core development machine (``docs/performance.md``): one execution of the
whole batch is about 2x slower than two executions of half the batch each, dispatched from two Python
threads (the executions run concurrently: XLA releases the GIL while it computes).

:func:`split_run` does that for :func:`landscape.run_batch`: the batch is cut into equal parts (the last one
padded by repeating its last trajectory, then trimmed), the compiled program for a part is built once
(the first call of a new program runs part 0 alone), and the parts run concurrently. A part of at least
2 x :data:`PART_CHUNK` trajectories runs in micro-batches (:func:`part_chunk`): one core, no fork/join per
kernel. Trajectories are independent and each keeps its own PRNG key, so the results do not depend on the
split or the micro-batches (bit for bit: ``tests/simulate/test_micro_batches.py``).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from landscape._errors import LandscapeError

__all__ = ["shard", "host_cores", "parts_for", "part_chunk", "pad_batch", "split_run", "host_op", "MIN_PART",
           "PART_CHUNK"]

#: trajectories per part below which a split does not pay for its dispatch and concatenation
MIN_PART = 4096

#: about this many trajectories per micro-batch of a part that runs on one core (:func:`part_chunk`)
PART_CHUNK = 4096

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_WARM: set = set()


def host_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS reports one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def parts_for(batch: int, threads: int | None, leaves) -> int:
    """How many parts to split a batch of ``batch`` trajectories into (1: no split).

    ``threads`` None splits over :func:`host_cores` when every input lives on the CPU, the batch holds at
    least :data:`MIN_PART` trajectories per part, and the inputs are concrete (not traced).
    """
    if threads is not None:
        return max(1, min(int(threads), batch))
    if any(isinstance(x, jax.core.Tracer) for x in leaves):
        return 1
    for x in leaves:
        devs = getattr(x, "devices", None)
        if devs is not None and any(d.platform != "cpu" for d in devs()):
            return 1
    if jax.default_backend() != "cpu":
        return 1
    return max(1, min(host_cores(), batch // MIN_PART))


def part_chunk(size: int) -> int | None:
    """The micro-batch (``chunk``) for a part of ``size`` trajectories that runs on a core of its own: about
    :data:`PART_CHUNK`, equal chunks (padding fewer than one trajectory per chunk); None below 2 chunks.

    Why (``docs/performance.md``): XLA:CPU splits every kernel of a part of 50,000 trajectories into 2 tasks
    on its intra-op pool, so each of the part's kernels, every step, forks and joins although the other core
    runs the other part (about one blocking wait per step); a micro-batch of 4096 is below XLA's split
    threshold (one task per kernel: no fork/join) and its state stays in the core's L2 cache.
    """
    if size < 2 * PART_CHUNK:
        return None
    n = -(-size // PART_CHUNK)
    return -(-size // n)


def _pool(n: int) -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None or _POOL._max_workers < n:
            _POOL = ThreadPoolExecutor(max_workers=max(n, host_cores()), thread_name_prefix="landscape-part")
        return _POOL


def _signature(args, static) -> tuple:
    leaves, tree = jax.tree_util.tree_flatten(args)
    avals = tuple((np.shape(x), str(jnp.result_type(x)), bool(getattr(x, "weak_type", False)))
                  for x in leaves)
    return tree, avals, tuple(sorted(static.items()))


def _on_host(a) -> bool:
    """Whether ``a`` is a concrete numeric array in host memory (NumPy, or a JAX array on the CPU)."""
    if isinstance(a, np.ndarray):
        return a.dtype != object
    if not isinstance(a, jax.Array) or isinstance(a, jax.core.Tracer):
        return False
    if jnp.issubdtype(a.dtype, jax.dtypes.prng_key) or not a.is_fully_addressable:
        return False
    return all(d.platform == "cpu" for d in a.devices())


def host_op(a, host_fn, jax_fn=None):
    """``host_fn`` (a NumPy rearrangement: slice, transpose, concatenate) on ``a``'s host buffer where ``a``
    lives on the CPU, returned as a JAX array; else ``jax_fn`` (default ``host_fn``) on ``a``.

    The same values either way (a rearrangement is exact), but the host way compiles nothing: each JAX
    rearrangement is a small program of its own, traced and compiled in every fresh process.
    """
    if _on_host(a):
        return jax.device_put(np.ascontiguousarray(host_fn(np.asarray(a))))
    return (jax_fn or host_fn)(a)


def pad_batch(tree, n: int):
    """(tree padded along axis 0 to a multiple of n by repeating its last entry, part size)."""
    b = jax.tree_util.tree_leaves(tree)[0].shape[0]
    size = -(-b // n)
    pad = size * n - b
    if pad:
        tree = jax.tree_util.tree_map(lambda a: host_op(
            a, lambda x: np.concatenate([x, np.repeat(x[-1:], pad, axis=0)]),
            lambda x: jnp.concatenate([x, jnp.repeat(x[-1:], pad, axis=0)])), tree)
    return tree, size


def split_run(fn, part_args, n: int, b: int, static: dict):
    """``fn(*part_args(i), **static)`` for the parts i < n, concurrently; outputs concatenated, trimmed to b.

    ``fn`` is a jitted function whose outputs have the batch axis first; every part has the same shapes, so
    the program is compiled once and shared by the threads (the first call of a new program runs part 0 in
    the calling thread, compiling it, and only then the other parts concurrently).
    """
    parts = [part_args(i) for i in range(n)]
    sig = _signature(parts[0], static)
    outs = []
    if sig not in _WARM:  # a cold program: compile it once (with part 0, in this thread), not once per thread
        outs.append(jax.block_until_ready(fn(*parts[0], **static)))
        _WARM.add(sig)
    pool = _pool(n)
    # JAX's configuration contexts (``with jax.enable_x64(True):``) are thread-local: the workers must trace
    # in the caller's precision, or a float64 run would be traced in float32 there
    x64 = jnp.result_type(float) == jnp.float64

    def work(a):
        with jax.enable_x64(x64):
            return jax.block_until_ready(fn(*a, **static))

    futures = [pool.submit(work, a) for a in parts[len(outs):]]
    outs += [f.result() for f in futures]
    return jax.tree_util.tree_map(lambda *xs: _concat(xs, b), *outs)


def _concat(xs, b: int):
    """The parts' outputs along the batch axis, trimmed to b (on the host where they live on the CPU)."""
    if all(_on_host(x) for x in xs):
        return jax.device_put(np.ascontiguousarray(np.concatenate([np.asarray(x) for x in xs])[:b]))
    return jnp.concatenate(xs)[:b]


def shard(batch, devices, soa: bool):
    """Every per-trajectory array of ``batch`` sharded along its batch axis over ``devices``."""
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
