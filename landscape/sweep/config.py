r"""The sweep description: a TOML file validated by pydantic models (unknown keys are errors).

A sweepable field takes a number, a list of numbers, ``{linspace = [start, stop, num]}``
or ``{logspace = [start_exp, stop_exp, num]}`` (base 10, as :func:`numpy.logspace`). A
scalar is a fixed parameter; a list/linspace/logspace is an **axis**: a named dimension of
the result. The grid of cases is the cartesian product of the axes, of ``seeds`` and of
``starts`` trained points per landscape (DESIGN notation: ``theta``, ``basin_radius``
:math:`r_b`, ``kappa``, ``step`` :math:`\Delta`).

Example (``examples/sweeps/rotated_2d.toml``)::

    [sweep]
    name = "rotated-2d"
    seeds = 1
    starts = 64

    [landscape]
    family = "rotated_2d"
    theta = {linspace = [0.0, 0.785, 16]}

    [wall]
    basin_radius = 0.25
    kappa = 10.0

    [quantizer]
    step = {logspace = [-1.0, 0.0, 8]}

    [qat]
    rule = ["ste", "fp"]
    learning_rate = 0.05
    num_steps = 200
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from landscape._errors import LandscapeError
from landscape.sweep.axes import FloatAxis, IntAxis, StrAxis, check_range, float_axis, int_axis, str_axis
from landscape.sweep.rules import available_rules, get_rule

__all__ = [
    "SweepConfigError",
    "SweepConfig",
    "load_config",
    "parse_config",
    "config_hash",
]


class SweepConfigError(LandscapeError):
    """A bad sweep description: the message names each offending key, its value and what is allowed."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SweepSection(_Model):
    """[sweep]: name, seeds (an int n = seeds 0..n-1, or a list), trained starts per landscape, chunk size."""

    name: str = "sweep"
    seeds: int | list[int] = 1
    starts: int = Field(16, ge=1)
    chunk_size: int = Field(4096, ge=1)

    @model_validator(mode="after")
    def _seeds(self):
        if isinstance(self.seeds, int):
            if self.seeds < 1:
                raise ValueError(
                    f"seeds must be an integer >= 1 or a list of integers >= 0; got {self.seeds}"
                )
        else:
            if not self.seeds or any(s < 0 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
                raise ValueError(
                    f"seeds must be a non-empty list of distinct integers >= 0; got {self.seeds}"
                )
        return self

    @property
    def seed_values(self) -> tuple[int, ...]:
        """The seeds of the sweep."""
        return tuple(range(self.seeds)) if isinstance(self.seeds, int) else tuple(self.seeds)


def _params(section: str, builder, extra: dict, fixed_keys: tuple) -> dict:
    """The extra keys of a section as Axes of the builder's parameters (unknown keys and ranges checked)."""
    out = {}
    for key, value in (extra or {}).items():
        prm = builder.params.get(key)
        if prm is None:
            allowed = ", ".join(list(builder.params) + list(fixed_keys)) or "no parameters"
            raise ValueError(
                f"unknown key '{section}.{key}' (value {value!r}); {builder.name!r} takes {allowed}; "
                "check the spelling against docs/sweeps.md"
            )
        try:
            axis = int_axis(value) if prm.kind == "int" else float_axis(value)
        except ValueError as err:
            raise ValueError(f"{section}.{key} {err} (got {value!r})") from None
        check_range(key, axis, prm.low, prm.high, open_low=prm.open_low)
        out[key] = axis
    return out


def _one_of(key: str, name: str, names, shown: str | None = None) -> None:
    """Raise unless ``name`` is one of ``names`` (listed in their order; ``shown``: the name as written)."""
    if name not in names:
        raise ValueError(f"{key} must be one of {', '.join(map(repr, names))}; got {shown or name!r}")


class _Section(_Model):
    model_config = ConfigDict(extra="allow")

    def params(self) -> dict:
        """The section's parameters (name -> Axis)."""
        return dict(self.__pydantic_extra__ or {})


class _ChosenSection(_Section):
    """A section whose field names an entry of a registry table; the other keys are its parameters."""

    #: (section, the field that names the entry, the table of landscape.registry)
    _choice: ClassVar[tuple[str, str, str]]

    @model_validator(mode="after")
    def _check(self):
        import landscape.registry  # noqa: PLC0415

        section, key, table_name = self._choice
        table, name = getattr(landscape.registry, table_name), getattr(self, key)
        _one_of(key, name, sorted(table))
        self.__pydantic_extra__ = _params(section, table[name], self.__pydantic_extra__, (key,))
        return self


class LandscapeSection(_Section):
    """[landscape]: family (a name of landscape.registry.FAMILIES) and its parameters; s_range, spread."""

    family: str
    s_range: tuple[float, float] = (-50.0, 50.0)
    spread: float = Field(0.0, ge=0.0)

    @model_validator(mode="after")
    def _check(self):
        from landscape.registry import CASE_ALIASES, FAMILIES  # noqa: PLC0415

        fam = CASE_ALIASES.get(self.family, self.family)
        _one_of("family", fam, sorted(FAMILIES), self.family)
        self.family = fam
        lo, hi = self.s_range
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"s_range must be [low, high] with finite low < high; got {list(self.s_range)}")
        self.__pydantic_extra__ = _params(
            "landscape", FAMILIES[fam], self.__pydantic_extra__, ("family", "s_range", "spread")
        )
        p = self.__pydantic_extra__
        if "dim" in p or "k" in p:
            dims = p["dim"].values if "dim" in p else (FAMILIES[fam].params["dim"].default,)
            ks = p["k"].values if "k" in p else (FAMILIES[fam].params["k"].default,)
            for d in dims:
                for k in ks:
                    if k >= d:
                        raise ValueError(f"k must lie in [1, dim - 1]; got k = {k} with dim = {d}")
        return self


class WallSection(_ChosenSection):
    """[wall]: the valley profile phi (a name of landscape.registry.WALLS) and its parameters."""

    profile: str = "quadratic"
    _choice: ClassVar[tuple[str, str, str]] = ("wall", "profile", "WALLS")


class QuantizerSection(_ChosenSection):
    """[quantizer]: kind (a name of landscape.registry.QUANTIZERS) and its parameters."""

    kind: str = "uniform"
    _choice: ClassVar[tuple[str, str, str]] = ("quantizer", "kind", "QUANTIZERS")


class PTQSection(_Model):
    """[ptq]: the post-training method(s) whose point q0 starts QAT (landscape.ptq.ptq_methods)."""

    rule: StrAxis = Field(default_factory=lambda: str_axis("rtn"))

    @model_validator(mode="after")
    def _check(self):
        from landscape.registry import PTQ  # noqa: PLC0415

        for m in self.rule.values:
            _one_of("rule", m, tuple(PTQ))
        return self


class QATSection(_Model):
    """[qat]: rule names (the rule registry), optax optimizer name(s), learning rate, steps, rule options."""

    rule: StrAxis = Field(default_factory=lambda: str_axis("ste"))
    optimizer: StrAxis = Field(default_factory=lambda: str_axis("sgd"))
    learning_rate: FloatAxis = Field(default_factory=lambda: float_axis(0.05))
    num_steps: IntAxis = Field(default_factory=lambda: int_axis(200))
    options: dict[str, dict[str, float | int | bool | str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _rules(self):
        from landscape.registry import RECORDS, get_optimizer_factory  # noqa: PLC0415

        for key in ("learning_rate", "num_steps"):  # the ranges of the shared records
            prm = RECORDS[key]
            check_range(key, getattr(self, key), prm.low, prm.high, open_low=prm.open_low)
        for name in self.optimizer.values:
            try:
                get_optimizer_factory(name)
            except LandscapeError as err:
                raise ValueError(str(err)) from None
        known = available_rules()
        for name in self.rule.values:
            if name not in known:
                raise ValueError(f"rule {name!r} is not a registered QAT rule; allowed: {', '.join(known)}")
        for name in self.options:
            if name not in self.rule.values:
                raise ValueError(
                    f"options.{name} is given but {name!r} is not among the rules {list(self.rule.values)}"
                )
        for name in self.rule.values:
            try:
                get_rule(name, learning_rate=self.learning_rate.values[0], **self.options.get(name, {}))
            except (TypeError, ValueError) as err:
                opts = self.options.get(name, {})
                raise ValueError(f"rule {name!r} rejects options {opts}: {err}") from None
        return self


class SweepConfig(_Model):
    """The whole sweep description (sections sweep, landscape, wall, quantizer, ptq, qat)."""

    sweep: SweepSection = Field(default_factory=SweepSection)
    landscape: LandscapeSection
    wall: WallSection = Field(default_factory=WallSection)
    quantizer: QuantizerSection = Field(default_factory=QuantizerSection)
    ptq: PTQSection = Field(default_factory=PTQSection)
    qat: QATSection = Field(default_factory=QATSection)


def _format_errors(err: ValidationError, source: str) -> str:
    lines = [f"invalid sweep config {source}:"]
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        key = ".".join(loc) or "(top level)"
        inp = e.get("input")
        if e["type"] == "extra_forbidden":
            lines.append(f"  unknown key '{key}' (value {inp!r}); check the spelling against docs/sweeps.md")
        elif e["type"] == "missing":
            lines.append(f"  missing key '{key}'")
        else:
            msg = e["msg"].removeprefix("Value error, ")
            first = msg.split(" ", 1)[0].split(".", 1)[0]
            if first.isidentifier() and first != "Input" and isinstance(inp, dict) and first in inp:
                key = f"{key}.{first}"  # a section-level check about one of its keys
            show = "got" not in msg and not isinstance(inp, dict)
            lines.append(f"  {key}: {msg} (got {inp!r})" if show else f"  {key}: {msg}")
    return "\n".join(lines)


def parse_config(data: dict, source: str = "<dict>") -> SweepConfig:
    """Validate a sweep description given as a dict (e.g. parsed TOML)."""
    try:
        return SweepConfig.model_validate(data)
    except ValidationError as err:
        raise SweepConfigError(_format_errors(err, source)) from None


def load_config(path) -> SweepConfig:
    """Read and validate a sweep description from a TOML file."""
    path = Path(path)
    if not path.is_file():
        raise SweepConfigError(f"config file {str(path)!r} does not exist.")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise SweepConfigError(f"config file {str(path)!r} is not valid TOML: {err}") from None
    return parse_config(data, repr(str(path)))


def config_hash(cfg: SweepConfig) -> str:
    """SHA-256 of the canonical JSON of the validated config (what a results directory is bound to)."""
    blob = json.dumps(cfg.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()
