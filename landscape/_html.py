"""Rich HTML representations for Jupyter: one small table per object (``_repr_html_``), no dependencies.

Used by :class:`~landscape.Landscape`, :class:`~landscape.Trajectory` and the QAT rules; a sweep result is
an ``xarray.Dataset``, whose own HTML repr Jupyter shows.
"""

from __future__ import annotations

import html

__all__ = ["html_table", "number", "landscape_html"]


def number(x, fmt: str = ".4g") -> str:
    """A concrete scalar formatted with ``fmt``; an array or a traced value as its shape and dtype."""
    try:
        import numpy as np  # noqa: PLC0415

        a = np.asarray(x)
        if a.ndim == 0:
            return format(a.item(), fmt) if a.dtype.kind == "f" else str(a.item())
        return f"{a.dtype}{list(a.shape)}"
    except Exception:  # noqa: BLE001 - a tracer: say what it is, never fail in a repr
        return html.escape(type(x).__name__)


def html_table(title: str, rows, note: str = "") -> str:
    """An HTML table: a bold title, one (name, value) row each, and an optional note below."""
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(str(k))}</th>"
        f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    foot = f"<div style='font-size:smaller'>{html.escape(note)}</div>" if note else ""
    return f"<div><b>{html.escape(title)}</b><table>{body}</table>{foot}</div>"


def landscape_html(land, wall: str) -> str:
    """A Landscape's table: d, k, the river's centre, the wall, r_b, the river loss, the relative radii."""
    return html_table("Landscape  L(w) = ell(s) + phi(rho(w))", [
        ("dimension d", land.dim),
        ("sharp directions k", land.k),
        ("river c(s)", type(land.center).__name__),
        ("wall phi", wall),
        ("basin radius r_b", number(land.basin_radius)),
        ("river loss ell(s)", type(land.river_loss).__name__),
        ("relative radii a", number(land.aniso)),
    ])
