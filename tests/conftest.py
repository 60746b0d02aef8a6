"""The one test configuration: hypothesis profile, JAX compilation cache, float64 marker, xdist grouping.

* ``JAX_COMPILATION_CACHE_DIR`` points at ``.pytest_cache/jax-compilation`` (shared by the xdist workers and
  every subprocess the tests start: ``landscape check``, ``bench``, notebooks), unless the caller set it.
  JAX writes an entry as one file per key; a torn read (another process writing the same key) fails
  decompression, which JAX reports as a warning and answers by compiling, never by a wrong executable.
* ``@pytest.mark.float64``: the test runs inside ``jax.enable_x64(True)`` (the proof layer's precision);
  every other test runs in JAX's default float32.
* The ``jit`` fixture is parametrised (``jit``/``nojit``) and gives ``jax.jit`` or the identity: a test that
  takes it runs jitted and not jitted, as chex's variants do.
* Tests of a module whose module-scoped fixture is expensive (one quick study, one proof check) share one
  xdist group, so ``--dist loadgroup`` computes that fixture once; modules are scheduled costliest first.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(_ROOT / ".pytest_cache" / "jax-compilation"))
# cache every compiled program that takes at least 0.2 s (JAX's default, 1 s, misses most of the suite's)
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")

import jax  # noqa: E402  (after the cache variables, which JAX reads when it is first imported)

jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
_MIN_SECS = float(os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"])
jax.config.update("jax_persistent_cache_min_compile_time_secs", _MIN_SECS)

settings.register_profile(
    "landscape",
    derandomize=True,
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("landscape")

#: modules scheduled first (the longest, measured with ``--durations``), so that no long module starts last
COSTLY_FIRST = (
    "test_reproduce.py",
    "test_proofs.py",
    "test_bench.py",
    "test_bridge_models.py",
    "test_notebooks.py",
)


def pytest_configure(config):
    """Register the markers of this conftest."""
    config.addinivalue_line("markers", "float64: run inside jax.enable_x64(True) (proofs, reference checks)")


@pytest.fixture(autouse=True)
def _float64(request):
    """Enter ``jax.enable_x64(True)`` for a test marked ``float64`` (JAX's x64 flag is thread-local)."""
    if request.node.get_closest_marker("float64") is None:
        yield
        return
    with jax.enable_x64(True):
        yield


@pytest.fixture(params=["jit", "nojit"])
def jit(request):
    """``jax.jit`` or the identity: a test taking it runs jitted and not jitted (chex's variants)."""
    return jax.jit if request.param == "jit" else (lambda f, **_: f)


def _shares_a_module_fixture(item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        d.scope in ("module", "class", "package") for defs in info.name2fixturedefs.values() for d in defs
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Group the tests of a module with a module-scoped fixture (xdist loadgroup); costly modules first."""
    for item in items:
        if _shares_a_module_fixture(item) and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))

    def rank(item):
        name = item.nodeid.split("::")[0].rsplit("/", 1)[-1]
        return COSTLY_FIRST.index(name) if name in COSTLY_FIRST else len(COSTLY_FIRST)

    items.sort(key=rank)  # stable: the order inside a module (and of the other modules) is kept
