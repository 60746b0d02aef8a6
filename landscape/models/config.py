"""What determines a bridge run: the model, its presets (quick and full), and the protocol's settings.

Same config -> same numbers: every seed is explicit (``tune_seeds`` train the networks the optimizer is
tuned on; ``eval_seeds``, disjoint from them, train the networks the verdicts are about). The full preset
of every model has :data:`FULL_EVAL_SEEDS` (24) evaluation and :data:`FULL_TUNE_SEEDS` (4) tuning seeds:
24 seeds can tell a true settling rate of 0.76 from 1/2 with 80 % power (``verdict.power_of``); the quick
preset (2 and 1) decides nothing and says so.
"""

from __future__ import annotations

import numpy as np
from pydantic import model_validator

from landscape._errors import LandscapeError, check_int_at_least
from landscape.config import Record, field
from landscape.models.quant import ALLOWED_BITS, GRIDS, METHODS, check_bits
from landscape.models.recovery import OPTIMIZERS, SCHEDULES

__all__ = [
    "MODELS",
    "MODEL_PRESETS",
    "FULL_EVAL_SEEDS",
    "FULL_TUNE_SEEDS",
    "QUICK_EVAL_SEEDS",
    "QUICK_TUNE_SEEDS",
    "BridgeConfig",
    "build_task",
]

MODELS = ("digits-mlp", "digits-cnn", "char-transformer", "markov-lm")
#: the seeds of every full preset (quick: QUICK_EVAL_SEEDS, QUICK_TUNE_SEEDS)
FULL_EVAL_SEEDS = tuple(range(24))
FULL_TUNE_SEEDS = (100, 101, 102, 103)
QUICK_EVAL_SEEDS = (0, 1)
QUICK_TUNE_SEEDS = (100,)

#: per model: settings of the quick and the full preset (BridgeConfig fields; anything else is default)
MODEL_PRESETS = {
    "digits-mlp": {
        "full": dict(
            train_steps=800, qat_steps=300, sgd_lrs=(0.3, 1.0, 3.0), adam_lrs=(3e-3, 1e-2, 3e-2, 1e-1)
        ),
        "quick": dict(
            train_steps=500,
            qat_steps=200,
            sgd_lrs=(0.3, 1.0),
            adam_lrs=(1e-2, 3e-2),
            oracle_seeds=1,
            n_probe=5,
            foot_steps=40,
        ),
    },
    # a forward-backward pass costs about 5x the MLP's: shorter runs, RTN-only tuning, one oracle seed
    "digits-cnn": {
        "full": dict(
            train_steps=800,
            qat_steps=200,
            sgd_lrs=(1.0,),
            adam_lrs=(3e-3, 1e-2, 3e-2),
            tune_methods=("rtn",),
            oracle_seeds=1,
            n_probe=5,
            foot_steps=40,
        ),
        "quick": dict(
            train_steps=500,
            qat_steps=150,
            sgd_lrs=(1.0,),
            adam_lrs=(3e-3, 3e-2),
            tune_methods=("rtn",),
            oracle_seeds=1,
            n_probe=4,
            foot_steps=30,
        ),
    },
    # RTN-only tuning and QAT only where PTQ leaves a band or the training band at 0.05 (not at 0.01)
    "char-transformer": {
        "full": dict(
            train_steps=1000,
            qat_steps=100,
            # at T = 100 the 3-bit clip rows were undecided (11/24, 12/24); at 200 they settle 24/24, 23/24
            qat_steps_by_bits=((3, 200),),
            sgd_lrs=(1.0,),
            adam_lrs=(1e-3, 3e-3),
            metric_every=10,
            n_probe=4,
            foot_steps=20,
            max_batch=8,
            tune_methods=("rtn",),
            oracle_seeds=1,
            qat_floor=0.05,
            bits=(4, 3, 2),
        ),
        "quick": dict(
            train_steps=500,
            qat_steps=100,
            sgd_lrs=(1.0,),
            adam_lrs=(1e-3,),
            metric_every=10,
            n_probe=4,
            foot_steps=20,
            max_batch=8,
            tune_methods=("rtn",),
            oracle_seeds=1,
            qat_floor=0.05,
            bits=(4, 2),
            grids=("clip",),
        ),
    },
    # the control: 48 sequences x 128 = 6144 training tokens per full-batch step (about the MLP's cost)
    "markov-lm": {
        "full": dict(
            train_steps=1000,
            qat_steps=1000,  # 300 left every run still falling; at 1000 the 4x oracle ends at the same gap
            sgd_lrs=(1.0, 3.0),
            adam_lrs=(3e-3, 1e-2),
            tune_methods=("rtn",),
            oracle_seeds=1,
            n_probe=5,
            foot_steps=40,
        ),
        "quick": dict(
            train_steps=600,
            qat_steps=200,
            sgd_lrs=(1.0,),
            adam_lrs=(1e-2,),
            tune_methods=("rtn",),
            oracle_seeds=1,
            n_probe=4,
            foot_steps=30,
        ),
    },
}


def _tuple(x):
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _n(name: str, default: int, low: int, long_name: str, units: str = "1"):
    """An integer field of at least ``low``."""
    return field(name, default, kind="int", low=low, long_name=long_name, units=units)


#: the tuple fields that take a subset of named choices
_CHOICES = {
    "grids": GRIDS,
    "methods": METHODS,
    "tune_methods": METHODS,
    "optimizers": OPTIMIZERS,
    "schedules": SCHEDULES,
}


class BridgeConfig(Record):
    """Everything that determines a bridge run of one model (see docs/bridge.md for each field).

    A :class:`~landscape.config.Record`: frozen, hashable (equal configs hash equal), unknown keys refused,
    every field checked against its range before any work (:class:`~landscape._errors.LandscapeError`).
    """

    model: str = "digits-mlp"
    quick: bool = False
    bits: tuple = (8, 4, 3, 2)  # checked by quant.check_bits (2..8), stored sorted descending
    grids: tuple = GRIDS
    methods: tuple = METHODS
    eval_seeds: tuple = field("seed", FULL_EVAL_SEEDS, long_name="evaluation seeds")
    tune_seeds: tuple = field("seed", FULL_TUNE_SEEDS, long_name="tuning seeds")
    tune_methods: tuple = METHODS
    optimizers: tuple = OPTIMIZERS
    schedules: tuple = SCHEDULES
    sgd_lrs: tuple = field("learning_rate", (0.3, 1.0, 3.0), long_name="SGD learning rates tuned")
    adam_lrs: tuple = field("learning_rate", (3e-3, 1e-2, 3e-2), long_name="Adam learning rates tuned")
    qat_steps: int = _n("num_steps", 300, 10, "STE-QAT budget T", "steps")
    #: ((bits, T_b), ...): a budget of its own for some bit widths (the rest: qat_steps); see budget()
    qat_steps_by_bits: tuple = ()
    oracle_factor: int = _n("oracle_factor", 4, 1, "oracle budget / T")
    oracle_seeds: int = _n("oracle_seeds", 2, -1, "eval seeds (the first) with an oracle run; -1: all")
    tau: float | None = field(  # None: calibrated on the full-precision null
        "tau", None, low=0, open_low=True, long_name="training- and test-loss band tau", units="nats"
    )
    qat_floor: float = field(  # QAT runs from starts outside the absolute band at this tau (or rel band)
        "qat_floor", 0.01, low=0, open_low=True, long_name="training-loss band of needs_qat", units="nats"
    )
    n_probe: int = _n("n_probe", 6, 2, "steps of each QAT run where the normal frame is measured")
    foot_steps: int = _n("foot_steps", 50, 1, "descent steps of the foot P(q)", "steps")
    metric_every: int = _n("metric_every", 1, 1, "test metric every m steps (relative band)", "steps")
    train_steps: int = _n("train_steps", 800, 1, "training steps of every network", "steps")
    n_calib: int = _n("n_calib", 512, 1, "GPTQ calibration inputs")
    max_batch: int = _n("max_batch", 16, 1, "runs per driver call")
    qat_batch: int = _n("qat_batch", 16, 1, "minibatch windows per QAT step (stream-trained models)")
    min_tune_starts: int = _n("min_tune_starts", 4, 1, "tuning starts per bit width at least")
    calib_seeds: int = _n("calib_seeds", 4, 1, "evaluation networks of the loss-to-metric calibration")
    calib_dirs: int = _n("calib_dirs", 16, 1, "random directions per network and rise")
    regime_seeds: int = _n("regime_seeds", 4, 1, "networks whose spectra locate the regime")
    k_lanczos: int = _n("k_lanczos", 10, 1, "top Hessian eigenpairs kept")
    lanczos_matvecs: int = _n("lanczos_matvecs", 40, 1, "Lanczos depth (HVPs)")
    dense_check: bool = True  # dense eigenvalues on the first regime network (d <= regime.DENSE_MAX)

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data):
        """Scalars to 1-tuples; bits sorted descending and deduplicated; seeds int, rates float."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "model" in data and data["model"] not in MODELS:
            raise LandscapeError(f"model must be one of {MODELS}; got {data['model']!r}.")
        if "bits" in data:
            data["bits"] = check_bits(_tuple(data["bits"]))
        for name, allowed in _CHOICES.items():
            if name in data:
                vals = _tuple(data[name])
                if not vals or [v for v in vals if v not in allowed]:
                    raise LandscapeError(f"{name} must be a non-empty subset of {allowed}; got {vals!r}.")
                data[name] = vals
        if "qat_steps_by_bits" in data:
            data["qat_steps_by_bits"] = _budgets(data["qat_steps_by_bits"])
        for name, kind in (("eval_seeds", int), ("tune_seeds", int), ("sgd_lrs", float), ("adam_lrs", float)):
            if name in data:
                vals = _tuple(data[name])
                ok = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                         for v in vals)  # fmt: skip
                if not vals or not ok:
                    raise LandscapeError(f"{name} must be a non-empty list of numbers; got {vals!r}.")
                data[name] = tuple(kind(v) if kind is float or float(v).is_integer() else v for v in vals)
        return data

    @model_validator(mode="after")
    def _relations(self):
        """The checks between fields: distinct disjoint seeds, metric_every <= qat_steps, Lanczos depth."""
        for name in ("eval_seeds", "tune_seeds"):
            vals = getattr(self, name)
            if len(set(vals)) != len(vals):
                raise LandscapeError(f"{name} must be distinct integers >= 0; got {vals!r}.")
        if set(self.eval_seeds) & set(self.tune_seeds):
            raise LandscapeError(
                f"eval_seeds and tune_seeds must be disjoint; both hold "
                f"{sorted(set(self.eval_seeds) & set(self.tune_seeds))}."
            )
        if self.lanczos_matvecs < self.k_lanczos:
            raise LandscapeError(
                f"lanczos_matvecs must be an integer >= k_lanczos = {self.k_lanczos}; "
                f"got {self.lanczos_matvecs}."
            )
        if self.metric_every > min(self.budgets().values()):
            raise LandscapeError(
                f"metric_every must lie in [1, smallest budget = {min(self.budgets().values())}]; "
                f"got {self.metric_every}."
            )
        return self

    @classmethod
    def preset(cls, model: str = "digits-mlp", quick: bool = False, **overrides) -> BridgeConfig:
        """The quick (2 eval seeds, 1 tuning seed) or full (24 eval, 4 tuning) configuration of a model."""
        if model not in MODELS:
            raise LandscapeError(f"model must be one of {MODELS}; got {model!r}.")
        base = dict(MODEL_PRESETS[model]["quick" if quick else "full"])
        if quick:
            base.update(
                eval_seeds=QUICK_EVAL_SEEDS,
                tune_seeds=QUICK_TUNE_SEEDS,
                calib_seeds=1,
                regime_seeds=1,
                dense_check=False,
            )
        base.update(overrides)
        return cls(model=model, quick=quick, **base)

    @property
    def oracle_steps(self) -> int:
        """Steps of the oracle run (``oracle_factor`` x the budget)."""
        return self.oracle_factor * self.qat_steps

    def budget(self, bits: int) -> int:
        """The STE-QAT budget T of bit width ``bits``: its ``qat_steps_by_bits`` entry, else ``qat_steps``."""
        return dict(self.qat_steps_by_bits).get(int(bits), self.qat_steps)

    def budgets(self) -> dict[int, int]:
        """The budget T of every bit width of the run, ``{bits: T}``."""
        return {b: self.budget(b) for b in self.bits}

    def oracle_budget(self, bits: int) -> int:
        """Steps of the oracle runs of bit width ``bits`` (``oracle_factor`` x its budget)."""
        return self.oracle_factor * self.budget(bits)

    def as_dict(self) -> dict:
        """JSON-ready fields (tuples as lists), in field order: what the JSON and the manifest record."""
        lst = lambda v: [lst(x) for x in v] if isinstance(v, tuple) else v  # noqa: E731
        return {k: lst(v) for k, v in self.model_dump().items()}


def _budgets(value) -> tuple:
    """``qat_steps_by_bits`` as sorted ((bits, T), ...): bits in 2..8, each once; T an integer >= 10."""
    items = value.items() if isinstance(value, dict) else value
    try:
        pairs = [(b, t) for b, t in items]
    except (TypeError, ValueError):
        raise LandscapeError(
            f"qat_steps_by_bits must be pairs (bits, T) or a dict {{bits: T}}; got {value!r}."
        ) from None
    out = {}
    for b, t in pairs:
        try:
            bits = check_bits((b,))[0]
        except LandscapeError:
            raise LandscapeError(
                f"qat_steps_by_bits: bit widths must lie in {ALLOWED_BITS}; got {b!r}."
            ) from None
        if not isinstance(t, (int, np.integer)) or isinstance(t, bool) or t < 10:
            raise LandscapeError(f"qat_steps_by_bits[{bits}] must be an integer in [10, inf]; got {t!r}.")
        if bits in out:
            raise LandscapeError(f"qat_steps_by_bits names bit width {bits} twice; got {value!r}.")
        out[bits] = int(t)
    return tuple(sorted(out.items(), reverse=True))


def build_task(model: str, seed: int, train_steps: int):
    """Train ``model`` from ``seed`` for ``train_steps`` steps (data, init and batches all from the seed)."""
    check_int_at_least("seed", seed, 0)
    if model == "digits-mlp":
        from landscape.models.mlp import digits_mlp

        return digits_mlp(seed, steps=train_steps, weight_decay=0.1)
    if model == "digits-cnn":
        from landscape.models.cnn import digits_cnn

        return digits_cnn(seed, steps=train_steps, weight_decay=0.1)
    if model == "char-transformer":
        from landscape.models.transformer import char_transformer

        return char_transformer(seed, steps=train_steps)
    if model == "markov-lm":
        from landscape.models.lm import markov_lm

        return markov_lm(seed, n_train=48, steps=train_steps, weight_decay=1e-2)
    raise LandscapeError(f"model must be one of {MODELS}; got {model!r}.")
