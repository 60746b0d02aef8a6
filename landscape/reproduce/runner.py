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

``only`` (``--only``) reruns some stages and merges them into the directory's previous
summary.json and report.md: a stage not rerun keeps its recorded entry when the previous run
used the same mode and seed (otherwise it is listed as missing, "not requested"). The progress
bar is written to stderr.
"""

from __future__ import annotations

import json
import time
import traceback
from pathlib import Path

import jax

from landscape.manifest import manifest, save_dataset, write_json
from landscape.reproduce import pending_check as pc
from landscape.reproduce import stages as st
from landscape.reproduce.config import ReproduceConfig
from landscape.reproduce.report import figures_of_merit, science_language, write_report
from landscape.reproduce.schema import SUMMARY_SCHEMA, validate_summary
from landscape.reproduce.stage import Missing, Skipped, Stage, StageResult
from landscape.reproduce.stages.common import with_units

__all__ = ["STAGES", "STAGE_KEYS", "reproduce", "run_stage"]

#: the stages in the order of report.md (each key and title is written once, in its Stage)
STAGES = [
    st.ANATOMY,
    st.RTN_EXIT,
    st.BLINDNESS,
    st.TRAJECTORY,
    st.PHASE,
    st.TIGHTNESS,
    st.RULES,
    st.CHATTER,
    st.PROOFS,
    st.BRIDGE,
]
STAGE_KEYS = tuple(s.key for s in STAGES)

#: the reason of a stage that ``--only`` did not rerun and no previous summary recorded
NOT_REQUESTED = "not requested (--only)"


def run_stage(stage: Stage, cfg: ReproduceConfig, prng, **inputs) -> StageResult:
    """Run one stage, turning a missing input module or an exception into a recorded status.

    ``inputs`` are the runner's inputs (e.g. ``pending``, the proof check already started); the stage
    receives those it names in ``stage.inputs``.
    """
    key, title = stage.key, stage.title
    t0 = time.perf_counter()
    try:
        res = stage.run(cfg, prng, **inputs)
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
    """Save each dataset as results/<name>.nc and the figure as figures/<key>.pdf, .png; list them in files.

    A dataset read from a file that another process wrote (``attrs["source_file"]``, e.g. the proof check's
    JSON) is listed as that file, not saved again.
    """
    from landscape.plot.style import save_figure  # noqa: PLC0415

    for name, ds in res.datasets.items():
        if "source_file" in ds.attrs:
            path = Path(ds.attrs["source_file"])
        else:
            path = save_dataset(with_units(ds), out / "results" / f"{name}.nc", dict(man, stage=res.key))
        res.files[f"results/{name}"] = str(path.relative_to(out))
    if res.figure is not None:
        prov = json.dumps({k: man[k] for k in ("git_commit", "seed", "created", "command") if k in man})
        paths = save_figure(res.figure, out / "figures", res.key, provenance=prov)
        res.figure = None
        for kind, p in paths.items():
            res.files[kind] = str(Path(p).relative_to(out))


def previous_stages(out: Path, *, quick: bool, seed: int) -> dict:
    """The stage entries of ``out/summary.json`` when it was written in the same mode with the same seed."""
    path = Path(out) / "summary.json"
    if not path.exists():
        return {}
    try:
        prev = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if prev.get("quick") != bool(quick) or prev.get("manifest", {}).get("seed") != seed:
        return {}
    return dict(prev.get("stages") or {})


def _run_all(results, cfg, root, only, progress, inputs: dict, out: Path, man: dict, kept=None) -> None:
    """Run every stage in order (a progress bar on stderr), saving each stage's files as it ends."""
    from rich.console import Console  # noqa: PLC0415
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn  # noqa: PLC0415

    kept = kept or {}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not progress,
        transient=False,
    ) as bar:
        task = bar.add_task("reproduce", total=len(STAGES))
        for i, stage in enumerate(STAGES):
            bar.update(task, description=f"{stage.key:<24}")
            if only is not None and stage.key not in only:
                if stage.key in kept and kept[stage.key].get("status") != "missing":
                    res = stage.restore(kept[stage.key])
                else:
                    res = StageResult(stage.key, stage.title, status="missing", reason=NOT_REQUESTED)
            else:
                res = run_stage(stage, cfg, jax.random.fold_in(root, i), **inputs)
                if res.status == "ok":
                    _save(res, out, man)
            results.append(res)
            bar.advance(task)


def reproduce(out_dir, *, quick: bool = True, seed: int = 0, only=None, progress: bool = True) -> dict:
    """Run the default study into ``out_dir`` and return the summary (also written as summary.json).

    ``only`` (a list of stage keys) reruns those stages; the others keep their entries of the
    directory's previous summary.json (same mode and seed), or are listed as missing ("not requested").
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kept = previous_stages(out, quick=quick, seed=seed) if only is not None else {}
    cfg = ReproduceConfig.quick_config(seed) if quick else ReproduceConfig.full_config(seed)
    man = manifest(cfg.as_dict(), seed, command="landscape reproduce" + (" --quick" if quick else ""))
    root = jax.random.PRNGKey(seed)
    results: list[StageResult] = []
    t0 = time.perf_counter()
    pending = None
    if (only is None or "proofs" in only) and pc.check_registered():
        # the proof layer's check runs in its own process, overlapping with the figures
        pending = pc.PendingCheck(out / "results" / "proofs_check.json", quick=cfg.check_quick,
                                  only=cfg.check_only)
    try:
        _run_all(results, cfg, root, only, progress, {"pending": pending}, out, man, kept)
    finally:
        if pending is not None:
            pending.close()
    seconds = time.perf_counter() - t0
    summary = {
        "schema_version": 1,
        "quick": bool(quick),
        "seconds": round(seconds, 2),
        "ok": all(r.status != "error" for r in results),  # a stage kept from the previous run counts too
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
