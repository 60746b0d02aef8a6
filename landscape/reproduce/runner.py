"""``landscape reproduce``: run every stage, save figures, datasets, report.md and summary.json.

Layout of the output directory::

    DIR/figures/<stage>.pdf, <stage>.png   one per figure (vector PDF, 300-dpi PNG)
    DIR/results/<dataset>.nc              the xarray data behind every figure (with manifest)
    DIR/report.md                         narrative, figures, numbers, the proof table
    DIR/summary.json                      figures of merit + manifest (see schema.py)
    DIR/summary.schema.json               the schema summary.json validates against

A stage whose input module (another area of the project) is absent is recorded as
"missing" with the reason, and the rest still runs; a stage that raises is recorded as
"error" and makes :func:`reproduce` report failure (``summary["ok"] = False``).
"""

from __future__ import annotations

import functools
import json
import time
import traceback
from pathlib import Path

import jax

from landscape.manifest import manifest, save_dataset, write_json
from landscape.reproduce import check_stage as cs
from landscape.reproduce import engine_stages as es
from landscape.reproduce import external_stages as xs
from landscape.reproduce.config import ReproduceConfig
from landscape.reproduce.report import figures_of_merit, write_report
from landscape.reproduce.schema import SUMMARY_SCHEMA, validate_summary
from landscape.reproduce.stage import Missing, Skipped, StageResult

__all__ = ["STAGES", "reproduce", "run_stage"]

# (key, title, function): the order of report.md
STAGES = [
    ("fig1_anatomy", "Anatomy of a river-valley landscape and its grid", es.anatomy_stage),
    ("fig2_rtn_exit", "RTN exit probability against grid step / basin radius", es.rtn_exit_stage),
    ("fig3_hessian_blindness", "Hessian blindness of second-order PTQ", xs.blindness_stage),
    ("fig4_ste_trajectory", "An STE trajectory re-enters the basin", es.trajectory_stage),
    ("fig5_phase_diagram", "Recovery phase diagram of STE", es.phase_stage),
    ("fig6_tightness", "Measured T against the theorem's T_max", xs.tightness_stage),
    ("fig7_rules", "QAT rules compared", xs.rules_stage),
    ("fig8_chattering", "Chattering: STE cycles outside the basin when max f > 2 r_b", es.chatter_stage),
    ("proofs", "Proof table (landscape check)", cs.proofs_stage),
    ("bridge", "Real-model bridge", xs.bridge_stage),
]


def run_stage(key: str, title: str, fn, cfg: ReproduceConfig, prng) -> StageResult:
    """Run one stage, turning a missing input module or an exception into a recorded status."""
    t0 = time.perf_counter()
    try:
        res = fn(cfg, prng)
    except Skipped as exc:
        res = StageResult(key, title, status="skipped", reason=str(exc))
    except Missing as exc:
        res = StageResult(key, title, status="missing", reason=str(exc))
    except Exception as exc:  # noqa: BLE001 - recorded, reported, and turned into a failure exit code
        tb = traceback.format_exc(limit=6)
        res = StageResult(key, title, status="error", reason=f"{type(exc).__name__}: {exc}\n{tb}")
    res.seconds = time.perf_counter() - t0
    return res


def _save(res: StageResult, out: Path, man: dict) -> None:
    from landscape.plots.style import save_figure  # noqa: PLC0415

    for name, ds in res.datasets.items():
        path = save_dataset(ds, out / "results" / f"{name}.nc", dict(man, stage=res.key))
        res.files[f"results/{name}"] = str(path.relative_to(out))
    if res.figure is not None:
        prov = json.dumps({k: man[k] for k in ("git_commit", "seed", "created", "command") if k in man})
        paths = save_figure(res.figure, out / "figures", res.key, provenance=prov)
        res.figure = None
        for kind, p in paths.items():
            res.files[kind] = str(Path(p).relative_to(out))


def _run_all(results, cfg, root, only, progress, pending, out: Path, man: dict) -> None:
    """Run every stage in order (with a progress bar), saving each stage's files as it ends."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        disable=not progress,
        transient=False,
    ) as bar:
        task = bar.add_task("reproduce", total=len(STAGES))
        for i, (key, title, fn) in enumerate(STAGES):
            bar.update(task, description=f"{key:<24}")
            if only is not None and key not in only:
                res = StageResult(key, title, status="missing", reason="not requested (--only)")
            else:
                if key == "proofs":
                    fn = functools.partial(fn, pending=pending)
                res = run_stage(key, title, fn, cfg, jax.random.fold_in(root, i))
                if res.status == "ok":
                    _save(res, out, man)
            results.append(res)
            bar.advance(task)


def reproduce(out_dir, *, quick: bool = True, seed: int = 0, only=None, progress: bool = True) -> dict:
    """Run the default study into ``out_dir`` and return the summary (also written as summary.json).

    ``only`` (a list of stage keys) restricts the run, for debugging; the summary then lists
    the others as missing ("not requested").
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = ReproduceConfig.quick_config(seed) if quick else ReproduceConfig.full_config(seed)
    man = manifest(cfg.as_dict(), seed, command="landscape reproduce" + (" --quick" if quick else ""))
    root = jax.random.PRNGKey(seed)
    results: list[StageResult] = []
    t0 = time.perf_counter()
    pending = None
    if (only is None or "proofs" in only) and cs.check_registered():
        # the proof layer's check runs in its own process, overlapping with the figures
        pending = cs.PendingCheck(out / "results" / "proofs_check.json", quick=cfg.check_quick)
    try:
        _run_all(results, cfg, root, only, progress, pending, out, man)
    finally:
        if pending is not None:
            pending.close()
    seconds = time.perf_counter() - t0
    summary = {
        "schema_version": 1,
        "quick": bool(quick),
        "seconds": round(seconds, 2),
        "ok": all(r.status != "error" for r in results),
        "stages": {
            r.key: {
                "title": r.title,
                "status": r.status,
                "reason": r.reason.split("\n")[0],
                "files": r.files,
                "seconds": round(r.seconds, 2),
                "numbers": r.numbers,
            }
            for r in results
        },
        "missing": [{"stage": r.key, "reason": r.reason.split("\n")[0]} for r in results if r.status != "ok"],
        "figures_of_merit": figures_of_merit({r.key: r for r in results}),
        "manifest": man,
    }
    write_json(out / "summary.schema.json", SUMMARY_SCHEMA)
    validate_summary(summary)
    write_json(out / "summary.json", summary)
    write_report(out / "report.md", results, summary)
    return summary
