r"""LSQ: learned step size quantization (Esser et al., ICLR 2020) as a :class:`~landscape.qat.QATRule`.

Parameters :math:`\theta = (w, s)`: latent weights and the learned step :math:`s` (same shape as the
quantizer's ``step``; the grid's offset :math:`o` and code range :math:`[Q_N, Q_P]` = ``[qmin, qmax]``
are kept). Deployed point

.. math::  q(w, s) = o + s\,\mathrm{clip}(\lfloor (w - o)/s \rceil, Q_N, Q_P).

Gradients (straight-through rounding):

.. math::  \partial q_j/\partial w_j = 1[Q_N \le x_j \le Q_P],\qquad
           \partial q_j/\partial s = \begin{cases} \lfloor x_j\rceil - x_j & Q_N \le x_j \le Q_P\\
           Q_N \text{ or } Q_P & \text{outside}\end{cases},\quad x = (w-o)/s,

and the step gradient is multiplied by the LSQ gradient scale
:math:`g = 1/\sqrt{N_W Q_P}` (:math:`N_W` = weights per step entry). On an unbounded grid
:math:`Q_P` is taken as 1. The step is recorded in the trajectory's extras (``"step"`` for a
scalar step, ``"step_mean"`` otherwise) and is in ``final_params["step"]``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from landscape._checks import LandscapeError, check_positive
from landscape.qat import QATRule, make_optimizer
from landscape.quantizers import UniformGrid

__all__ = ["lsq", "lsq_grad_scale", "lsq_quantize"]

_MIN_STEP = 1e-8  # the deployed grid uses max(s, _MIN_STEP) so that a step driven to 0 cannot divide by 0


def _check_grid(quantizer) -> None:
    if not isinstance(quantizer, UniformGrid):
        raise LandscapeError(
            "lsq needs a UniformGrid quantizer (it learns the step of a uniform grid); "
            f"got {type(quantizer).__name__}."
        )


def _round_ste(x):
    return x + jax.lax.stop_gradient(jnp.round(x) - x)


def lsq_quantize(w, step, quantizer):
    """q(w, s) = o + s clip(round((w - o)/s), qmin, qmax), with straight-through rounding for autodiff."""
    s = jnp.maximum(step, _MIN_STEP)
    x = (w - quantizer.offset) / s
    return quantizer.offset + s * jnp.clip(_round_ste(x), quantizer.qmin, quantizer.qmax)


def lsq_grad_scale(quantizer, dim: int):
    """g = 1 / sqrt(N_W Q_P): LSQ's step-gradient scale (N_W = dim/step.size; Q_P = qmax, 1 if unbounded)."""
    n_w = dim / max(int(jnp.size(quantizer.step)), 1)
    qp = jnp.where(jnp.isfinite(quantizer.qmax) & (quantizer.qmax > 0), quantizer.qmax, 1.0)
    return 1.0 / jnp.sqrt(n_w * qp)


def lsq(learning_rate=0.05, optimizer=None, grad_scale=None) -> QATRule:
    """LSQ: (w, s) <- (w, s) - eta (dL/dw, g dL/ds) at q(w, s); the step s is learned.

    ``grad_scale`` (> 0) overrides LSQ's g = 1/sqrt(N_W Q_P).
    """
    if grad_scale is not None:
        check_positive("grad_scale", grad_scale)
        grad_scale = float(grad_scale)

    def init(w0, quantizer):
        _check_grid(quantizer)
        step = jnp.asarray(quantizer.step, dtype=jnp.result_type(w0))
        return {"w": w0, "step": step}, ()

    def deploy(params, aux, quantizer):
        return lsq_quantize(params["w"], params["step"], quantizer)

    def gradient(loss_fn, params, aux, quantizer, key):
        grads = jax.grad(lambda p: loss_fn(lsq_quantize(p["w"], p["step"], quantizer)))(params)
        g = lsq_grad_scale(quantizer, params["w"].shape[-1]) if grad_scale is None else grad_scale
        return {"w": grads["w"], "step": grads["step"] * g}, aux

    def extras(params, aux):
        s = params["step"]
        return {"step": s} if jnp.ndim(s) == 0 else {"step_mean": jnp.mean(s)}

    return QATRule("lsq", init, deploy, gradient, make_optimizer(optimizer, learning_rate), extras=extras)
