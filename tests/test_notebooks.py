"""Every notebook (jupytext percent .py) and the README's Python blocks run in a real Jupyter kernel with
the inline backend, and every figure they draw is displayed.

A code cell that draws figures says how many in its header (``# %% figures=2``); every other code cell
must display none. The count is of ``image/png`` outputs, so a figure that matplotlib drew but Jupyter
never showed (as when ``paper_style()`` once switched interactive mode off) fails the test.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
README_BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def _execute(nb, tmp_path, monkeypatch):
    """Run ``nb`` in a fresh ``python3`` kernel with Jupyter's own (inline) matplotlib backend."""
    monkeypatch.setenv("LANDSCAPE_QUICK", "1")
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel selects the inline backend itself
    client = NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code), "a code cell did not run"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    return code


def _images(cell) -> int:
    return sum("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def _assert_figures_shown(code):
    shown = [(i, _images(c), int(c.metadata.get("figures", 0))) for i, c in enumerate(code)]
    wrong = [(i, got, want) for i, got, want in shown if got != want]
    assert not wrong, f"(code cell, images shown, figures drawn): {wrong}"
    return sum(want for _, _, want in shown)


def test_the_story_has_its_notebooks():
    """The four parts of the story exist as reviewable .py notebooks."""
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_geometry", "02_ptq_failure", "03_qat_recovery", "04_proofs"} <= names


def test_figure_cells_say_how_many_figures_they_draw():
    """Each notebook's figure cells are marked, so the kernel test knows what must be shown."""
    drawn = {p.stem: sum(int(c.metadata.get("figures", 0)) for c in jupytext.read(p).cells)
             for p in NOTEBOOKS}
    assert drawn["01_geometry"] == 3 and drawn["02_ptq_failure"] == 2 and drawn["03_qat_recovery"] == 3


@pytest.mark.slow
def test_a_probe_shows_every_figure_after_paper_style(tmp_path, monkeypatch):
    """A styled figure first, then plain ones: each cell shows its figure (issue: only the first showed)."""
    cells = [
        ("import matplotlib.pyplot as plt\nfrom landscape.plot import paper_style", 0),
        ("with paper_style():\n    fig, ax = plt.subplots()\n    ax.plot([0, 1])", 1),
        ("fig, ax = plt.subplots()\nax.plot([1, 0])", 1),
        ("import matplotlib\nassert matplotlib.is_interactive()\nfig, ax = plt.subplots()", 1),
        ("with paper_style():\n    a = plt.subplots()\nb = plt.subplots()", 2),
    ]
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(src, metadata={"figures": n}) for src, n in cells]
    )
    assert _assert_figures_shown(_execute(nb, tmp_path, monkeypatch)) == 5


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_shows_every_figure(path, tmp_path, monkeypatch):
    """The notebook runs in a kernel without error (LANDSCAPE_QUICK=1) and shows each figure it draws."""
    nb = nbformat.from_dict(jupytext.read(path))
    _assert_figures_shown(_execute(nb, tmp_path, monkeypatch))


@pytest.mark.slow
def test_readme_python_blocks_in_a_kernel(tmp_path, monkeypatch):
    """The README's blocks, each pasted as one cell: the first draws nothing, the second two figures
    (the run and the phase diagram, apart) and the explorer's widgets."""
    assert len(README_BLOCKS) == 2
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(README_BLOCKS[0], metadata={"figures": 0}),
            nbformat.v4.new_code_cell(README_BLOCKS[1], metadata={"figures": 2}),
            nbformat.v4.new_code_cell(
                "assert fig is not ax.figure  # two figures, not one drawn over the other\n"
                "print(len(fig.axes), len(ax.figure.axes))",
                metadata={"figures": 0},
            ),
        ]
    )
    code = _execute(nb, tmp_path, monkeypatch)
    _assert_figures_shown(code)
    assert "RTN exit fraction" in "".join(o.get("text", "") for o in code[0].outputs)
