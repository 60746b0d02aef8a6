"""report.md's key numbers and summary.json's figures of merit, from stage results built by hand (fast)."""

from __future__ import annotations

from landscape.reproduce.report import figures_of_merit, key_numbers_md
from landscape.reproduce.stage import StageResult

AGREEMENT = {"max_abs_diff": 0.01234, "n_cells": 12, "n_points_per_cell": 4000, "stated_error": 0.03,
             "agree": True}
RTN = {"ratios": [0.5], "thetas": [0.1], "simulated_2d": [0.2], "closed_form_2d": [0.21],
       "closed_form_source_2d": "law", "agreement_2d": AGREEMENT, "dk": [], "simulated_hd": [],
       "gaussian_limit_hd": [], "max_abs_diff_hd_vs_gaussian": 0.01, "n_points_per_cell": 4000,
       "not_a_figure_of_merit": 1}
CHATTER = {"max_flip_size_over_rb": 1.5, "num_steps": 100, "never_in_basin_fraction": 0.3,
           "chatter_fraction": 0.2, "detector": "cycle", "batch": {"n": 64}, "other": 2}
PHASE = {"regimes": {"in the basin": {"recovery_prob": 0.9, "n": 100, "median_T": 12}}, "dim": 16,
         "num_steps": 400}


def _ok(key, numbers):
    return StageResult(key=key, title=key, numbers=numbers)


def test_figures_of_merit_keep_the_named_numbers_and_say_why_a_stage_is_absent():
    res = {
        "fig2_rtn_exit": _ok("fig2_rtn_exit", RTN),
        "fig8_chattering": _ok("fig8_chattering", CHATTER),
        "fig5_phase_diagram": _ok("fig5_phase_diagram", PHASE),
        "proofs": StageResult(key="proofs", title="proofs", status="error", reason="boom\ntraceback"),
        "bridge": _ok("bridge", {"verdicts": 3}),
    }
    fm = figures_of_merit(res)
    assert list(fm) == ["rtn_exit", "ptq_exit", "ste_recovery", "chattering", "proofs", "tightness", "rules",
                        "bridge"]
    assert fm["rtn_exit"] == {"status": "ok"} | {k: v for k, v in RTN.items() if k != "not_a_figure_of_merit"}
    assert fm["chattering"] == {"status": "ok", "max_flip_size_over_rb": 1.5, "num_steps": 100,
                                "never_in_basin_fraction": 0.3, "chatter_fraction": 0.2, "detector": "cycle",
                                "n": 64}
    assert fm["ste_recovery"] == {"status": "ok", "regimes": PHASE["regimes"], "dim": 16, "num_steps": 400,
                                  "certificate": {}, "dyadic_certificate": {}}
    assert fm["proofs"] == {"status": "error", "reason": "boom"}
    assert fm["ptq_exit"] == fm["tightness"] == {"status": "missing", "reason": "stage not run"}
    assert fm["bridge"] == {"status": "ok", "verdicts": 3}


def test_key_numbers_write_one_bullet_per_number_of_an_ok_stage_in_order():
    fm = figures_of_merit({
        "fig2_rtn_exit": _ok("fig2_rtn_exit", RTN),
        "fig8_chattering": _ok("fig8_chattering", CHATTER),
        "fig5_phase_diagram": _ok("fig5_phase_diagram", PHASE),
        "proofs": StageResult(key="proofs", title="proofs", status="error", reason="boom"),
    })
    assert key_numbers_md(fm) == [
        "## Key numbers",
        "",
        "* RTN exit fraction, 2-D: simulation vs exact law, max |diff| = 0.0123 over 12 cells of 4000 "
        "points; within the stated error (0.03): yes (figure 2).",
        "* STE recovery, in the basin: probability 0.9 over 100 RTN-failed starts, median T = 12 (figure 5).",
        "* Chattering counter-case (max f / r_b = 1.5): 0.3 of 64 RTN-failed starts never enter the basin in "
        "100 steps; detected chattering: 0.2 (figure 8).",
        "",
    ]
