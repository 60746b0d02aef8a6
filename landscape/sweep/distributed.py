"""Multi-process sweeps through ``jax.distributed``: settings from flags or the environment.

Each process computes the chunks ``i`` with ``i % num_processes == process_id`` on its
local devices and writes them into the shared results directory; processes meet at
barriers (``multihost_utils.sync_global_devices``, gloo collectives on CPU) after the
directory is bound to the config and after all chunks are written; process 0 assembles.
Environment variables: ``LANDSCAPE_COORDINATOR_ADDRESS``, ``LANDSCAPE_NUM_PROCESSES``,
``LANDSCAPE_PROCESS_ID``.
"""

from __future__ import annotations

import dataclasses
import os

from landscape._errors import LandscapeError

__all__ = ["ProcessSettings", "process_settings", "initialize", "barrier"]


@dataclasses.dataclass(frozen=True)
class ProcessSettings:
    """Coordinator address, number of processes and this process's id."""

    coordinator: str | None = None
    num_processes: int = 1
    process_id: int = 0

    @property
    def multi(self) -> bool:
        """Whether this is a multi-process run."""
        return self.num_processes > 1


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise LandscapeError(f"environment variable {name} must be an integer; got {raw!r}.") from None


def process_settings(coordinator=None, num_processes=None, process_id=None) -> ProcessSettings:
    """Settings from the flags, falling back to the LANDSCAPE_* environment variables."""
    coordinator = coordinator or os.environ.get("LANDSCAPE_COORDINATOR_ADDRESS") or None
    n = num_processes if num_processes is not None else _env_int("LANDSCAPE_NUM_PROCESSES")
    pid = process_id if process_id is not None else _env_int("LANDSCAPE_PROCESS_ID")
    n = 1 if n is None else n
    pid = 0 if pid is None else pid
    if n < 1:
        raise LandscapeError(f"num_processes must be an integer >= 1; got {n}.")
    if not 0 <= pid < n:
        raise LandscapeError(f"process_id must lie in [0, {n - 1}] for num_processes = {n}; got {pid}.")
    if n > 1 and not coordinator:
        raise LandscapeError(
            "a multi-process sweep needs a coordinator address (host:port): pass --coordinator "
            "or set LANDSCAPE_COORDINATOR_ADDRESS."
        )
    return ProcessSettings(coordinator, n, pid)


def initialize(settings: ProcessSettings) -> None:
    """Start jax.distributed for a multi-process run (gloo collectives on CPU); no-op for one process."""
    if not settings.multi:
        return
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(
        coordinator_address=settings.coordinator,
        num_processes=settings.num_processes,
        process_id=settings.process_id,
    )


def barrier(settings: ProcessSettings, name: str) -> None:
    """Wait until every process reaches this point (no-op for one process)."""
    if settings.multi:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def shutdown(settings: ProcessSettings) -> None:
    """Stop jax.distributed after a multi-process run."""
    if settings.multi:
        import jax

        jax.distributed.shutdown()
