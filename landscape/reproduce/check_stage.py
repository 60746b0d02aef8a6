"""The proof-table stage: ``landscape check`` (issue 5) run in a subprocess, its JSON as a table.

The runner starts the check first (:class:`PendingCheck`), so the proof layer's attacks
run in their own process while the figures are drawn, and reads the JSON at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from landscape.reproduce.stage import Missing, StageResult

__all__ = ["check_registered", "PendingCheck", "run_check_json", "proofs_stage"]


def check_registered() -> bool:
    """Whether the ``landscape check`` command (issue 5) is registered in the CLI."""
    from landscape.cli import app  # noqa: PLC0415

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    return "check" in names


class PendingCheck:
    """``landscape check [--quick] --json PATH`` running in a subprocess (started early, read later)."""

    def __init__(self, path, quick: bool = True):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        cmd = [
            sys.executable,
            "-c",
            "from landscape.cli import app; app()",
            "check",
            "--json",
            str(self.path),
        ]
        if quick:
            cmd.insert(4, "--quick")
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def result(self, timeout: float = 1800.0) -> dict:
        """Wait for the subprocess and return the parsed JSON (raise with its stderr if none was written)."""
        _, err = self.proc.communicate(timeout=timeout)
        if not self.path.exists():
            raise RuntimeError(f"`landscape check` wrote no JSON (exit {self.proc.returncode}): {err[-800:]}")
        return json.loads(self.path.read_text())

    def close(self) -> None:
        """Terminate the subprocess if it is still running."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def run_check_json(quick: bool = True, timeout: float = 1800.0) -> dict:
    """Run ``landscape check [--quick] --json FILE`` in a subprocess and return the parsed JSON."""
    if not check_registered():
        raise Missing("the `landscape check` command is not registered (issue 5 not landed)")
    with tempfile.TemporaryDirectory() as tmp:
        pending = PendingCheck(Path(tmp) / "check.json", quick)
        try:
            return pending.result(timeout)
        finally:
            pending.close()


def _statements(data) -> list:
    if isinstance(data, dict):
        for k in ("statements", "results"):
            if isinstance(data.get(k), list):
                return data[k]
    if isinstance(data, list):
        return data
    raise RuntimeError("the check JSON has no list of statements (expected key 'statements').")


def proofs_stage(cfg, key, pending: PendingCheck | None = None) -> StageResult:
    """The proof table of ``landscape check`` (statement, status, cases, violations, tightness, mutants).

    ``pending``: a check already started (the runner starts it first, to overlap with the figures).
    """
    from landscape.reproduce.report import proof_table_md  # noqa: PLC0415

    if pending is None and not check_registered():
        raise Missing("the `landscape check` command is not registered (issue 5 not landed)")
    data = run_check_json(quick=cfg.check_quick) if pending is None else pending.result()
    stm = _statements(data)
    keep = ("id", "title", "regime", "kind", "status", "cases", "violations", "tightness")
    rows = [{k: s.get(k) for k in keep} for s in stm]
    mt, mc = (
        (data.get("mutants_total"), data.get("mutants_caught")) if isinstance(data, dict) else (None, None)
    )
    nums = {
        "statements": rows,
        "mutants_total": mt,
        "mutants_caught": mc,
        "statuses": {r["id"]: r["status"] for r in rows},
        "regimes": {r["id"]: r.get("regime") for r in rows},
        "proved_ptq_failed": [
            r["id"] for r in rows if r.get("regime") == "ptq_failed" and r["status"] == "proved"
        ],
    }
    text = (
        f"`landscape check{' --quick' if cfg.check_quick else ''}` (issue 5): {len(rows)} statements; "
        + ", ".join(f"{r['id']} {r['status']}" for r in rows)
        + "; proved for RTN-failed starts (regime ptq_failed): "
        + (", ".join(nums["proved_ptq_failed"]) or "none")
        + (f"; mutants caught {mc} of {mt}." if mt is not None else ".")
    )
    files = {} if pending is None else {"results/proofs_check": f"results/{pending.path.name}"}
    return StageResult(
        "proofs",
        "Proof table (landscape check)",
        numbers=nums,
        narrative=text,
        table_md=proof_table_md(rows, mt, mc),
        files=files,
    )
