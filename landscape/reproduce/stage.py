"""What one stage of ``landscape reproduce`` returns, and how a missing module is recorded."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

__all__ = ["StageResult", "Stage", "Missing", "Skipped", "require"]


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


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of the study as data: key, title, its datasets, its figure, its numbers and its text.

    * ``compute(cfg, key) -> {name: Dataset}`` (the first one is the figure's);
    * ``figure(ds) -> Figure`` from :mod:`landscape.plot` (or None);
    * ``numbers(cfg, datasets) -> dict`` (JSON-ready; every number computed from the datasets);
    * ``template`` -- the narrative, ``str.format``-ed with the numbers (relations such as ">" are numbers);
    * ``legacy(cfg, key) -> StageResult`` -- a stage still written as one function (wrapped as it is).
    """

    key: str
    title: str
    compute: Any = None
    figure: Any = None
    numbers: Any = None
    template: str = ""
    table: Any = None
    legacy: Any = None

    def run(self, cfg, key, **kw) -> StageResult:
        """The stage's result: compute, number, narrate, draw (or the wrapped function's result)."""
        if self.legacy is not None:
            res = self.legacy(cfg, key, **kw)
            res.key, res.title = self.key, self.title
            return res
        datasets = self.compute(cfg, key)
        nums = self.numbers(cfg, datasets) if self.numbers is not None else {}
        main = next(iter(datasets.values())) if datasets else None
        return StageResult(
            self.key,
            self.title,
            datasets=datasets,
            figure=self.figure(main) if self.figure is not None and main is not None else None,
            numbers=nums,
            narrative=self.template.format_map(nums) if self.template else "",
            table_md=self.table(nums) if self.table is not None else "",
        )
