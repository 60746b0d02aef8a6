"""What every subcommand shares: consoles that do not truncate when piped, ``--out`` checks, progress.

* :func:`out_console` -- stdout; when it is not a terminal (``landscape check | cat``) it is wide
  enough that no table column is cut ("statem…");
* :func:`check_out_dir`, :func:`check_out_file` -- before any work (and before JAX is imported): the path
  is resolved, created and tested with a probe file; a file in the way, an unwritable or uncreatable path
  is one line on stderr and exit 2; a non-empty directory holding anything but this command's own outputs
  is refused unless ``--force``; the command's own previous output is reused and said so;
* :func:`working` -- a rich spinner with the elapsed time on stderr, for steps that run more than a few
  seconds without a natural progress count.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import tempfile
from pathlib import Path

import typer
from rich.console import Console

__all__ = ["out_console", "err_console", "fail", "check_out_dir", "check_out_file", "working", "StepLines",
           "PIPE_WIDTH"]

#: the width of stdout when it is not a terminal: wide tables print whole
PIPE_WIDTH = 200


def out_console() -> Console:
    """The stdout console: the terminal's width, or :data:`PIPE_WIDTH` columns when piped or redirected."""
    con = Console()
    if not con.is_terminal:
        width = int(os.environ.get("COLUMNS", "0") or 0)
        con = Console(width=max(PIPE_WIDTH, width))
    return con


def err_console() -> Console:
    """The stderr console (progress, notes, errors)."""
    return Console(stderr=True)


def fail(message: str, code: int = 2):
    """Print ``error: message`` on one line of stderr and exit with ``code``."""
    Console(stderr=True, width=10_000).print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _entries(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def _first_existing(path: Path) -> Path:
    """The nearest ancestor of ``path`` (itself included) that exists."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _make_writable_dir(folder: Path, option: str, shown: Path) -> None:
    """Create ``folder`` (with its parents) and write and delete a probe file in it, or fail in one line."""
    anchor = _first_existing(folder)
    if anchor.exists() and not anchor.is_dir():
        fail(f"{option} {shown} cannot be created: {anchor} is a file, not a directory.")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".landscape-write-test-"):
            pass
    except OSError as e:
        reason = e.strerror or type(e).__name__
        fail(f"{option} {shown} is not a writable directory ({reason}: {e.filename or folder}).")


def check_out_dir(out: Path, *, force: bool = False, own: tuple = (), option: str = "--out") -> str:
    """Resolve, create and test an output directory before any work; return "new", "empty", "own" or "forced".

    A path that cannot be created or written (under a file, on a read-only or virtual file system) is one
    line on stderr and exit 2. ``own`` lists glob patterns of the command's own outputs (top-level names):
    a directory holding only those is this command's previous output and is updated in place (the caller
    says so).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        fail(f"{option} {out} is a file; give a directory (it is created if absent).")
    if not out.exists():
        _make_writable_dir(out.resolve(), option, out)
        return "new"
    names = [n for n in _entries(out) if not n.startswith(".landscape-write-test-")]
    if not names:
        state = "empty"
    elif own and all(any(fnmatch.fnmatch(n, pat) for pat in own) for n in names):
        state = "own"
    elif force:
        state = "forced"
    else:
        other = [n for n in names if not any(fnmatch.fnmatch(n, pat) for pat in own)]
        fail(
            f"{option} {out} is a non-empty directory holding other content ({len(other)} entries, e.g. "
            f"{', '.join(other[:3])}); use a new or empty directory, or pass --force to write into it."
        )
    _make_writable_dir(out.resolve(), option, out)
    return state


def check_out_file(path: Path | None, option: str = "--json") -> None:
    """Validate an output file before any work: not a directory, its folder created and writable."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        fail(f"{option} {path} is a directory; give a file name.")
    _make_writable_dir(path.resolve().parent, option, path)


def say_reuse(state: str, out: Path, what: str) -> None:
    """Tell the user that an output directory is reused (its own previous output, or --force)."""
    if state == "own":
        err_console().print(
            f"note: {out} holds a previous {what}; its files are updated in place.",
            highlight=False,
            soft_wrap=True,
        )
    elif state == "forced":
        err_console().print(
            f"note: writing into the non-empty directory {out} (--force).", highlight=False, soft_wrap=True
        )


class StepLines:
    """One line on stderr per finished step ("check 3/21: S5 proved (14 s)"): visible when piped, unlike a
    live bar, which rich draws only on a terminal."""

    def __init__(self, what: str, total: int):
        import time  # noqa: PLC0415

        self.what, self.total, self.done, self._clock, self._t0 = what, int(total), 0, time.perf_counter, None
        self._t0 = self._clock()

    def __call__(self, label: str) -> None:
        """Count one more step and print it with the time since the start."""
        self.done += 1
        err_console().print(
            f"{self.what} {self.done}/{self.total}: {label} ({self._clock() - self._t0:.0f} s)",
            highlight=False,
            soft_wrap=True,
        )


@contextlib.contextmanager
def working(description: str, *, enabled: bool = True):
    """A spinner with the elapsed time on stderr while the block runs (transient on a terminal).

    When stderr is not a terminal (piped, redirected, a CI log) rich draws no live display, so a line is
    printed when the step starts and one with its time when it ends.
    """
    import time  # noqa: PLC0415

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    con = err_console()
    if enabled and not con.is_terminal:
        t0 = time.perf_counter()
        con.print(f"{description} ...", highlight=False, soft_wrap=True)
        yield None
        con.print(f"{description}: done in {time.perf_counter() - t0:.1f} s", highlight=False, soft_wrap=True)
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TimeElapsedColumn(),
        console=con,
        transient=True,
        disable=not enabled,
    ) as bar:
        bar.add_task(description, total=None)
        yield bar
