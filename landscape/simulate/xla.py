"""How the driver's programs are compiled: the XLA options, chosen for the host and probed once.

On a host with AVX-512, LLVM is asked for 512-bit vectors (its default prefers 256): the step's loop
fusions are arithmetic-bound, and this makes them about 1.5x faster (``docs/performance.md``). The option
changes only the vector width, not an operation or its rounding. On any other backend (GPU, TPU) no
option is passed. Whether this XLA knows the option is learnt from the driver's first program (an XLA
that refuses it says so, and the program is rebuilt without it), not from a probe program of its own.
"""

from __future__ import annotations

import jax
import numpy as np

__all__ = ["OPTIONS", "compiler_options"]


def _host_has_avx512() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " avx512f" in line for line in f)
    except OSError:
        return False


#: the options the driver asks for on this host
OPTIONS = {"xla_cpu_prefer_vector_width": 512} if _host_has_avx512() else {}
_OK: bool | None = None  # None: not yet compiled with them in this process


def options_in_use() -> bool:
    """Whether the driver builds its next program with :data:`OPTIONS` (no probe: see :func:`rejected`)."""
    return bool(OPTIONS) and _OK is not False and jax.default_backend() == "cpu"


def rejected(exc: BaseException) -> bool:
    """Whether ``exc`` is this XLA refusing one of :data:`OPTIONS`; if so, stop asking for them."""
    global _OK
    if OPTIONS and "compile option" in str(exc) and any(name in str(exc) for name in OPTIONS):
        _OK = False
        return True
    return False


def accepted() -> None:
    """Record that a program was built with :data:`OPTIONS`."""
    global _OK
    _OK = True


def compiler_options() -> dict:
    """The XLA compiler options the driver's programs are built with ({} where this XLA lacks them)."""
    global _OK
    if jax.default_backend() != "cpu":  # CPU-only options never reach a GPU or TPU compiler
        return {}
    if _OK is None and OPTIONS:  # asked before any run (a report): probe with a tiny program
        try:
            jax.jit(lambda x: x + 1, compiler_options=OPTIONS).lower(np.float32(0)).compile()
            _OK = True
        except Exception:  # an XLA without the option: build without it
            _OK = False
    return dict(OPTIONS) if _OK is not False else {}
