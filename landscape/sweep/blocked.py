"""Cache-sized micro-batches: how many trajectories of dimension d run together (``run_batch(chunk=...)``).

A ``vmap`` of a ``lax.scan`` over a batch of B trajectories sweeps all B states through memory at every
step; when B x (state size) outgrows the CPU caches every step becomes memory-bound. Running the batch as
consecutive micro-batches of m trajectories, each for all its steps, keeps the state resident in cache.
The driver does this itself (:func:`landscape.run_batch` with ``chunk=m``); this module only sizes m.
"""

from __future__ import annotations

import numpy as np

from landscape._errors import check_int_at_least

__all__ = ["micro_batch_size"]

_STATE_FLOATS = 32768  # floats of trajectory state per micro-batch (a few hundred KiB: L2-sized)


def micro_batch_size(dim: int, limit: int | None = None) -> int:
    """m: trajectories per micro-batch for parameter dimension d (a power of two in [16, 1024])."""
    check_int_at_least("dim", dim, 1)
    m = int(2 ** np.floor(np.log2(max(1, _STATE_FLOATS // dim))))
    m = max(16, min(1024, m))
    return m if limit is None else max(1, min(m, limit))
