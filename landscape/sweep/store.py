"""The results directory of a sweep: config lock, the Zarr store written by region, done markers.

Layout of ``DIR``::

    sweep.json              the validated config and its hash (a DIR serves one config)
    result.zarr/            the result: one array per output over the swept dimensions, one Zarr chunk
                            per sweep chunk (:attr:`Grid.zarr_chunks`); coordinates, long names, units;
                            the manifest in its attributes once every chunk is in
    done/c000042.json       chunk 42 is in result.zarr (written after its region, atomically)

A chunk's region is written by the process that runs the sweep as soon as the chunk's task finishes
(workers only compute); then its marker. A chunk without a marker -- never computed, computed by a
worker that died, or interrupted while its region was written -- is computed again and its region
rewritten whole, so nothing is lost or counted twice. ``xarray.open_zarr(DIR / "result.zarr")`` reads
the result lazily.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from landscape.manifest import write_json
from landscape.sweep.config import SweepConfigError
from landscape.sweep.execute import OUTPUTS
from landscape.sweep.grid import Chunk, Grid

__all__ = ["SweepStore", "MemoryStore", "RESULT_NAME", "assemble_dataset", "coord_attrs"]

RESULT_NAME = "result.zarr"
#: Zarr format 2: read by every Zarr library (format 3 has no stable encoding of string coordinates yet)
ZARR_FORMAT = 2

_FILL = {np.dtype(np.bool_): False, np.dtype(np.int32): -1}


def _fill(dtype):
    dtype = np.dtype(dtype)
    return np.nan if dtype.kind == "f" else _FILL[dtype]


class SweepStore:
    """Reads and writes one sweep's results directory."""

    def __init__(self, out, spec, grid: Grid):
        self.root = Path(out)
        self.spec, self.grid = spec, grid
        self.hash = spec.hash
        self.path = self.root / RESULT_NAME
        self.done_dir = self.root / "done"

    # -- config lock ---------------------------------------------------------------------
    def check_config(self) -> bool:
        """Raise if DIR holds another config; return whether DIR already holds this one."""
        meta = self.root / "sweep.json"
        if not meta.exists():
            return False
        try:
            stored = json.loads(meta.read_text())
            stored_hash = stored["config_hash"]
        except (OSError, ValueError, KeyError) as err:
            raise SweepConfigError(f"{meta} is unreadable ({err}); remove it or use another --out.") from None
        if stored_hash != self.hash:
            raise SweepConfigError(
                f"the directory {str(self.root)!r} holds results of a different sweep "
                f"(stored hash {stored_hash[:12]}, this sweep {self.hash[:12]}). Use a new --out "
                f"directory, or delete {str(self.root)!r} to start over."
            )
        return True

    def init(self) -> None:
        """Bind DIR to this config and create the empty Zarr store (idempotent; refuses another config)."""
        bound = self.check_config()
        self.done_dir.mkdir(parents=True, exist_ok=True)
        if bound and (self.path / ".zgroup").exists():
            return
        template = assemble_dataset(self.grid, None)
        template.to_zarr(self.path, mode="w", compute=False, consolidated=False, zarr_format=ZARR_FORMAT)
        write_json(
            self.root / "sweep.json",
            {
                "config_hash": self.hash,
                "config": self.spec.description,
                "n_cases": self.grid.n_cases,
                "n_chunks": self.grid.n_chunks,
                "shape": dict(zip(self.grid.axes, self.grid.shape, strict=True)),
            },
        )

    # -- chunks --------------------------------------------------------------------------
    def _marker(self, index: int) -> Path:
        return self.done_dir / f"c{index:06d}.json"

    def todo(self, indices) -> list[int]:
        """The chunks among ``indices`` without a done marker."""
        return [i for i in indices if not self._marker(i).exists()]

    def done_count(self) -> int:
        """How many chunks are stored."""
        return sum(1 for _ in self.done_dir.glob("c*.json"))

    def write_chunk(self, chunk: Chunk, outputs: dict[str, np.ndarray], seconds: float) -> None:
        """Write a chunk's region of result.zarr, then its marker."""
        region = self.grid.region(chunk)
        shape = tuple(s.stop - s.start for s in region.values())
        dims = tuple(region)
        part = xr.Dataset({n: (dims, np.asarray(v).reshape(shape)) for n, v in outputs.items()})
        part.to_zarr(self.path, region=region, consolidated=False, zarr_format=ZARR_FORMAT)
        fd, tmp = tempfile.mkstemp(dir=self.done_dir, prefix=".c", suffix=".tmp")
        with os.fdopen(fd, "w") as fh:
            json.dump({"chunk": chunk.index, "cases": [chunk.start, chunk.stop], "compute_seconds": seconds},
                      fh)
        os.replace(tmp, self._marker(chunk.index))

    def compute_seconds(self) -> float:
        """Summed compute time of the stored chunks."""
        return float(sum(json.loads(p.read_text())["compute_seconds"] for p in self.done_dir.glob("c*.json")))

    def finish(self, attrs: dict) -> xr.Dataset:
        """Store the Dataset attributes (the manifest included) and open the result lazily."""
        import zarr  # noqa: PLC0415

        group = zarr.open_group(str(self.path), mode="r+", zarr_format=ZARR_FORMAT)
        group.attrs.update(_attrs(attrs))
        zarr.consolidate_metadata(str(self.path), zarr_format=ZARR_FORMAT)  # xarray.open_zarr(path) reads it
        return xr.open_zarr(self.path)


class MemoryStore:
    """The in-memory stand-in of a store: nothing done before; chunks kept in flat arrays."""

    def __init__(self, grid: Grid):
        self.grid = grid
        self.flat = {n: np.full(grid.n_cases, _fill(dt), dtype=dt) for n, (dt, *_) in OUTPUTS.items()}
        self.seconds = 0.0

    def todo(self, indices):
        """Every chunk."""
        return list(indices)

    def done_count(self) -> int:
        """Nothing is stored."""
        return 0

    def write_chunk(self, chunk: Chunk, outputs, seconds) -> None:
        """Keep a chunk's outputs."""
        self.seconds += seconds
        for n, v in outputs.items():
            self.flat[n][chunk.start : chunk.stop] = v

    def compute_seconds(self) -> float:
        """Summed compute time of the chunks."""
        return self.seconds

    def finish(self, attrs: dict) -> xr.Dataset:
        """The Dataset, with ``attrs``."""
        ds = assemble_dataset(self.grid, self.flat)
        ds.attrs.update(_attrs(attrs))
        return ds


def _attrs(attrs: dict) -> dict:
    """Dataset attributes as netCDF and Zarr hold them: dicts as JSON strings, the rest as they are."""
    return {k: json.dumps(v) if isinstance(v, dict) else v for k, v in attrs.items()}


def coord_attrs(name: str) -> dict:
    """long_name and units of a sweep parameter (from the builders' registry)."""
    from landscape.registry import PARAM_INFO  # noqa: PLC0415

    long, units = PARAM_INFO.get(name, (name.replace("_", " "), "1"))
    if name in ("rule", "optimizer", "ptq"):
        long, units = {"rule": "QAT rule", "optimizer": "optax optimizer", "ptq": "PTQ method"}[name], ""
    return {"long_name": long, "units": units} if units else {"long_name": long}


def assemble_dataset(grid: Grid, flat: dict | None) -> xr.Dataset:
    """The flat per-case outputs as one Dataset over the swept dimensions, with long names and units.

    ``flat`` None: an empty template (lazy Dask arrays of fill values, chunked as the store's chunks).
    """
    dims = grid.dims
    shape = tuple(len(grid.axes[d]) for d in dims)
    coords = {}
    for n, vals in grid.coords().items():
        coords[n] = (n, vals, coord_attrs(n)) if grid.axes[n].swept else ((), vals[0], coord_attrs(n))
    if flat is None:
        import dask.array as da  # noqa: PLC0415

        chunks = tuple(grid.zarr_chunks[d] for d in dims)
        flat = {n: da.full(shape, _fill(dt), dtype=dt, chunks=chunks) for n, (dt, *_) in OUTPUTS.items()}
    data = {
        n: (dims, flat[n].reshape(shape), {"long_name": long, "units": units})
        for n, (_, long, units) in OUTPUTS.items()
    }
    return xr.Dataset(data, coords=coords)
