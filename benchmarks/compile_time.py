r"""What XLA's CPU compiler options cost and save: the reason for the test suite's ``XLA_FLAGS``.

The suite compiles about 10,000 programs (two workers) and runs most of them once, so compilation dominates
a run with an empty cache. ``tests/conftest.py`` therefore sets ``--xla_cpu_use_fusion_emitters=false``
(XLA's classic CPU emitters) and ``--xla_cpu_parallel_codegen_split_count=1``; the library itself never
sets them. This benchmark measures both sides of that choice, each setting in a fresh process with the
persistent cache off:

* ``compile_cpu`` -- CPU seconds (all threads) of a first ``landscape.run`` of 16 distinct driver
  programs (straight rivers, d = 2..5, a quadratic and an exponential wall, with and without the recorded
  path; float64, 400 steps), each a new XLA program;
* ``run_s`` -- the warm wall time of the README's batch (the 2-D STE problem of :mod:`benchmarks.ste2d`,
  ``B`` starts x ``STEPS`` steps), best of ``REPEATS``;
* ``same`` -- whether the final points of every run equal (bit for bit) those of XLA's defaults.

``python -m benchmarks.compile_time`` prints one line per setting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["SETTINGS", "bench_compile_time"]

_ROOT = Path(__file__).resolve().parent.parent

_CLASSIC, _ONE_THREAD = "--xla_cpu_use_fusion_emitters=false", "--xla_cpu_parallel_codegen_split_count=1"
#: the settings compared: XLA's defaults, the suite's flags (``tests/conftest.py``'s ``SUITE_XLA_FLAGS``, as
#: ``tests/test_conftest.py`` checks), each of the suite's flags alone
SETTINGS = {
    "XLA defaults": "",
    "suite (tests/conftest.py)": f"{_CLASSIC} {_ONE_THREAD}",
    "classic emitters only": _CLASSIC,
    "codegen in one thread only": _ONE_THREAD,
}
B, STEPS, REPEATS = 100_000, 1000, 3

_CHILD = r"""
import hashlib, json, time
import jax
jax.config.update("jax_enable_x64", True)
import numpy as np, jax.numpy as jnp
import landscape as L
c0 = time.process_time()
finals = []
for d in range(2, 6):
    for wall in (L.quadratic_wall(0.3, 2.0, 0.0), L.exp_wall(0.3, 2.0, 0.1)):
        n = np.zeros((1, d)); n[0, 0] = 1.0
        u = np.zeros(d); u[1] = 1.0
        ls = L.straight_river(n, u, wall=wall, river_loss=0.1)
        grid = L.uniform_grid(np.full(d, 0.37), offset=np.zeros(d))
        for path in (False, True):
            tr = L.run(ls, grid, L.ste(0.1), jnp.asarray(np.linspace(0.5, 1.5, d)), 400, record_path=path)
            finals.append(np.asarray(tr.final_w))
compile_cpu = time.process_time() - c0
jax.config.update("jax_enable_x64", False)
from benchmarks.ste2d import PARAMS, problem
prob = problem(%(B)d)
w0, lr = jnp.asarray(prob["w0"]), PARAMS["learning_rate"]
call = lambda: L.run_batch(prob["land"], prob["grid"], L.ste(learning_rate=lr), w0, %(STEPS)d)
jax.block_until_ready(call().final_w)
best = float("inf")
for _ in range(%(REPEATS)d):
    t = time.perf_counter(); out = call(); jax.block_until_ready(out.final_w)
    best = min(best, time.perf_counter() - t)
digest = hashlib.sha256(b"".join(f.tobytes() for f in finals) + np.asarray(out.final_w).tobytes()).hexdigest()
print(json.dumps({"compile_cpu": compile_cpu, "programs": len(finals), "run_s": best, "digest": digest}))
"""


def _child(flags: str) -> dict:
    env = dict(os.environ, LANDSCAPE_JAX_CACHE="0", XLA_FLAGS=flags, PYTHONPATH=str(_ROOT))
    code = _CHILD % {"B": B, "STEPS": STEPS, "REPEATS": REPEATS}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                         cwd=_ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def bench_compile_time() -> dict:
    """{setting: {compile_cpu, programs, run_s, same}}, each setting in a fresh process, cache off."""
    res = {name: _child(flags) for name, flags in SETTINGS.items()}
    ref = res["XLA defaults"]["digest"]
    for r in res.values():
        r["same"] = r.pop("digest") == ref
    return res


if __name__ == "__main__":
    load = os.getloadavg()
    for name, r in bench_compile_time().items():
        print(f"{name:28s} compile {r['compile_cpu']:6.2f} CPU s for {r['programs']} programs | "
              f"batch {B} x {STEPS}: {r['run_s']:.4f} s | same numbers: {r['same']}")
    print(f"load average before: {load}; {os.cpu_count()} cores")
