"""`landscape bench --quick --json`: the report's structure (timings are never asserted here)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from landscape.commands.bench import import_suite


@pytest.mark.slow
def test_bench_quick_writes_a_complete_report(tmp_path):
    out = tmp_path / "bench.json"
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=1")
    cli = [sys.executable, "-c", "from landscape.cli import app; app()"]
    res = subprocess.run(
        [*cli, "bench", "--quick", "--json", str(out)], env=env, capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stderr[-3000:]
    rep = json.loads(out.read_text())
    assert rep["quick"] is True
    assert set(rep["results"]) == {"ste2d", "bandwidth", "sweep"}
    assert {"config", "versions", "git_commit", "devices"} <= set(rep["manifest"])
    s = rep["results"]["ste2d"]
    for key in ("ours_s", "numpy_s", "speedup_vs_numpy"):
        assert s[key] > 0 and math.isfinite(s[key])
    assert s["speedup_vs_numpy"] == pytest.approx(s["numpy_s"] / s["ours_s"])
    # the peers solve the same problem: they agree with ours on (nearly) every trajectory
    assert s["agreement_numpy"]["hit_time_equal"] >= 0.99
    if s["torch_s"] is not None:
        assert s["agreement_torch"]["hit_time_equal"] >= 0.99
    b = rep["results"]["bandwidth"]
    assert b["trajectory"]["useful_bytes_per_step"] == 4 * b["trajectory"]["d"] * (b["trajectory"]["k"] + 3)
    assert b["fraction_of_stream"] == pytest.approx(b["trajectory"]["bytes_per_s"] / b["stream"]["best"])
    w = rep["results"]["sweep"]
    assert [r["devices"] for r in w["devices"]] == [1, 2]
    assert [r["processes"] for r in w["processes"]] == [1, 2]
    assert all(r["cases"] == w["devices"][0]["cases"] > 0 for r in w["devices"] + w["processes"])
    assert w["devices"][0]["speedup_vs_1_device"] == 1.0
    assert "ratio" in res.stdout and "NumPy" in res.stdout


def test_bench_rejects_unknown_section(tmp_path):
    res = subprocess.run(
        [sys.executable, "-c", "from landscape.cli import app; app()", "bench", "--sections", "ste2d,gpu"],
        capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 2
    assert "--sections must be a comma-separated subset of ste2d, bandwidth, sweep" in res.stderr
    assert "'ste2d,gpu'" in res.stderr


def test_summary_rows_report_ratios():
    suite = import_suite()
    report = {
        "results": {
            "ste2d": {"batch": 10, "steps": 5, "ours_s": 1.0, "numpy_s": 12.0, "speedup_vs_numpy": 12.0,
                      "torch_s": None, "speedup_vs_torch": None},
        }
    }
    rows = suite.summary_rows(report)
    assert rows[0][3] == "12x" and rows[0][4] == ">= 10x"
    assert rows[1][2] == "n/a" and rows[1][3] == "n/a"
