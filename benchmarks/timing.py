"""Timing shared by the benchmarks: first call apart, warm rounds interleaved across implementations."""

from __future__ import annotations

import time

__all__ = ["time_interleaved"]


def time_interleaved(impls: dict, repeats: int) -> tuple[dict, dict, dict]:
    """(first-call seconds, {name: [warm seconds per round]}, first outputs), the rounds interleaved."""
    first, outs = {}, {}
    for name, fn in impls.items():
        t0 = time.perf_counter()
        outs[name] = fn()
        first[name] = time.perf_counter() - t0
    warm = {name: [] for name in impls}
    for _ in range(repeats):
        for name, fn in impls.items():
            t0 = time.perf_counter()
            fn()
            warm[name].append(time.perf_counter() - t0)
    return first, warm, outs
