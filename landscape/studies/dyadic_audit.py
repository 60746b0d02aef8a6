r"""The recovery certificate on exact binary inputs, judged by exact rational arithmetic (the dyadic family).

Weights trained in bf16 and power-of-two grids put coordinates exactly on rounding ties, which generic random
floats never do; figure 5 and ``benchmarks/certify_orbit.py`` therefore report this family apart from the
generic one. :func:`dyadic_dataset` draws cases of :func:`landscape.testing.dyadic.dyadic_case` (power-of-two
steps, offsets at 0, 1/4 or 1/2 step, exact unit dyadic normals, bf16 starts with 40 % of coordinates on a
tie, RTN-failed, rational walls), judges each with :func:`landscape.certify_recovery` and, independently,
with the exact STE orbit :func:`landscape.testing.dyadic.exact_judge` (``fractions.Fraction``, round half to
even), one row per case. :func:`dyadic_record` counts them:

* a **false certificate** is a certified start whose exact orbit does not enter by ``t_bound`` (or whose
  judge is undecided);
* a **false refutation** is a refuted start whose exact orbit enters;
* **coverage** is the certified share of the starts whose exact orbit enters (None when none enters).
"""

from __future__ import annotations

import collections

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

import landscape as L
from landscape._errors import check_int_at_least
from landscape.testing.dyadic import dyadic_case, dyadic_objects, exact_judge

__all__ = ["dyadic_dataset", "dyadic_record", "DYADIC_WALLS"]

#: the walls a group draws from (rational slopes: the exact judge follows them exactly)
DYADIC_WALLS = ("quadratic", "power3", "power4")


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *trees)


def _group_values(rng) -> dict:
    """The wall and learning rate a group of cases shares (one certificate call, one compile, per group)."""
    return {
        "wall": str(rng.choice(DYADIC_WALLS)),
        "rb": 0.25,
        "kappa": float(rng.choice([1.0, 2.0, 4.0, 8.0])),
        "mu": float(rng.choice([0.0, 0.125])),
        "eta": float(rng.choice([1 / 64, 1 / 32, 3 / 64, 1 / 16, 1 / 8])),
    }


def dyadic_dataset(
    cases=1000, seed=0, k=1, drift=False, drift_on_sharp=False, budget=2000, group=250, width=8
) -> xr.Dataset:
    """Per dyadic case: the certificate's verdict and ``t_bound`` beside the exact judge's outcome.

    Cases come in groups of ``group`` sharing a wall and a learning rate (drawn per group from ``seed``),
    padded to ``width`` coordinates, so one ``certify_recovery`` call (one compile) serves a group; case
    ``i`` is ``dyadic_case(seed * 1_000_003 + i, k=k, drift=drift, drift_on_sharp=drift_on_sharp,
    fixed=<its group's values>, width=width)`` (the variables ``case_seed``, ``wall``, ``kappa``, ``mu``,
    ``eta`` replay it). A certificate whose ``t_bound`` exceeds ``budget`` is judged up to ``t_bound``.
    """
    for name, value, low in (("cases", cases, 1), ("seed", seed, 0), ("k", k, 1), ("budget", budget, 1),
                             ("group", group, 1), ("width", width, 2)):  # fmt: skip
        check_int_at_least(name, value, low)
    rng = np.random.default_rng(int(seed))
    rows = collections.defaultdict(list)
    done = 0
    while done < cases:
        fixed = _group_values(rng)
        size = min(int(group), int(cases) - done)
        batch = [
            dyadic_case(int(seed) * 1_000_003 + done + i, k=int(k), drift=bool(drift),
                        drift_on_sharp=bool(drift_on_sharp), fixed=fixed, width=int(width))
            for i in range(size)
        ]  # fmt: skip
        objs = [dyadic_objects(c) for c in batch]
        with jax.enable_x64(True):
            cert = L.certify_recovery(
                _stack([o[0] for o in objs]),
                _stack([o[1] for o in objs]),
                np.stack([o[3] for o in objs]),
                objs[0][2],
                budget=int(budget),
                landscape_axis=0,
                quantizer_axis=0,
            )
        for i, case in enumerate(batch):
            v, tb = str(cert.verdict[i]), int(cert.t_bound[i])
            judge = exact_judge(case, int(budget))
            if v == "certified" and judge[0] == "budget" and tb > budget:
                judge = exact_judge(case, tb + 1)  # a bound beyond the judge's horizon: judge up to it
            hit_t = int(judge[1]) if judge[0] == "hit" else -1
            rows["case_seed"].append(case["seed"])
            rows["verdict"].append(v)
            rows["t_bound"].append(tb)
            rows["theorem"].append(str(cert.theorem[i]))
            rows["judge"].append(judge[0])
            rows["judge_T"].append(hit_t)
            for name in ("wall", "kappa", "mu", "eta"):
                rows[name].append(fixed[name])
        done += size
    long = {
        "case_seed": "seed of dyadic_case (replays the case with its group's wall, kappa, mu, eta)",
        "verdict": "certificate verdict (certified / refuted / unknown)",
        "t_bound": "certified bound on T (-1: none)",
        "theorem": "theorem behind the verdict",
        "judge": "exact orbit's outcome (hit / cycle / budget / undecided)",
        "judge_T": "exact first hitting time T (-1: no entry seen)",
        "wall": "wall profile of the case's group",
        "kappa": "wall slope kappa",
        "mu": "floor curvature mu",
        "eta": "STE learning rate eta",
    }
    data = {name: (("case",), np.asarray(vals), {"long_name": long[name]}) for name, vals in rows.items()}
    ds = xr.Dataset(data, coords={"case": np.arange(int(cases))})
    ds.attrs.update(
        family="dyadic", k=int(k), drift=int(bool(drift or drift_on_sharp)),
        drift_on_sharp=int(bool(drift_on_sharp)), seed=int(seed), budget=int(budget), width=int(width),
        judge="landscape.testing.dyadic.exact_judge (fractions.Fraction, round half to even)",
    )  # fmt: skip
    rec = dyadic_record(ds)  # the counts as attributes too (netCDF-ready: no coverage is NaN)
    ds.attrs.update({n: v for n, v in rec.items() if isinstance(v, int)})
    ds.attrs["coverage_of_exact_hits"] = (
        float("nan") if rec["coverage_of_exact_hits"] is None else rec["coverage_of_exact_hits"]
    )
    return ds


def dyadic_record(ds: xr.Dataset, prefix: str = "", examples: int = 5) -> dict:
    """False certificates, false refutations and coverage of the exact hits, counted from ``ds``'s rows.

    A false certificate: verdict "certified" and the exact orbit does not enter by ``t_bound`` (it enters
    later, cycles, runs out of budget or is undecided); a false refutation: verdict "refuted" and the exact
    orbit enters. ``prefix``: the variables' prefix where the rows are merged into another dataset
    (figure 5: ``dyadic_``).
    """
    var = lambda name: np.asarray(ds[f"{prefix}{name}"].values)  # noqa: E731
    verdict, judge = var("verdict").astype(str), var("judge").astype(str)
    hits = judge == "hit"
    bad_c = (verdict == "certified") & ~(hits & (var("judge_T") <= var("t_bound")))
    bad_r = (verdict == "refuted") & hits
    cov = hits & (verdict == "certified")
    tally = collections.Counter(f"{v}/{j}" for v, j in zip(verdict, judge, strict=True))
    bad = np.flatnonzero(bad_c | bad_r)[: int(examples)]
    return {
        "cases": int(verdict.size),
        "certified": int((verdict == "certified").sum()),
        "refuted": int((verdict == "refuted").sum()),
        "unknown": int((verdict == "unknown").sum()),
        "false_certificates": int(bad_c.sum()),
        "false_refutations": int(bad_r.sum()),
        "exact_hits": int(hits.sum()),
        "certified_exact_hits": int(cov.sum()),
        "coverage_of_exact_hits": round(float(cov.sum() / hits.sum()), 4) if hits.any() else None,
        "verdict_vs_judge": dict(sorted(tally.items())),
        "examples": [
            {
                "seed": int(var("case_seed")[i]),
                "verdict": str(verdict[i]),
                "t_bound": int(var("t_bound")[i]),
                "judge": str(judge[i]),
                "judge_T": int(var("judge_T")[i]),
                "wall": str(var("wall")[i]),
                "kappa": float(var("kappa")[i]),
                "mu": float(var("mu")[i]),
                "eta": float(var("eta")[i]),
            }
            for i in bad
        ],  # fmt: skip
    }
