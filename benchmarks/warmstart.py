r"""A warm start in every process (issue 23): the first ``run_batch`` of fresh processes, with its breakdown.

Each measurement is a fresh Python process (``subprocess``) sharing one persistent-cache directory
(``LANDSCAPE_JAX_CACHE``, a new temporary directory: the first process finds it empty, the later ones warm),
running the README's call on the 2-D STE problem of :mod:`benchmarks.ste2d` (``B`` starts x ``steps`` steps,
no recording option). Each reports, in seconds:

* ``import_jax`` -- ``import jax`` (a floor: no code of ours runs);
* ``import_landscape`` -- ``import landscape`` and building the landscape, grid and rule;
* ``first_call`` -- the first ``run_batch`` (tracing, lowering, the cache lookup or compilation, the run);
* ``second_call`` -- the same call again (the run alone, for the remainder);
* ``first_call_cpu``, ``second_call_cpu`` -- the CPU time of this process during each (all its threads):
  steadier than the wall time on a loaded machine;
* ``programs`` -- how many XLA programs the first call compiled or loaded (``jax_log_compiles``).

One more warm process times the stages of the driver's program by hand (``trace``, ``lower``, ``compile``
(a cache hit), ``run``) through ``jax.jit(...).trace(...).lower().compile()``: where the first call goes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["bench_warmstart", "CHILD"]

_ROOT = Path(__file__).resolve().parent.parent

#: the child process: prints one JSON line
CHILD = r"""
import json, logging, sys, time
T = time.perf_counter
t0 = T()
import jax
t1 = T()
import numpy as np
import landscape as ls
from benchmarks.ste2d import PARAMS as p
land = ls.rotated_river_2d(p["theta"], wall=ls.quadratic_wall(p["basin_radius"], p["kappa"], p["mu"]))
grid, rule = ls.uniform_grid(p["step"]), ls.ste(learning_rate=p["learning_rate"])
b, steps, stages = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "stages"
s = np.random.default_rng(0).uniform(-50.0, 50.0, b).astype(np.float32)
w0 = (s[:, None] * np.asarray(land.river_dir, np.float32)[None]).astype(np.float32)
t2 = T()
programs = []
class Count(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("Compiling"):
            programs.append(record.getMessage().split(" with ")[0])
logging.getLogger("jax").addHandler(Count())
jax.config.update("jax_log_compiles", True)
out = {"import_jax": t1 - t0, "import_landscape": t2 - t1}
if stages:  # the driver's program by hand, stage by stage (one part, no split over cores)
    from landscape.simulate import driver
    args = (land, grid.specialized(), rule, jax.device_put(np.ascontiguousarray(w0.T)), None, np.int32(0))
    st = dict(num_steps=steps, save=ls.SaveAt.summary(), unroll=1, axes=(None, None, None), chunk=None,
              soa=True, split_keys=b)
    fn = driver._run_many if driver.xla.options_in_use() else driver._run_many_plain
    t = T(); traced = fn.trace(*args, **st); out["trace"] = T() - t
    t = T(); lowered = traced.lower(); out["lower"] = T() - t
    t = T(); compiled = lowered.compile(); out["compile"] = T() - t
    t = T(); jax.block_until_ready(compiled(*args)); out["run"] = T() - t
else:
    for name in ("first_call", "second_call"):
        t, c = T(), time.process_time()
        jax.block_until_ready(ls.run_batch(land, grid, rule, w0, steps).hit_time)
        out[name], out[name + "_cpu"] = T() - t, time.process_time() - c
out["programs"] = programs
print(json.dumps(out))
"""


def _child(batch: int, steps: int, cache: str, mode: str) -> dict:
    env = dict(os.environ, LANDSCAPE_JAX_CACHE=cache, PYTHONPATH=str(_ROOT))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)  # the cache under test, not the caller's
    res = subprocess.run([sys.executable, "-c", CHILD, str(batch), str(steps), mode], capture_output=True,
                         text=True, env=env, cwd=str(_ROOT), timeout=600, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def bench_warmstart(batch: int = 1000, steps: int = 1000, processes: int = 3) -> dict:
    """``processes`` fresh processes on one new cache directory (the first cold), then one stage breakdown."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="landscape-warmstart-") as cache:
        runs = [_child(batch, steps, cache, "call") for _ in range(processes)]
        stages = _child(batch, steps, cache, "stages")
    warm = runs[1:] or runs
    best = min(warm, key=lambda r: r["first_call"])
    return {
        "batch": batch,
        "steps": steps,
        "processes": runs,
        "stages": stages,
        "first_call_cold_s": runs[0]["first_call"],
        "first_call_warm_min_s": best["first_call"],
        "first_call_minus_run_warm_s": best["first_call"] - best["second_call"],
        "first_call_cpu_warm_min_s": min(r["first_call_cpu"] for r in warm),
        "import_jax_min_s": min(r["import_jax"] for r in runs),
        "import_landscape_min_s": min(r["import_landscape"] for r in runs),
        "programs_warm": best["programs"],
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
