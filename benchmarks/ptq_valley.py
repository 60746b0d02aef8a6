"""Every PTQ method on a valley of dimension d = 4096 (low-rank Hessian factors, no d x d array): seconds.

Run: ``python benchmarks/ptq_valley.py [--dim 4096 --k 4 --m 16 --points 64]``. Prints one JSON line per
method (seconds including compilation, and again once compiled) and the load average of the machine, which
is shared: the timings are only meaningful next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp

import landscape as ls
from landscape.ptq import ptq_methods


def main(dim=4096, k=4, m=16, points=64, lambda_over_mu=1000.0, step_over_rb=2.0, mu=0.1, rb=0.1):
    """Time rtn, stochastic, obq, gptq, adaround and the oracle (search) on one valley; print JSON lines."""
    v = ls.valley_landscape(jax.random.key(0), dim, k, m, wall=ls.quadratic_wall(rb, 1e3, mu),
                            curvature=lambda_over_mu * mu)
    w = v.sample_river(jax.random.key(1), points, s_range=(-50.0, 50.0), spread=1.0)
    quant = ls.uniform_grid(step_over_rb * rb)
    total = 0.0
    methods = [n for n in ptq_methods if n != "proxy_min"] + ["oracle"]
    for name in methods:
        fn = (lambda *a: ls.oracle(*a[:3]).q) if name == "oracle" else ptq_methods[name]  # noqa: E731
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            q = jax.block_until_ready(fn(v, quant, w, jax.random.key(2)))
            times.append(time.perf_counter() - t0)
        total += times[0]
        out = float(jnp.mean(~jax.vmap(v.in_basin)(q)))
        print(json.dumps({"method": name, "dim": dim, "k": k, "m": m, "points": points,
                          "seconds_first": round(times[0], 2), "seconds_compiled": round(times[1], 2),
                          "exit_fraction": out}))
    print(json.dumps({"total_seconds_first_calls": round(total, 1), "load_average": os.getloadavg(),
                      "cpus": os.cpu_count()}))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__)
    for name, default in (("dim", 4096), ("k", 4), ("m", 16), ("points", 64)):
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--lambda-over-mu", type=float, default=1000.0)
    a = p.parse_args()
    main(a.dim, a.k, a.m, a.points, a.lambda_over_mu)
