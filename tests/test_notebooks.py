"""Every notebook (jupytext percent .py) executes top to bottom in a fresh kernel, in quick mode."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.py"))


def test_the_story_has_its_notebooks():
    """The four parts of the story exist as reviewable .py notebooks."""
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_geometry", "02_ptq_failure", "03_qat_recovery", "04_proofs"} <= names


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, monkeypatch):
    """The notebook runs without error (LANDSCAPE_QUICK=1) and every code cell ran."""
    monkeypatch.setenv("LANDSCAPE_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = jupytext.read(path)
    nb = nbformat.from_dict(nb)  # a plain nbformat notebook
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "the notebook has no code cells"
    assert all(c.get("execution_count") for c in code), "a code cell did not run"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
