"""What one stage of ``landscape reproduce`` returns, and how a missing module is recorded."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

__all__ = ["StageResult", "Missing", "Skipped", "require"]


class Missing(Exception):
    """Raised by a stage whose input module (another area of the project) is not available."""


class Skipped(Missing):
    """Raised by a stage that is available but not run in this mode (e.g. too slow for --quick)."""


def require(module: str, *names: str):
    """Import ``module`` (and return its attributes ``names``), or raise :class:`Missing` saying which."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise Missing(f"module `{module}` is not available ({exc})") from None
    if not names:
        return mod
    out = []
    for n in names:
        if not hasattr(mod, n):
            raise Missing(f"`{module}` has no `{n}`")
        out.append(getattr(mod, n))
    return out[0] if len(out) == 1 else tuple(out)


@dataclasses.dataclass
class StageResult:
    """One figure (or table) of the study: its data, figure, numbers and narrative.

    ``status`` is "ok", "missing" (an input module of another area is absent: ``reason``
    says which), "skipped" (not run in this mode) or "error" (the stage raised: ``reason``
    holds the message).
    """

    key: str
    title: str
    status: str = "ok"
    reason: str = ""
    datasets: dict = dataclasses.field(default_factory=dict)
    figure: Any = None
    numbers: dict = dataclasses.field(default_factory=dict)
    narrative: str = ""
    table_md: str = ""
    files: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
