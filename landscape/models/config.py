"""What determines a bridge run: the model, its presets (quick and full), and the protocol's settings.

Same config -> same numbers: every seed is explicit (``tune_seeds`` train the networks the optimizer is
tuned on; ``eval_seeds``, disjoint from them, train the networks the verdicts are about). The full preset
of every model has :data:`FULL_EVAL_SEEDS` (24) evaluation and :data:`FULL_TUNE_SEEDS` (4) tuning seeds:
24 seeds can tell a true settling rate of 0.76 from 1/2 with 80 % power (``verdict.power_of``); the quick
preset (2 and 1) decides nothing and says so.
"""

from __future__ import annotations

import dataclasses

from landscape._errors import LandscapeError, check_int_at_least, check_positive
from landscape.models.quant import GRIDS, METHODS, check_bits
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


@dataclasses.dataclass(frozen=True)
class BridgeConfig:
    """Everything that determines a bridge run of one model (see docs/bridge.md for each field)."""

    model: str = "digits-mlp"
    quick: bool = False
    bits: tuple = (8, 4, 3, 2)
    grids: tuple = GRIDS
    methods: tuple = METHODS
    eval_seeds: tuple = FULL_EVAL_SEEDS
    tune_seeds: tuple = FULL_TUNE_SEEDS
    tune_methods: tuple = METHODS
    optimizers: tuple = OPTIMIZERS
    schedules: tuple = SCHEDULES
    sgd_lrs: tuple = (0.3, 1.0, 3.0)
    adam_lrs: tuple = (3e-3, 1e-2, 3e-2)
    qat_steps: int = 300
    oracle_factor: int = 4
    oracle_seeds: int = 2  # how many eval seeds (the first ones) also get the oracle run (-1: all)
    tau: float | None = None  # training-loss band (nats); None: calibrated on the full-precision null
    qat_floor: float = (
        0.01  # QAT runs from starts outside the absolute band at this tau (or the relative band)
    )
    n_probe: int = 6  # steps of each QAT run where the normal frame is measured
    foot_steps: int = 50  # descent steps of the foot P(q)
    metric_every: int = 1  # test metric every m steps (relative band at that resolution)
    train_steps: int = 800
    n_calib: int = 512
    max_batch: int = 16  # runs per driver call
    qat_batch: int = 16  # minibatch windows per QAT step (models trained on a stream: the transformer)
    min_tune_starts: int = 4  # tuning starts per bit width at least (filled by PTQ gap)
    calib_seeds: int = 4  # evaluation networks of the loss-to-metric calibration
    calib_dirs: int = 16  # random directions per network and rise
    regime_seeds: int = 4  # evaluation networks whose spectra locate the regime (the first: dense check)
    k_lanczos: int = 10  # top eigenpairs kept
    lanczos_matvecs: int = 40  # Lanczos depth (HVPs)
    dense_check: bool = True  # dense eigenvalues on the first regime network (d <= regime.DENSE_MAX)

    def __post_init__(self):
        if self.model not in MODELS:
            raise LandscapeError(f"model must be one of {MODELS}; got {self.model!r}.")
        object.__setattr__(self, "bits", check_bits(_tuple(self.bits)))
        for name, allowed in (
            ("grids", GRIDS),
            ("methods", METHODS),
            ("tune_methods", METHODS),
            ("optimizers", OPTIMIZERS),
            ("schedules", SCHEDULES),
        ):
            vals = _tuple(getattr(self, name))
            bad = [v for v in vals if v not in allowed]
            if not vals or bad:
                raise LandscapeError(f"{name} must be a non-empty subset of {allowed}; got {vals!r}.")
            object.__setattr__(self, name, vals)
        for name in ("eval_seeds", "tune_seeds"):
            vals = tuple(int(s) for s in _tuple(getattr(self, name)))
            if not vals or any(s < 0 for s in vals) or len(set(vals)) != len(vals):
                raise LandscapeError(f"{name} must be distinct integers >= 0; got {vals!r}.")
            object.__setattr__(self, name, vals)
        if set(self.eval_seeds) & set(self.tune_seeds):
            raise LandscapeError(
                f"eval_seeds and tune_seeds must be disjoint; both hold "
                f"{sorted(set(self.eval_seeds) & set(self.tune_seeds))}."
            )
        for name in ("sgd_lrs", "adam_lrs"):
            vals = tuple(float(v) for v in _tuple(getattr(self, name)))
            if not vals:
                raise LandscapeError(f"{name} must name at least one learning rate in (0, inf).")
            for v in vals:
                check_positive(name, v)
            object.__setattr__(self, name, vals)
        if self.tau is not None:
            check_positive("tau", self.tau)
        check_positive("qat_floor", self.qat_floor)
        for name, low in (
            ("qat_steps", 10),
            ("oracle_factor", 1),
            ("n_probe", 2),
            ("foot_steps", 1),
            ("metric_every", 1),
            ("train_steps", 1),
            ("n_calib", 1),
            ("max_batch", 1),
            ("oracle_seeds", -1),
            ("qat_batch", 1),
            ("min_tune_starts", 1),
            ("calib_seeds", 1),
            ("calib_dirs", 1),
            ("regime_seeds", 1),
            ("k_lanczos", 1),
        ):
            check_int_at_least(name, getattr(self, name), low)
        check_int_at_least("lanczos_matvecs", self.lanczos_matvecs, self.k_lanczos)
        if self.metric_every > self.qat_steps:
            raise LandscapeError(
                f"metric_every must lie in [1, qat_steps = {self.qat_steps}]; got {self.metric_every}."
            )

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

    def as_dict(self) -> dict:
        """JSON-ready fields."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}


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
