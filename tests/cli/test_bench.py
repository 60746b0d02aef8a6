"""The benchmarks' correctness (never their timings): the peers solve the engine's problem, trajectory by
trajectory; the engine's execution options (core split, micro-batches, layout) change no number; the
``landscape bench --quick --json`` report is complete."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as ls
from benchmarks import peers2d, ste2d
from landscape.commands.bench import import_suite


def _engine(prob, steps, **kw):
    rule = ls.ste(ste2d.PARAMS["learning_rate"])
    w0 = jnp.asarray(prob["w0"])
    tr = ls.run_batch(prob["land"], prob["grid"], rule, w0, steps, save=ste2d.SUMMARY, **kw)
    return {f: np.asarray(getattr(tr, f)) for f in peers2d.FIELDS}


def test_peers_agree_with_the_engine_trajectory_by_trajectory():
    prob = ste2d.problem(3000, seed=0)
    ref = _engine(prob, 300)
    assert 0.5 < np.mean(ref["hit_time"] >= 0) < 0.95  # a problem where hits and misses both happen
    c = prob["consts"]
    hand = peers2d.hand_jax(300)({k: jnp.asarray(v) for k, v in c.items()},
                                 jnp.asarray(prob["w0"][:, 0]), jnp.asarray(prob["w0"][:, 1]))
    hand = dict(zip(peers2d.FIELDS, hand, strict=True))
    assert ste2d.agreement(ref, hand) == dict.fromkeys(peers2d.FIELDS, 0)
    hits = peers2d.hand_jax(300, hits_only=True)({k: jnp.asarray(v) for k, v in c.items()},
                                                 jnp.asarray(prob["w0"][:, 0]), jnp.asarray(prob["w0"][:, 1]))
    assert ste2d.agreement(ref, {"hit_time": np.asarray(hits[0])}) == {"hit_time": 0}
    assert ste2d.agreement(ref, peers2d.numpy_hits(prob["w0"], 300, c))["hit_time"] <= 0.005 * 3000
    plain = ste2d.agreement(ref, peers2d.numpy_peer(prob["w0"], 300, c))
    fused = ste2d.agreement(ref, peers2d.numpy_peer(prob["w0"], 300, c, fma=True))
    # NumPy rounds a * b + c twice, XLA:CPU (on an FMA machine) once: with the engine's rounding the peer is
    # identical; as written it differs on at most a few trajectories (last-bit drift, then one step late)
    assert min(sum(plain.values()), sum(fused.values())) == 0
    assert max(plain.values()) <= 0.005 * 3000
    try:
        import torch  # noqa: F401
    except ImportError:  # the bench extra is optional: the NumPy and JAX peers above still ran
        return
    eager = ste2d.agreement(ref, peers2d.torch_peer(prob["w0"], 300, c))
    assert max(eager.values()) <= 0.005 * 3000


def test_core_split_micro_batches_and_layout_change_no_number():
    prob = ste2d.problem(2501, seed=3)  # not a multiple of the parts or the micro-batch
    land, grid, w0 = prob["land"], prob["grid"], jnp.asarray(prob["w0"])
    save = ls.SaveAt(every=25, fields=("loss", "rho_q", "in_basin"), extras=False)
    runs = [ls.run_batch(land, grid, ls.ste(0.05), w0, 100, save=save, threads=n, chunk=m)
            for n, m in ((1, None), (2, None), (3, 400), (1, 999))]
    for other in runs[1:]:
        for a, b in zip(jax.tree_util.tree_leaves(runs[0]), jax.tree_util.tree_leaves(other), strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the structure-of-arrays batch (d <= 16) and the per-trajectory driver agree on every trajectory
    keys = jax.random.split(jax.random.PRNGKey(0), 8)
    for i in range(8):
        one = ls.run(land, grid, ls.ste(0.05), w0[i], 100, key=keys[i], save=save)
        assert int(one.hit_time) == int(runs[0].hit_time[i])
        assert int(one.settle_time) == int(runs[0].settle_time[i])
        np.testing.assert_allclose(np.asarray(one.rho_q), np.asarray(runs[0].rho_q[i]), atol=1e-6)


def test_threads_is_validated():
    prob = ste2d.problem(8)
    with pytest.raises(ls.LandscapeError, match="threads"):
        ls.run_batch(prob["land"], prob["grid"], ls.ste(0.05), jnp.asarray(prob["w0"]), 5, threads=0)


@pytest.mark.slow
def test_bench_quick_writes_a_complete_report(tmp_path):
    out = tmp_path / "bench.json"
    one_device = "--xla_force_host_platform_device_count=1"  # beside the suite's XLA_FLAGS (conftest)
    env = dict(os.environ, XLA_FLAGS=f"{os.environ.get('XLA_FLAGS', '')} {one_device}")
    cli = [sys.executable, "-c", "from landscape.cli import app; app()"]
    res = subprocess.run(
        [*cli, "bench", "--quick", "--json", str(out)], env=env, capture_output=True, text=True, timeout=600
    )
    assert res.returncode == 0, res.stderr[-3000:]
    rep = json.loads(out.read_text())
    assert rep["quick"] is True
    assert set(rep["results"]) == {"ste2d", "bandwidth", "sweep", "warmstart"}
    assert {"config", "versions", "git_commit", "devices"} <= set(rep["manifest"])
    s = rep["results"]["ste2d"]
    rows = s["implementations"]
    assert {"engine", "engine, record_every=num_steps", "engine, hit times only", "hand JAX kernel, one call",
            "hand JAX kernel, hit times only, one call", "NumPy, hit times only",
            "hand JAX kernel, lax.map over chunks of 1024, one call",
            "engine, tuned: threads=1 (one execution)",
            "NumPy (careful)"} <= set(rows)
    assert rows["engine, hit times only"]["disagreements"] == {"hit_time": 0}
    fl = s["floor"]
    assert fl["seconds"] == pytest.approx(s["batch"] * s["steps"] * fl["ops_per_trajectory_step"] / (
        fl["cores"] * fl["float32_lanes"] * 2 * fl["clock_ghz"] * 1e9))
    for row in rows.values():
        assert row["first_s"] > 0 and math.isfinite(row["warm_min_s"]) and row["warm_min_s"] > 0
        assert row["ratio_to_engine"] == pytest.approx(row["warm_min_s"] / rows["engine"]["warm_min_s"])
        assert row["warm_min_s"] <= row["warm_median_s"]
    assert all(v == 0 for v in rows["hand JAX kernel, one call"]["disagreements"].values())
    assert s["recompile"]["new_compilations"] == 0
    b = rep["results"]["bandwidth"]
    assert b["floor_bytes_per_step"] == 4 * b["d"] * (b["k"] + 2)
    assert b["floor_s_per_step"] == pytest.approx(b["floor_bytes_per_step"] / b["stream"]["best"])
    assert b["hit_time"]["engine"] == b["hit_time"]["hand kernel"]
    w = rep["results"]["sweep"]["schedulers"]
    assert [r.get("workers") for r in w] == [None, 1, 2]
    assert all(r["cases"] == w[0]["cases"] > 0 for r in w)
    assert w[0]["speedup_vs_synchronous"] == 1.0
    assert "peer / ours" in res.stdout and "NumPy" in res.stdout
    ws = rep["results"]["warmstart"]
    assert len(ws["processes"]) == 2 and all(p["first_call"] > 0 for p in ws["processes"])
    # a fresh process's first run_batch compiles (or loads from the cache) one program: the driver's
    assert all(p["programs"] == ["Compiling jit(_run_many_impl)"] for p in ws["processes"])
    assert {"trace", "lower", "compile", "run"} <= set(ws["stages"])
    # the doc's tables are regenerated from the report without a run
    doc = tmp_path / "performance.md"
    names = ("bench_run", "bench_ste2d", "bench_warmstart", "bench_bandwidth")
    doc.write_text("# doc\n" + "".join(f"<!-- BEGIN GENERATED: {n} -->\nSTALE\n<!-- END GENERATED: {n} -->\n"
                                        for n in names) + "kept\n")
    res = subprocess.run([*cli, "bench", "--docs", str(doc), "--from-json", str(out)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    text = doc.read_text()
    assert "STALE" not in text and text.endswith("kept\n") and text.count("BEGIN GENERATED") == 4
    assert "lax.map over chunks of 1024" in text and "(the README's call, the default)" in text
    assert f"{rep['results']['ste2d']['implementations']['NumPy (careful)']['ratio_to_engine']:.3g}" in text
    assert "| 2 (warm) |" in text and "STREAM" in text and rep["manifest"]["created"] in text


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
    row = {"first_s": 2.0, "warm_min_s": 1.0, "warm_median_s": 1.1, "ratio_to_engine": 1.0}
    report = {"results": {"ste2d": {
        "batch": 10, "steps": 5,
        "implementations": {"engine": row,
                            "NumPy (careful)": {**row, "warm_min_s": 12.0, "ratio_to_engine": 12.0}},
        "recompile": {"batch": 64, "fresh equal rule_s": 0.01, "new learning rate_s": 0.01,
                      "new_compilations": 0},
    }}}
    rows = {r[0].strip(): r for r in suite.summary_rows(report)}
    assert rows["vs NumPy (careful)"][3] == "12" and rows["vs NumPy (careful)"][4] == ">= 10"
    assert rows["vs torch.compile"][2] == "n/a"


def test_the_committed_performance_page_matches_the_committed_report():
    """docs/performance.md's generated tables are what `landscape bench --docs` makes of the committed
    docs/data/bench.json."""
    import_suite()
    from benchmarks.docs import update_performance_doc

    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    text = (root / "docs" / "performance.md").read_text()
    report = json.loads((root / "docs" / "data" / "bench.json").read_text())
    assert update_performance_doc(text, report) == text
    assert text.count("BEGIN GENERATED: bench_") == 4
