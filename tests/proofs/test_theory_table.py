"""docs/theory.md's summary table against the checker's catalog (without running the check).

Every statement of ``proofs.catalog.STATEMENTS`` has one row, and each row's kind, ``k_range``, regime and
section equal the statement's. The status a row names must be the one the catalog implies when the check
finds what it is built to find: ``falsified`` for a conjecture (its attack looks for a refutation),
``cited`` for a theorem whose proof lists a cited step, ``proved`` otherwise. (Whether the check really
reports that status is for ``landscape check``; the report's own proof table is written from its JSON.)
"""

from __future__ import annotations

import re
from pathlib import Path

import proofs.catalog as C

THEORY = Path(__file__).resolve().parents[2] / "docs" / "theory.md"
HEADING = "## Summary: the statements, their status, k and regime"


def _rows():
    text = THEORY.read_text()
    assert HEADING in text
    block = text.split(HEADING, 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in block.splitlines():
        if not line.startswith("| ") or line.startswith(("| statement", "| ---")):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        assert len(cells) == 6, line
        sid, kind, status, k, regime, section = cells
        assert sid not in rows, f"{sid} has two rows"
        rows[sid] = {"kind": kind, "status": status, "k": k, "regime": regime.strip("`"), "section": section}
    return rows


def _expected_status(stmt):
    if stmt.kind == "conjecture":
        return "falsified"
    cited = [name for name in stmt.proof if name in C.STEPS and "cited" in name]
    return "cited" if any(C.run_step(name).cited for name in cited) else "proved"


def test_summary_table_has_one_row_per_statement_of_the_catalog():
    rows = _rows()
    assert list(rows) == [s.id for s in C.STATEMENTS]


def test_summary_table_rows_agree_with_the_catalog():
    rows = _rows()
    for s in C.STATEMENTS:
        row = rows[s.id]
        lo, hi = s.k_range
        assert row["k"] == f"`[{lo}, {'null' if hi is None else hi}]`", s.id
        assert row["regime"] == s.regime, s.id
        assert row["kind"] == s.kind, s.id
        assert row["status"] == _expected_status(s), s.id
        assert row["section"].endswith(f"]({s.doc})"), s.id


def test_summary_table_sections_exist():
    """Each link of the table points at a heading of docs/theory.md (GitHub's anchor of the heading)."""
    heads = {
        "#" + re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^#+ (.+)$", THEORY.read_text(), flags=re.M)
    }
    for s in C.STATEMENTS:
        assert s.doc in heads, (s.id, s.doc)
