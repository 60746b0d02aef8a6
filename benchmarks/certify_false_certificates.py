r"""The recovery certificate against long float64 simulations: false certificates and coverage, k = 1.

Random cases with d in 2..64: a straight river with a Gaussian unit normal (k = 1), no drift, an unbounded
grid with per-coordinate steps (r_b times U(0.6, 3) times U(0.7, 1.3) per coordinate) and offsets, one of
the four walls (kappa log-uniform in [0.5, 20], mu in {0, 0.1}), STE with plain SGD (eta log-uniform in
[0.01, 0.2]). Starts: RTN-failed trained points on the river (80 %) and arbitrary points of the line
through them (20 %, offset up to 2 delta_perp). Cases are grouped by (d, wall, eta) into batched
landscapes, so each group compiles once.

Each start gets ``landscape.certify_recovery``'s verdict *before* the simulation; then the engine runs it
in float64 for ``horizon`` steps. Reported (:func:`landscape.studies.phase_study.certificate_record`):

* ``false_certificates`` -- certified, but the run diverged, entered after ``t_bound``, or did not enter
  although ``t_bound`` was within the horizon (must be 0);
* ``unverifiable_certificates`` -- certified with ``t_bound`` beyond the horizon, not yet entered;
* ``false_refutations`` -- refuted, but the run entered (must be 0);
* ``coverage`` -- certified among the simulated recoveries (target >= 0.9), and ``coverage_theorems``,
  counting only the theorems K1 / K1P (not the exact orbit of the 1-D reduction).

Each case draws its own d in 2..64; cases are run in four widths (8, 16, 32, 64), a d-dimensional case
padded with inert coordinates (``n_j = 0``; see :func:`draw_group`), groups of ``group`` cases sharing a
wall and a learning rate, so the driver compiles once per (width, wall). The horizon is ``horizon``
steps for every run (certificates with a longer ``t_bound`` that have not entered are counted as
unverifiable, not as confirmed).

Run ``python -m benchmarks.certify_false_certificates --cases 100000`` (about half an hour on 2 busy
cores); ``--cases 4000`` for a quick look. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

import landscape as L
from landscape.studies.phase_study import certificate_record

__all__ = ["draw_group", "certify_and_run", "run", "main"]

WALLS = ("quadratic", "softplus", "power", "exp")


def _wall(kind, rb, kappa, mu):
    return {"quadratic": L.quadratic_wall, "softplus": L.softplus_wall, "exp": L.exp_wall}.get(
        kind, lambda *a: L.power_wall(*a, power=4.0)
    )(rb, kappa, mu)


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *trees)


def draw_group(rng, dims, width, kind, size, per_landscape=8, rb=0.25):
    """(batched landscape, batched grid, starts (size, width), rule, true dims) of one (wall, eta) group.

    Each case has its own d drawn from ``dims`` (all <= ``width``) and is embedded in ``width`` coordinates:
    the last ``width - d`` carry no weight in n (n_j = 0), so they never move and never change the
    deployed offset; the dynamics is exactly the d-dimensional one, and one compiled shape serves all.
    """
    wall = _wall(
        kind, rb, float(10 ** rng.uniform(np.log10(0.5), np.log10(20))), float(rng.choice([0.0, 0.1]))
    )
    rule = L.ste(float(10 ** rng.uniform(-2, np.log10(0.2))))
    lss, qzs, ws, ds = [], [], [], []
    while len(ds) < size:
        d = int(rng.choice(dims))
        n = np.zeros(width)
        n[:d] = rng.normal(size=d)
        n /= np.linalg.norm(n)
        step = np.ones(width)
        step[:d] = rb * rng.uniform(0.6, 3.0) * rng.uniform(0.7, 1.3, d)
        off = rng.uniform(0, 1, width) * step
        ls = L.straight_river(n[None], wall=wall)
        qz = L.uniform_grid(step, offset=off)
        u = np.asarray(ls.river_dir, np.float64)
        m = 16 * per_landscape
        z = 2.0 * rng.normal(size=(m, width))
        z[:, d:] = 0.0
        z = z - np.outer(z @ n, n) - np.outer(z @ u, u)
        w = rng.uniform(-60, 60, m)[:, None] * u + z
        q = off + step * np.round((w - off) / step)
        w = w[np.abs(q @ n) > rb][:per_landscape]
        if w.shape[0] == 0:
            continue
        dp = 0.5 * float(np.sum(np.abs(n) * step))
        move = rng.random(w.shape[0]) < 0.2  # one start in five anywhere on the line
        w[move] += rng.uniform(-2, 2, int(move.sum()))[:, None] * dp * n[None]
        lss += [ls] * w.shape[0]
        qzs += [qz] * w.shape[0]
        ws.append(w)
        ds += [d] * w.shape[0]
    return _stack(lss[:size]), _stack(qzs[:size]), np.concatenate(ws)[:size], rule, np.asarray(ds[:size])


def certify_and_run(ls_b, qz_b, w, rule, horizon, budget=4096, chunk=None):
    """(certificate, hit times, divergence times) of batched landscapes and grids (one per start)."""
    cert = L.certify_recovery(ls_b, qz_b, w, rule, landscape_axis=0, quantizer_axis=0, budget=budget)
    tr = L.run_batch(
        ls_b, qz_b, rule, jnp.asarray(w), horizon, record_every=horizon, landscape_axis=0, quantizer_axis=0,
        chunk=chunk,
    )  # fmt: skip
    return cert, np.asarray(tr.hit_time), np.asarray(tr.diverge_time)


def run(cases=4000, seed=0, horizon=2000, group=2000, progress=print) -> dict:
    """The certificate's record over ``cases`` random k = 1 starts, d in 2..64 (see the module docstring)."""
    rng = np.random.default_rng(seed)
    buckets = [(range(2, 9), 8), (range(9, 17), 16), (range(17, 33), 32), (range(33, 65), 64)]
    hits, divs, certs, dims = [], [], [], []
    t0 = time.perf_counter()
    done, gi = 0, 0
    with jax.enable_x64(True):
        while done < cases:
            dset, width = buckets[gi % len(buckets)]
            kind = WALLS[(gi // len(buckets)) % len(WALLS)]
            size = min(group, cases - done)
            ls_b, qz_b, w, rule, dd = draw_group(rng, list(dset), width, kind, size)
            cert, hit, div = certify_and_run(ls_b, qz_b, w, rule, horizon, chunk=512)
            hits.append(hit)
            divs.append(div)
            certs.append(cert)
            dims.append(dd)
            done += w.shape[0]
            gi += 1
            if progress is not None:
                progress(f"{done}/{cases} cases, {time.perf_counter() - t0:.0f} s", flush=True)
    hit, div = np.concatenate(hits), np.concatenate(divs)
    cert = L.RecoveryCertificate(
        *(np.concatenate([np.asarray(getattr(c, f)) for c in certs]) for f in L.RecoveryCertificate._fields)
    )
    rec = {
        "cases": int(hit.size),
        "horizon": horizon,
        "seconds": round(time.perf_counter() - t0, 1),
        "seed": seed,
    }
    rec.update(certificate_record(hit, div, cert, horizon))
    rec["verdicts"] = {
        v: int((np.asarray(cert.verdict) == v).sum()) for v in ("certified", "refuted", "unknown")
    }
    th = np.asarray(cert.theorem)
    rec["theorems"] = {t: int((th == t).sum()) for t in np.unique(th) if t}
    dd = np.concatenate(dims)
    rec["dims"] = [int(dd.min()), int(dd.max())]
    return rec


def main(argv=None):
    """Command line: ``--cases``, ``--seed``, ``--horizon``; prints the record as one JSON line."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=4000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--horizon", type=int, default=2000)
    p.add_argument("--group", type=int, default=2000)
    a = p.parse_args(argv)
    print(json.dumps(run(a.cases, a.seed, a.horizon, a.group)), flush=True)


if __name__ == "__main__":
    main()
