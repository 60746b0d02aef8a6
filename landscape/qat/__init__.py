r"""QAT rules as values: equinox Modules whose hyperparameters are traced pytree leaves.

Each rule keeps a latent :math:`w_t`, deploys a grid point :math:`q_t` and feeds a gradient to any optax
optimizer held as a value (:class:`Optimizer`; schedules as :class:`Schedule`). Equal rules compare and
hash equal, and a new learning rate reuses the compiled driver. See :mod:`landscape.qat.base` for the
contract and each module for its rules.
"""

from landscape.qat.base import Probe, Rule, hyper_field, probe_of, static_field
from landscape.qat.feedback import ErrorFeedback, NoiseInjection, error_feedback, noise_injection
from landscape.qat.lsq import LSQ, lsq, lsq_grad_scale, lsq_quantize
from landscape.qat.optim import (
    Optimizer,
    Schedule,
    StaticOptimizer,
    as_optimizer,
    optimizer,
    schedule,
    sgd,
)
from landscape.qat.oscillation import (
    FreezeState,
    IterativeFreezing,
    OscillationDampening,
    iterative_freezing,
    oscillation_dampening,
)
from landscape.qat.prox import ProxConnect, prox_connect
from landscape.qat.ste import (
    PTQSTE,
    STE,
    BinaryConnect,
    ClippedSTE,
    FullPrecision,
    binary_connect,
    clipped_ste,
    full_precision,
    ptq_ste,
    ste,
)

__all__ = [
    "Rule",
    "Probe",
    "hyper_field",
    "static_field",
    "probe_of",
    "Optimizer",
    "Schedule",
    "StaticOptimizer",
    "as_optimizer",
    "optimizer",
    "schedule",
    "sgd",
    "FullPrecision",
    "STE",
    "ClippedSTE",
    "PTQSTE",
    "BinaryConnect",
    "ProxConnect",
    "ErrorFeedback",
    "NoiseInjection",
    "LSQ",
    "OscillationDampening",
    "IterativeFreezing",
    "FreezeState",
    "full_precision",
    "ste",
    "clipped_ste",
    "ptq_ste",
    "binary_connect",
    "prox_connect",
    "error_feedback",
    "noise_injection",
    "lsq",
    "lsq_grad_scale",
    "lsq_quantize",
    "oscillation_dampening",
    "iterative_freezing",
]
