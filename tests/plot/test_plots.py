"""The shared style and the figure functions: palette, sizes, files, labels, no overlapping text."""

from __future__ import annotations

import jax
import matplotlib
import matplotlib.image as mpimg
import numpy as np
import pytest

import landscape as L
from landscape.plot import anatomy_figure, run_figure, style
from landscape.plot.lint import text_overlaps, unlabelled_axes
from landscape.simulate.chatter import cycle_points
from landscape.studies import figures_data as studies

OKABE_ITO_HEX = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}


def test_palette_is_okabe_ito():
    """Every named colour comes from the Okabe-Ito palette (or greys)."""
    cols = {c.upper() for c in style.OKABE_ITO.values()}
    assert OKABE_ITO_HEX <= cols
    for role, c in style.COLORS.items():
        rgb = np.array(matplotlib.colors.to_rgb(c))
        is_grey = np.ptp(rgb) < 1e-6
        assert c.upper() in cols or is_grey, role


def test_column_sizes_and_fonts():
    """Single and double column widths (inches) and a legible base font size."""
    assert style.SINGLE_COLUMN == pytest.approx(3.5)
    assert style.DOUBLE_COLUMN == pytest.approx(7.2)
    assert 7.0 <= style.RC_PARAMS["font.size"] <= 10.0
    assert style.RC_PARAMS["mathtext.fontset"] == "stix"
    assert style.RC_PARAMS["pdf.fonttype"] == 42


def test_tex_label():
    """Plain-text scenario names become mathtext."""
    assert style.tex_label("d=64, k=4, max f < 2 r_b") == "$d$ = 64, $k$ = 4, $f_{\\max}$ < 2 $r_b$"


@pytest.fixture(scope="module")
def anatomy_ds():
    return studies.anatomy_dataset(0.5, 1.0, 0.45, 10.0, jax.random.PRNGKey(0), n_mesh=41)


def test_save_figure_writes_vector_pdf_and_300dpi_png(tmp_path, anatomy_ds):
    """save_figure writes a PDF and a 300-dpi PNG that is not blank."""
    fig = anatomy_figure(anatomy_ds)
    width_in = fig.get_size_inches()[0]
    paths = style.save_figure(fig, tmp_path, "anat")
    pdf = paths["pdf"].read_bytes()
    assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-1024:]
    img = mpimg.imread(paths["png"])
    assert img.shape[1] >= 0.8 * 300 * width_in  # bbox "tight" may trim a little, never to 150 dpi
    assert float(np.var(img[..., :3])) > 1e-3


def test_anatomy_points(anatomy_ds):
    """Figure 1's data: w* on the river, RTN outside the basin, the oracle inside."""
    rho = anatomy_ds["point_rho"]
    rb = anatomy_ds.attrs["basin_radius"]
    assert float(rho.sel(point="trained")) < 1e-4
    assert float(rho.sel(point="rtn")) > rb
    assert float(rho.sel(point="oracle")) <= rb


def test_anatomy_and_trajectory_figures_are_readable(anatomy_ds):
    """Labelled axes, titles, and no overlapping text in figures 1 and 4."""
    fig = anatomy_figure(anatomy_ds)
    assert not unlabelled_axes(fig)
    assert not text_overlaps(fig)
    ls, qz = studies.rotated_case(0.5, 1.0, 0.45)
    w0 = studies.rtn_failed_starts(ls, qz, jax.random.PRNGKey(1), 1)[0]
    rule = L.ste(0.05)
    tr = L.run(ls, qz, rule, w0, 40, key=jax.random.PRNGKey(0), record_path=True)
    assert int(tr.hit_time) >= 0 and not bool(tr.diverged)  # compatible grid: STE re-enters the basin
    fig = run_figure(tr, ls, qz, rule, n=41)
    assert not unlabelled_axes(fig)
    assert not text_overlaps(fig)
    assert all(ax.get_title(loc="left") for ax in fig.axes)


def test_cycle_points_finds_a_planted_two_cycle():
    """chatter.cycle_points (the figures' cycle) returns exactly the points of a planted 2-cycle."""
    q = np.array([[0.0, 0.0], [1.0, 0.0]] * 50)
    cyc = cycle_points(q, window=10)
    assert cyc.shape == (2, 2)
