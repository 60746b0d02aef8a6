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

    * ``compute(cfg, key, **inputs) -> {name: Dataset}`` (the first one is the figure's); ``inputs`` are
      the runner's inputs named in ``inputs`` (e.g. ``("pending",)``: the proof check already started);
    * ``figure(ds) -> Figure`` from :mod:`landscape.plot` (or None);
    * ``numbers(cfg, datasets) -> dict`` (JSON-ready; every number computed from the datasets);
    * ``phrases(numbers) -> dict`` -- words the template needs that are not numbers (a joined list, a
      yes/NO), computed from the numbers only and not stored in summary.json;
    * ``template`` -- the narrative, ``str.format``-ed with the numbers and phrases (relations such as ">"
      are numbers);
    * ``table(numbers) -> str`` -- a markdown table under the narrative (or None).
    """

    key: str
    title: str
    compute: Any
    figure: Any = None
    numbers: Any = None
    template: str = ""
    table: Any = None
    phrases: Any = None
    inputs: tuple = ()

    def words(self, nums: dict) -> dict:
        """What the template is formatted with: the numbers, and the phrases computed from them."""
        return {**nums, **(self.phrases(nums) if self.phrases is not None else {})}

    def run(self, cfg, key, **inputs) -> StageResult:
        """The stage's result: compute, number, narrate, draw."""
        datasets = self.compute(cfg, key, **{k: inputs[k] for k in self.inputs})
        nums = self.numbers(cfg, datasets) if self.numbers is not None else {}
        main = next(iter(datasets.values())) if datasets else None
        return StageResult(
            self.key,
            self.title,
            datasets=datasets,
            figure=self.figure(main) if self.figure is not None and main is not None else None,
            numbers=nums,
            narrative=self.template.format_map(self.words(nums)) if self.template else "",
            table_md=self.table(nums) if self.table is not None else "",
        )

    def restore(self, entry: dict) -> StageResult:
        """The result recorded in a previous summary.json's ``stages[key]`` (``--only`` keeps it).

        Its numbers, files, status and time are the recorded ones; the narrative and table are written
        again from those numbers by the same template.
        """
        nums = entry.get("numbers") or {}
        ok = entry["status"] == "ok"
        return StageResult(
            self.key,
            self.title,
            status=entry["status"],
            reason=entry.get("reason") or "kept from the previous run (not rerun by --only)",
            numbers=nums,
            narrative=self.template.format_map(self.words(nums)) if ok and self.template else "",
            table_md=self.table(nums) if ok and self.table is not None else "",
            files=dict(entry.get("files") or {}),
            seconds=float(entry.get("seconds", 0.0)),
        )
