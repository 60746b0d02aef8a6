"""One home per law: the exit law, corner enumeration, recovery statistics and cycle detection each live
once, the callers use those very functions, and the proof layer fails when a law of landscape.laws is
wrong (a planted bug)."""

from __future__ import annotations

import importlib

import numpy as np

from landscape import laws
from landscape.certify import reduction
from landscape.quantizers import cells
from landscape.reproduce.stages import common, phase, runs
from landscape.simulate import chatter, outcomes
from landscape.studies import figures_data as studies
from landscape.studies import phase_study, ptq_failure, rtn_study
from landscape.studies import recovery as exp_recovery
from landscape.sweep import summary as sweep_summary
from proofs.basin import certify, scenarios, symbolic


def test_the_copies_are_gone():
    gone = ((symbolic, "exit_probability"), (symbolic, "gaussian_exit"), (symbolic, "berry_esseen_sum"),
            (rtn_study, "exit_prob_2d"), (rtn_study, "exit_prob_gaussian"),
            (ptq_failure, "rtn_exit_probability_2d"), (studies, "last_cycle"))
    for mod, name in gone:
        assert not hasattr(mod, name), f"{mod.__name__}.{name} is a second home"


def test_callers_hold_the_single_homes():
    oracle_mod = importlib.import_module("landscape.ptq.oracle")  # the module, not the function
    assert symbolic.laws is laws and scenarios.laws is laws and rtn_study.laws is laws
    assert ptq_failure.laws is laws
    assert oracle_mod.corner_code_bits is cells.corner_code_bits
    assert scenarios.quantizers.cell_corners is cells.cell_corners
    assert studies.oracle is __import__("landscape.ptq", fromlist=["oracle"]).oracle
    assert common.recovery_summary is outcomes.recovery_summary
    assert phase.batch_stats is runs.batch_stats is common.batch_stats  # figures 4, 5, 8: the same summary
    assert phase_study.outcomes is outcomes.outcomes and exp_recovery.outcomes is outcomes.outcomes
    assert exp_recovery.sweep_summary is sweep_summary.summarize  # the sweep's counts
    assert sweep_summary.wilson_interval is outcomes.wilson_interval
    assert runs.cycle_points is chatter.cycle_points
    assert reduction.Recurrence is chatter.Recurrence


def test_rtn_study_law_is_landscape_laws():
    law, source = rtn_study.exact_law_2d()
    assert "landscape.laws.rtn_exit_probability" in source
    theta, step, rb = 0.4, 1.0, 0.3
    assert law(theta, step, rb) == laws.rtn_exit_probability(
        laws.normal_half_widths([-np.sin(theta), np.cos(theta)], step), rb)


def test_planted_bug_in_the_exit_law_fails_S1(monkeypatch):
    assert symbolic.step_irwin_hall_exit_prob().ok
    right = laws.rtn_exit_probability
    monkeypatch.setattr(laws, "rtn_exit_probability", lambda a, r, dps=50: min(1.0, 1.001 * right(a, r, dps)))
    assert not symbolic.step_irwin_hall_exit_prob().ok


def test_planted_bug_in_the_2d_law_fails_S1(monkeypatch):
    right = laws.rtn_exit_probability_2d
    # a law off by a factor 2 beyond r = 0.1 (as a 2AB for 4AB in the denominator would be)
    monkeypatch.setattr(laws, "rtn_exit_probability_2d", lambda t, s, r: right(t, s, r) * (1.0 + (r > 0.1)))
    assert not symbolic.step_irwin_hall_exit_prob().ok


def test_planted_bug_in_the_gaussian_limit_fails_S1G(monkeypatch):
    assert symbolic.step_uniform_moments().ok
    right = laws.berry_esseen_sum
    monkeypatch.setattr(laws, "berry_esseen_sum", lambda a: right(a) * 4 / 3)  # E|X|^3 = a^3/3: wrong
    assert not symbolic.step_uniform_moments().ok
    monkeypatch.setattr(laws, "berry_esseen_sum", right)
    gauss = laws.gaussian_exit
    monkeypatch.setattr(laws, "gaussian_exit", lambda a, r: gauss(np.asarray(a) * 1.01, r))
    assert not symbolic.step_uniform_moments().ok


def test_berry_esseen_certificate_evaluates_landscape_laws(monkeypatch):
    calls = []
    right = laws.rtn_exit_probability

    def spy(a, r, dps=50):
        calls.append(len(a))
        return right(a, r, dps)

    monkeypatch.setattr(laws, "rtn_exit_probability", spy)
    assert certify._be_branch_and_bound(3)[0]
    assert calls and set(calls) == {3}


def test_corner_code_bits_enumerates_every_corner_once():
    bits = np.asarray(cells.corner_code_bits(np.arange(16), 4))
    assert len({tuple(r) for r in bits.tolist()}) == 16
    np.testing.assert_array_equal(bits[5], [True, False, True, False])  # bit j = coordinate j
    table = np.concatenate(list(cells.corner_bits(4, chunk_bits=2)))
    assert {tuple(r) for r in table.tolist()} == {tuple(r) for r in bits.tolist()}


def test_recovery_summary_counts_diverged_apart():
    hit = np.array([3, -1, 5, 7, -1])
    div = np.array([-1, -1, -1, 2, 4])  # the run that hit at 7 had diverged at 2: not a recovery
    s = outcomes.recovery_summary(hit, div)
    assert (s["n"], s["recovered"], s["censored"], s["diverged"]) == (5, 2, 1, 2)
    assert s["recovery_prob"] == 0.4 and s["median_T"] == 4.0 and s["max_T"] == 5
    lo, hi = outcomes.wilson_interval(2, 5)
    assert s["recovery_lo"] == round(float(lo), 4) and s["recovery_hi"] == round(float(hi), 4)
    empty = outcomes.recovery_summary(np.array([], int), np.array([], int))
    assert empty["recovery_prob"] is None and empty["median_T"] is None


def test_cycle_points_and_recurrence_agree_with_detect_cycle():
    q = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]] * 20, np.float32)
    assert chatter.cycle_points(q, window=12).shape == (3, 2)
    assert int(chatter.detect_cycle(q, window=12).cycle_size) == 3
    rec = chatter.Recurrence()
    found = [rec.visit(tuple(row), t) for t, row in enumerate(q.tolist())]
    assert found[:3] == [None] * 3 and found[3] == (0, 3)  # period 3, as detect_cycle's m
