"""Provenance of every output: config, seed, package versions, git commit, devices.

``manifest(config, seed)`` returns a JSON-serialisable dict; ``save_dataset`` writes an
``xarray.Dataset`` to netCDF atomically (temporary file, then ``os.replace``) with the
manifest in ``attrs["manifest"]`` as JSON.
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata as _md
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

__all__ = ["manifest", "git_commit", "package_versions", "save_dataset", "load_manifest", "write_json"]

_PACKAGES = ("landscape", "jax", "jaxlib", "numpy", "optax", "sympy", "xarray", "matplotlib", "hypothesis")


def package_versions() -> dict:
    """Versions of Python and the packages the results depend on."""
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = _md.version(name)
        except _md.PackageNotFoundError:
            out[name] = None
    return out


def git_commit() -> str:
    """The git commit of the source tree (suffix '-dirty' with uncommitted changes), or 'unknown'."""
    here = Path(__file__).resolve().parent
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _devices() -> list[str]:
    import jax

    return [str(d) for d in jax.devices()]


def _jsonable(obj):
    """Convert numpy/jax scalars and arrays inside a config to plain JSON types."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):
        return np.asarray(obj).tolist()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


def manifest(config: dict | None = None, seed: int | None = None, **extra) -> dict:
    """The record stored with every result: config, seed, versions, git commit, devices, time."""
    return {
        "config": _jsonable(config or {}),
        "seed": seed,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "devices": _devices(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        **_jsonable(extra),
    }


def write_json(path, obj) -> None:
    """Write ``obj`` as JSON to ``path`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(_jsonable(obj), fh, indent=2, sort_keys=False)
    os.chmod(tmp, 0o644)  # mkstemp creates 0600 files
    os.replace(tmp, path)


def save_dataset(ds, path, man: dict | None = None) -> Path:
    """Write an xarray Dataset to netCDF atomically, with the manifest as JSON in its attrs."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds = ds.copy()
    if man is not None:
        ds.attrs["manifest"] = json.dumps(_jsonable(man))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.chmod(tmp, 0o644)  # mkstemp creates 0600 files
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_manifest(ds) -> dict:
    """The manifest stored in a Dataset written by :func:`save_dataset`."""
    return json.loads(ds.attrs["manifest"])
