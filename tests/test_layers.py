"""The architecture as a contract: the layers of DESIGN.md section 3, no import circles, small modules.

The layers are declared once, in ``pyproject.toml`` (``[tool.importlinter]``); this test runs those contracts
(the same as ``lint-imports``), finds circles between rooms (top-level modules and packages of ``landscape``
and ``proofs``) with grimp, and measures module sizes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400  #: DESIGN.md section 4: "no file over about 400 lines"


def _room(module: str) -> str | None:
    """The room of a module: ``landscape.X`` or ``proofs.X`` (None for the root packages themselves)."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) >= 2 else None


def _room_graph():
    g = grimp.build_graph("landscape", "proofs", include_external_packages=False)
    edges: dict[str, set[str]] = {}
    for m in g.modules:
        a = _room(m)
        if a is None:
            continue
        for imp in g.find_modules_directly_imported_by(m):
            b = _room(imp)
            if b is not None and b != a:
                edges.setdefault(a, set()).add(b)
    return edges


def _cycles(edges):
    """Strongly connected components of more than one room (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_import_contracts_hold():
    """Every contract of pyproject.toml's [tool.importlinter] is kept (layers, the core, the proof layer)."""
    exe = Path(sys.executable).with_name("lint-imports")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "importlinter.cli"]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout


def test_no_import_circles_between_rooms():
    """No two rooms of landscape/ or proofs/ import each other, directly or through others."""
    assert _cycles(_room_graph()) == []


def test_cycle_finder_finds_a_planted_circle():
    """The circle search is not vacuous: a planted a -> b -> c -> a is reported."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_the_size_limit():
    """Every module of landscape/ and proofs/ is at most about 400 lines (one concept each)."""
    big = {}
    for pkg in ("landscape", "proofs"):
        for p in (ROOT / pkg).rglob("*.py"):
            n = len(p.read_text(encoding="utf-8").splitlines())
            if n > MAX_LINES:
                big[str(p.relative_to(ROOT))] = n
    assert big == {}, f"modules over {MAX_LINES} lines: {big}"
