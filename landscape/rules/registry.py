"""Every QAT rule of the project, under one optimizer: the rows of the recovery tables."""

from __future__ import annotations

from landscape.qat import full_precision, ste
from landscape.rules.connect import binary_connect, clipped_ste, prox_connect, ptq_ste
from landscape.rules.feedback import error_feedback, noise_injection
from landscape.rules.lsq import lsq

__all__ = ["default_rules", "RULE_NAMES"]

RULE_NAMES = (
    "fp",
    "ste",
    "clipped_ste",
    "lsq",
    "proxconnect",
    "binaryconnect",
    "ef",
    "ef(beta=0.5)",
    "noise",
    "ptq+ste",
)


def default_rules(learning_rate=0.05, optimizer=None, *, clip=None, mu_rate=0.1, noise_scale=1.0) -> dict:
    """{name: QATRule} for every rule: fp (FP training then RTN), ste, clipped_ste, lsq, proxconnect,
    binaryconnect, ef (beta = 1, DPF), ef(beta=0.5), noise, ptq+ste (PTQ init then STE).

    All share ``learning_rate`` (or ``optimizer``), so a table compares rules at equal eta.
    """
    kw = {"learning_rate": learning_rate, "optimizer": optimizer}
    rules = [
        full_precision(**kw),
        ste(**kw),
        clipped_ste(**kw, clip=clip),
        lsq(**kw),
        prox_connect(**kw, mu_rate=mu_rate),
        binary_connect(**kw),
        error_feedback(**kw, beta=1.0),
        error_feedback(**kw, beta=0.5),
        noise_injection(**kw, scale=noise_scale),
        ptq_ste(**kw),
    ]
    out = {r.name: r for r in rules}
    assert tuple(out) == RULE_NAMES
    return out
