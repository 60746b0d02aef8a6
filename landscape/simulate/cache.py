r"""JAX's persistent compilation cache, on by default: a warm start in every process.

Every process that runs the driver compiles its programs (0.7-1.7 s for a batched 2-D run on the
development machine). With the persistent cache the compiled executables are written to disk and a
second process (a notebook restart, a CLI call, a test worker) loads them instead of compiling.

Where: ``$LANDSCAPE_JAX_CACHE`` if set (a directory; ``0``, ``off``, ``false``, ``no`` or an empty
value turns the cache off), else ``$XDG_CACHE_HOME/landscape/jax`` (``~/.cache/landscape/jax``).
A directory the user already gave JAX (``jax_compilation_cache_dir`` / ``JAX_COMPILATION_CACHE_DIR``)
is left as it is. The cache is keyed by JAX on the program, the backend, the device and the compiler
options, so one directory serves CPU and GPU processes alike; it never changes a result.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["ENV", "cache_dir", "enable"]

#: the environment variable that moves or disables the cache
ENV = "LANDSCAPE_JAX_CACHE"
_OFF = {"0", "off", "false", "no", ""}
#: programs that compile faster than this are not written (the driver's take 0.1-2 s)
MIN_COMPILE_S = 0.05


def cache_dir() -> Path | None:
    """The directory the cache uses in this process (None: off)."""
    raw = os.environ.get(ENV)
    if raw is not None:
        return None if raw.strip().lower() in _OFF else Path(raw).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "landscape" / "jax"


def enable() -> Path | None:
    """Point JAX's persistent compilation cache at :func:`cache_dir` (unless the user configured one)."""
    import jax

    if jax.config.jax_compilation_cache_dir:  # the user's own choice (flag or JAX_COMPILATION_CACHE_DIR)
        return Path(jax.config.jax_compilation_cache_dir)
    path = cache_dir()
    if path is None:
        return None
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # a read-only home: run without the cache rather than fail
        return None
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", MIN_COMPILE_S)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path
