"""docs/performance.md's generated tables, from a ``landscape bench --json`` report.

The doc holds blocks between ``<!-- BEGIN GENERATED: name -->`` and ``<!-- END GENERATED: name -->`` (the
syntax of docs/bridge.md, :func:`landscape.models.tables.update_doc`); :func:`render_blocks` makes them from
the report (``bench_run``: when, where, the load; ``bench_ste2d``: every implementation of the 2-D problem
and its ratio; ``bench_warmstart``: fresh processes; ``bench_bandwidth``: d = 1e7), so that
``landscape bench --docs docs/performance.md --from-json report.json`` regenerates them without a run.
"""

from __future__ import annotations

__all__ = ["render_blocks", "update_performance_doc"]


def _s(x, digits=3) -> str:
    return "n/a" if x is None else f"{x:.{digits}g}"


def _load(res: dict) -> str:
    a, b = res.get("load_average_before"), res.get("load_average_after")
    return "n/a" if a is None else f"{a[0]:.1f} -> {b[0]:.1f}"


def _run_block(report: dict) -> str:
    man = report.get("manifest", {})
    m = report["machine"]
    lines = [
        "| | |", "| --- | --- |",
        f"| written | {man.get('created', 'n/a')} (commit {str(man.get('git_commit', 'n/a'))[:12]}) |",
        f"| machine | {m['processor']}, {m['platform']}; JAX devices {', '.join(m['jax_devices'])} |",
        f"| versions | {', '.join(f'{k} {v}' for k, v in sorted(man.get('versions', {}).items()))} |",
        f"| sizes | {'; '.join(f'{k}: {v}' for k, v in report['sizes'].items())} |",
        f"| seconds per section | {', '.join(f'{k} {v:.0f} s' for k, v in report['seconds'].items())} |",
    ]
    cores = next((res["cores"] for res in report["results"].values() if "cores" in res), None)
    if cores is not None:
        lines.append(f"| cores this process may use | {cores} |")
    for name, res in report["results"].items():
        if "load_average_before" in res:
            lines.append(f"| load average (1 min) during {name} | {_load(res)} |")
    return "\n".join(lines) + "\n"


def _ste2d_block(res: dict) -> str:
    from benchmarks.suite import PEER_TARGETS

    targets = dict(PEER_TARGETS)
    lines = [
        f"B = {res['batch']:,} starts x {res['steps']} steps, {res['repeats']} interleaved rounds; engine "
        f"parts {res['engine_parts']}; XLA options {res['compiler_options']}; PyTorch: {res['torch']}.", "",
        "| implementation | first call (s) | warm min (s) | warm median (s) | peer / default | target | "
        "disagreements (hit, settle, diverge) |",
        "| --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, row in res["implementations"].items():
        target = next((t for p, t in targets.items() if name.startswith(p)), "")
        if name == "engine":
            name, target = "`run_batch(land, grid, ste(learning_rate=0.05), w0, 1000)` (the README's call, " \
                           "the default)", "1"
        dis = row["disagreements"]
        dis = ", ".join(str(dis.get(f, "-")) for f in ("hit_time", "settle_time", "diverge_time"))
        times = " | ".join(_s(row[k]) for k in ("first_s", "warm_min_s", "warm_median_s"))
        lines.append(f"| {name} | {times} | {_s(row['ratio_to_engine'])} | {target} | {dis} |")
    fl = res.get("floor") or {}
    if fl.get("seconds"):
        eng = res["implementations"]["engine"]["warm_min_s"]
        lines.append(f"| machine floor ({fl['ops_per_trajectory_step']} ops per trajectory-step, "
                     f"{fl['cores']} cores x {fl['float32_lanes']} lanes x 2 per cycle at "
                     f"{fl['clock_ghz']:.2f} GHz) | | "
                     f"{_s(fl['seconds'])} | | {_s(fl['seconds'] / eng)} | (report) | |")
    rc = res["recompile"]
    lines += ["", f"A fresh equal rule / a new learning rate at a warm shape (B = {rc['batch']}): "
              f"{rc['fresh equal rule_s'] * 1e3:.1f} ms / {rc['new learning rate_s'] * 1e3:.1f} ms, "
              f"{rc['new_compilations']} new compilations. NumPy with XLA's fused multiply-add rounding "
              f"(untimed) disagrees on {res['disagreements_numpy_fma_rounding']}."]
    return "\n".join(lines) + "\n"


def _warmstart_block(res: dict) -> str:
    lines = [
        f"B = {res['batch']:,} x {res['steps']} steps (the run itself is the second call); one new cache "
        "directory, the first process cold.", "",
        "| process | import jax (s) | import landscape + objects (s) | first run_batch (s) | its CPU (s) "
        "| second call (s) | programs compiled or loaded |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, p in enumerate(res["processes"]):
        lines.append(f"| {i + 1} ({'cold' if i == 0 else 'warm'}) | {_s(p['import_jax'])} | "
                     f"{_s(p['import_landscape'])} | {_s(p['first_call'])} | {_s(p.get('first_call_cpu'))} | "
                     f"{_s(p['second_call'])} | {len(p['programs'])} |")
    st = res["stages"]
    lines += ["", f"The first call's stages in a warm process: trace {_s(st['trace'])} s, lower "
              f"{_s(st['lower'])} s, compile (a cache hit) {_s(st['compile'])} s, run {_s(st['run'])} s."]
    return "\n".join(lines) + "\n"


def _bandwidth_block(res: dict) -> str:
    e, h = res["implementations"]["engine"], res["implementations"]["hand kernel"]
    return ("| d | k | STREAM | floor per step | engine per step | hand kernel per step | hand / engine |\n"
            "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
            f"| {res['d']:,} | {res['k']} | {res['stream']['best'] / 1e9:.3g} GB/s | "
            f"{res['floor_s_per_step'] * 1e3:.3g} ms | {e['per_step_min_s'] * 1e3:.3g} ms | "
            f"{h['per_step_min_s'] * 1e3:.3g} ms | {h['per_step_min_s'] / e['per_step_min_s']:.3g} |\n")


def render_blocks(report: dict) -> dict:
    """name -> the Markdown of each generated block the report has the results for."""
    r = report["results"]
    blocks = {"bench_run": _run_block(report)}
    parts = (("ste2d", _ste2d_block), ("warmstart", _warmstart_block), ("bandwidth", _bandwidth_block))
    for name, fn in parts:
        if name in r:
            blocks[f"bench_{name}"] = fn(r[name])
    return blocks


def update_performance_doc(text: str, report: dict) -> str:
    """``text`` (docs/performance.md) with its generated blocks rendered from ``report``."""
    from landscape.models.tables import update_doc

    return update_doc(text, render_blocks(report))
