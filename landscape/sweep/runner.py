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
from landscape.sweep.config import SweepConfig, SweepConfigError, config_hash
from landscape.sweep.distributed import ProcessSettings, barrier
from landscape.sweep.execute import GroupRunner, local_mesh
from landscape.sweep.grid import make_grid
from landscape.sweep.store import SweepStore

__all__ = ["run_sweep", "RESULT_NAME"]

RESULT_NAME = "result.nc"


_RUNNERS: dict[tuple, GroupRunner] = {}
_MAX_RUNNERS = 8


def _runner(cfg: SweepConfig, grid, group: int, mesh) -> GroupRunner:
    """The compiled runner of a group, reused across calls with the same config and devices."""
    key = (config_hash(cfg), group, tuple(d.id for d in mesh.devices.flat))
    if key not in _RUNNERS:
        while len(_RUNNERS) >= _MAX_RUNNERS:
            _RUNNERS.pop(next(iter(_RUNNERS)))
        _RUNNERS[key] = GroupRunner(cfg, grid, group, mesh)
    return _RUNNERS[key]


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
    cfg: SweepConfig,
    out,
    *,
    settings: ProcessSettings | None = None,
    devices=None,
    progress: bool = True,
    console: Console | None = None,
) -> xr.Dataset | None:
    """Run (or resume) the sweep ``cfg`` into directory ``out``; return the Dataset (process 0).

    ``devices`` defaults to all local devices; the batch axis of every chunk is sharded
    over them. Other processes of a multi-process run return None.
    """
    t0 = time.perf_counter()
    settings = settings or ProcessSettings()
    grid = make_grid(cfg)
    store = SweepStore(Path(out), cfg, grid)
    if settings.process_id == 0:
        store.init()
    barrier(settings, "landscape-sweep-config")
    if settings.process_id != 0 and not store.check_config():
        raise SweepConfigError(f"process {settings.process_id}: {out} was not initialised by process 0.")

    mine = [i for i in range(grid.n_chunks) if i % settings.num_processes == settings.process_id]
    todo = store.todo(mine)
    total = sum(grid.chunk(i).size for i in mine)
    done_cases = total - sum(grid.chunk(i).size for i in todo)
    mesh = local_mesh(devices)
    label = f"sweep {cfg.sweep.name}"
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
                runner = _runner(cfg, grid, chunk.group, mesh)
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
        cfg.model_dump(mode="json"),
        seed=list(cfg.sweep.seed_values),
        config_hash=config_hash(cfg),
        n_cases=grid.n_cases,
        n_chunks=grid.n_chunks,
        chunk_size=grid.chunk_size,
        dims={d: len(grid.axes[d]) for d in grid.dims},
        processes=settings.num_processes,
        local_devices=[str(d) for d in mesh.devices.flat],
        chunks_computed_by_process_0=len(todo),
        compute_seconds=compute_s,
        wall_time_s=time.perf_counter() - t0,
    )
    save_dataset(ds, store.root / RESULT_NAME, man)
    ds.attrs["manifest"] = json.dumps(man)
    return ds
