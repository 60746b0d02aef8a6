"""Budget adequacy: the tail of a run's loss path says whether more steps could change its verdict."""

import numpy as np
import pytest

from landscape.models.adequacy import FALL_FRACTION, budget_adequacy, tail_of_run
from landscape.models.tables import _adequacy_lines


def _row(path, *, bits=2, settled=False, fp_loss=0.0, every=1):
    return {
        "bits": bits,
        "settled": settled,
        "fp_loss": fp_loss,
        "qat_loss": path[-1],
        "loss_path": list(path),
        "loss_path_every": every,
    }


def test_a_converged_run_has_no_tail_and_a_linear_run_a_tenth():
    t, tau = 100, 0.01
    flat = np.r_[np.linspace(1.0, 0.005, 51), np.full(50, 0.005)]  # in the band from step 50 on
    lin = np.linspace(1.0, 0.5, t + 1)  # constant descent, far outside
    a = tail_of_run(_row(flat, settled=True), t, tau)
    b = tail_of_run(_row(lin), t, tau)
    assert a["tail_drop"] == pytest.approx(0.0) and a["tail_share"] == pytest.approx(0.0)
    assert not a["falling"] and a["steps_to_band"] == 0.0
    assert b["tail_drop"] == pytest.approx(0.05) and b["tail_share"] == pytest.approx(0.1)
    assert b["falling"]
    # 0.49 nats to go at 0.005 nats per step: 98 more steps
    assert b["steps_to_band"] == pytest.approx((0.5 - tau) / 0.005)


def test_subsampled_paths_and_counts_per_bit_width():
    t, tau = 300, 0.01
    steps = np.arange(0, t + 1, 3)
    near = 0.05 * np.exp(-steps / 200.0) + 0.0  # unsettled, falling, reaches the band within T more
    stuck = np.full(len(steps), 0.3)  # unsettled, not falling
    rows = [
        _row(near, every=3),
        _row(stuck, every=3),
        _row(np.full(len(steps), 0.001), bits=4, settled=True, every=3),
        {"bits": 4, "settled": None},  # a row without a QAT run is not counted
    ]
    a = budget_adequacy(rows, t, tau, {"null_max_rise": -0.004, "n_runs": 48, "rel_held": 47})
    assert list(a["per_bits"]) == ["4", "2"] and a["window"] == 30
    two = a["per_bits"]["2"]
    counts = (two["n_runs"], two["n_unsettled"], two["n_unsettled_falling"], two["n_reach_by_2T"])
    assert counts == (2, 2, 1, 1)
    drop = 0.05 * (np.exp(-270 / 200.0) - np.exp(-300 / 200.0))
    assert drop > FALL_FRACTION * tau
    assert a["per_bits"]["4"]["n_unsettled"] == 0 and a["null"]["rel_held"] == 47
    (line,) = _adequacy_lines(a)
    assert line.startswith("* Budget adequacy (T = 300, last window W = 30 steps")
    assert "2-bit: 2 of 2 runs unsettled, 1 of them still falling" in line
    assert _adequacy_lines(None) == []
    assert "oracle" not in two and "where an oracle ran" not in line  # no row had an oracle run


def test_the_oracle_comparison_tells_budget_from_floor():
    t, tau = 100, 0.01
    rows = [
        dict(_row(np.linspace(0.5, 0.06, t + 1)), oracle_final_gap=0.055, oracle_settled=False),  # a floor
        dict(_row(np.linspace(0.5, 0.02, t + 1)), oracle_final_gap=0.004, oracle_settled=True),  # the budget
        _row(np.linspace(0.5, 0.04, t + 1)),  # no oracle: not in the comparison
    ]
    o = budget_adequacy(rows, t, tau)["per_bits"]["2"]["oracle"]
    assert (o["n"], o["settled"], o["run_settled"]) == (2, 1, 0)
    assert o["run_gap_median"] == pytest.approx(0.04) and o["oracle_gap_median"] == pytest.approx(0.0295)
    (line,) = _adequacy_lines(budget_adequacy(rows, t, tau))
    assert "where an oracle ran (2 runs) the final gap is 0.04 nats after T and 0.0295 after" in line
