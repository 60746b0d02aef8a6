r"""Wall profiles :math:`\phi(\rho)` of the valley: flat inside the basin, rising beyond it.

Every wall is written as :math:`\phi(\rho) = \tfrac{\mu}{2}\rho^2 + \psi(\rho)`, where the
small curvature ``mu`` models the nearly flat basin floor and ``psi`` is the wall proper,
zero (or exponentially small, for the softplus wall) for :math:`\rho \le r_b`.
Each wall states its basin radius ``basin_radius`` (:math:`r_b`), its flatness
(:math:`\sup_{\rho\le r_b}\phi(\rho)`), and a lower bound ``wall_slope(rho)`` on
:math:`\phi'(\rho)` valid for :math:`\rho \ge r_b`.

Walls are equinox Modules (their parameters are leaves), so landscapes built from them can be
batched with ``vmap``: ``jax.vmap(lambda r: quadratic_wall(r, kappa))(radii)`` is a batch of walls.
"""

import dataclasses
from fractions import Fraction
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from landscape._errors import LandscapeError, check_positive, is_concrete
from landscape._typing import ArrayLike, Scalars, Value

__all__ = [
    "Wall",
    "FlatBottomWall",
    "QuadraticWall",
    "SoftplusWall",
    "PowerWall",
    "ExpWall",
    "quadratic_wall",
    "softplus_wall",
    "power_wall",
    "exp_wall",
]


class Wall(Value):
    """The wall interface: :math:`\\phi = \\mu\\rho^2/2 + \\psi(\\rho)`, :math:`\\psi \\approx 0` inside.

    Subclasses give ``excess`` (:math:`\\psi`), ``excess_deriv`` (:math:`\\psi'`) and, when
    :math:`\\psi''(0) \\ne 0`, ``excess_curvature_at_0``; the rest (value, slope, ``deriv_over_rho``,
    flatness, ``wall_slope``) follows.
    """

    basin_radius: eqx.AbstractVar[Scalars]
    mu: eqx.AbstractVar[Scalars]

    #: psi = 0 exactly on [0, r_b] (the basin floor is mu rho^2 / 2, nothing else)
    flat_bottom: ClassVar[bool] = False
    #: the recovery theorems (landscape.certify) cover this profile: wall_slope is a proved lower bound
    theorems_cover: ClassVar[bool] = False

    def rational_slope(self):
        """phi'(r) as an exact function of a Fraction r, or None when the slope is not rational."""
        return None

    def interval_slope(self):
        """phi'(r) for r > r_b as a function of an fmpq or arb r (python-flint): an fmpq where the slope is
        rational at rational r, else an arb ball; None for a wall without one (the validated orbit's need)."""
        return None

    def excess(self, rho):  # pragma: no cover - abstract
        """psi(rho), the wall proper."""
        raise NotImplementedError

    def excess_deriv(self, rho):  # pragma: no cover - abstract
        """psi'(rho)."""
        raise NotImplementedError

    def excess_curvature_at_0(self):
        """psi''(0) = lim psi'(rho)/rho at the river (0 for a flat-bottom wall)."""
        return jnp.zeros_like(self.basin_radius)

    def deriv_over_rho(self, rho):
        """phi'(rho) / rho, finite at rho = 0 (where it is mu + psi''(0)): the gradient's radial factor."""
        rho = jnp.asarray(rho)
        pos = rho > 0
        safe = jnp.where(pos, rho, 1.0)
        return self.mu + jnp.where(pos, self.excess_deriv(safe) / safe, self.excess_curvature_at_0())

    def __repr__(self):
        parts = []
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            try:
                parts.append(f"{f.name}={float(v):g}")
            except (TypeError, ValueError):
                shape = getattr(v, "shape", None)
                parts.append(
                    f"{f.name}={getattr(v, 'dtype', '')}{list(shape)}" if shape is not None else f"{f.name}=?"
                )
        return f"{type(self).__name__}({', '.join(parts)})"

    def _repr_pretty_(self, p, cycle):  # IPython
        p.text(repr(self))

    def value(self, rho):
        """phi(rho): the valley profile at normal distance rho."""
        rho = jnp.asarray(rho)
        return 0.5 * self.mu * rho**2 + self.excess(rho)

    def deriv(self, rho):
        """phi'(rho): the slope of the profile."""
        rho = jnp.asarray(rho)
        return self.mu * rho + self.excess_deriv(rho)

    def value_from_sq(self, sq, rho):
        """phi as a function of rho^2 (smooth at the river): mu/2 * sq + psi(rho)."""
        return 0.5 * self.mu * sq + self.excess(rho)

    @property
    def flatness(self):
        """sup over rho <= r_b of phi(rho) - phi(0): how far from flat the basin floor is."""
        return self.value(self.basin_radius) - self.value(jnp.zeros_like(self.basin_radius))

    def wall_slope(self, rho):
        """A lower bound on phi'(rho), valid for every rho >= r_b (documented per wall)."""
        return self.deriv(rho)


def _relu(x):
    return jnp.maximum(x, 0.0)


def _fractions(*xs):
    return tuple(Fraction(float(np.asarray(x))) for x in xs)


def _fmpqs(*xs):
    """Each x (a scalar or the first of a batch) as the exact python-flint rational it is."""
    from flint import fmpq  # noqa: PLC0415  (python-flint only where an exact slope is asked for)

    return tuple(fmpq(*float(np.asarray(x).reshape(-1)[0]).as_integer_ratio()) for x in xs)


class FlatBottomWall(Wall):
    """A wall with psi = 0 on [0, r_b] exactly: phi'(rho)/rho = mu + psi'(rho)/max(rho, r_b), no branch."""

    flat_bottom: ClassVar[bool] = True

    def deriv_over_rho(self, rho):
        """mu + psi'(rho) / max(rho, r_b) (psi' vanishes below r_b, and r_b > 0)."""
        rho = jnp.asarray(rho)
        return self.mu + self.excess_deriv(rho) / jnp.maximum(rho, self.basin_radius)


class QuadraticWall(FlatBottomWall):
    r"""Flat-bottom quadratic: :math:`\phi = \tfrac{\mu}{2}\rho^2 + \tfrac{\kappa}{2}(\rho-r_b)_+^2`.

    :math:`\phi'(\rho) = \mu\rho + \kappa(\rho - r_b)_+` exactly, so ``wall_slope`` is exact;
    the wall's curvature is ``kappa``.
    """

    basin_radius: Scalars
    kappa: Scalars
    mu: Scalars

    def excess(self, rho):
        """psi(rho) = kappa/2 (rho - r_b)_+^2."""
        return 0.5 * self.kappa * _relu(rho - self.basin_radius) ** 2

    theorems_cover: ClassVar[bool] = True

    def excess_deriv(self, rho):
        """psi'(rho) = kappa (rho - r_b)_+."""
        return self.kappa * _relu(rho - self.basin_radius)

    def rational_slope(self):
        """phi'(r) = mu r + kappa (r - r_b)_+ in exact rationals."""
        mu, kappa, rb = _fractions(self.mu, self.kappa, self.basin_radius)
        return lambda r: mu * r + kappa * max(r - rb, Fraction(0))

    def interval_slope(self):
        """phi'(r) = mu r + kappa (r - r_b) for r > r_b (exact at an fmpq r)."""
        mu, kappa, rb = _fmpqs(self.mu, self.kappa, self.basin_radius)
        return lambda r: mu * r + kappa * (r - rb)


class SoftplusWall(Wall):
    r"""Smooth wall of asymptotic slope ``kappa`` and softness ``tau``.

    :math:`\psi(\rho) = \kappa\tau[\mathrm{sp}(\tfrac{\rho-r_b}{\tau}) + \mathrm{sp}(\tfrac{-\rho-r_b}{\tau})
    - 2\,\mathrm{sp}(\tfrac{-r_b}{\tau})]` with :math:`\mathrm{sp}(x)=\log(1+e^x)`. The mirror
    term makes :math:`\psi` even in :math:`\rho`, hence smooth at the river (:math:`\psi'(0)=0`).
    For :math:`\rho \ge r_b`: :math:`\phi'(\rho) \ge \mu\rho + \kappa(\tfrac12 - \sigma(-2r_b/\tau))`.
    """

    basin_radius: Scalars
    kappa: Scalars
    mu: Scalars
    tau: Scalars

    theorems_cover: ClassVar[bool] = True

    def excess(self, rho):
        """psi(rho), the even softplus wall."""
        sp = jax.nn.softplus
        rb, t = self.basin_radius, self.tau
        return self.kappa * t * (sp((rho - rb) / t) + sp((-rho - rb) / t) - 2 * sp(-rb / t))

    def excess_deriv(self, rho):
        """psi'(rho) = kappa [sigma((rho - r_b)/tau) - sigma((-rho - r_b)/tau)]."""
        sg = jax.nn.sigmoid
        rb, t = self.basin_radius, self.tau
        return self.kappa * (sg((rho - rb) / t) - sg((-rho - rb) / t))

    def excess_curvature_at_0(self):
        """psi''(0) = 2 kappa sigma'(-r_b/tau) / tau."""
        sg = jax.nn.sigmoid(-self.basin_radius / self.tau)
        return 2.0 * self.kappa * sg * (1.0 - sg) / self.tau

    def wall_slope(self, rho):
        """mu rho + kappa (1/2 - sigma(-2 r_b / tau)) <= phi'(rho) for rho >= r_b."""
        return self.mu * rho + self.kappa * (0.5 - jax.nn.sigmoid(-2 * self.basin_radius / self.tau))

    def interval_slope(self):
        """phi'(r) = mu r + kappa [sigma((r - r_b)/tau) - sigma((-r - r_b)/tau)] as an arb ball."""
        from flint import arb  # noqa: PLC0415

        mu, kappa, rb, tau = _fmpqs(self.mu, self.kappa, self.basin_radius, self.tau)

        def sig(x):
            return 1 / (1 + (-x).exp())

        return lambda r: mu * r + kappa * (sig((arb(r) - rb) / tau) - sig((-arb(r) - rb) / tau))


class PowerWall(FlatBottomWall):
    r"""Steep power wall: :math:`\psi = \tfrac{\kappa}{p}(\rho - r_b)_+^p`, ``p >= 2``.

    :math:`\phi'(\rho) = \mu\rho + \kappa(\rho-r_b)_+^{p-1}` exactly.
    """

    basin_radius: Scalars
    kappa: Scalars
    mu: Scalars
    power: Scalars

    def excess(self, rho):
        """psi(rho) = kappa/p (rho - r_b)_+^p."""
        return self.kappa / self.power * _relu(rho - self.basin_radius) ** self.power

    theorems_cover: ClassVar[bool] = True

    def excess_deriv(self, rho):
        """psi'(rho) = kappa (rho - r_b)_+^(p-1)."""
        return self.kappa * _relu(rho - self.basin_radius) ** (self.power - 1)

    def rational_slope(self):
        """phi'(r) = mu r + kappa (r - r_b)_+^(p-1) in exact rationals (integer p only, else None)."""
        p = float(np.asarray(self.power))
        if p != int(p) or p < 2:
            return None
        mu, kappa, rb = _fractions(self.mu, self.kappa, self.basin_radius)
        return lambda r: mu * r + kappa * max(r - rb, Fraction(0)) ** (int(p) - 1)

    def interval_slope(self):
        """phi'(r) = mu r + kappa (r - r_b)^(p-1) for r > r_b: exact at an fmpq r for integer p, else arb."""
        from flint import arb  # noqa: PLC0415

        mu, kappa, rb, p = _fmpqs(self.mu, self.kappa, self.basin_radius, self.power)
        if p.q == 1:
            e = int(p.p) - 1
            return lambda r: mu * r + kappa * (r - rb) ** e
        e_arb = arb(p) - 1
        return lambda r: mu * r + kappa * (arb(r) - rb) ** e_arb


class ExpWall(FlatBottomWall):
    r"""Exponential wall: :math:`\psi = \kappa\tau(e^{x/\tau} - 1 - x/\tau)`, :math:`x = (\rho-r_b)_+`.

    :math:`\phi'(\rho) = \mu\rho + \kappa(e^{x/\tau} - 1)` exactly (C^1 at the basin edge).
    """

    basin_radius: Scalars
    kappa: Scalars
    mu: Scalars
    tau: Scalars

    theorems_cover: ClassVar[bool] = True

    def excess(self, rho):
        """psi(rho) = kappa tau (exp(x/tau) - 1 - x/tau)."""
        x = _relu(rho - self.basin_radius) / self.tau
        return self.kappa * self.tau * (jnp.expm1(x) - x)

    def excess_deriv(self, rho):
        """psi'(rho) = kappa (exp(x/tau) - 1)."""
        x = _relu(rho - self.basin_radius) / self.tau
        return self.kappa * jnp.expm1(x)

    def interval_slope(self):
        """phi'(r) = mu r + kappa (exp((r - r_b)/tau) - 1) for r > r_b as an arb ball."""
        from flint import arb  # noqa: PLC0415

        mu, kappa, rb, tau = _fmpqs(self.mu, self.kappa, self.basin_radius, self.tau)
        return lambda r: mu * r + kappa * ((arb(r) - rb) / tau).expm1()


def _f(x):
    return jnp.asarray(x, dtype=jnp.result_type(float))


def _check_shared(basin_radius, kappa, mu, *, kappa_zero=False) -> None:
    """The checks every wall factory makes: r_b > 0, kappa > 0 (>= 0 with ``kappa_zero``), mu >= 0."""
    check_positive("basin_radius", basin_radius)
    check_positive("kappa", kappa, allow_zero=kappa_zero)
    check_positive("mu", mu, allow_zero=True)


def _tau_wall(cls, basin_radius, kappa, mu, tau, default_tau):
    """``cls(r_b, kappa, mu, tau)`` after the checks, with tau = ``default_tau(r_b)`` when None (tau > 0)."""
    _check_shared(basin_radius, kappa, mu)
    tau = default_tau(basin_radius) if tau is None else tau
    check_positive("tau", tau)
    return cls(_f(basin_radius), _f(kappa), _f(mu), _f(tau))


def quadratic_wall(
    basin_radius: ArrayLike = 0.25, kappa: ArrayLike = 10.0, mu: ArrayLike = 0.0
) -> QuadraticWall:
    """Flat-bottom quadratic wall phi = mu/2 rho^2 + kappa/2 (rho - r_b)_+^2 (kappa = 0: no wall)."""
    _check_shared(basin_radius, kappa, mu, kappa_zero=True)
    return QuadraticWall(_f(basin_radius), _f(kappa), _f(mu))


def softplus_wall(
    basin_radius: ArrayLike = 0.25, kappa: ArrayLike = 10.0, mu: ArrayLike = 0.0, tau: ArrayLike | None = None
) -> SoftplusWall:
    """Smooth softplus wall of asymptotic slope kappa; tau defaults to r_b / 10."""
    return _tau_wall(SoftplusWall, basin_radius, kappa, mu, tau, lambda r: r / 10.0)


def power_wall(
    basin_radius: ArrayLike = 0.25, kappa: ArrayLike = 10.0, mu: ArrayLike = 0.0, power: ArrayLike = 4.0
) -> PowerWall:
    """Power wall phi = mu/2 rho^2 + kappa/p (rho - r_b)_+^p with p >= 2."""
    _check_shared(basin_radius, kappa, mu)
    if is_concrete(power) and not float(power) >= 2.0:
        raise LandscapeError(f"power must lie in [2, inf); got {power!r}.")
    return PowerWall(_f(basin_radius), _f(kappa), _f(mu), _f(power))


def exp_wall(
    basin_radius: ArrayLike = 0.25, kappa: ArrayLike = 10.0, mu: ArrayLike = 0.0, tau: ArrayLike | None = None
) -> ExpWall:
    """Exponential wall phi = mu/2 rho^2 + kappa tau (e^{x/tau} - 1 - x/tau); tau defaults to r_b."""
    return _tau_wall(ExpWall, basin_radius, kappa, mu, tau, lambda r: r)
