r"""The river: its centre :math:`c(s)` in the sharp coordinates and its loss :math:`\ell(s)`.

Centres and drifts are equinox Modules (their numbers are leaves). Centres (``center(s) -> (k,)``):

* :class:`ConstantCenter` -- a straight river, :math:`c(s) = c_0`;
* :class:`MeanderCenter` -- :math:`c(s) = A \sin(\omega s + \varphi)` (one amplitude per sharp
  direction);
* :class:`ArcCenter` -- a circular arc of radius ``R`` bending along ``direction``:
  :math:`c(s) = a\,(R - \sqrt{R^2 - s^2})` for :math:`|s| \le 0.99R` (``s`` is clipped
  to that range, so the river continues straight beyond it).

River losses (``river_loss(s) -> scalar``): :class:`ZeroDrift` (:math:`\ell = 0`),
:class:`LinearDrift` (:math:`\ell = -c\,s`), and :class:`Lake`
(:math:`\ell = c\,w\log\cosh((s-s_0)/w)`: drift of slope ``c`` far upstream, a minimum
--- the lake --- at :math:`s_0`).
"""

from __future__ import annotations

import jax.numpy as jnp

from landscape._errors import LandscapeError, check_finite, check_positive, is_concrete
from landscape._typing import Scalars, Value

__all__ = [
    "ConstantCenter",
    "MeanderCenter",
    "ArcCenter",
    "ZeroDrift",
    "LinearDrift",
    "Lake",
]


def _f(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


class ConstantCenter(Value):
    """c(s) = c0: a straight river."""

    c0: Scalars
    constant = True  # c'(s) = 0: the landscape skips the curvature term of its gradient

    def __call__(self, s):
        """c(s) = c0."""
        return self.c0

    def deriv(self, s):
        """c'(s) = 0."""
        return jnp.zeros_like(self.c0)

    @classmethod
    def make(cls, k: int, c0=None) -> ConstantCenter:
        """A straight river at c0 (zero by default) in the k sharp coordinates."""
        c0 = jnp.zeros(k) if c0 is None else _f(c0)
        check_finite("center", c0)
        if c0.shape != (k,):
            raise LandscapeError(f"center must have shape ({k},); got {c0.shape}.")
        return cls(_f(c0))


class MeanderCenter(Value):
    """c(s) = amplitude * sin(omega s + phase): a meandering river."""

    amplitude: Scalars
    omega: Scalars
    phase: Scalars

    constant = False

    def __call__(self, s):
        """c(s) = A sin(omega s + phase)."""
        return self.amplitude * jnp.sin(self.omega * s + self.phase)

    def deriv(self, s):
        """c'(s) = A omega cos(omega s + phase)."""
        return self.amplitude * self.omega * jnp.cos(self.omega * s + self.phase)

    @classmethod
    def make(cls, amplitude, omega, phase=0.0) -> MeanderCenter:
        """Validated meander: amplitude (k,), omega > 0."""
        check_finite("amplitude", amplitude)
        check_positive("omega", omega)
        return cls(jnp.atleast_1d(_f(amplitude)), _f(omega), _f(phase))


class ArcCenter(Value):
    """c(s) = direction * (R - sqrt(R^2 - s^2)): a circular arc of radius R."""

    radius: Scalars
    direction: Scalars

    constant = False

    def __call__(self, s):
        """c(s) on the arc (s clipped to |s| <= 0.99 R)."""
        r = self.radius
        sc = jnp.clip(s, -0.99 * r, 0.99 * r)
        return self.direction * (r - jnp.sqrt(r**2 - sc**2))

    def deriv(self, s):
        """c'(s) = direction * s / sqrt(R^2 - s^2) for |s| < 0.99 R, 0 beyond (the clipped, straight part)."""
        r = self.radius
        inside = jnp.abs(s) < 0.99 * r
        sc = jnp.where(inside, s, 0.0)
        return self.direction * jnp.where(inside, sc / jnp.sqrt(r**2 - sc**2), 0.0)

    @classmethod
    def make(cls, radius, direction) -> ArcCenter:
        """Validated arc: radius > 0, direction a unit vector in the sharp coordinates."""
        check_positive("radius", radius)
        direction = jnp.atleast_1d(_f(direction))
        check_finite("direction", direction)
        n = float(jnp.linalg.norm(direction)) if is_concrete(direction) else 1.0
        if abs(n - 1.0) > 1e-5:
            raise LandscapeError(f"direction must be a unit vector; got norm {n:.6g}.")
        return cls(_f(radius), direction)


class ZeroDrift(Value):
    """ell(s) = 0: a river without drift."""

    zero = True  # ell' = 0: the landscape skips the drift term of its gradient

    def __call__(self, s):
        """ell(s) = 0."""
        return jnp.zeros_like(s)

    def deriv(self, s):
        """ell'(s) = 0."""
        return jnp.zeros_like(s)


class LinearDrift(Value):
    """ell(s) = -c s: the river descends at rate c in the direction of travel."""

    rate: Scalars

    zero = False

    def __call__(self, s):
        """ell(s) = -rate * s."""
        return -self.rate * s

    def deriv(self, s):
        """ell'(s) = -rate."""
        return -self.rate + jnp.zeros_like(s)


class Lake(Value):
    """ell(s) = c w log cosh((s - s0)/w): drift c far from the lake, a minimum at s0."""

    rate: Scalars
    s0: Scalars
    width: Scalars

    def __call__(self, s):
        """ell(s) = rate * width * log cosh((s - s0) / width)."""
        x = (s - self.s0) / self.width
        # log cosh x = |x| + log1p(exp(-2|x|)) - log 2, stable for large |x|
        ax = jnp.abs(x)
        return self.rate * self.width * (ax + jnp.log1p(jnp.exp(-2 * ax)) - jnp.log(2.0))

    zero = False

    def deriv(self, s):
        """ell'(s) = rate * tanh((s - s0) / width)."""
        return self.rate * jnp.tanh((s - self.s0) / self.width)

    @classmethod
    def make(cls, rate=1.0, s0=0.0, width=1.0) -> Lake:
        """Validated lake: rate >= 0, width > 0."""
        check_positive("rate", rate, allow_zero=True)
        check_positive("width", width)
        check_finite("s0", s0)
        return cls(_f(rate), _f(s0), _f(width))
