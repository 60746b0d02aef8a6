"""Run a sweep: bind DIR to the config, compute the missing chunks as Dask tasks, write them as they finish.

Each chunk (:mod:`landscape.sweep.grid`) is one task, :func:`~landscape.sweep.execute.compute_chunk`, on a
``dask.distributed`` cluster: a ``LocalCluster`` of worker processes on this machine by default, or any
running cluster given by its scheduler's address (one started with dask-jobqueue on Slurm or PBS, or
on Kubernetes). The scheduler hands chunks to workers as they free up; a worker that dies loses only the
chunks it held, which the scheduler runs again elsewhere. This process writes each finished chunk's
region of ``DIR/result.zarr`` and its done marker (:mod:`landscape.sweep.store`), so an interrupted sweep
resumes chunk by chunk ("resumed N of M chunks"). Small sweeps run in this process, chunk after chunk
(``scheduler="synchronous"``; see :func:`run_sweep`).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import xarray as xr
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from landscape._errors import LandscapeError
from landscape.manifest import manifest
from landscape.sweep.config import SweepConfig, SweepConfigError
from landscape.sweep.execute import compute_chunk, static_axes
from landscape.sweep.grid import make_grid
from landscape.sweep.spec import SweepSpec, spec_from_config
from landscape.sweep.store import RESULT_NAME, MemoryStore, SweepStore

__all__ = ["run_sweep", "RESULT_NAME", "as_spec", "AUTO_CLUSTER_STEPS"]

#: ``scheduler=None`` starts a LocalCluster when the work left holds at least this many case-steps
#: (cases x num_steps; about 10 s of 2-D STE on one core); smaller sweeps run in this process
AUTO_CLUSTER_STEPS = 200_000_000


def as_spec(cfg) -> SweepSpec:
    """A SweepSpec from a validated TOML config (or a SweepSpec, returned as it is)."""
    if isinstance(cfg, SweepSpec):
        return cfg
    if isinstance(cfg, SweepConfig):
        return spec_from_config(cfg)
    raise SweepConfigError(f"expected a SweepSpec or a SweepConfig; got {type(cfg).__name__}.")


class _CasesPerSecond(ProgressColumn):
    """Throughput of the progress task in cases per second."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- cases/s" if speed is None else f"{speed:,.0f} cases/s", style="progress.data.speed")


def _progress(enabled: bool, console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _CasesPerSecond(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console or Console(stderr=True),
        disable=not enabled,
    )


def _case_steps(spec, grid, todo) -> int:
    steps = max(int(v) for v in spec.values["num_steps"].values)
    return sum(grid.chunk(i).size for i in todo) * steps


class _Cluster:
    """The Dask client of a sweep: a new LocalCluster of processes, or a running cluster (closed if ours)."""

    def __init__(self, scheduler):
        from dask.distributed import Client, LocalCluster  # noqa: PLC0415

        from landscape.simulate.parallel import host_cores  # noqa: PLC0415

        self.own = None
        if isinstance(scheduler, Client):
            self.client, self.own_client = scheduler, False
        elif scheduler == "processes":
            import jax  # noqa: PLC0415

            # on a GPU one worker process (each process would claim most of the device's memory)
            n = host_cores() if jax.default_backend() == "cpu" else 1
            self.own = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
            self.client, self.own_client = Client(self.own), True
        else:
            self.client, self.own_client = Client(scheduler), True
        self.workers = len(self.client.scheduler_info().get("workers", {}))

    def close(self):
        if self.own_client:
            self.client.close()
        if self.own is not None:
            self.own.close()


def _scheduler_label(scheduler) -> str:
    if scheduler == "synchronous" or scheduler == "processes":
        return scheduler
    return str(getattr(scheduler, "scheduler", None) and scheduler.scheduler.address or scheduler)


def run_sweep(
    cfg,
    out=None,
    *,
    scheduler=None,
    devices=None,
    progress: bool = True,
    console: Console | None = None,
) -> xr.Dataset:
    """Run (or resume) the sweep ``cfg`` (a SweepSpec or a TOML SweepConfig); return its Dataset.

    With ``out`` (a directory) every chunk is written into ``out/result.zarr`` as it finishes and a rerun
    computes only the missing ones (and says "resumed N of M chunks"); the Dataset returned is then the
    store opened lazily (``xarray.open_zarr``). Without ``out`` everything stays in memory.
    ``scheduler``: ``"processes"`` (a LocalCluster of one worker process per core), ``"synchronous"``
    (this process), a scheduler address (``"tcp://host:8786"``) or a ``dask.distributed.Client``; None
    picks ``"processes"`` when the work left is at least :data:`AUTO_CLUSTER_STEPS` case-steps, there
    is more than one chunk and JAX runs on the CPU, else ``"synchronous"`` (on a GPU this process drives
    the device; a LocalCluster there has one worker). ``devices`` (local devices, synchronous only) shards
    each chunk's batch over them. Ctrl-C stops after saying what is stored.
    """
    t0 = time.perf_counter()
    spec = as_spec(cfg)
    grid = make_grid(spec, static_axes(spec))
    console = console or Console(stderr=True)
    if out is None:
        store = MemoryStore(grid)
    else:
        store = SweepStore(Path(out), spec, grid)
        store.init()
    todo = store.todo(range(grid.n_chunks))
    resumed = grid.n_chunks - len(todo)
    if out is not None and resumed and progress:
        console.print(f"resumed {resumed} of {grid.n_chunks} chunks from {out}; "
                      f"computing the other {len(todo)}", highlight=False, soft_wrap=True)
    if scheduler is None:
        import jax  # noqa: PLC0415

        big = len(todo) > 1 and _case_steps(spec, grid, todo) >= AUTO_CLUSTER_STEPS
        cpu = jax.default_backend() == "cpu"
        scheduler = "processes" if big and cpu and devices is None else "synchronous"
    if devices is not None and scheduler != "synchronous":
        raise LandscapeError(
            "devices= shards chunks over this process's devices: use scheduler='synchronous'.")
    total = grid.n_cases
    done_cases = total - sum(grid.chunk(i).size for i in todo)
    workers = 1
    try:
        with _progress(progress, console) as bar:
            task = bar.add_task(f"sweep {spec.name}", total=total, completed=done_cases)

            def keep(index, outputs, seconds):
                chunk = grid.chunk(index)
                store.write_chunk(chunk, outputs, seconds)
                bar.advance(task, chunk.size)

            if scheduler == "synchronous":
                for i in todo:
                    keep(*compute_chunk(spec, i, devices))
            elif todo:
                workers = _run_on_cluster(spec, todo, scheduler, keep)
    except KeyboardInterrupt:
        if out is not None:
            console.print(f"interrupted: {store.done_count()} of {grid.n_chunks} chunks are stored in "
                          f"{Path(out) / RESULT_NAME}; the same sweep with the same directory resumes "
                          "from there.",
                          highlight=False, soft_wrap=True)
        raise
    man = manifest(
        spec.description,
        seed=list(spec.seeds),
        config_hash=spec.hash,
        n_cases=grid.n_cases,
        n_chunks=grid.n_chunks,
        chunk_size=grid.chunk_size,
        dims={d: len(grid.axes[d]) for d in grid.dims},
        scheduler=_scheduler_label(scheduler),
        workers=workers,
        chunks_computed=len(todo),
        chunks_resumed=resumed,
        compute_seconds=store.compute_seconds(),
        wall_time_s=time.perf_counter() - t0,
    )
    return store.finish({**_describe_attrs(spec), "manifest": json.dumps(man)})


def _run_on_cluster(spec, todo, scheduler, keep) -> int:
    """Submit every chunk as a task; hand each result to ``keep`` as it finishes; return the worker count."""
    from dask.distributed import as_completed  # noqa: PLC0415

    cluster = _Cluster(scheduler)
    try:
        client = cluster.client
        spec_f = client.scatter(spec, broadcast=True)
        futures = [client.submit(compute_chunk, spec_f, i, key=f"landscape-sweep-{spec.hash[:12]}-{i}")
                   for i in todo]
        try:
            for fut in as_completed(futures):
                keep(*fut.result())
                fut.release()
        finally:
            client.cancel(futures)
        return cluster.workers
    finally:
        cluster.close()


def _describe_attrs(spec) -> dict:
    """What each part of the sweep was (names, qualnames), as Dataset attributes."""
    out = {f"{role}_part": p.label for role, p in spec.parts.items()}
    out.update(sweep_name=spec.name, starts=int(spec.starts), s_range=list(spec.s_range), spread=spec.spread)
    return out
