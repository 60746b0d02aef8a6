"""What determines a bridge run: the model, its presets (quick and full), and the protocol's settings.

Same config -> same numbers: every seed is explicit (``tune_seeds`` train the networks the optimizer is
tuned on; ``eval_seeds``, disjoint from them, train the networks the verdicts are about).
"""

from __future__ import annotations

from pydantic import model_validator

from landscape._errors import LandscapeError, check_int_at_least
from landscape.config import Record, field
from landscape.models.quant import GRIDS, METHODS, check_bits
from landscape.models.recovery import OPTIMIZERS, SCHEDULES

__all__ = ["MODELS", "MODEL_PRESETS", "BridgeConfig", "build_task"]

MODELS = ("digits-mlp", "digits-cnn", "char-transformer", "markov-lm")

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
    # one tuning seed, RTN-only tuning and QAT only where PTQ leaves the band at tau (not at 0.01)
    "char-transformer": {
        "full": dict(
            train_steps=1000,
            qat_steps=100,
            sgd_lrs=(1.0,),
            adam_lrs=(1e-3, 3e-3),
            metric_every=10,
            n_probe=4,
            foot_steps=20,
            max_batch=8,
            tune_methods=("rtn",),
            tune_seeds=(100,),
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
            qat_steps=300,
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


def _n(name, default, low, long_name=""):
    return field(name, default, kind="int", low=low, long_name=long_name or name)


class BridgeConfig(Record):
    """Everything that determines a bridge run of one model (see docs/bridge.md for each field)."""

    model: str = "digits-mlp"
    quick: bool = False
    bits: tuple = (8, 4, 3, 2)
    grids: tuple = GRIDS
    methods: tuple = METHODS
    eval_seeds: tuple = field("seed", (0, 1, 2, 3, 4))
    tune_seeds: tuple = field("seed", (100, 101))
    tune_methods: tuple = METHODS
    optimizers: tuple = OPTIMIZERS
    schedules: tuple = SCHEDULES
    sgd_lrs: tuple = field("learning_rate", (0.3, 1.0, 3.0))
    adam_lrs: tuple = field("learning_rate", (3e-3, 1e-2, 3e-2))
    qat_steps: int = _n("num_steps", 300, 10)
    oracle_factor: int = _n("oracle_factor", 4, 1)
    oracle_seeds: int = _n("oracle_seeds", 2, -1)  # eval seeds (the first ones) with the oracle run (-1: all)
    tau: float = field("tau", 0.05, long_name="absolute band on the training loss", units="nats")
    qat_floor: float = field(  # QAT runs from starts outside the absolute band at this tau (or relative band)
        "qat_floor", 0.01, low=0, open_low=True, long_name="QAT floor", units="nats"
    )
    n_probe: int = _n("n_probe", 6, 2)  # steps of each QAT run where the normal frame is measured
    foot_steps: int = _n("foot_steps", 50, 1)  # descent steps of the foot P(q)
    metric_every: int = _n("metric_every", 1, 1)  # test metric every m steps (relative band resolution)
    train_steps: int = _n("train_steps", 800, 1)
    n_calib: int = _n("n_calib", 512, 1)
    max_batch: int = _n("max_batch", 16, 1)  # runs per driver call
    qat_batch: int = _n("qat_batch", 16, 1)  # minibatch windows per QAT step (models trained on a stream)

    @model_validator(mode="before")
    @classmethod
    def _normalize(cls, data):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("model", "digits-mlp") not in MODELS:
            raise LandscapeError(f"model must be one of {MODELS}; got {data['model']!r}.")
        if "bits" in data:
            data["bits"] = check_bits(_tuple(data["bits"]))
        for name, allowed in (
            ("grids", GRIDS),
            ("methods", METHODS),
            ("tune_methods", METHODS),
            ("optimizers", OPTIMIZERS),
            ("schedules", SCHEDULES),
        ):
            if name in data:
                vals = _tuple(data[name])
                bad = [v for v in vals if v not in allowed]
                if not vals or bad:
                    raise LandscapeError(f"{name} must be a non-empty subset of {allowed}; got {vals!r}.")
                data[name] = vals
        for name in ("eval_seeds", "tune_seeds"):
            if name in data:
                vals = tuple(int(s) for s in _tuple(data[name]))
                if not vals or any(s < 0 for s in vals) or len(set(vals)) != len(vals):
                    raise LandscapeError(f"{name} must be distinct integers >= 0; got {vals!r}.")
                data[name] = vals
        for name in ("sgd_lrs", "adam_lrs"):
            if name in data:
                vals = tuple(float(v) for v in _tuple(data[name]))
                if not vals:
                    raise LandscapeError(f"{name} must name at least one learning rate in (0, inf).")
                data[name] = vals
        return data

    @model_validator(mode="after")
    def _check(self):
        if set(self.eval_seeds) & set(self.tune_seeds):
            raise LandscapeError(
                f"eval_seeds and tune_seeds must be disjoint; both hold "
                f"{sorted(set(self.eval_seeds) & set(self.tune_seeds))}."
            )
        if self.metric_every > self.qat_steps:
            raise LandscapeError(
                f"metric_every must lie in [1, qat_steps = {self.qat_steps}]; got {self.metric_every}."
            )
        return self

    @classmethod
    def preset(cls, model: str = "digits-mlp", quick: bool = False, **overrides) -> BridgeConfig:
        """The quick (2 eval seeds, 1 tuning seed) or full (5 eval, 2 tuning) configuration of a model."""
        if model not in MODELS:
            raise LandscapeError(f"model must be one of {MODELS}; got {model!r}.")
        base = dict(MODEL_PRESETS[model]["quick" if quick else "full"])
        if quick:
            base.update(eval_seeds=(0, 1), tune_seeds=(100,))
        base.update(overrides)
        return cls(model=model, quick=quick, **base)

    @property
    def oracle_steps(self) -> int:
        """Steps of the oracle run (``oracle_factor`` x the budget)."""
        return self.oracle_factor * self.qat_steps

    def as_dict(self) -> dict:
        """JSON-ready fields."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.model_dump().items()}


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
