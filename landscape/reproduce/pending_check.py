"""``landscape check`` in a subprocess, for the proof-table stage (:mod:`landscape.reproduce.stages.proofs`).

The runner starts the check first (:class:`PendingCheck`), so the proof layer's attacks
run in their own process while the figures are drawn, and the stage reads the JSON at the end.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

__all__ = ["check_registered", "PendingCheck"]


def check_registered() -> bool:
    """Whether the proof layer (the ``proofs`` package behind ``landscape check``) can be imported."""
    return importlib.util.find_spec("proofs") is not None


class PendingCheck:
    """``landscape check [--quick] [--only IDS] --json PATH`` in a subprocess (started early, read later)."""

    def __init__(self, path, quick: bool = True, only: tuple = ()):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.unlink(missing_ok=True)
        self.cmd = [sys.executable, "-m", "landscape", "check", *(["--quick"] if quick else []),
                    *(["--only", ",".join(only)] if only else []), "--json", str(self.path)]
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

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
