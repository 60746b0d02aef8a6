r"""Peers of ``landscape.run_batch`` on batched 2-D STE, each doing the engine's own float32 arithmetic.

One straight river through the origin at angle :math:`\theta` (normal :math:`n = (n_0, n_1)`, centre
:math:`c_0`), quadratic wall :math:`\phi(\rho) = \tfrac{\mu}{2}\rho^2 + \tfrac{\kappa}{2}(\rho - r_b)_+^2`,
uniform grid of step :math:`\Delta` and offset :math:`o`, SGD with rate :math:`\eta`. Per step, for each
trajectory (structure of arrays: the coordinates x, y are two vectors of length B):

.. math::
    q_j = o + \Delta\,\mathrm{clip}(\mathrm{round}((w_j - o)/\Delta), n_{\min}, n_{\max}),\quad
    v = (n_0 q_0 + n_1 q_1) - c_0,\quad \rho = |v|,

    \text{diverged} \Leftarrow \lnot(\text{finite}(\rho) \wedge \text{finite}(w)),\quad
    \text{good} = \rho \le r_b \wedge \lnot\text{diverged},

    g = (\mu\rho + \kappa(\rho - r_b)_+)\,\mathrm{sign}(v),\quad w_j \leftarrow w_j + (-\eta)(n_j g),

with the bookkeeping of :mod:`landscape.simulate.record` (hit = first good t, settle = start of the
last good streak reaching t = T, diverge = first diverged t; the point after the last step is checked
too). Round half to even, a true division, the same operation order as the engine (``Landscape.probe``,
``UniformGrid``, ``optax.sgd``). The constants are read from the engine's own float32 objects
(:func:`constants`), so every implementation starts from the same bits.

* :func:`numpy_hits` -- hit times only, as a researcher writes it first: quantize, the basin test, the
  first hit, the STE update (about 20 array operations per step, in place); no divergence or settle times;
* :func:`numpy_peer` -- the full bookkeeping, as a careful researcher writes it: in place (``out=``),
  preallocated buffers, no temporaries, no ``einsum`` on a size-2 axis, specialised to the problem where that
  keeps every bit (offset 0 and no clipping: ``step * round(w / step)``; a centre c0 = 0 is not subtracted);
* :func:`torch_peer` -- the same in PyTorch eager (in place), and :func:`torch_compiled` -- one step as a
  ``torch.compile``-d function called once per step;
* :func:`hand_jax` -- a hand-written ``lax.scan`` kernel: x and y as separate vectors, parameters traced
  (as the engine's are), ``unroll`` steps per loop iteration. It bounds what JAX can do on this problem;
  ``hits_only=True`` is the same kernel with the hit time alone.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.bookkeeping import record_step

__all__ = ["constants", "numpy_peer", "numpy_hits", "torch_peer", "torch_compiled", "hand_jax", "FIELDS",
           "OPS_PER_STEP"]

#: arithmetic operations per trajectory-step of the 2-D STE problem (quantize 2 x 3, v 3, |v| and the basin
#: test 2, the hit update 3, the wall's gradient 7, the update 4): the hit-times kernel, for the floor
OPS_PER_STEP = 25

#: the summaries every peer returns
FIELDS = ("hit_time", "settle_time", "diverge_time")


def _plain_grid(c: dict) -> bool:
    """Offset 0, no clipping: o + step * clip(n) is step * n bit for bit (x - 0 = x, clip(n, +-inf) = n)."""
    return bool(c["offset"] == 0 and c["qmin"] == -np.inf and c["qmax"] == np.inf)


def constants(land, grid, learning_rate) -> dict:
    """The float32 constants of the engine's landscape, grid and rule (numpy scalars, bit-identical)."""
    f = lambda x: np.float32(np.asarray(x, np.float32).reshape(-1)[0])  # noqa: E731
    inv_a = f(1.0 / np.asarray(land.aniso, np.float32))
    if inv_a != np.float32(1.0):
        raise ValueError("the peers cover the isotropic basin (aniso = 1) only.")
    n = np.asarray(land.normals, np.float32).reshape(-1)
    return {
        "n0": np.float32(n[0]), "n1": np.float32(n[1]), "c0": f(land.center.c0),
        "rb": f(land.wall.basin_radius), "kappa": f(land.wall.kappa), "mu": f(land.wall.mu),
        "step": f(grid.step), "offset": f(grid.offset), "qmin": f(grid.qmin), "qmax": f(grid.qmax),
        "neg_lr": np.float32(-np.float32(learning_rate)),
    }


# --------------------------------------------------------------------------------------------------
# NumPy
# --------------------------------------------------------------------------------------------------
def numpy_peer(w0: np.ndarray, steps: int, c: dict, fma: bool = False) -> dict:
    """Vectorised NumPy STE, structure of arrays, every operation in place into preallocated buffers.

    ``fma`` rounds as XLA:CPU does on an FMA machine (LLVM contracts a * b + c into one fused multiply-add):
    ``v = fma(n0, q0, n1 q1)`` and ``w = fma(-eta, n_j g, w)``, emulated in float64 (the product of two
    float32 is exact there; the one rounding to float32 is then that of the fused operation except in
    rare double-rounding cases). Slower; used for the agreement check, not for timing.
    """
    x = np.ascontiguousarray(w0[:, 0], np.float32)
    y = np.ascontiguousarray(w0[:, 1], np.float32)
    b = x.shape[0]
    hit, settle, div = (np.full(b, -1, np.int32) for _ in range(3))
    qx, qy, v, r, tmp = (np.empty(b, np.float32) for _ in range(5))
    good, bad, mask = (np.empty(b, bool) for _ in range(3))

    plain = _plain_grid(c)

    def quantize(w, out):
        if plain:  # offset 0, no clipping: Q(w) = step * round(w / step), the same bits
            np.divide(w, c["step"], out=out)
            np.round(out, out=out)  # half to even
            np.multiply(out, c["step"], out=out)
            return
        np.subtract(w, c["offset"], out=out)
        np.divide(out, c["step"], out=out)
        np.round(out, out=out)
        np.maximum(out, c["qmin"], out=out)
        np.minimum(out, c["qmax"], out=out)
        np.multiply(out, c["step"], out=out)
        np.add(out, c["offset"], out=out)

    def observe(t):
        quantize(x, qx)
        quantize(y, qy)
        np.multiply(qy, c["n1"], out=tmp)
        if fma:
            np.add(np.float64(c["n0"]) * qx, tmp, out=v, casting="unsafe")
        else:
            np.multiply(qx, c["n0"], out=v)
            np.add(v, tmp, out=v)
        if c["c0"] != 0:
            np.subtract(v, c["c0"], out=v)
        np.abs(v, out=r)
        np.isfinite(r, out=bad)
        np.logical_and(bad, np.isfinite(x, out=mask), out=bad)
        np.logical_and(bad, np.isfinite(y, out=mask), out=bad)
        np.logical_not(bad, out=bad)
        np.less(div, 0, out=mask)
        np.logical_and(mask, bad, out=mask)
        np.copyto(div, t, where=mask)
        np.less_equal(r, c["rb"], out=good)
        np.logical_and(good, np.less(div, 0, out=mask), out=good)
        np.less(hit, 0, out=mask)
        np.logical_and(mask, good, out=mask)
        np.copyto(hit, t, where=mask)
        np.less(settle, 0, out=mask)
        np.logical_and(mask, good, out=mask)
        np.copyto(settle, t, where=mask)
        np.logical_not(good, out=mask)
        np.copyto(settle, -1, where=mask)

    with np.errstate(invalid="ignore", over="ignore"):
        for t in range(steps):
            observe(t)
            _numpy_update(x, y, v, r, tmp, c, fma)
        observe(steps)
    return {"hit_time": hit, "settle_time": settle, "diverge_time": div}


def _numpy_update(x, y, v, r, tmp, c: dict, fma: bool = False) -> None:
    """The STE step in place: g = (mu rho + kappa (rho - r_b)_+) sign(v); w_j += (-eta) (n_j g)."""
    np.subtract(r, c["rb"], out=tmp)
    np.maximum(tmp, np.float32(0.0), out=tmp)
    np.multiply(tmp, c["kappa"], out=tmp)
    np.multiply(r, c["mu"], out=r)
    np.add(r, tmp, out=r)
    np.sign(v, out=v)
    np.multiply(r, v, out=r)
    for w, n in ((x, c["n0"]), (y, c["n1"])):
        np.multiply(r, n, out=tmp)
        if fma:
            np.add(np.float64(c["neg_lr"]) * tmp, w, out=w, casting="unsafe")
        else:
            np.multiply(tmp, c["neg_lr"], out=tmp)
            np.add(w, tmp, out=w)


def numpy_hits(w0: np.ndarray, steps: int, c: dict) -> dict:
    """Hit times only (the first step with Q(w_t) in the basin; -1 never), NumPy, in place, plain grid."""
    x = np.ascontiguousarray(w0[:, 0], np.float32)
    y = np.ascontiguousarray(w0[:, 1], np.float32)
    b = x.shape[0]
    hit = np.full(b, -1, np.int32)
    qx, qy, v, r, tmp = (np.empty(b, np.float32) for _ in range(5))
    mask = np.empty(b, bool)
    step = c["step"]

    def basin(t):
        np.divide(x, step, out=qx)
        np.round(qx, out=qx)
        np.multiply(qx, step, out=qx)
        np.divide(y, step, out=qy)
        np.round(qy, out=qy)
        np.multiply(qy, step, out=qy)
        np.multiply(qx, c["n0"], out=v)
        np.multiply(qy, c["n1"], out=tmp)
        np.add(v, tmp, out=v)
        if c["c0"] != 0:
            np.subtract(v, c["c0"], out=v)
        np.abs(v, out=r)
        np.less_equal(r, c["rb"], out=mask)
        np.logical_and(mask, hit < 0, out=mask)
        np.copyto(hit, t, where=mask)

    if not _plain_grid(c):
        raise ValueError("numpy_hits covers the plain grid (offset 0, no clipping) only.")
    with np.errstate(invalid="ignore", over="ignore"):
        for t in range(steps):
            basin(t)
            _numpy_update(x, y, v, r, tmp, c)
        basin(steps)
    return {"hit_time": hit}


# --------------------------------------------------------------------------------------------------
# PyTorch
# --------------------------------------------------------------------------------------------------
def _torch_step(x, y, hit, settle, div, t, p):
    """One step (functional): the bookkeeping of q_t, then the STE update. For torch.compile and eager."""
    import torch

    def quantize(w):
        if p["plain"]:
            return p["step"] * torch.round(w / p["step"])
        n = torch.clamp(torch.round((w - p["offset"]) / p["step"]), p["qmin"], p["qmax"])
        return p["offset"] + p["step"] * n

    v = p["n0"] * quantize(x) + p["n1"] * quantize(y)
    if p["centred"]:
        v = v - p["c0"]
    r = v.abs()
    bad = ~(torch.isfinite(r) & torch.isfinite(x) & torch.isfinite(y))
    div = torch.where((div < 0) & bad, t, div)
    good = (r <= p["rb"]) & (div < 0)
    hit = torch.where((hit < 0) & good, t, hit)
    settle = torch.where(good, torch.where(settle < 0, t, settle), -1)
    g = (p["mu"] * r + p["kappa"] * torch.clamp_min(r - p["rb"], 0.0)) * torch.sign(v)
    return x + p["neg_lr"] * (p["n0"] * g), y + p["neg_lr"] * (p["n1"] * g), hit, settle, div


def _torch_params(c: dict):
    import torch

    p = {k: torch.tensor(float(v), dtype=torch.float32) for k, v in c.items()}
    return {**p, "plain": _plain_grid(c), "centred": bool(c["c0"] != 0)}


def torch_peer(w0: np.ndarray, steps: int, c: dict) -> dict:
    """PyTorch eager on the CPU, in place where torch makes it idiomatic (no autograd)."""
    import torch

    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(w0[:, 0], np.float32))
        y = torch.from_numpy(np.ascontiguousarray(w0[:, 1], np.float32))
        b = x.shape[0]
        hit, settle, div = (torch.full((b,), -1, dtype=torch.int32) for _ in range(3))
        qx, qy, v, r, tmp = (torch.empty(b) for _ in range(5))
        s = {k: float(val) for k, val in c.items()}

        plain = _plain_grid(c)

        def quantize(w, out):
            if plain:
                torch.div(w, s["step"], out=out)
                out.round_().mul_(s["step"])
                return
            torch.sub(w, s["offset"], out=out)
            out.div_(s["step"]).round_().clamp_(s["qmin"], s["qmax"]).mul_(s["step"]).add_(s["offset"])

        def observe(t):
            quantize(x, qx)
            quantize(y, qy)
            torch.mul(qx, s["n0"], out=v)
            torch.mul(qy, s["n1"], out=tmp)
            v.add_(tmp)
            if s["c0"] != 0:
                v.sub_(s["c0"])
            torch.abs(v, out=r)
            bad = ~(torch.isfinite(r) & torch.isfinite(x) & torch.isfinite(y))
            div.masked_fill_((div < 0) & bad, t)
            good = (r <= s["rb"]) & (div < 0)
            hit.masked_fill_((hit < 0) & good, t)
            settle.masked_fill_((settle < 0) & good, t)
            settle.masked_fill_(~good, -1)

        for t in range(steps):
            observe(t)
            torch.sub(r, s["rb"], out=tmp)
            tmp.clamp_min_(0.0).mul_(s["kappa"])
            r.mul_(s["mu"]).add_(tmp).mul_(torch.sign(v))
            torch.mul(r, s["n0"], out=tmp)
            x.add_(tmp.mul_(s["neg_lr"]))
            torch.mul(r, s["n1"], out=tmp)
            y.add_(tmp.mul_(s["neg_lr"]))
        observe(steps)
        return {"hit_time": hit.numpy(), "settle_time": settle.numpy(), "diverge_time": div.numpy()}


def torch_compiled(c: dict):
    """A runner ``(w0, steps) -> summaries`` whose step is ``torch.compile``-d (compiled at first call)."""
    import torch

    p = _torch_params(c)
    step = torch.compile(lambda x, y, h, s, d, t: _torch_step(x, y, h, s, d, t, p), dynamic=False)

    def run(w0: np.ndarray, steps: int) -> dict:
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(w0[:, 0], np.float32))
            y = torch.from_numpy(np.ascontiguousarray(w0[:, 1], np.float32))
            b = x.shape[0]
            hit, settle, div = (torch.full((b,), -1, dtype=torch.int32) for _ in range(3))
            ts = torch.arange(steps + 1, dtype=torch.int32)
            for t in range(steps):
                x, y, hit, settle, div = step(x, y, hit, settle, div, ts[t])
            _, _, hit, settle, div = step(x, y, hit, settle, div, ts[steps])
            return {"hit_time": hit.numpy(), "settle_time": settle.numpy(), "diverge_time": div.numpy()}

    return run


# --------------------------------------------------------------------------------------------------
# JAX, by hand
# --------------------------------------------------------------------------------------------------
def hand_jax(steps: int, unroll: int = 4, compiler_options: dict | None = None, plain: bool = True,
             centred: bool = False, hits_only: bool = False, chunk: int | None = None):
    """A jitted ``(params, x, y) -> (hit, settle, div)`` kernel: ``lax.scan`` over steps, x and y apart.

    ``plain``: the grid has offset 0 and no clipping (written as step * round(w / step), as a researcher
    specialising to this problem would); ``centred``: subtract the river's centre c0. ``hits_only``: the
    kernel returns ``(hit,)``, and neither checks finiteness nor tracks settle and divergence times.
    ``chunk = m``: ``lax.map`` over chunks of m trajectories (the last padded), each chunk all its steps
    (the state of a chunk stays in the core's cache: issue 23's hand kernel, m = 1024).
    """

    def quantize(w, p):
        if plain:
            return p["step"] * jnp.round(w / p["step"])
        n = jnp.clip(jnp.round((w - p["offset"]) / p["step"]), p["qmin"], p["qmax"])
        return p["offset"] + p["step"] * n

    def observe(c, t, p):
        x, y, hit, settle, div = c
        v = p["n0"] * quantize(x, p) + p["n1"] * quantize(y, p)
        if centred:
            v = v - p["c0"]
        r = jnp.abs(v)
        finite = jnp.isfinite(r) & jnp.isfinite(x) & jnp.isfinite(y)
        return v, r, *record_step(hit, settle, div, t, r <= p["rb"], finite)

    def body(c, t, p):
        x, y = c[0], c[1]
        v, r, hit, settle, div = observe(c, t, p)
        g = (p["mu"] * r + p["kappa"] * jnp.maximum(r - p["rb"], 0.0)) * jnp.sign(v)
        return (x + p["neg_lr"] * (p["n0"] * g), y + p["neg_lr"] * (p["n1"] * g), hit, settle, div), None

    def kernel(p, x, y):
        m1 = jnp.full(x.shape, -1, jnp.int32)
        ts = jnp.arange(steps, dtype=jnp.int32)
        c, _ = jax.lax.scan(lambda c, t: body(c, t, p), (x, y, m1, m1, m1), ts, unroll=unroll)
        _, _, hit, settle, div = observe(c, jnp.int32(steps), p)
        return hit, settle, div

    def hits(c, t, p):  # the hit time alone: carry (x, y, hit)
        x, y, hit = c
        v = p["n0"] * quantize(x, p) + p["n1"] * quantize(y, p)
        if centred:
            v = v - p["c0"]
        r = jnp.abs(v)
        return v, r, jnp.where((hit < 0) & (r <= p["rb"]), t, hit)

    def hits_body(c, t, p):
        v, r, hit = hits(c, t, p)
        g = (p["mu"] * r + p["kappa"] * jnp.maximum(r - p["rb"], 0.0)) * jnp.sign(v)
        return (c[0] + p["neg_lr"] * (p["n0"] * g), c[1] + p["neg_lr"] * (p["n1"] * g), hit), None

    def hits_kernel(p, x, y):
        ts = jnp.arange(steps, dtype=jnp.int32)
        c, _ = jax.lax.scan(lambda c, t: hits_body(c, t, p), (x, y, jnp.full(x.shape, -1, jnp.int32)), ts,
                            unroll=unroll)
        return (hits(c, jnp.int32(steps), p)[2],)

    one = hits_kernel if hits_only else kernel

    def chunked(p, x, y):
        b = x.shape[0]
        pad = -b % chunk
        xs, ys = (jnp.pad(a, (0, pad), mode="edge").reshape(-1, chunk) for a in (x, y))
        out = jax.lax.map(lambda xy: one(p, xy[0], xy[1]), (xs, ys))
        return tuple(o.reshape(-1)[:b] for o in out)

    return jax.jit(one if chunk is None else chunked, compiler_options=compiler_options or None)
