"""A resolved sweep against the registry: ranges checked, defaults recorded, clipping warned about.

Every value of a registry part's parameter is checked against its range before any work
(:func:`check_ranges`); every parameter a part takes and was not given is recorded with its default
(:func:`record_defaults`: the Dataset's coordinates and the manifest then say what ran); a range of trained
points along the river that reaches beyond a clipped grid is warned about (:func:`warn_clipped`).
"""

from __future__ import annotations

import numpy as np

from landscape import registry as B
from landscape.sweep.axes import Axis

__all__ = ["check_ranges", "record_defaults", "warn_clipped"]


def _registry_params(parts):
    """(name, Param) of every parameter of the parts built from a registry entry (families, walls, grids)."""
    regs = {"landscape": B.FAMILIES, "wall": B.WALLS, "quantizer": B.QUANTIZERS}
    for role, p in parts.items():
        reg = regs.get(role)
        if reg is not None and p.label in reg:
            yield from reg[p.label].params.items()


def record_defaults(parts, values, learning_rate: float) -> None:
    """Add the default of every parameter a registry part (or a named rule) takes and was not given, as a
    fixed value: the sweep records every parameter it used, in the Dataset's coordinates and the manifest."""
    for n, prm in _registry_params(parts):
        if n not in values and prm.default is not None:
            values[n] = Axis(values=(prm.default,), swept=False)
    if "rule" in values and "learning_rate" not in values:
        values["learning_rate"] = Axis(values=(learning_rate,), swept=False)


def _clip_range(quantizer):
    """(low, high) of the values a uniform grid can take, in weight units (None: unclipped or not a grid)."""
    need = ("step", "offset", "qmin", "qmax")
    if not all(hasattr(quantizer, a) for a in need):
        return None
    step, off, lo, hi = (np.asarray(getattr(quantizer, a), np.float64) for a in need)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None
    ends = np.stack([off + step * lo, off + step * hi])
    return float(np.max(ends[0])), float(np.min(ends[1]))


def warn_clipped(parts, values, s_range, seed) -> None:
    """Warn when the trained points' range along the river, s_range, reaches beyond the grid's clip range."""
    first = {n: a.values[0] for n, a in values.items()}
    try:
        rng = _clip_range(parts["quantizer"].build(first, seed))
    except Exception:  # noqa: BLE001 - a part that cannot be built here is reported when the sweep runs
        return
    reach = max(abs(s_range[0]), abs(s_range[1]))
    if rng is not None and reach > max(abs(rng[0]), abs(rng[1])):
        import warnings

        warnings.warn(
            f"s_range = [{s_range[0]:g}, {s_range[1]:g}] places trained points up to |s| = {reach:g} along "
            f"the river, beyond the grid's clip range [{rng[0]:.4g}, {rng[1]:.4g}] (weight units): far "
            "points are clipped by the quantizer. Pass s_range within the clip range to keep them.",
            UserWarning, stacklevel=3)


def check_ranges(parts, values) -> None:
    """Each value of a registry part's parameter checked against its range (before any work)."""
    for n, prm in _registry_params(parts):
        for v in values[n].values if n in values else ():
            prm.check(n, v)
    names = [B.RULE_ALIASES.get(n, n) for n in (values["rule"].values if "rule" in values else ())]
    for entry in [B.RULES[n] for n in names if n in B.RULES]:  # learning_rate and each numeric option
        for n, prm in entry.params.items():
            for v in values[n].values if n in values else ():
                prm.check_concrete(n, v)
