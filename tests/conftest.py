"""The one test configuration: hypothesis profile, JAX compilation cache and XLA flags, float64 marker, xdist
grouping.

* ``JAX_COMPILATION_CACHE_DIR`` points at the library's cache directory (``~/.cache/landscape/jax``, or
  ``$LANDSCAPE_JAX_CACHE``; ``.pytest_cache/jax-compilation`` where that is off), shared by the xdist
  workers, every subprocess the tests start (``landscape check``, ``bench``, notebooks) and later runs
  from any clone, unless the caller set it. More than half of a cold run's CPU time is compilation.
  JAX writes an entry as one file per key; a torn read (another process writing the same key) fails
  decompression, which JAX reports as a warning and answers by compiling, never by a wrong executable.
* ``XLA_FLAGS`` gains ``SUITE_XLA_FLAGS`` (XLA's classic CPU emitters, codegen in one thread): programs
  compile about 2.5x faster and run slower, which suits a suite that runs most programs once; the numbers
  are the same (``benchmarks/compile_time.py``). ``LANDSCAPE_TEST_XLA_FLAGS`` replaces them (empty: XLA's
  defaults).
* ``@pytest.mark.float64``: the test runs inside ``jax.enable_x64(True)`` (the proof layer's precision);
  every other test runs in JAX's default float32.
* The ``jit`` fixture is parametrised (``jit``/``nojit``) and gives ``jax.jit`` or the identity: a test that
  takes it runs jitted and not jitted, as chex's variants do.
* After each module, figures are closed, and a process above ``RSS_LIMIT_BYTES`` drops JAX's in-memory caches
  and trims its heap (glibc ``malloc_trim``);
  the terminal summary prints each process's peak resident memory (the target: none above 3 GB).
* ``--dist loadfile``: a module runs in one worker, so an expensive module-scoped fixture (one quick study,
  one proof check) is computed once; modules are scheduled costliest first. (``--dist loadgroup`` would
  balance finer, but with pytest 9.2 and xdist 3.8 its grouping is silently ignored: xdist renames
  ``item._nodeid``, which pytest 9 no longer reads.)
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_ROOT = Path(__file__).resolve().parent.parent


def _test_cache_dir() -> str:
    """The library's own cache directory (``landscape.simulate.cache.cache_dir``: ``$LANDSCAPE_JAX_CACHE``,
    else ``~/.cache/landscape/jax``), so that a fresh clone on a machine that ran the suite (or the library)
    before starts warm; ``.pytest_cache/jax-compilation`` where the user turned the library's cache off."""
    import importlib.util  # noqa: PLC0415

    where = _ROOT / "landscape" / "simulate" / "cache.py"
    spec = importlib.util.spec_from_file_location("_landscape_cache", where)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # the module alone: importing the package would import JAX first
    path = mod.cache_dir()
    return str(path if path is not None else _ROOT / ".pytest_cache" / "jax-compilation")


# "1" where the caller chose the directory (read by test_conftest; xdist workers inherit the controller's)
_CALLER_SET = "JAX_COMPILATION_CACHE_DIR" in os.environ
os.environ.setdefault("LANDSCAPE_TEST_CACHE_SET_BY_CALLER", str(int(_CALLER_SET)))
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", _test_cache_dir())
# cache every compiled program that takes at least 0.05 s, as the library does for its users
# (landscape.simulate.cache.MIN_COMPILE_S; JAX's default, 1 s, misses most of the suite's programs). Keeping
# every program (0) was measured and not kept: a warm `.ci/run` took 8 min 5 s against 8 min 3 s.
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.05")

#: XLA options of the suite's processes, for compile speed: the suite compiles about 10,000 programs (two
#: workers) and runs most of them once. XLA's classic CPU emitters compile a driver program about 2.5x
#: faster than its fusion emitters (the default) and run the README's 100,000-trajectory batch 3.7-4.5x slower
#: (``benchmarks/compile_time.py``); codegen in one thread spends no CPU on splitting (both cores already run
#: a worker). The same values either way: the suite passes under XLA's defaults too (set
#: ``LANDSCAPE_TEST_XLA_FLAGS=""``). The library never sets them: a user's program gets XLA's defaults.
SUITE_XLA_FLAGS = "--xla_cpu_use_fusion_emitters=false --xla_cpu_parallel_codegen_split_count=1"


def _with_suite_xla_flags(current: str, suite: str) -> str:
    """``XLA_FLAGS`` with each of ``suite``'s options that the caller did not set already appended."""
    given = {f.split("=", 1)[0] for f in current.split()}
    extra = [f for f in suite.split() if f.split("=", 1)[0] not in given]
    return " ".join([*current.split(), *extra])


# read when JAX first compiles; xdist workers and every subprocess (CLI runs, notebook kernels) inherit it
os.environ["XLA_FLAGS"] = _with_suite_xla_flags(os.environ.get("XLA_FLAGS", ""),
                                                 os.environ.get("LANDSCAPE_TEST_XLA_FLAGS", SUITE_XLA_FLAGS))

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

#: modules scheduled first, costliest first (a study, the proof check, bridge training, subprocess runs;
#: bridge_models, bench and certify measured at 66, 45 and 38 CPU s alone), so that none starts last
COSTLY_FIRST = (
    "test_reproduce.py",
    "test_proofs.py",
    "test_bridge_models.py",
    "test_bench.py",
    "test_notebooks.py",
    "test_grid_layouts.py",
    "test_certify.py",
    "test_ptq_valley_law.py",
    "test_sweep.py",
    "test_sweep_dask.py",
    "test_bridge_decide.py",
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


@pytest.fixture(scope="session")
def suite_xla_flags():
    """(SUITE_XLA_FLAGS, the function that adds them to a caller's XLA_FLAGS), for the test of both."""
    return SUITE_XLA_FLAGS, _with_suite_xla_flags


@pytest.fixture(params=["jit", "nojit"])
def jit(request):
    """``jax.jit`` or the identity: a test taking it runs jitted and not jitted (chex's variants)."""
    return jax.jit if request.param == "jit" else (lambda f, **_: f)


#: after a module, a process whose resident memory exceeds this drops JAX's in-memory compilation caches
#: (what it needs again comes back from the persistent cache); the target is no process above 3 GB, and
#: the costliest module alone (the reproduce smoke study) peaks near 2 GB, so the limit is 1.5 GiB
RSS_LIMIT_BYTES = 3 * 2**29


def _rss_bytes() -> int | None:
    """Resident memory of this process (Linux), or None where /proc is absent."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return None


#: after any test (and between the statements of the proof module's one check), a process above this drops
#: JAX's in-memory caches at once: one module can grow a worker by more than a gigabyte (the proof check's
#: 800 programs, the geometry families), and the per-module release alone let a worker reach 2.9 GiB
RSS_TEST_LIMIT_BYTES = 2 * 2**30


def release_memory_above(limit: int | None) -> bool:
    """Clear JAX's caches and trim the heap if this process's resident memory exceeds ``limit`` (None:
    always); whether it did. Where /proc is absent only ``limit=None`` releases."""
    rss = _rss_bytes()
    if limit is not None and (rss is None or rss <= limit):
        return False
    jax.clear_caches()
    gc.collect()
    _trim_heap()
    return True


@pytest.fixture(scope="session")
def memory_release():
    """:func:`release_memory_above` itself (for the test of the guard)."""
    return release_memory_above


@pytest.fixture(scope="session")
def memory_guard(memory_release):
    """``guard()``: release JAX's caches if above RSS_TEST_LIMIT_BYTES (for fixtures that run for minutes)."""
    return lambda: memory_release(RSS_TEST_LIMIT_BYTES)


@pytest.fixture(autouse=True)
def _release_memory_after_test():
    """After each test: above RSS_TEST_LIMIT_BYTES, clear JAX's caches (a cheap read of /proc otherwise)."""
    yield
    release_memory_above(RSS_TEST_LIMIT_BYTES)


@pytest.fixture(autouse=True, scope="module")
def _release_memory():
    """After each module: close its figures; above RSS_LIMIT_BYTES (or off Linux) clear JAX's caches."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    gc.collect()
    release_memory_above(RSS_LIMIT_BYTES if _rss_bytes() is not None else None)


def _trim_heap() -> None:
    """Hand the heap's freed pages back to the system (glibc ``malloc_trim``; a no-op elsewhere).

    Without it a worker's resident memory stays at its high-water mark after the caches are dropped (a toy
    measurement: 531 MB resident after 119 compiles, 496 MB after ``jax.clear_caches``, 240 MB trimmed).
    """
    import ctypes  # noqa: PLC0415
    import ctypes.util  # noqa: PLC0415

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        pass


def _peak_rss_bytes() -> dict:
    """Peak resident memory of this process and of its largest finished child (``getrusage``), in bytes."""
    import resource  # noqa: PLC0415  (POSIX only; absent on Windows)

    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss is in bytes on macOS, in KiB on Linux
    return {
        "self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit,
        "children": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * unit,
    }


def pytest_sessionfinish(session):
    """An xdist worker hands its peak memory to the controller (``workeroutput``)."""
    if hasattr(session.config, "workeroutput"):
        try:
            session.config.workeroutput["peak_rss"] = _peak_rss_bytes()
        except ImportError:
            pass


_PEAKS: dict = {}


@pytest.hookimpl(optionalhook=True)  # an xdist hook
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per usable core, at most one per 3 GiB of memory (the per-process target)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return cores
    return max(1, min(cores, memory // (3 * 2**30)))


@pytest.hookimpl(optionalhook=True)  # an xdist hook: absent when xdist is not loaded
def pytest_testnodedown(node, error):
    """The controller records each worker's peak memory."""
    peak = getattr(node, "workeroutput", {}).get("peak_rss")
    if peak is not None:
        _PEAKS[node.gateway.id] = peak


def pytest_terminal_summary(terminalreporter):
    """Print the peak resident memory of each process (the suite's target: none above 3 GB)."""
    try:
        peaks = dict(_PEAKS, main=_peak_rss_bytes())
    except ImportError:
        return
    gib = 2**30
    rows = [f"{k} {p['self'] / gib:.2f} / {p['children'] / gib:.2f}" for k, p in sorted(peaks.items())]
    terminalreporter.write_line("peak resident memory (GiB; self / largest subprocess): " + ", ".join(rows))


def pytest_collection_modifyitems(config, items):
    """Costly modules first (the order inside a module, and of the other modules, is kept)."""
    def rank(item):
        name = item.nodeid.split("::")[0].rsplit("/", 1)[-1]
        return COSTLY_FIRST.index(name) if name in COSTLY_FIRST else len(COSTLY_FIRST)

    items.sort(key=rank)  # stable: the order inside a module (and of the other modules) is kept
