"""The README's set-up commands and its Python example stay true."""

import re
from pathlib import Path

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_readme_opens_with_install_main_job_and_tests():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert first_block[0] == 'pip install -e ".[dev]"'
    assert first_block[1].startswith("landscape ")
    assert first_block[2] == "python -m pytest"
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert 'pip install -e ".[dev]"' in ci and "python -m pytest" in ci


def test_readme_python_example_runs(capsys):
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "RTN exit fraction" in out and "STE recovered" in out


def test_readme_new_user_example_runs():
    """The second block: a meander river, a 4-bit per-group grid, STE with Adam, a plot, a sweep, explore."""
    import matplotlib.pyplot as plt

    code = re.findall(r"```python\n(.*?)```", README, re.S)[1]
    env = {}
    exec(compile(code, "README.md", "exec"), env)
    title = env["fig"]._suptitle.get_text()
    assert "adam" in title and "ste" in title  # the run is labelled by its own rule and optimizer
    assert env["ds"].sizes["step"] == 5 and env["ds"].sizes["learning_rate"] == 4
    assert env["ax"].get_xlabel() and env["ax"].get_ylabel()
    assert env["ex"].numbers["hit_time"] >= -1
    plt.close("all")
