"""The engine's per-step bookkeeping (:mod:`landscape.simulate.record`) as the hand-written JAX kernels of the
benchmarks do it: the same operations, so that their times compare with the engine's on the same work."""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["record_step"]


def record_step(hit, settle, div, t, inside, finite):
    """(hit, settle, div) after step t: first diverged t, first good t, start of the last good streak (or -1).

    ``inside`` is rho <= r_b at the deployed point, ``finite`` whether the latent and deployed points are
    finite; a good step is inside and not diverged (a diverged run is never a hit).
    """
    div = jnp.where((div < 0) & ~finite, t, div)
    good = inside & (div < 0)
    hit = jnp.where((hit < 0) & good, t, hit)
    settle = jnp.where(good, jnp.where(settle < 0, t, settle), -1)
    return hit, settle, div
