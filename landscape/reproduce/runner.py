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

import json
import time
import traceback
from pathlib import Path

import jax

from landscape.manifest import manifest, save_dataset, write_json
from landscape.reproduce import check_stage as cs
from landscape.reproduce import external_stages as xs
from landscape.reproduce import stages as st
from landscape.reproduce.config import ReproduceConfig
from landscape.reproduce.phase_stage import phase_stage
from landscape.reproduce.report import figures_of_merit, science_language, write_report
from landscape.reproduce.schema import SUMMARY_SCHEMA, validate_summary
from landscape.reproduce.stage import Missing, Skipped, Stage, StageResult

__all__ = ["STAGES", "STAGE_KEYS", "reproduce", "run_stage"]

#: the stages in the order of report.md; each key and title is written here once
STAGES = [
    st.ANATOMY,
    st.RTN_EXIT,
    Stage("fig3_hessian_blindness", "Hessian blindness of second-order PTQ", legacy=xs.blindness_stage),
    st.TRAJECTORY,
    Stage("fig5_phase_diagram", "Recovery phase diagram of STE", legacy=phase_stage),
    st.TIGHTNESS,
    st.RULES,
    st.CHATTER,
    Stage("proofs", "Proof table (landscape check)", legacy=cs.proofs_stage),
    Stage("bridge", "Real-model bridge", legacy=xs.bridge_stage),
]
STAGE_KEYS = tuple(s.key for s in STAGES)


def run_stage(stage: Stage, cfg: ReproduceConfig, prng, **kw) -> StageResult:
    """Run one stage, turning a missing input module or an exception into a recorded status."""
    key, title = stage.key, stage.title
    t0 = time.perf_counter()
    try:
        res = stage.run(cfg, prng, **kw)
        res.narrative = science_language(res.narrative)
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
    from landscape.reproduce.stages import _units  # noqa: PLC0415

    for name, ds in res.datasets.items():
        path = save_dataset(_units(ds), out / "results" / f"{name}.nc", dict(man, stage=res.key))
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
        for i, stage in enumerate(STAGES):
            bar.update(task, description=f"{stage.key:<24}")
            if only is not None and stage.key not in only:
                res = StageResult(stage.key, stage.title, status="missing", reason="not requested (--only)")
            else:
                kw = {"pending": pending} if stage.key == "proofs" else {}
                res = run_stage(stage, cfg, jax.random.fold_in(root, i), **kw)
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
