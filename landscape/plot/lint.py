"""Checks a reviewer would make on a figure: overlapping text, unlabelled axes.

Used by the tests on every figure of ``landscape reproduce``; useful on any matplotlib figure.
"""

from __future__ import annotations

import itertools

__all__ = ["text_overlaps", "unlabelled_axes"]


def text_overlaps(fig, *, skip_3d: bool = True) -> list:
    """Pairs of visible, non-empty texts (labels, titles, ticks, legends) whose boxes overlap."""
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    texts = []
    for t in fig.texts + ([fig._suptitle] if fig._suptitle else []):
        texts.append(t)
    for lg in fig.legends:
        texts += list(lg.get_texts())
    for ax in fig.axes:
        if skip_3d and ax.name == "3d":
            continue
        texts += [ax.xaxis.label, ax.yaxis.label, ax.title, ax._left_title, ax._right_title]
        (x0, x1), (y0, y1) = sorted(ax.get_xlim()), sorted(ax.get_ylim())
        texts += [t for t in ax.get_xticklabels() if x0 <= t.get_position()[0] <= x1]
        texts += [t for t in ax.get_yticklabels() if y0 <= t.get_position()[1] <= y1]
        texts += [t for t in ax.texts]
        if ax.get_legend() is not None:
            texts += list(ax.get_legend().get_texts())
    seen, unique = set(), []
    for t in texts:  # the suptitle is also in fig.texts
        if id(t) not in seen:
            seen.add(id(t))
            unique.append(t)
    texts = [t for t in unique if t.get_visible() and t.get_text().strip()]
    boxes = [(t, t.get_window_extent(r)) for t in texts]
    bad = []
    for (a, ba), (b, bb) in itertools.combinations(boxes, 2):
        inter_w = min(ba.x1, bb.x1) - max(ba.x0, bb.x0)
        inter_h = min(ba.y1, bb.y1) - max(ba.y0, bb.y0)
        if inter_w > 1.0 and inter_h > 1.0:
            bad.append((a.get_text(), b.get_text()))
    return bad


def unlabelled_axes(fig) -> list:
    """2-D data axes (not colorbars) without an x or y label (a label on a shared sibling counts)."""
    out = []
    for ax in fig.axes:
        if ax.name == "3d" or ax.get_label() == "<colorbar>":
            continue
        shared_x = ax.get_shared_x_axes().get_siblings(ax)
        shared_y = ax.get_shared_y_axes().get_siblings(ax)
        has_x = bool(ax.get_xlabel()) or any(o.get_xlabel() for o in shared_x if o is not ax)
        has_y = bool(ax.get_ylabel()) or any(o.get_ylabel() for o in shared_y if o is not ax)
        if not has_x or not has_y:
            out.append(ax)
    return out
