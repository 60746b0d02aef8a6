"""Every command's --out (and --json) is checked before any work: a file, a full directory, a pipe."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from landscape.cli import app

TINY = """
[sweep]
name = "tiny"
starts = 4
chunk_size = 64
[landscape]
family = "rotated_2d"
theta = 0.3
[quantizer]
step = [0.5, 1.0]
[qat]
rule = ["ste", "fp"]
num_steps = 10
"""

OUT_COMMANDS = {
    "demo": ["demo", "--n-points", "10"],
    "ptq": ["ptq", "--quick"],
    "recover": ["recover", "--case", "rotated_2d", "--quick"],
    "bridge": ["bridge", "--quick"],
    "reproduce": ["reproduce", "--quick", "--no-progress"],
    "sweep": ["sweep", "CONFIG"],
}


def _args(name, tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    return [str(cfg) if a == "CONFIG" else a for a in OUT_COMMANDS[name]]


@pytest.mark.parametrize("name", list(OUT_COMMANDS))
def test_out_that_is_a_file_is_a_one_line_error(name, tmp_path):
    target = tmp_path / "afile"
    target.write_text("x")
    res = CliRunner().invoke(app, [*_args(name, tmp_path), "--out", str(target)])
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "is a file" in lines[0], res.output
    assert target.read_text() == "x"


@pytest.mark.parametrize("name", list(OUT_COMMANDS))
def test_out_that_holds_other_content_is_refused_without_force(name, tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    (full / "thesis.tex").write_text("mine")
    res = CliRunner().invoke(app, [*_args(name, tmp_path), "--out", str(full)])
    assert res.exit_code == 2, res.output
    assert "non-empty directory" in res.output and "--force" in res.output
    assert sorted(p.name for p in full.iterdir()) == ["thesis.tex"]


@pytest.mark.parametrize("cmd", [["check", "--json"], ["bench", "--json"]])
def test_json_that_is_a_directory_is_a_one_line_error(cmd, tmp_path):
    res = CliRunner().invoke(app, [*cmd, str(tmp_path)])
    assert res.exit_code == 2 and "is a directory" in res.output, res.output


def test_reproduce_only_names_a_known_stage(tmp_path):
    res = CliRunner().invoke(app, ["reproduce", "--quick", "--only", "fig9", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "unknown stage" in res.output and "fig1_anatomy" in res.output


def test_sweep_piped_resumes_its_own_directory_and_says_so(tmp_path):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    out = tmp_path / "run"
    cmd = [sys.executable, "-c", "from landscape.cli import app; app()", "sweep", str(cfg), "--out", str(out)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "PTQ failures" in first.stdout and "Wilson" in first.stdout
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)  # stdout is a pipe
    assert again.returncode == 0, again.stderr
    assert "resumed 2 of 2 chunks" in again.stderr
    for line in again.stdout.splitlines():
        assert "…" not in line  # nothing cut to 80 columns
    assert "diverged" in again.stdout


def test_check_table_is_whole_when_piped():
    """`landscape check ... | cat`: the proof table's column names are not cut to 80 columns."""
    cmd = [sys.executable, "-c", "from landscape.cli import app; app()", "check", "--quick", "--only", "S6"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    for col in ("statement", "status", "symbolic", "certificate", "counterexamples", "tightness"):
        assert col in res.stdout, col
    assert "…" not in res.stdout


# -- every command refuses a bad path before any work (and, for these, before importing JAX) -----------
BAD_PATH_COMMANDS = {
    "demo": ["demo", "--out", "{bad}"],
    "ptq": ["ptq", "--quick", "--out", "{bad}"],
    "recover": ["recover", "--case", "rotated_2d", "--out", "{bad}"],
    "reproduce": ["reproduce", "--quick", "--out", "{bad}"],
    "check --json": ["check", "--quick", "--json", "{bad}/r.json"],
    "check --cex-dir": ["check", "--quick", "--cex-dir", "{bad}"],
    "sweep": ["sweep", "CONFIG", "--out", "{bad}"],
    "bridge": ["bridge", "--quick", "--out", "{bad}"],
    "bench --json": ["bench", "--json", "{bad}/b.json"],
}
PROBE = (
    "import sys\nfrom landscape.cli import app\n"
    "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n    code = e.code\n"
    "print('jax imported:', 'jax' in sys.modules)\nsys.exit(code)\n"
)


@pytest.mark.parametrize("kind", ["under a file", "unwritable"])
@pytest.mark.parametrize("name", list(BAD_PATH_COMMANDS))
def test_a_bad_path_is_one_line_and_exit_2_before_jax_is_imported(name, kind, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    bad = str(afile / "sub") if kind == "under a file" else "/proc/landscape-test/out"
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY)
    args = [str(cfg) if a == "CONFIG" else a.format(bad=bad) for a in BAD_PATH_COMMANDS[name]]
    res = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.stderr
    assert ("is a file" in lines[0]) if kind == "under a file" else ("not a writable directory" in lines[0])
    assert "jax imported: False" in res.stdout  # refused before any work: no JAX, no study
    assert afile.read_text() == "x"


@pytest.mark.parametrize("name", ["sweep", "bench", "bridge"])
def test_the_other_commands_refuse_a_path_under_a_file(name, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    args = {"sweep": [*_args("sweep", tmp_path), "--out", str(afile / "sub")],
            "bench": ["bench", "--json", str(afile / "sub" / "b.json")],
            "bridge": ["bridge", "--quick", "--out", str(afile / "sub")]}[name]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2, res.output
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "is a file" in lines[0], res.output


def test_version_and_help_do_not_import_jax():
    for flag in ("--version", "--help"):
        res = subprocess.run([sys.executable, "-c", PROBE, flag], capture_output=True, text=True, timeout=120)
        assert res.returncode == 0, res.stderr
        assert "jax imported: False" in res.stdout, flag
    import landscape

    res = subprocess.run([sys.executable, "-m", "landscape", "--version"], capture_output=True, text=True,
                         timeout=120)
    assert res.stdout.strip() == f"landscape {landscape.__version__}"


@pytest.mark.slow
def test_only_merges_into_the_previous_summary_and_report(tmp_path):
    import json

    from landscape.reproduce.config import ReproduceConfig
    from landscape.reproduce.runner import previous_stages

    out = tmp_path / "r"
    with pytest.MonkeyPatch.context() as mp:  # the suite's preset (test_reproduce's): fewer points
        mp.setattr(ReproduceConfig, "quick_config", ReproduceConfig.smoke_config)
        first = CliRunner().invoke(app, ["reproduce", "--quick", "--no-progress", "--only", "fig1_anatomy",
                                         "--out", str(out)])
        assert first.exit_code == 0, first.output
        second = CliRunner().invoke(app, ["reproduce", "--quick", "--no-progress", "--only", "fig2_rtn_exit",
                                          "--out", str(out)])
        assert second.exit_code == 0, second.output
    summary = json.loads((out / "summary.json").read_text())
    st = summary["stages"]
    assert st["fig1_anatomy"]["status"] == "ok" and st["fig2_rtn_exit"]["status"] == "ok"
    assert "kept from the previous run" in st["fig1_anatomy"]["reason"]
    assert st["fig1_anatomy"]["files"]["png"] == "figures/fig1_anatomy.png"
    assert all(v["status"] == "missing" for k, v in st.items() if k not in ("fig1_anatomy", "fig2_rtn_exit"))
    assert {m["stage"] for m in summary["missing"]} == set(st) - {"fig1_anatomy", "fig2_rtn_exit"}
    report = (out / "report.md").read_text()
    assert "figures/fig1_anatomy.png" in report and "figures/fig2_rtn_exit.png" in report
    assert previous_stages(out, quick=False, seed=0) == {}  # another mode: nothing is kept
