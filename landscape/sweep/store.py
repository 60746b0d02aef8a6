"""The results directory of a sweep: config lock, atomic checksummed chunk files, assembly.

Layout of ``DIR``::

    sweep.json              the validated config and its hash (a DIR serves one config)
    chunks/c000042.nc       outputs of chunk 42 (netCDF, written to a temporary file then renamed)
    chunks/c000042.sha256   SHA-256 of that file and the config hash, written after it
    result.nc               the assembled xarray Dataset with its manifest

A chunk counts as done only when its file and checksum exist and agree; anything else
(a missing checksum, a truncated or altered file) is deleted and recomputed.
"""

from __future__ import annotations

import hashlib
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

__all__ = ["SweepStore"]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _atomic_bytes(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class SweepStore:
    """Reads and writes one sweep's results directory."""

    def __init__(self, out, spec, grid: Grid):
        self.root = Path(out)
        self.spec, self.grid = spec, grid
        self.hash = spec.hash
        self.chunk_dir = self.root / "chunks"

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
        """Bind DIR to this config (idempotent; refuses a different config)."""
        if self.check_config():
            self.chunk_dir.mkdir(parents=True, exist_ok=True)
            return
        self.chunk_dir.mkdir(parents=True, exist_ok=True)
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
    def chunk_path(self, index: int) -> Path:
        """Path of a chunk's netCDF file."""
        return self.chunk_dir / f"c{index:06d}.nc"

    def _sum_path(self, index: int) -> Path:
        return self.chunk_dir / f"c{index:06d}.sha256"

    def is_done(self, index: int) -> bool:
        """Whether a chunk's file exists, matches its checksum and belongs to this config."""
        path, sums = self.chunk_path(index), self._sum_path(index)
        if not (path.exists() and sums.exists()):
            return False
        try:
            digest, _, config = sums.read_text().split()
        except (OSError, ValueError):
            return False
        return config == self.hash and digest == _sha256(path)

    def discard(self, index: int) -> None:
        """Remove a chunk's file, checksum and leftover temporary files."""
        for p in (self.chunk_path(index), self._sum_path(index)):
            p.unlink(missing_ok=True)
        for tmp in self.chunk_dir.glob(f".c{index:06d}.*.tmp"):
            tmp.unlink(missing_ok=True)

    def todo(self, indices) -> list[int]:
        """The chunks among ``indices`` that are not done (invalid leftovers are discarded)."""
        out = []
        for i in indices:
            for tmp in self.chunk_dir.glob(f".c{i:06d}.*.tmp"):
                tmp.unlink(missing_ok=True)  # left by an interrupted writer of this chunk
            if not self.is_done(i):
                self.discard(i)
                out.append(i)
        return out

    def write_chunk(self, chunk: Chunk, outputs: dict[str, np.ndarray], seconds: float) -> None:
        """Write a chunk's outputs atomically, then its checksum."""
        ds = xr.Dataset(
            {
                n: ("case", np.asarray(v), {"long_name": OUTPUTS[n][1], "units": OUTPUTS[n][2]})
                for n, v in outputs.items()
            },
            coords={
                "case": (
                    "case",
                    np.arange(chunk.start, chunk.stop, dtype=np.int64),
                    {"long_name": "case number (C order over the grid)", "units": "1"},
                )
            },
            attrs={"chunk": chunk.index, "config_hash": self.hash, "compute_seconds": float(seconds)},
        )
        path = self.chunk_path(chunk.index)
        fd, tmp = tempfile.mkstemp(dir=self.chunk_dir, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        try:
            ds.to_netcdf(tmp, engine="h5netcdf")
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        _atomic_bytes(self._sum_path(chunk.index), f"{_sha256(path)}  {path.name}  {self.hash}\n".encode())

    def read_chunk(self, chunk: Chunk) -> tuple[dict[str, np.ndarray], float]:
        """A done chunk's outputs and compute time (raises if missing or corrupted)."""
        if not self.is_done(chunk.index):
            raise FileNotFoundError(f"chunk {chunk.index} is missing or corrupted in {self.chunk_dir}.")
        with xr.open_dataset(self.chunk_path(chunk.index), engine="h5netcdf") as ds:  # noqa: SIM117
            case = ds["case"].values
            if case.shape != (chunk.size,) or case[0] != chunk.start or ds.attrs["config_hash"] != self.hash:
                raise ValueError(f"chunk file {self.chunk_path(chunk.index)} does not hold cases {chunk}.")
            return {n: ds[n].values for n in OUTPUTS}, float(ds.attrs["compute_seconds"])

    # -- assembly ------------------------------------------------------------------------
    def assemble(self, known: dict | None = None) -> tuple[xr.Dataset, float]:
        """All chunks as one Dataset over the swept dimensions, and the summed compute time.

        ``known`` maps chunk index -> (outputs, seconds) for chunks already in memory (those
        written by this process in this run); the others are read from their files.
        """
        known = known or {}
        grid = self.grid
        flat = {n: np.empty(grid.n_cases, dtype=spec_dt) for n, (spec_dt, *_) in OUTPUTS.items()}
        seconds = 0.0
        for i in range(grid.n_chunks):
            chunk = grid.chunk(i)
            vals, sec = known[i] if i in known else self.read_chunk(chunk)
            seconds += sec
            for n, v in vals.items():
                flat[n][chunk.start : chunk.stop] = v
        return assemble_dataset(grid, flat), seconds


def coord_attrs(name: str) -> dict:
    """long_name and units of a sweep parameter (from the builders' registry)."""
    from landscape.registry import PARAM_INFO  # noqa: PLC0415

    long, units = PARAM_INFO.get(name, (name.replace("_", " "), "1"))
    if name in ("rule", "optimizer", "ptq"):
        long, units = {"rule": "QAT rule", "optimizer": "optax optimizer", "ptq": "PTQ method"}[name], ""
    return {"long_name": long, "units": units} if units else {"long_name": long}


def assemble_dataset(grid: Grid, flat: dict) -> xr.Dataset:
    """The flat per-case outputs as one Dataset over the swept dimensions, with long names and units."""
    dims = grid.dims
    shape = tuple(len(grid.axes[d]) for d in dims)
    coords = {}
    for n, vals in grid.coords().items():
        coords[n] = (n, vals, coord_attrs(n)) if grid.axes[n].swept else ((), vals[0], coord_attrs(n))
    data = {
        n: (dims, flat[n].reshape(shape), {"long_name": long, "units": units})
        for n, (_, long, units) in OUTPUTS.items()
    }
    return xr.Dataset(data, coords=coords)
