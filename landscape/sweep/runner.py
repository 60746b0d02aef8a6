"""Run a sweep: bind DIR to the config, compute the missing chunks, assemble one Dataset.

Chunks are launched asynchronously: while the devices compute chunk ``i + 1`` the host
writes chunk ``i``. Each group of cases with the same static structure is compiled once
(all its chunks are padded to one batch size). A run interrupted at any point loses at
most the chunks in flight; rerunning the same command computes only what is missing.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
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

from landscape.manifest import manifest, save_dataset
from landscape.sweep.config import SweepConfig, SweepConfigError
from landscape.sweep.distributed import ProcessSettings, barrier
from landscape.sweep.execute import OUTPUTS, GroupRunner, local_mesh, static_axes
from landscape.sweep.grid import make_grid
from landscape.sweep.spec import SweepSpec
from landscape.sweep.store import SweepStore, assemble_dataset

__all__ = ["run_sweep", "RESULT_NAME"]

RESULT_NAME = "result.nc"


_RUNNERS: dict[tuple, GroupRunner] = {}
_MAX_RUNNERS = 8


def _runner(spec: SweepSpec, grid, group: int, mesh) -> GroupRunner:
    """The compiled runner of a group, reused across calls with the same sweep and devices."""
    key = (spec.hash, group, tuple(d.id for d in mesh.devices.flat))
    if key not in _RUNNERS:
        while len(_RUNNERS) >= _MAX_RUNNERS:
            _RUNNERS.pop(next(iter(_RUNNERS)))
        _RUNNERS[key] = GroupRunner(spec, grid, group, mesh)
    return _RUNNERS[key]


class _MemoryStore:
    """The in-memory stand-in of a store: nothing done before, nothing written."""

    def __init__(self, grid):
        self.grid = grid

    def todo(self, indices):
        return list(indices)

    def write_chunk(self, chunk, outputs, seconds):
        return None

    def assemble(self, known):
        flat = {n: np.empty(self.grid.n_cases, dtype=dt) for n, (dt, *_) in OUTPUTS.items()}
        seconds = 0.0
        for i, (vals, sec) in known.items():
            c = self.grid.chunk(i)
            seconds += sec
            for n, v in vals.items():
                flat[n][c.start : c.stop] = v
        return assemble_dataset(self.grid, flat), seconds


def as_spec(cfg) -> SweepSpec:
    """A SweepSpec from a validated TOML config (or a SweepSpec, returned as it is)."""
    if isinstance(cfg, SweepSpec):
        return cfg
    if isinstance(cfg, SweepConfig):
        return cfg.to_spec()
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


def run_sweep(
    cfg,
    out=None,
    *,
    settings: ProcessSettings | None = None,
    devices=None,
    progress: bool = True,
    console: Console | None = None,
) -> xr.Dataset | None:
    """Run (or resume) the sweep ``cfg`` (a SweepSpec or a TOML SweepConfig); return the Dataset (process 0).

    With ``out`` (a directory) every chunk is stored and a rerun computes only the missing ones (and says
    "resumed N of M chunks"); without it everything stays in memory. ``devices`` defaults to all local
    devices; the batch axis of every chunk is sharded over them. Other processes of a multi-process run
    return None.
    """
    t0 = time.perf_counter()
    spec = as_spec(cfg)
    settings = settings or ProcessSettings()
    grid = make_grid(spec, static_axes(spec))
    if out is None:
        if settings.multi:
            raise SweepConfigError("a multi-process sweep needs a store directory (out=...).")
        store = _MemoryStore(grid)
    else:
        store = SweepStore(Path(out), spec, grid)
        if settings.process_id == 0:
            store.init()
        barrier(settings, "landscape-sweep-config")
        if settings.process_id != 0 and not store.check_config():
            raise SweepConfigError(f"process {settings.process_id}: {out} was not initialised by process 0.")

    mine = [i for i in range(grid.n_chunks) if i % settings.num_processes == settings.process_id]
    todo = store.todo(mine)
    resumed = len(mine) - len(todo)
    if out is not None and resumed and (progress or console is not None):
        (console or Console(stderr=True)).print(
            f"resumed {resumed} of {len(mine)} chunks from {out} (stored and checksummed); "
            f"computing the other {len(todo)}",
            highlight=False,
            soft_wrap=True,
        )
    total = sum(grid.chunk(i).size for i in mine)
    done_cases = total - sum(grid.chunk(i).size for i in todo)
    mesh = local_mesh(devices)
    label = f"sweep {spec.name}"
    if settings.multi:
        label += f" [process {settings.process_id}/{settings.num_processes}]"

    known: dict[int, tuple] = {}  # chunks computed here: outputs kept for the assembly
    with _progress(progress, console) as bar, ThreadPoolExecutor(max_workers=1) as writer:
        task = bar.add_task(label, total=total, completed=done_cases)
        runner: GroupRunner | None = None
        pending = None
        writes = []

        def finish(item):
            chunk, result, started = item
            outputs = GroupRunner.fetch(result, chunk)
            seconds = time.perf_counter() - started
            known[chunk.index] = (outputs, seconds)
            # the file is written by a writer thread while the devices compute the next chunk
            fut = writer.submit(store.write_chunk, chunk, outputs, seconds)
            fut.add_done_callback(lambda f, n=chunk.size: f.exception() is None and bar.advance(task, n))
            writes.append(fut)

        for i in todo:
            chunk = grid.chunk(i)
            if runner is None or runner.group != chunk.group:
                runner = _runner(spec, grid, chunk.group, mesh)
                idle = 1 - min(grid.chunk_size, grid.group_size) / runner.batch
                if idle > 0.25 and progress:
                    bar.console.print(
                        f"[yellow]note:[/yellow] chunks of {grid.chunk_size} cases are padded to "
                        f"{runner.batch} ({runner.micro} per micro-batch x {mesh.devices.size} devices): "
                        f"{idle:.0%} of the work is padding; use a chunk_size that is a multiple of "
                        f"{runner.micro * mesh.devices.size}."
                    )
            started = time.perf_counter()
            result = runner.launch(chunk)
            if pending is not None:
                finish(pending)
            pending = (chunk, result, started)
        if pending is not None:
            finish(pending)
        for fut in writes:
            fut.result()  # re-raises a failed write

    barrier(settings, "landscape-sweep-chunks")
    if settings.process_id != 0:
        return None
    ds, compute_s = store.assemble(known)
    man = manifest(
        spec.description,
        seed=list(spec.seeds),
        config_hash=spec.hash,
        n_cases=grid.n_cases,
        n_chunks=grid.n_chunks,
        chunk_size=grid.chunk_size,
        dims={d: len(grid.axes[d]) for d in grid.dims},
        processes=settings.num_processes,
        local_devices=[str(d) for d in mesh.devices.flat],
        chunks_computed_by_process_0=len(todo),
        chunks_resumed=resumed,
        compute_seconds=compute_s,
        wall_time_s=time.perf_counter() - t0,
    )
    ds.attrs.update(_describe_attrs(spec))
    if out is not None:
        save_dataset(ds, store.root / RESULT_NAME, man)
    ds.attrs["manifest"] = json.dumps(man)
    return ds


def _describe_attrs(spec) -> dict:
    """What each part of the sweep was (names, qualnames), as Dataset attributes."""
    out = {f"{role}_part": p.label for role, p in spec.parts.items()}
    out.update(sweep_name=spec.name, starts=int(spec.starts), s_range=list(spec.s_range), spread=spec.spread)
    return out
