"""Figure 5's dyadic family (landscape.studies.dyadic_audit): rows that replay, verdicts judged exactly."""

from __future__ import annotations

import numpy as np
import pytest

import landscape as L
from benchmarks.certify_orbit import run_dyadic
from landscape.studies.dyadic_audit import dyadic_dataset, dyadic_record
from landscape.testing.dyadic import dyadic_case, exact_judge, rtn_offset_exact

BUDGET = 200


@pytest.fixture(scope="module")
def rows():
    return dyadic_dataset(12, seed=3, budget=BUDGET, group=6)


def test_rows_replay_as_rtn_failed_cases_and_match_the_exact_judge(rows):
    """Each row's case, rebuilt from its seed and group values, is RTN-failed and judged as recorded."""
    assert rows.sizes["case"] == 12
    for i in range(12):
        r = rows.isel(case=i)
        fixed = {"wall": str(r["wall"].values), "rb": 0.25, "kappa": float(r["kappa"]), "mu": float(r["mu"]),
                 "eta": float(r["eta"])}  # fmt: skip
        case = dyadic_case(int(r["case_seed"]), k=1, fixed=fixed, width=8)
        assert sum(x * x for x in rtn_offset_exact(case)) > 0.25**2  # RTN's point is outside the basin
        judge = exact_judge(case, BUDGET)
        if str(r["verdict"].values) == "certified" and int(r["t_bound"]) > BUDGET:
            judge = exact_judge(case, int(r["t_bound"]) + 1)
        assert judge[0] == str(r["judge"].values), i
        assert int(r["judge_T"]) == (judge[1] if judge[0] == "hit" else -1), i


def test_the_record_counts_every_case_once_and_finds_no_false_verdict(rows):
    rec = dyadic_record(rows)
    assert rec["cases"] == 12 == rec["certified"] + rec["refuted"] + rec["unknown"]
    assert sum(rec["verdict_vs_judge"].values()) == 12
    assert rec["false_certificates"] == 0 and rec["false_refutations"] == 0 and rec["examples"] == []
    assert rec["exact_hits"] == int((rows["judge"].values == "hit").sum())
    assert rec["coverage_of_exact_hits"] == (
        round(rec["certified_exact_hits"] / rec["exact_hits"], 4) if rec["exact_hits"] else None
    )
    for name in ("cases", "false_certificates", "false_refutations", "exact_hits", "certified_exact_hits"):
        assert rows.attrs[name] == rec[name], name


def test_planted_false_verdicts_are_counted(rows):
    """Certificates the exact orbit contradicts (late entry, a cycle) and a refuted entry are counted."""
    bad = rows.copy(deep=True)
    for name, vals in (
        ("verdict", ["certified", "certified", "refuted", "certified"]),
        ("judge", ["hit", "cycle", "hit", "hit"]),
        ("judge_T", [5, -1, 3, 4]),
        ("t_bound", [4, 9, -1, 4]),  # row 3 enters exactly at t_bound: a true certificate
    ):
        arr = bad[name].values.astype(object if name in ("verdict", "judge") else np.int64)
        arr[:4] = vals
        bad[name] = ("case", arr.astype(str) if name in ("verdict", "judge") else arr)
    for i in range(4, 12):  # the rest: unknown, so that only the planted rows can count
        bad["verdict"].values[i] = "unknown"
    rec = dyadic_record(bad)
    assert rec["false_certificates"] == 2 and rec["false_refutations"] == 1
    assert [e["seed"] for e in rec["examples"]] == [int(bad["case_seed"][i]) for i in (0, 1, 2)]


def test_the_benchmark_reports_the_study():
    """benchmarks/certify_orbit.py's dyadic family is the study's record (no second implementation)."""
    got = run_dyadic(5, seed=4, budget=BUDGET, group=5)
    want = dyadic_record(dyadic_dataset(5, seed=4, budget=BUDGET, group=5))
    assert {k: got[k] for k in want} == want and got["family"] == "dyadic"


@pytest.mark.parametrize("name, kwargs", [("cases", {"cases": 0}), ("group", {"group": 0}),
                                          ("budget", {"budget": -3}), ("seed", {"seed": -1})])  # fmt: skip
def test_bad_arguments_are_named_before_any_work(name, kwargs):
    with pytest.raises(L.LandscapeError, match=name):
        dyadic_dataset(**{"cases": 2, **kwargs})
