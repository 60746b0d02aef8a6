r"""QAT rules beyond :func:`landscape.qat.ste`: the rivals of STE, all :class:`~landscape.qat.QATRule`.

* :func:`clipped_ste` -- STE with the gradient zeroed outside the clipping range;
* :func:`ptq_ste` -- the baseline "PTQ initialisation, then STE fine-tuning" (latent starts at Q(w0));
* :func:`lsq` -- learned step size (Esser et al., 2020) with its gradient scale;
* :func:`prox_connect`, :func:`binary_connect` -- gradient at a proximal map of the latent,
  accumulated in the latent (Dockhorn et al., 2021; Courbariaux et al., 2015);
* :func:`error_feedback` -- quantized iterate with the compression error fed back (DPF-style);
* :func:`noise_injection` -- gradient at w + uniform pseudo-quantization noise (DiffQ / NIPQ);
* :func:`default_rules` -- every rule (and the two baselines) under one optimizer.

Every rule deploys a grid point: the driver's ``q_t``, ``hit_time`` and ``in_basin`` always
refer to a point of the quantizer's grid (for LSQ, the grid of the learned step).
"""

from landscape.rules.connect import binary_connect, clipped_ste, prox_connect, ptq_ste
from landscape.rules.feedback import error_feedback, noise_injection
from landscape.rules.lsq import lsq, lsq_grad_scale
from landscape.rules.registry import default_rules

__all__ = [
    "clipped_ste",
    "ptq_ste",
    "lsq",
    "lsq_grad_scale",
    "prox_connect",
    "binary_connect",
    "error_feedback",
    "noise_injection",
    "default_rules",
]
