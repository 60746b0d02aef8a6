"""docs/bridge.md cannot drift: its generated blocks render the presets and the committed summary."""

import json
from pathlib import Path

from landscape.models.tables import BLOCK, render_blocks, seeds_text, update_doc

ROOT = Path(__file__).resolve().parents[2]


def test_docs_bridge_md_is_generated_from_the_committed_summary_and_the_presets():
    text = (ROOT / "docs" / "bridge.md").read_text()
    summary = json.loads((ROOT / "docs" / "data" / "bridge_summary.json").read_text())
    assert {m.group(2) for m in BLOCK.finditer(text)} == {"presets", "results"}
    assert update_doc(text, render_blocks(summary)) == text, (
        "docs/bridge.md is stale: run `landscape bridge --docs docs/bridge.md`"
    )
    # every model in the summary has its table, with the seed counts of its run
    for s in summary["models"]:
        assert f"**{s['model']}** (d = {s['dim']}; evaluation seeds {seeds_text(s['eval_seeds'])}," in text
