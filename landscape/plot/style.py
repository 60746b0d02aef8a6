"""One matplotlib style for every figure of the project: palette, fonts, sizes, saving.

* Palette: Okabe & Ito (2008), safe for the common colour-vision deficiencies; named
  roles (``COLORS["rtn"]``, ``COLORS["ste"]``...) keep a method's colour the same in
  every figure.
* Fonts: STIX (Times-like text and TeX-like mathtext), shipped with matplotlib, so
  ``$\\rho(w)$`` labels need no TeX install.
* Sizes: ``SINGLE_COLUMN`` (3.5 in) and ``DOUBLE_COLUMN`` (7.2 in) wide, fonts 8--9 pt so
  that text stays legible when the figure is printed at column width.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt

__all__ = [
    "OKABE_ITO",
    "COLORS",
    "SINGLE_COLUMN",
    "DOUBLE_COLUMN",
    "RC_PARAMS",
    "paper_style",
    "new_figure",
    "axes_or_new",
    "save_figure",
    "panel_label",
    "tex_label",
]

OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "grey": "#999999",
}

# one colour per role, the same in every figure
COLORS = {
    "river": OKABE_ITO["blue"],
    "basin": OKABE_ITO["sky"],
    "wall": OKABE_ITO["grey"],
    "grid": "#555555",
    "trained": OKABE_ITO["black"],
    "rtn": OKABE_ITO["vermillion"],
    "oracle": OKABE_ITO["green"],
    "gptq": OKABE_ITO["orange"],
    "obq": OKABE_ITO["blue"],
    "adaround": OKABE_ITO["purple"],
    "stochastic_rounding": OKABE_ITO["grey"],
    "latent": OKABE_ITO["blue"],
    "ste": OKABE_ITO["vermillion"],
    "quantized": OKABE_ITO["vermillion"],
    "theory": OKABE_ITO["black"],
}

# cycle used when a figure has several series without a role
_CYCLE = [OKABE_ITO[c] for c in ("blue", "vermillion", "green", "orange", "purple", "sky", "yellow", "black")]

SINGLE_COLUMN = 3.5  # inches (89 mm)
DOUBLE_COLUMN = 7.2  # inches (183 mm)

RC_PARAMS = {
    "font.family": "STIXGeneral",
    "mathtext.fontset": "stix",
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "legend.fontsize": 7.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "axes.prop_cycle": matplotlib.cycler(color=_CYCLE),
    "axes.linewidth": 0.7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlepad": 4.0,
    "lines.linewidth": 1.3,
    "lines.markersize": 4.5,
    "xtick.major.width": 0.7,
    "ytick.major.width": 0.7,
    "legend.frameon": False,
    "legend.handlelength": 1.6,
    "figure.dpi": 150,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # embed TrueType: editable, searchable text in the PDF
    "ps.fonttype": 42,
    "image.cmap": "viridis",
    "figure.constrained_layout.use": True,
}


@contextlib.contextmanager
def paper_style():
    """Context manager applying the project's rcParams (restored on exit; the backend's settings kept).

    matplotlib selects its backend lazily, on the first figure. Under Jupyter's inline backend that
    selection switches interactive mode on and applies the backend's own rcParams; were it to happen
    inside ``rc_context``, leaving the context would restore ``interactive = False`` and no later figure
    of the kernel would be displayed. So the backend is resolved before the style is applied, and the
    interactive mode (a session setting, not a style) is kept as it is when the context ends.
    """
    _resolve_backend()
    with plt.rc_context(RC_PARAMS):
        try:
            yield
        finally:
            interactive = matplotlib.is_interactive()
    matplotlib.interactive(interactive)


def _resolve_backend() -> None:
    """Select pyplot's backend now (a no-op once selected), so its setup runs outside any style."""
    resolve = getattr(plt, "_get_backend_mod", None)  # private (matplotlib 3.5 and later)
    if resolve is not None:
        resolve()
    else:  # pragma: no cover - older or newer matplotlib without the helper
        plt.get_backend()


def new_figure(width: str | float = "single", height: float | None = None, **subplot_kw):
    """A pyplot figure of column width ("single", "double" or inches) in the paper style.

    Extra keyword arguments go to ``fig.subplots`` when ``nrows``/``ncols`` are given,
    otherwise an empty figure is returned.
    """
    w = {"single": SINGLE_COLUMN, "double": DOUBLE_COLUMN}.get(width, width)
    w = float(w)
    h = 0.75 * w if height is None else float(height)
    with paper_style():
        fig = plt.figure(figsize=(w, h))
        if subplot_kw:
            axes = fig.subplots(**subplot_kw)
            return fig, axes
    return fig


def axes_or_new(ax=None):
    """``ax``, or the Axes of a new figure: a figure function never draws over an earlier figure."""
    if ax is not None:
        return ax
    _, new = plt.subplots()
    return new


def panel_label(ax, label: str, x: float = -0.02, y: float = 1.02) -> None:
    """Bold panel letter "(a)" at the top left of an axis (outside the data area)."""
    ax.text(x, y, f"({label})", transform=ax.transAxes, fontweight="bold", ha="right", va="bottom")


def save_figure(fig, out_dir, name: str, *, close: bool = True, provenance: str | None = None) -> dict:
    """Write ``fig`` as ``name.pdf`` (vector) and ``name.png`` (300 dpi); return both paths.

    ``provenance`` (e.g. the manifest as JSON) is stored in the PDF's Subject and the PNG's
    Description metadata, so a figure file says what produced it.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {"pdf": out_dir / f"{name}.pdf", "png": out_dir / f"{name}.png"}
    pdf_meta = {"Creator": "landscape", "Title": name}
    png_meta = {"Software": "landscape", "Title": name}
    if provenance:
        pdf_meta["Subject"] = provenance
        png_meta["Description"] = provenance
    with paper_style():
        fig.savefig(paths["pdf"], metadata=pdf_meta)
        fig.savefig(paths["png"], dpi=300, metadata=png_meta)
    if close:
        plt.close(fig)
    return paths


def tex_label(text: str) -> str:
    """Plain-text labels to mathtext: "max f" -> f_max, "r_b" -> r_b, "d=" -> d =, "k=" -> k =."""
    out = text.replace("max f", "$f_{\\max}$").replace("r_b", "$r_b$")
    out = out.replace("d=", "$d$ = ").replace("k=", "$k$ = ")
    return out
