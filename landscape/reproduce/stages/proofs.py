"""The proof table as a stage: the statements of ``landscape check`` (status, cases, violations, tightness).

The runner starts the check before the figures (:class:`~landscape.reproduce.pending_check.PendingCheck`)
and hands it to this stage as its input ``pending``; the stage reads the check's JSON into a Dataset over
``statement`` whose ``source_file`` is that JSON (listed in summary.json, not saved again).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from landscape.reproduce.pending_check import check_registered
from landscape.reproduce.stage import Missing, Stage

__all__ = ["PROOFS", "check_dataset", "FIELDS"]

#: the fields of a statement that the table shows
FIELDS = ("id", "title", "regime", "k_range", "kind", "status", "cases", "violations", "tightness")


def _statements(data) -> list:
    if isinstance(data, dict):
        for k in ("statements", "results"):
            if isinstance(data.get(k), list):
                return data[k]
    if isinstance(data, list):
        return data
    raise RuntimeError("the check JSON has no list of statements (expected key 'statements').")


def check_dataset(data, source_file=None) -> xr.Dataset:
    """The JSON of ``landscape check`` as a Dataset over ``statement`` (values kept exactly, as objects)."""
    stm = _statements(data)
    columns = {k: np.empty(len(stm), dtype=object) for k in FIELDS}
    for i, s in enumerate(stm):
        for k in FIELDS:
            columns[k][i] = s.get(k)
    ds = xr.Dataset({k: (("statement",), v) for k, v in columns.items()},
                    coords={"statement": np.arange(len(stm))})
    meta = data if isinstance(data, dict) else {}
    ds.attrs.update(mutants_total=meta.get("mutants_total"), mutants_caught=meta.get("mutants_caught"))
    if source_file is not None:
        ds.attrs["source_file"] = str(source_file)
    return ds


def _proofs(cfg, key, pending=None):
    """The check's statements, read from the JSON of the check the runner started (``pending``)."""
    if pending is None:
        if not check_registered():
            raise Missing("the `landscape check` command is not registered")
        raise Missing("the proof check was not started (the runner starts it: the stage's input `pending`)")
    return {"proofs_check": check_dataset(pending.result(), source_file=pending.path)}


def _proofs_numbers(cfg, dss):
    ds = dss["proofs_check"]
    rows = [{k: ds[k].values[i] for k in FIELDS} for i in range(ds.sizes["statement"])]
    return {
        "statements": rows,
        "mutants_total": ds.attrs["mutants_total"],
        "mutants_caught": ds.attrs["mutants_caught"],
        "statuses": {r["id"]: r["status"] for r in rows},
        "regimes": {r["id"]: r.get("regime") for r in rows},
        "proved_ptq_failed": [
            r["id"] for r in rows if r.get("regime") == "ptq_failed" and r["status"] == "proved"
        ],
        "proved_in_basin": [
            r["id"] for r in rows if r.get("regime") == "in_basin" and r["status"] == "proved"
        ],
        "quick": bool(cfg.check_quick),
    } | ({"only": list(cfg.check_only)} if cfg.check_only else {})


def _proofs_phrases(nums):
    mt, mc = nums["mutants_total"], nums["mutants_caught"]
    return {
        "command": "landscape check" + (" --quick" if nums["quick"] else "")
        + (f" --only {','.join(nums['only'])}" if nums.get("only") else ""),
        "n_statements": len(nums["statements"]),
        "each_status": ", ".join(f"{r['id']} {r['status']}" for r in nums["statements"]),
        "proved": ", ".join(nums["proved_ptq_failed"]) or "none",
        "proved_in_basin": ", ".join(nums.get("proved_in_basin", [])) or "none",
        "mutants": f"; mutants caught {mc} of {mt}" if mt is not None else "",
    }


def _proof_table(nums):
    from landscape.reproduce.report import proof_table_md  # noqa: PLC0415

    return proof_table_md(nums["statements"], nums["mutants_total"], nums["mutants_caught"])


PROOFS = Stage(
    "proofs",
    "Proof table (landscape check)",
    _proofs,
    None,
    _proofs_numbers,
    "`{command}`: {n_statements} statements; {each_status}; proved for RTN-failed trained points on the "
    "river (regime ptq_failed): {proved}; for trained points inside the basin whose RTN point is outside "
    "(regime in_basin, the paper's setting): {proved_in_basin}{mutants}.",
    table=_proof_table,
    phrases=_proofs_phrases,
    inputs=("pending",),
)
