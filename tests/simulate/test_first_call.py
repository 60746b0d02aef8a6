"""What a first ``run_batch`` of a process does (issue 23): the keys split inside the driver's program give
the same numbers on every execution (one part, core parts, micro-batches, keys passed per start); a compiler
option this XLA refuses is dropped, not fatal; the persistent cache goes where ``LANDSCAPE_JAX_CACHE`` says,
or nowhere; a bare ``run_batch`` compiles one program and imports no optional layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np

import landscape as ls

_ROOT = Path(__file__).resolve().parents[2]


def _problem(b):
    land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0, 0.05))
    starts = land.sample_river(jax.random.PRNGKey(1), b)
    return land, ls.uniform_grid(1.0), starts


def _equal(a, b):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_one_key_gives_the_same_keys_on_every_execution():
    land, grid, starts = _problem(301)  # not a multiple of the parts or the micro-batch
    rule = ls.get_rule("noise", learning_rate=0.05)  # stochastic: every trajectory's key shows in its path
    keys = jax.random.split(jax.random.PRNGKey(0), 301)
    ref = ls.run_batch(land, grid, rule, starts, 40, key=keys, threads=1)  # a key per start, passed as is
    for kw in ({}, {"key": jax.random.PRNGKey(0)}, {"threads": 2}, {"threads": 3}, {"chunk": 100},
               {"threads": 2, "chunk": 64}):
        _equal(ref, ls.run_batch(land, grid, rule, starts, 40, **kw))
    other = ls.run_batch(land, grid, rule, starts, 40, key=jax.random.PRNGKey(5), threads=2)
    assert not np.array_equal(np.asarray(other.final_w), np.asarray(ref.final_w))
    per_start = ls.run_batch(land, grid, rule, starts, 40, key=jax.random.split(jax.random.PRNGKey(5), 301))
    _equal(other, per_start)


def test_a_compiler_option_this_xla_refuses_is_dropped_not_fatal(monkeypatch):
    from landscape.simulate import driver, xla

    land, grid, starts = _problem(16)
    ref = ls.run_batch(land, grid, ls.ste(0.05), starts, 30, threads=1)
    monkeypatch.setattr(xla, "OPTIONS", {"xla_cpu_no_such_option_for_this_test": 1})
    monkeypatch.setattr(xla, "_OK", None)
    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    refused = jax.jit(driver._run_many_impl, static_argnames=driver._STATIC_MANY,
                      compiler_options=xla.OPTIONS)
    monkeypatch.setattr(driver, "_run_many", refused)
    assert xla.options_in_use()
    _equal(ref, ls.run_batch(land, grid, ls.ste(0.05), starts, 30, threads=1))
    assert not xla.options_in_use() and xla.compiler_options() == {}


def _fresh_process(env_cache: str | None, tmp_path: Path) -> dict:
    code = (
        "import json, sys, numpy as np\n"
        "import landscape as ls, jax\n"
        "land = ls.rotated_river_2d(0.5, wall=ls.quadratic_wall(0.3, 10.0, 0.05))\n"
        "w0 = np.outer(np.linspace(-5, 5, 64), np.asarray(land.river_dir)).astype(np.float32)\n"
        "import logging\n"
        "compiled = []\n"
        "class Count(logging.Handler):\n"
        "    def emit(self, record):\n"
        "        if record.getMessage().startswith('Compiling'): compiled.append(record.getMessage()[:60])\n"
        "logging.getLogger('jax').addHandler(Count())\n"
        "jax.config.update('jax_log_compiles', True)\n"
        "tr = ls.run_batch(land, ls.uniform_grid(1.0), ls.ste(0.05), w0, 50)\n"
        "optional = ('xarray', 'sympy', 'matplotlib', 'pandas', 'dask', 'zarr', 'rich', 'typer')\n"
        "print(json.dumps({'dir': jax.config.jax_compilation_cache_dir, 'programs': compiled,\n"
        "    'hits': int((np.asarray(tr.hit_time) >= 0).sum()),\n"
        "    'loaded': sorted(m for m in optional if m in sys.modules)}))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")}
    env.pop("LANDSCAPE_JAX_CACHE", None)
    env["HOME"] = env["XDG_CACHE_HOME"] = str(tmp_path / "home")
    if env_cache is not None:
        env["LANDSCAPE_JAX_CACHE"] = env_cache
    env["PYTHONPATH"] = str(_ROOT)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_cache_variable_moves_or_disables_the_cache_in_a_fresh_process(tmp_path):
    moved = _fresh_process(str(tmp_path / "moved"), tmp_path)
    assert moved["dir"] == str(tmp_path / "moved")
    assert any((tmp_path / "moved").iterdir())  # the driver's program was written there
    assert len(moved["programs"]) == 1, moved["programs"]  # one program: keys and layout included
    assert moved["loaded"] == []  # no optional layer is imported by a bare run_batch
    off = _fresh_process("off", tmp_path)
    assert off["dir"] is None and off["hits"] == moved["hits"]
    assert not (tmp_path / "home" / "landscape").exists()
    default = _fresh_process(None, tmp_path)
    assert default["dir"] == str(tmp_path / "home" / "landscape" / "jax") and default["hits"] == moved["hits"]
