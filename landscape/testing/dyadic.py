r"""Dyadic cases and their exact judge: exact binary inputs, where rounding ties really happen.

Weights trained in bf16 or fp16 and power-of-two grids are exact binary fractions; then a coordinate can
sit exactly on a rounding boundary (half a step from two grid points) and several coordinates can cross
boundaries at the same time. Generic random floats never do, so every claim about rounding must also be
tried here. A *dyadic case* is a plain dict (JSON-ready) of such numbers:

* ``steps`` powers of two (per coordinate), ``offsets`` 0, a quarter or half a step;
* ``normals`` k orthonormal rows with entries m / 8 (exact unit vectors: integer vectors of squared length
  64 on disjoint supports, or rows of a signed 4 x 4 Hadamard matrix / 2), ``river_dir`` likewise;
* ``w0`` bf16-representable, with a share of coordinates exactly on a rounding boundary (half a step off
  the grid); ``c0 = N w0`` (a trained point on the river) unless ``off_river``;
* a wall with a rational slope (quadratic, power 3 or 4), dyadic ``rb``, ``kappa``, ``mu``, ``eta`` and
  drift ``rate``.

:func:`dyadic_case` draws one from a seed (numpy); :func:`dyadic_cases` is the hypothesis strategy;
:func:`dyadic_objects` builds the engine's objects; :func:`exact_judge` runs the STE orbit in exact
rational arithmetic (``fractions.Fraction``, round half to even), independently of
:mod:`landscape.certify` (no python-flint, no reduction): it is the referee of the certificate.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

__all__ = ["dyadic_case", "dyadic_cases", "dyadic_objects", "exact_judge", "exact_settle", "rtn_offset_exact"]

_H4 = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2.0


def _unit_int(rng, size):
    """An integer vector of length ``size`` and squared length 64 (a unit vector once divided by 8)."""
    for _ in range(400):
        m = rng.integers(-7, 8, size - 1)
        rest = 64 - int(np.sum(m * m))
        r = int(round(np.sqrt(max(rest, 0))))
        if rest >= 0 and r * r == rest and (r > 0 or size == 1):
            v = np.concatenate([m, [r * rng.choice([-1, 1])]])
            if np.all(v != 0):
                return rng.permutation(v)
    v = np.zeros(size, int)
    v[0] = 8
    return v


def _frame(rng, d, k, drift_on_sharp):
    """(N (k, d), u (d,)): orthonormal dyadic rows and a dyadic unit u orthogonal to them."""
    if drift_on_sharp or (k >= 2 and d >= 5 and rng.random() < 0.5):
        cols = rng.choice(d, 4, replace=False)
        h = _H4[rng.permutation(4)] * rng.choice([-1, 1], 4)[None, :]
        full = np.zeros((4, d))
        full[:, cols] = h
        if drift_on_sharp:  # u is another Hadamard row: it moves the sharp coordinates
            return full[:k], full[k]
        free = [j for j in range(d) if j not in cols]
        u = np.zeros(d)
        u[rng.choice(free)] = 1.0
        return full[:k], u
    order = rng.permutation(d)
    u = np.zeros(d)
    u[order[-1]] = 1.0
    avail = list(order[:-1])
    sizes = [1] * k
    for _ in range(len(avail) - k):  # spread the remaining coordinates over the rows (some stay free)
        if rng.random() < 0.8:
            sizes[rng.integers(k)] += 1
    n = np.zeros((k, d))
    pos = 0
    for i, s in enumerate(sizes):
        n[i, avail[pos : pos + s]] = _unit_int(rng, s) / 8.0
        pos += s
    return n, u


def _bf16(x):
    """x rounded to bf16 (8 significant bits), as a float64."""
    m, e = np.frexp(np.asarray(x, np.float64))
    return np.ldexp(np.round(m * 256) / 256, e)


def dyadic_case(
    seed,
    *,
    k=1,
    dims=(2, 8),
    drift=False,
    drift_on_sharp=False,
    off_river=False,
    rtn_failed=True,
    fixed=None,
    width=None,
):
    """One dyadic case (a dict of floats and lists) from an integer seed; see the module docstring.

    ``rtn_failed``: redraw (from the same seed's stream, at most 64 times) until ``Q(w0)`` is outside the
    basin, judged exactly. ``fixed``: values for some of "wall", "rb", "kappa", "mu", "eta" (cases that
    share a wall batch together); ``width``: pad to this many coordinates with inert ones (``n_j = u_j = 0``,
    step 1, offset 0, ``w0_j = 0``), which never move and never change ``N Q(w)``.
    """
    rng = np.random.default_rng(seed)
    for _ in range(64):
        case = _draw(rng, seed, k, dims, drift, drift_on_sharp, off_river)
        case.update(fixed or {})
        if width is not None:
            case = _pad(case, int(width))
        if not rtn_failed or sum(x * x for x in rtn_offset_exact(case)) > Fraction(case["rb"]) ** 2:
            return case
    return case


def _draw(rng, seed, k, dims, drift, drift_on_sharp, off_river):
    d = int(rng.integers(max(dims[0], k + 1, 5 if drift_on_sharp else 2), dims[1] + 1))
    n, u = _frame(rng, d, k, drift_on_sharp)
    a = int(rng.integers(-3, 1))
    step = 2.0 ** (a + rng.choice([0, 0, 0, -1, 1], d))
    off = step * rng.choice([0.0, 0.0, 0.25, 0.5], d)
    ties = rng.random(d) < 0.4
    grid_pt = off + step * rng.integers(-24, 25, d)
    w0 = np.where(ties, grid_pt + step / 2, _bf16(grid_pt + step * rng.uniform(-0.5, 0.5, d)))
    w0 = _bf16(w0)  # every entry is a short binary fraction: bf16 keeps it exactly
    c0 = n @ w0
    if off_river:
        c0 = c0 + rng.integers(-8, 9, k) / 16.0
    dp = 0.5 * float(np.sum(np.linalg.norm(n, axis=0) * step))
    rb = max(np.round(dp * rng.choice([0.25, 0.375, 0.5, 0.625, 0.75, 1.0]) * 64) / 64, 1 / 64)
    wall = str(rng.choice(["quadratic", "quadratic", "power3", "power4"]))
    return {
        "d": d,
        "k": k,
        "normals": n.tolist(),
        "river_dir": u.tolist(),
        "c0": c0.tolist(),
        "step": step.tolist(),
        "offset": off.tolist(),
        "w0": w0.tolist(),
        "wall": wall,
        "rb": float(rb),
        "kappa": float(rng.choice([1.0, 2.0, 4.0, 8.0])),
        "mu": float(rng.choice([0.0, 0.125])),
        "eta": float(rng.choice([1 / 64, 1 / 32, 3 / 64, 1 / 16, 1 / 8])),
        "rate": float(rng.choice([-0.125, -1 / 16, 1 / 16, 0.125])) if (drift or drift_on_sharp) else 0.0,
        "seed": int(seed),
    }


def _pad(case, width):
    extra = width - case["d"]
    if extra < 0:
        raise ValueError(f"width must be >= d = {case['d']}; got {width}.")
    out = dict(case, d=width)
    out["normals"] = [row + [0.0] * extra for row in case["normals"]]
    for key, fill in (("river_dir", 0.0), ("step", 1.0), ("offset", 0.0), ("w0", 0.0)):
        out[key] = case[key] + [fill] * extra
    return out


def dyadic_cases(**kwargs):
    """Hypothesis strategy of :func:`dyadic_case` dicts (keyword arguments as there), drawn from a seed:
    replay a case with ``dyadic_case(case["seed"], ...)``."""
    return st.integers(0, 2**32 - 1).map(lambda s: dyadic_case(s, **kwargs))


def dyadic_objects(case):
    """(landscape, grid, STE rule, w0) of a dyadic case, built by the engine's constructors."""
    import landscape as L  # noqa: PLC0415

    mk = {
        "quadratic": lambda: L.quadratic_wall(case["rb"], case["kappa"], case["mu"]),
        "power3": lambda: L.power_wall(case["rb"], case["kappa"], case["mu"], power=3.0),
        "power4": lambda: L.power_wall(case["rb"], case["kappa"], case["mu"], power=4.0),
    }
    land = L.straight_river(
        np.asarray(case["normals"]),
        np.asarray(case["river_dir"]),
        wall=mk[case["wall"]](),
        river_loss=case["rate"] or None,
        center=np.asarray(case["c0"]),
    )
    grid = L.uniform_grid(np.asarray(case["step"]), offset=np.asarray(case["offset"]))
    return land, grid, L.ste(case["eta"]), np.asarray(case["w0"])


def _half_even(x: Fraction) -> int:
    fl = x.numerator // x.denominator
    rem = x - fl
    return fl + 1 if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2) else fl


def rtn_offset_exact(case, w=None):
    """N Q(w) - c0 in exact rationals (Q: round half to even), w = w0 by default."""
    f = Fraction
    w = [f(x) for x in (case["w0"] if w is None else w)]
    st_, of = [f(x) for x in case["step"]], [f(x) for x in case["offset"]]
    q = [of[j] + st_[j] * _half_even((w[j] - of[j]) / st_[j]) for j in range(len(w))]
    rows = zip(case["normals"], case["c0"], strict=True)
    return [sum((f(row[j]) * q[j] for j in range(len(w))), f(0)) - f(c) for row, c in rows]


def exact_judge(case, budget=2000, bits=400, eta_at=None):
    """The STE orbit of a dyadic case, judged exactly: ("hit", T), ("cycle", (t0, period)), ("budget",
    steps) or ("undecided", t).

    The latent is ``w = b + sum_g h(rho_g) G_g`` with ``b`` and every ``G_g`` exact (``fractions.Fraction``)
    and one term per irrational ``rho_g`` (k >= 2; k = 1 never has one): a step with a rational ``rho`` adds
    to ``b``, one with an irrational ``rho`` adds ``-eta N^T v`` to ``G_g``. A coordinate whose ``G_g`` all
    vanish is rounded exactly (half to even); otherwise with mpmath at ``bits`` bits, and a value within
    2^-(bits - 50) of a cell boundary stops the judge with "undecided" (never a guess). A repeated exact
    ``(b, G)`` on the support of ``N`` (no drift, constant learning rate) is a cycle. ``eta_at``: the
    learning rate of step ``t`` as a ``Fraction`` (a schedule; default the constant ``case["eta"]``).
    """
    seen: dict = {}
    for item in _exact_orbit(case, budget, bits, eta_at):
        if item[0] == "undecided":
            return item
        _, t, inside, key = item
        if inside:
            return "hit", t
        if key is not None:
            if key in seen:
                return "cycle", (seen[key], t - seen[key])
            seen[key] = t
    return "budget", budget


def exact_settle(case, steps, bits=400, eta_at=None):
    """``steps`` steps of the exact STE orbit (as :func:`exact_judge`): ("run", (T, T_settle)) with the
    first entry ``T`` and the last entry ``T_settle`` into the basin (-1: never, or ends outside), or
    ("undecided", t)."""
    first, last, was_in = -1, -1, False
    for item in _exact_orbit(case, steps, bits, eta_at):
        if item[0] == "undecided":
            return item
        _, t, inside, _ = item
        if inside and first < 0:
            first = t
        if inside and not was_in:
            last = t
        was_in = inside
    return "run", (first, last if was_in else -1)


def _exact_orbit(case, budget, bits, eta_at):
    """Yield ("state", t, inside, key) for t = 0..budget (key: the exact state on the support of N, or
    None with drift or a schedule), or a final ("undecided", t)."""
    import mpmath  # noqa: PLC0415

    f = Fraction
    n = [[f(x) for x in row] for row in case["normals"]]
    k, d = len(n), len(n[0])
    rb, eta, kap, mu, rate = (f(case[x]) for x in ("rb", "eta", "kappa", "mu", "rate"))
    power = {"quadratic": 2, "power3": 3, "power4": 4}[case["wall"]]
    u = [f(x) for x in case["river_dir"]]
    st_, of = [f(x) for x in case["step"]], [f(x) for x in case["offset"]]
    c0 = [f(x) for x in case["c0"]]
    b = [f(x) for x in case["w0"]]
    support = [j for j in range(d) if any(n[i][j] != 0 for i in range(k))]  # the rest never matter
    groups: dict = {}  # rho^2 -> (h as mpf, G: d Fractions)
    far = (10**6 * (rb + sum(st_[j] for j in support))) ** 2
    with mpmath.workprec(bits):
        eps = mpmath.mpf(2) ** -(bits - 50)
        for t in range(budget + 1):
            q = [f(0)] * d
            for j in support:
                live = [(h, g[j]) for h, g in groups.values() if g[j] != 0]
                if not live:
                    m = _half_even((b[j] - of[j]) / st_[j])
                else:
                    x = (_mp(b[j]) + mpmath.fsum(h * _mp(c) for h, c in live) - _mp(of[j])) / _mp(st_[j])
                    m = int(mpmath.floor(x + 0.5))
                    if abs(x - m) > mpmath.mpf(1) / 2 - eps:
                        yield "undecided", t
                        return
                q[j] = of[j] + st_[j] * m
            v = [sum((n[i][j] * q[j] for j in support), f(0)) - c0[i] for i in range(k)]
            r2 = sum((x * x for x in v), f(0))
            if r2 > far:
                yield "undecided", t  # diverging: exact numbers grow without bound; not judged
                return
            key = None
            if rate == 0 and eta_at is None:
                key = (
                    tuple(b[j] for j in support),
                    tuple(sorted((r, tuple(g[j] for j in support)) for r, (_, g) in groups.items())),
                )
            yield "state", t, r2 <= rb * rb, key
            eta_t = eta if eta_at is None else f(eta_at(t))
            grad = [sum((n[i][j] * v[i] for i in range(k)), f(0)) for j in range(d)]
            b = [b[j] + eta_t * rate * u[j] for j in range(d)]
            if r2 == 0:
                continue  # on the river: the wall's gradient vanishes
            rho = _sqrt(r2)
            if rho is not None:
                h = (mu * rho + kap * max(rho - rb, f(0)) ** (power - 1)) / rho
                b = [b[j] - eta_t * h * grad[j] for j in range(d)]
            else:
                if eta_at is not None:
                    yield "undecided", t  # a schedule with an irrational rho: not carried exactly here
                    return
                if r2 not in groups:
                    rr = mpmath.sqrt(_mp(r2))
                    hh = (_mp(mu) * rr + _mp(kap) * max(rr - _mp(rb), mpmath.mpf(0)) ** (power - 1)) / rr
                    groups[r2] = (hh, [f(0)] * d)
                g = groups[r2][1]
                for j in range(d):
                    g[j] -= eta_t * grad[j]


def _mp(x):
    import mpmath  # noqa: PLC0415

    return mpmath.mpf(x.numerator) / x.denominator if isinstance(x, Fraction) else x


def _sqrt(r: Fraction):
    """sqrt(r) as a Fraction when r is the square of a rational, else None."""
    import math  # noqa: PLC0415

    a, b = r.numerator, r.denominator
    sa, sb = math.isqrt(a), math.isqrt(b)
    return Fraction(sa, sb) if sa * sa == a and sb * sb == b else None
