r"""LSQ: learned step size quantization (Esser et al., ICLR 2020).

Parameters :math:`\theta = (w, s)`: latent weights and the learned step :math:`s` (same shape as the
quantizer's ``step``; offset :math:`o` and code range :math:`[Q_N, Q_P]` = ``[qmin, qmax]`` kept). Deployed
point :math:`q(w, s) = o + s\,\mathrm{clip}(\lfloor (w - o)/s \rceil, Q_N, Q_P)`. Gradients (straight-through
rounding): :math:`\partial q_j/\partial w_j = 1[Q_N \le x_j \le Q_P]`,
:math:`\partial q_j/\partial s = \lfloor x_j\rceil - x_j` inside, :math:`Q_N` or :math:`Q_P` outside,
:math:`x = (w-o)/s`; the step gradient is multiplied by :math:`g = 1/\sqrt{N_W Q_P}`
(:math:`N_W` = weights per step entry; :math:`Q_P = 1` on an unbounded grid). The chain rule is applied
to the exact gradient of the landscape at :math:`q` (a VJP of :func:`lsq_quantize`), not to autodiff.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from landscape._errors import LandscapeError, check_positive
from landscape.qat.base import Rule, hyper_field, probe_of
from landscape.qat.optim import as_optimizer

__all__ = ["LSQ", "lsq", "lsq_grad_scale", "lsq_quantize"]

_MIN_STEP = 1e-8  # the deployed grid uses max(s, _MIN_STEP): a step driven to 0 cannot divide by 0


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


class LSQ(Rule):
    """LSQ: (w, s) <- (w, s) - eta (dL/dw, g dL/ds) at q(w, s); the step s is learned.

    ``grad_scale`` (> 0) overrides LSQ's g = 1/sqrt(N_W Q_P). The step is recorded in the extras
    (``"step"`` for a scalar step, ``"step_mean"`` otherwise) and in ``final_params["step"]``.
    """

    name = "lsq"
    optimizer: object = None
    grad_scale: float | None = hyper_field(None)

    def __check_init__(self):
        check_positive("grad_scale", self.grad_scale)  # None (the default) and traced values pass unchecked

    def init(self, w0, quantizer):
        """params = {"w": w0, "step": the grid's step}."""
        if not hasattr(quantizer, "qmin") or not hasattr(quantizer, "step"):
            raise LandscapeError(
                "lsq needs a UniformGrid quantizer (it learns the step of a uniform grid); "
                f"got {type(quantizer).__name__}."
            )
        return {"w": w0, "step": jnp.asarray(quantizer.step, dtype=jnp.result_type(w0))}, ()

    def deploy(self, params, state, quantizer):
        """q(w, s) on the grid of the learned step."""
        return quantizer.reshape_apply(lambda w: lsq_quantize(w, params["step"], quantizer), params["w"])

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """(dL/dw, g dL/ds) by the VJP of q(w, s) applied to grad L(q)."""
        q, vjp = jax.vjp(
            lambda w, s: quantizer.reshape_apply(lambda x: lsq_quantize(x, s, quantizer), w),
            params["w"],
            params["step"],
        )
        g_q = (probe_of(landscape, q) if probe is None else probe).grad
        g_w, g_s = vjp(g_q)
        g = lsq_grad_scale(quantizer, params["w"].shape[-1]) if self.grad_scale is None else self.grad_scale
        return {"w": g_w, "step": g_s * g}, state

    def extras(self, params, state):
        """{"step": s} (scalar step) or {"step_mean": mean(s)}."""
        s = params["step"]
        return {"step": s} if jnp.ndim(s) == 0 else {"step_mean": jnp.mean(s)}


def lsq(learning_rate=0.05, optimizer=None, grad_scale=None) -> LSQ:
    """LSQ with the optimizer's learning rate applied to both w and s."""
    return LSQ(as_optimizer(optimizer, learning_rate), grad_scale)
