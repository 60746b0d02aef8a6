r"""Rules whose latent accumulates a gradient taken at the deployed point (or at the latent).

Every rule keeps latent weights :math:`w_t` (``params["w"]``), deploys :math:`q_t = Q(w_t)` and
updates :math:`w_{t+1} = w_t + \mathrm{tx}(g_t)` (:math:`-\eta g_t` for SGD):

* :class:`FullPrecision`: :math:`g_t = \nabla L(w_t)` (full-precision training, deployed by RTN);
* :class:`STE`: :math:`g_t = \nabla L(Q(w_t))`, the straight-through estimator;
* :class:`ClippedSTE`: :math:`g_t = \nabla L(Q(w_t)) \odot 1[\,lo \le w_t \le hi\,]`;
* :class:`PTQSTE`: STE from :math:`w_0 \leftarrow Q(w_0)` (the PTQ point as the starting latent);
* :class:`BinaryConnect`: the hard-projection limit of ProxConnect; its updates are STE's.
"""

from __future__ import annotations

from landscape._errors import check_positive
from landscape.qat.base import Rule, hyper_field, probe_of
from landscape.qat.optim import as_optimizer

__all__ = [
    "FullPrecision",
    "STE",
    "ClippedSTE",
    "PTQSTE",
    "BinaryConnect",
    "full_precision",
    "ste",
    "clipped_ste",
    "ptq_ste",
    "binary_connect",
]


def _probe_grad(landscape, q, probe):
    return (probe_of(landscape, q) if probe is None else probe).grad


class FullPrecision(Rule):
    """Full-precision gradient descent: w <- w - eta grad L(w); deployed point Q(w) (RTN of the iterate)."""

    name = "fp"
    uses_probe = False
    optimizer: object = None

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """grad L(w), at the latent."""
        return {"w": landscape.grad(params["w"])}, state


class STE(Rule):
    """Straight-through estimator: w <- w - eta grad L(Q(w)); deployed point Q(w)."""

    name = "ste"
    optimizer: object = None

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """grad L(Q(w)), the gradient at the deployed point."""
        return {"w": _probe_grad(landscape, quantizer.quantize(params["w"]), probe)}, state


class BinaryConnect(STE):
    """BinaryConnect: w <- w - eta grad L(Q(w)), the mu = inf limit of ProxConnect (updates equal STE's)."""

    name = "binaryconnect"


class PTQSTE(STE):
    """PTQ initialisation then STE: latent w_0 = Q(w0) (the PTQ point), then w <- w - eta grad L(Q(w))."""

    name = "ptq+ste"

    def init(self, w0, quantizer):
        """Latent starts at the grid point Q(w0)."""
        return {"w": quantizer.quantize(w0)}, ()


class ClippedSTE(Rule):
    """Clipped STE: w <- w - eta grad L(Q(w)) * 1[lo <= w <= hi]; deployed point Q(w).

    ``clip`` > 0 sets the range [-clip, clip]; ``None`` uses the quantizer's representable range
    (``quantizer.clip_range()``; on an unbounded grid clipped STE is plain STE).
    """

    name = "clipped_ste"
    optimizer: object = None
    clip: float | None = hyper_field(None)

    def __check_init__(self):
        check_positive("clip", self.clip)  # None (the default) and traced values pass unchecked

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        """grad L(Q(w)) where lo <= w <= hi, 0 elsewhere."""
        w = params["w"]
        lo, hi = (None, None) if self.clip is None else (-self.clip, self.clip)
        g = _probe_grad(landscape, quantizer.quantize(w), probe)
        return {"w": g * quantizer.in_range(w, lo, hi)}, state


def full_precision(learning_rate=0.05, optimizer=None) -> FullPrecision:
    """Full-precision training (gradient at w), deployed by RTN: ``FullPrecision(sgd(learning_rate))``."""
    return FullPrecision(as_optimizer(optimizer, learning_rate))


def ste(learning_rate=0.05, optimizer=None) -> STE:
    """The straight-through estimator with ``optax.sgd(learning_rate)`` (or ``optimizer``)."""
    return STE(as_optimizer(optimizer, learning_rate))


def binary_connect(learning_rate=0.05, optimizer=None) -> BinaryConnect:
    """BinaryConnect (deterministic projection): the updates of :func:`ste`."""
    return BinaryConnect(as_optimizer(optimizer, learning_rate))


def ptq_ste(learning_rate=0.05, optimizer=None) -> PTQSTE:
    """PTQ initialisation (latent Q(w0)) then STE."""
    return PTQSTE(as_optimizer(optimizer, learning_rate))


def clipped_ste(learning_rate=0.05, optimizer=None, clip=None) -> ClippedSTE:
    """Clipped STE over [-clip, clip] (``None``: the quantizer's representable range)."""
    return ClippedSTE(as_optimizer(optimizer, learning_rate), clip)
