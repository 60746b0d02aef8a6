"""A batch split over cores runs each part in micro-batches (``parallel.part_chunk``); the hit-times spec.

Micro-batches and the hit-times-only spec change how a batch is executed or what is kept, never a value:
these tests compare them bit for bit with one execution of the whole batch, on a batch with hits, misses
and divergences.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as ls
from landscape.simulate import driver, parallel

B = 2 * 2 * parallel.PART_CHUNK + 37  # two parts of more than 2 micro-batches each, not a multiple of either
STEPS = 40


@pytest.fixture(scope="module")
def mixed():
    """A batch where some starts recover, some never do and some diverge (one learning rate per start)."""
    land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0, 0.05))
    rng = np.random.default_rng(7)
    kind = rng.integers(0, 3, B)  # 0: recovers (eta 0.05), 1: too slow to reach the basin, 2: eta kappa >> 2
    lrs = jnp.asarray(np.array([0.05, 1e-4, 50.0], np.float32)[kind])
    s = rng.uniform(-50.0, 50.0, B).astype(np.float32)
    w0 = s[:, None] * np.asarray(land.river_dir, np.float32) + rng.normal(size=(B, 2)).astype(np.float32) * 2
    return land, ls.uniform_grid(1.0), ls.ste(lrs), jnp.asarray(w0)


def _run(mixed, **kw):
    land, grid, rule, w0 = mixed
    return ls.run_batch(land, grid, rule, w0, STEPS, rule_axis=0, **kw)


def _equal(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_the_batch_has_hits_misses_and_divergences(mixed):
    tr = _run(mixed, threads=1)
    hit, div = np.asarray(tr.hit_time), np.asarray(tr.diverge_time)
    assert (hit >= 0).sum() > 1000 and ((hit < 0) & (div < 0)).sum() > 1000 and (div >= 0).sum() > 1000


def test_hit_times_only_equal_the_defaults_hit_times(mixed):
    """SaveAt.summary(times=("hit",)): the default's hit times (starts that hit, then diverge, included)."""
    full = _run(mixed, threads=1)
    for kw in ({"threads": 1}, {"threads": 2}, {}):
        hits = _run(mixed, save=ls.SaveAt.summary(times=("hit",)), **kw)
        assert hits.settle_time is None and hits.diverge_time is None
        np.testing.assert_array_equal(np.asarray(hits.hit_time), np.asarray(full.hit_time))
        np.testing.assert_array_equal(np.asarray(hits.final_w), np.asarray(full.final_w))


@pytest.mark.parametrize("save", [None, ls.SaveAt.summary(times=("hit",)), ls.SaveAt(every=STEPS // 4),
                                  ls.SaveAt.summary(switches=True, loss_at_hit=True)],
                         ids=["default", "hits", "rows", "switches"])
def test_parts_in_micro_batches_equal_one_execution(mixed, save, monkeypatch):
    """Two parts, each in micro-batches, against one execution of the whole batch: every field equal."""
    chunks = []
    call = driver._call

    def spy(*args, **static):
        chunks.append(static["chunk"])
        return call(*args, **static)

    monkeypatch.setattr(driver, "_call", spy)
    split = _run(mixed, save=save, threads=2)
    whole = _run(mixed, save=save, threads=1)
    assert chunks[0] == parallel.part_chunk(-(-B // 2)) and chunks[-1] is None  # micro-batches when split
    _equal(split, whole)


def test_part_chunk_splits_a_part_into_equal_micro_batches():
    assert parallel.part_chunk(2 * parallel.PART_CHUNK - 1) is None
    for size in (2 * parallel.PART_CHUNK, 50_000, 50_001, 123_457):
        chunk = parallel.part_chunk(size)
        n = -(-size // chunk)
        assert chunk <= parallel.PART_CHUNK and n * chunk - size < n
