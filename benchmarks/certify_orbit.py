r"""The certificate on exact binary inputs and for every k: false verdicts against exact judges, coverage.

Two families, each reported apart (one JSON line per family):

* ``dyadic`` (:func:`run_dyadic`, on :mod:`landscape.studies.dyadic_audit`, the study figure 5 also
  reports): cases of :func:`landscape.testing.dyadic.dyadic_case` -- power-of-two
  steps, offsets at 0, 1/4 or 1/2 step, exact unit dyadic normals, bf16 starts with 40 % of coordinates on
  a rounding tie, RTN-failed, rational walls. Each start's verdict is judged by the independent exact
  orbit :func:`landscape.testing.dyadic.exact_judge` (``fractions.Fraction``, half to even): a false
  certificate is a certified start whose exact orbit does not enter by ``t_bound`` (or is undecided); a
  false refutation a refuted start whose exact orbit enters. ``k``, drift (along u off the sharp support,
  or ``drift_on_sharp``: u a Hadamard row through the sharp coordinates) are options.
* ``generic`` (:func:`run_generic`): random straight rivers (:func:`landscape.random_river`, Gaussian N
  and u: drift, when on, moves the sharp coordinates), d in 3..8, k in ``ks``, the four walls, per-coordinate
  steps ``r_b`` U(0.6, 3) U(0.7, 1.3), random offsets, STE with SGD (eta log-uniform in [0.01, 0.2]),
  RTN-failed trained points on the river. Judged against the engine's float64 run (``horizon`` steps):
  coverage = certified among the simulated recoveries; false certificates / refutations as in
  :func:`landscape.studies.phase_study.certificate_record`.

Run ``python -m benchmarks.certify_orbit --family dyadic --cases 10000`` or ``--family generic --k 2``.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

import landscape as L
from benchmarks.certify_false_certificates import certify_and_run
from landscape.studies.dyadic_audit import dyadic_dataset, dyadic_record
from landscape.studies.phase_study import certificate_record

__all__ = ["run_dyadic", "run_generic", "main"]

WALLS = ("quadratic", "softplus", "power", "exp")


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *trees)


def run_dyadic(
    cases=1000, seed=0, k=1, drift=False, drift_on_sharp=False, budget=2000, group=250, width=8
) -> dict:
    """False certificates and refutations of ``certify_recovery`` on dyadic cases, judged exactly.

    The study is :func:`landscape.studies.dyadic_audit.dyadic_dataset` (groups of ``group`` cases sharing a
    wall and a learning rate, one compile per group), counted by
    :func:`landscape.studies.dyadic_audit.dyadic_record`; figure 5 reports the same record.
    """
    t0 = time.perf_counter()
    ds = dyadic_dataset(cases, seed, k, drift, drift_on_sharp, budget, group, width)
    return {
        "family": "dyadic",
        "k": k,
        "drift": bool(drift or drift_on_sharp),
        "drift_on_sharp": bool(drift_on_sharp),
        "seed": seed,
        "budget": budget,
        **dyadic_record(ds),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def _wall(kind, rb, kappa, mu):
    return {"quadratic": L.quadratic_wall, "softplus": L.softplus_wall, "exp": L.exp_wall}.get(
        kind, lambda *a: L.power_wall(*a, power=4.0)
    )(rb, kappa, mu)


def _group(rng, d, k, kind, size, drift, rb=0.25):
    wall = _wall(kind, rb, float(10 ** rng.uniform(np.log10(0.5), np.log10(20))), float(rng.choice([0, 0.1])))
    rule = L.ste(float(10 ** rng.uniform(-2, np.log10(0.2))))
    lss, qzs, ws = [], [], []
    while len(ws) < size:
        rate = float(rng.choice([-0.05, 0.05])) if drift else None
        ls = L.random_river(jax.random.PRNGKey(int(rng.integers(2**31))), d, k, wall=wall, river_loss=rate)
        step = rb * rng.uniform(0.6, 3.0) * rng.uniform(0.7, 1.3, d)
        off = rng.uniform(0, 1, d) * step
        qz = L.uniform_grid(step, offset=off)
        n, u = np.asarray(ls.normals, np.float64), np.asarray(ls.river_dir, np.float64)
        w = rng.uniform(-30, 30, 16)[:, None] * u[None, :]
        q = off + step * np.round((w - off) / step)
        w = w[np.linalg.norm(q @ n.T, axis=1) > rb][:2]
        lss += [ls] * w.shape[0]
        qzs += [qz] * w.shape[0]
        ws += list(w)
    return _stack(lss[:size]), _stack(qzs[:size]), np.asarray(ws[:size]), rule


def run_generic(cases=400, seed=0, ks=(2, 3), drift=False, horizon=2000, group=50) -> dict:
    """Coverage and false verdicts of ``certify_recovery`` on generic k >= 2 (or k = 1 drifting) cases."""
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    hits, divs, certs, done, gi = [], [], [], 0, 0
    with jax.enable_x64(True):
        while done < cases:
            k = ks[gi % len(ks)]
            d = int(rng.integers(max(3, k + 1), 9))
            kind = WALLS[(gi // len(ks)) % len(WALLS)]
            size = min(group, cases - done)
            ls, qz, w, rule = _group(rng, d, k, kind, size, drift)
            cert, hit, div = certify_and_run(ls, qz, w, rule, horizon, budget=horizon)
            hits.append(hit)
            divs.append(div)
            certs.append(cert)
            done += size
            gi += 1
    cert = L.RecoveryCertificate(
        *(np.concatenate([np.asarray(getattr(c, f)) for c in certs]) for f in L.RecoveryCertificate._fields)
    )
    hit, div = np.concatenate(hits), np.concatenate(divs)
    rec = {
        "family": "generic",
        "ks": list(ks),
        "drift": drift,
        "cases": int(hit.size),
        "seed": seed,
        "horizon": horizon,
    }
    rec.update(certificate_record(hit, div, cert, horizon))
    tb, ver = np.asarray(cert.t_bound), np.asarray(cert.verdict)
    exact_t = (ver == "certified") & (np.asarray(cert.theorem) == "VO")
    rec["validated_T_differs_from_float64_T"] = int((exact_t & (tb != hit)).sum())
    rec["verdicts"] = {v: int((ver == v).sum()) for v in ("certified", "refuted", "unknown")}
    th = np.asarray(cert.theorem)
    rec["theorems"] = {t: int((th == t).sum()) for t in np.unique(th) if t}
    rec["seconds"] = round(time.perf_counter() - t0, 1)
    return rec


def main(argv=None):
    """Command line: ``--family dyadic|generic``, ``--cases``, ``--seed``, ``--k``, ``--drift``, ..."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--family", choices=("dyadic", "generic"), default="dyadic")
    p.add_argument("--cases", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--k", type=int, nargs="+", default=[1])
    p.add_argument("--drift", action="store_true")
    p.add_argument("--drift-on-sharp", action="store_true")
    p.add_argument("--horizon", type=int, default=2000)
    a = p.parse_args(argv)
    if a.family == "dyadic":
        rec = run_dyadic(a.cases, a.seed, a.k[0], a.drift, a.drift_on_sharp, a.horizon)
    else:
        rec = run_generic(a.cases, a.seed, tuple(a.k), a.drift, a.horizon)
    print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
