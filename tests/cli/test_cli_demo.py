"""`landscape demo` runs end to end, prints its table and writes its files."""

import json

from typer.testing import CliRunner

from landscape.cli import app


def test_demo_command_writes_figure_and_results(tmp_path):
    result = CliRunner().invoke(app, ["demo", "--out", str(tmp_path), "--n-points", "300"])
    assert result.exit_code == 0, result.output
    assert "RTN exit" in result.output and "median T" in result.output
    assert (tmp_path / "demo.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "demo.json").read_text())
    assert data["manifest"]["config"]["n_points"] == 300
    assert data["manifest"]["git_commit"]
    two_d, high_d = data["results"]
    assert 0.0 < two_d["rtn_exit_fraction"] < 1.0
    assert high_d["rtn_exit_fraction"] > 0.5 and high_d["ste_recovery_fraction"] > 0.9
    assert two_d["max_flip_size"] > 2 * two_d["basin_radius"] > high_d["max_flip_size"]


def test_python_dash_m_runs_the_same_commands():
    """``python -m landscape`` and ``python -m landscape.cli`` list the console script's commands."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    for module in ("landscape", "landscape.cli"):
        cmd = [sys.executable, "-m", module, "--help"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert "reproduce" in out.stdout and "check" in out.stdout
