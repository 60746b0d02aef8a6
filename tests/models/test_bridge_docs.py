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
        # the preset a run used (and what it changed) and the budget adequacy are printed for every model
        assert s["preset"] in ("full", "quick") and isinstance(s["preset_changes"], list)
        changes = ", ".join(f"`{c}`" for c in s["preset_changes"])
        assert f"the {s['preset']} preset" + (f" except {changes}" if changes else "") + ";" in text
        per_bits = s["adequacy"]["per_bits"]
        own = {r.get("qat_steps", s["qat_steps"]) for r in per_bits.values()} != {s["qat_steps"]}
        if own:  # bit widths with budgets of their own: each bit width states its T and W
            assert "* Budget adequacy (T and W, the last window, per bit width;" in text
            for b, r in per_bits.items():
                assert f"{b}-bit: {r['n_unsettled']} of {r['n_runs']} runs unsettled" in text
                assert f"(T = {r['qat_steps']}, W = {r['window']})" in text
        else:
            assert f"* Budget adequacy (T = {s['qat_steps']}, " in text


def test_every_model_of_the_summary_states_its_time_and_load():
    summary = json.loads((ROOT / "docs" / "data" / "bridge_summary.json").read_text())
    text = (ROOT / "docs" / "bridge.md").read_text()
    for s in summary["models"]:
        assert s["wall_s"] > 0 and len(s["load"]["start"]) == 3 and len(s["load"]["end"]) == 3
        assert f"wall {s['wall_s']} s" in text
