r"""Training rules for quantized weights, in the optax style.

A :class:`QATRule` says where the gradient is taken and what is deployed; its ``tx`` is
any optax ``GradientTransformation`` (sgd, momentum, adam, a schedule, ``optax.chain``...),
so every optimizer composes with every rule. One step of the driver is

.. math::  g_t,\ \text{aux} = \text{rule.gradient}(L, \theta_t),\quad
           \theta_{t+1} = \theta_t + \text{tx.update}(g_t),

with deployed point :math:`q_t = \text{rule.deploy}(\theta_t)` and latent weights
:math:`w_t = \text{rule.latent}(\theta_t)`. Parameters :math:`\theta` are a dict holding
at least ``"w"``.

Rules here: :func:`full_precision` (gradient at :math:`w`, deploy :math:`Q(w)` -- FP
training then RTN) and :func:`ste` (:math:`w \leftarrow w - \eta\nabla L(Q(w))`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import optax

__all__ = ["QATRule", "full_precision", "ste", "make_optimizer"]


def _latent(params):
    return params["w"]


def _no_extras(params, aux):
    return {}


class QATRule(NamedTuple):
    """A QAT rule: init, deployed point, gradient, and the optax transformation applied to it.

    * ``init(w0, quantizer) -> (params, aux)``: parameters (a dict with ``"w"``) and rule state;
    * ``deploy(params, aux, quantizer) -> q``: the deployed (quantized) point;
    * ``gradient(loss_fn, params, aux, quantizer, key) -> (grads, aux)``: the gradient the rule
      feeds to ``tx`` (a pytree like ``params``);
    * ``tx``: an optax ``GradientTransformation``;
    * ``latent(params) -> w``: the latent weights (default ``params["w"]``);
    * ``extras(params, aux) -> dict``: scalars recorded in the trajectory (e.g. LSQ's step).
    """

    name: str
    init: Callable[..., Any]
    deploy: Callable[..., Any]
    gradient: Callable[..., Any]
    tx: optax.GradientTransformation
    latent: Callable[..., Any] = _latent
    extras: Callable[..., Any] = _no_extras


def make_optimizer(optimizer=None, learning_rate=0.05) -> optax.GradientTransformation:
    """The optax transformation of a rule: ``optimizer`` if given, else ``optax.sgd(learning_rate)``."""
    if optimizer is not None:
        if not isinstance(optimizer, optax.GradientTransformation):
            raise TypeError(
                f"optimizer must be an optax.GradientTransformation (e.g. optax.sgd(0.1)); got {optimizer!r}."
            )
        return optimizer
    if not callable(learning_rate):
        lr = float(learning_rate)
        if not lr > 0 or lr != lr or lr == float("inf"):
            raise ValueError(f"learning_rate must lie in (0, inf); got {learning_rate!r}.")
    return optax.sgd(learning_rate)


def _init_plain(w0, quantizer):
    return {"w": w0}, ()


def full_precision(learning_rate=0.05, optimizer=None) -> QATRule:
    """Full-precision gradient descent: w <- w - eta grad L(w); deployed point Q(w) (RTN)."""

    def deploy(params, aux, quantizer):
        return quantizer.quantize(params["w"])

    def gradient(loss_fn, params, aux, quantizer, key):
        return {"w": jax.grad(loss_fn)(params["w"])}, aux

    return QATRule("fp", _init_plain, deploy, gradient, make_optimizer(optimizer, learning_rate))


def ste(learning_rate=0.05, optimizer=None) -> QATRule:
    """Straight-through estimator: w <- w - eta grad L(Q(w)); deployed point Q(w)."""

    def deploy(params, aux, quantizer):
        return quantizer.quantize(params["w"])

    def gradient(loss_fn, params, aux, quantizer, key):
        return {"w": jax.grad(loss_fn)(quantizer.quantize(params["w"]))}, aux

    return QATRule("ste", _init_plain, deploy, gradient, make_optimizer(optimizer, learning_rate))
