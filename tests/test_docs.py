"""The API reference builds from the docstrings (mkdocs + mkdocstrings, strict: a warning fails)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_api_reference_builds_with_warnings_as_errors(tmp_path):
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(tmp_path / "site"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    page = (tmp_path / "site" / "api" / "plot" / "index.html").read_text()
    for name in ("contours", "run_figure", "phase_diagram", "landscape_view"):
        assert name in page, name  # the functions' docstrings are on the page
    assert "rtn_failed_starts" in (tmp_path / "site" / "api" / "testing" / "index.html").read_text()
