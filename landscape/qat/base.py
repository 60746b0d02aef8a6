r"""The rule contract: a QAT rule is a *value* (an equinox Module: a frozen dataclass and a pytree).

One step of the driver, for any rule and any optax optimizer (``rule.optimizer``):

.. math::  q_t = \text{deploy}(\theta_t),\quad
           g_t,\ \sigma_{t+1} = \text{gradient}(L, \theta_t, \sigma_t),\quad
           \theta_{t+1} = \theta_t + \text{tx.update}(g_t),

with parameters :math:`\theta` (a dict holding at least the latent ``"w"``) and rule state
:math:`\sigma` (a NamedTuple or ``()``). The driver probes the deployed point once per step
(:meth:`landscape.geometry.Landscape.probe`: loss, gradient, :math:`\rho`, basin test) and hands the
probe to ``gradient``, so STE-like rules reuse :math:`\nabla L(q_t)` instead of recomputing it.

A rule's numeric hyperparameters are fields and pytree leaves (traced by ``jit``); its structure (class,
integer options: ``eqx.field(static=True)``) is static. Hence ``ste(0.05) == ste(0.05)``, both hash
equal, and a new learning rate or clip range reuses the compiled driver. A new rule is a subclass::

    class MyRule(Rule):
        name = "mine"
        optimizer: object = None
        strength: float = 0.1                       # traced
        order: int = eqx.field(default=2, static=True)  # compiled in

        def gradient(self, landscape, params, state, quantizer, key, probe=None): ...
"""

import dataclasses
from typing import Any, ClassVar

import equinox as eqx
import jax
import numpy as np

from landscape._errors import LandscapeError, is_concrete
from landscape._typing import Value
from landscape.geometry.probe import Probe
from landscape.qat.optim import Optimizer, StaticOptimizer, as_optimizer, sgd

__all__ = ["Rule", "static_field", "hyper_field", "Probe"]


def static_field(default=dataclasses.MISSING, **kw):
    """A rule field that is static (part of the compiled program): integers, flags, nested structure."""
    return eqx.field(default=default, static=True, **kw)


def hyper_field(default=dataclasses.MISSING, **kw):
    """A numeric hyperparameter: a traced pytree leaf (a new value reuses the compiled driver)."""
    return eqx.field(default=default, **kw)


def _canon(value):
    """Concrete scalars as Python floats, so that equal rules compare and hash equal."""
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    if isinstance(value, (float, np.floating)) or (
        is_concrete(value) and np.ndim(value) == 0 and hasattr(value, "dtype")
    ):
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    return value


class Rule(Value):
    """Base of every QAT rule: latent ``params["w"]``, deployed point Q(w), optimizer ``self.optimizer``.

    Subclasses (equinox Modules) declare ``optimizer: object = None`` and their hyperparameters as fields,
    override :meth:`gradient` (and, when they carry more parameters or state, :meth:`init`, :meth:`deploy`,
    :meth:`extras`) and check their arguments in ``__check_init__``.
    """

    name: ClassVar[str] = "rule"
    #: whether the rule draws random numbers (the driver splits a PRNG key per step only if so)
    stochastic: ClassVar[bool] = False
    #: whether ``gradient`` reads the probe of the deployed point
    #: (False: the driver's probe is only for recording)
    uses_probe: ClassVar[bool] = True

    optimizer: eqx.AbstractVar[Any]

    def __post_init__(self):
        """The optimizer as a value (``None``: sgd(0.05)); concrete scalars as Python floats (hash equal)."""
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if f.name == "optimizer":
                object.__setattr__(self, f.name, as_optimizer(v))
            elif not f.metadata.get("static", False):
                object.__setattr__(self, f.name, _canon(v))

    # -- the contract ------------------------------------------------------------------------
    def init(self, w0, quantizer):
        """(params, state) at the start: params = {"w": w0}, no state."""
        return {"w": w0}, ()

    def deploy(self, params, state, quantizer):
        """q, the deployed (quantized) point: Q(w)."""
        return quantizer.quantize(params["w"])

    def gradient(self, landscape, params, state, quantizer, key, probe=None):  # pragma: no cover
        """(grads, state): the gradient fed to the optimizer (a pytree like params) and the new state."""
        raise NotImplementedError

    def latent(self, params):
        """w, the latent (full-precision) weights."""
        return params["w"]

    def extras(self, params, state) -> dict:
        """Scalars recorded per step in the trajectory's extras (e.g. LSQ's step)."""
        return {}

    def transformation(self):
        """The optax ``GradientTransformation`` the driver applies (built from ``self.optimizer``)."""
        return self.optimizer.build()

    # -- conveniences ------------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The optimizer's learning rate (a float, a Schedule, or None)."""
        return getattr(self.optimizer, "learning_rate", None)

    @property
    def label(self) -> str:
        """``name`` and the hyperparameters that differ from the defaults, e.g. ``ef(beta=0.5)``."""
        parts = []
        for f in dataclasses.fields(self):
            if f.name == "optimizer" or f.default is dataclasses.MISSING:
                continue
            v = getattr(self, f.name)
            if v != f.default:
                parts.append(f"{f.name}={v:g}" if isinstance(v, float) else f"{f.name}={v!r}")
        return f"{self.name}({', '.join(parts)})" if parts else self.name

    def replace(self, **changes):
        """A copy with some fields changed (e.g. ``rule.replace(optimizer=landscape.sgd(0.1))``)."""
        return dataclasses.replace(self, **changes)

    def with_learning_rate(self, learning_rate):
        """The same rule with the optimizer's learning rate replaced."""
        if isinstance(self.optimizer, StaticOptimizer):
            raise LandscapeError(
                "this rule holds a raw optax GradientTransformation; its learning rate is fixed."
            )
        return self.replace(optimizer=self.optimizer.replace(learning_rate=learning_rate))

    def __repr__(self):
        fields = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self))
        return f"{type(self).__name__}({fields})"

    def _repr_html_(self):  # Jupyter
        """The rule's name, its optimizer and every hyperparameter, as an HTML table."""
        from landscape._html import html_table, number  # noqa: PLC0415

        rows = [("rule", getattr(self, "name", type(self).__name__))]
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            rows.append((f.name, repr(v) if f.name == "optimizer" or not _is_number(v) else number(v)))
        return html_table(f"QAT rule {type(self).__name__}", rows)


def _is_number(v) -> bool:
    try:
        return np.ndim(v) == 0 and np.asarray(v).dtype.kind in "fiub"
    except Exception:  # noqa: BLE001
        return False


def probe_of(landscape, q):
    """The probe of q: the landscape's own (closed form) if it has one, else autodiff of its loss."""
    if hasattr(landscape, "probe"):
        return landscape.probe(q)
    loss, grad = jax.value_and_grad(landscape.loss)(q)
    rho = landscape.rho(q) if hasattr(landscape, "rho") else loss
    return Probe(loss, grad, rho, landscape.in_basin(q))


__all__ += ["probe_of", "Optimizer", "sgd"]
