"""``landscape bench [--quick] [--json FILE]``: the benchmarks of ``benchmarks/``, printed as ratios."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

__all__ = ["register", "import_suite"]


def import_suite():
    """The ``benchmarks.suite`` module of the source checkout this package runs from."""
    try:
        import benchmarks.suite as suite
    except ImportError:
        root = Path(__file__).resolve().parents[2]
        if not (root / "benchmarks" / "suite.py").is_file():
            raise
        sys.path.insert(0, str(root))
        import benchmarks.suite as suite
    return suite


def register(app: typer.Typer) -> None:
    """Add the ``bench`` subcommand to the CLI."""

    @app.command("bench")
    def bench(
        json_file: Path = typer.Option(
            None, "--json", help="Also write the full report (with manifest) here."
        ),
        quick: bool = typer.Option(
            False, "--quick", help="Small sizes: checks the machinery in well under a minute."
        ),
        sections: str = typer.Option(
            "ste2d,bandwidth,sweep,warmstart",
            help="Comma-separated subset of: ste2d, bandwidth, sweep, warmstart.",
        ),
        docs: Path = typer.Option(
            None, "--docs", help="Regenerate this doc's tables (docs/performance.md) from the report: with "
            "--from-json without running, else from this run."
        ),
        from_json: Path = typer.Option(
            None, "--from-json", help="With --docs: the report (a --json file of an earlier run) to render."
        ),
    ) -> None:
        """Ours vs hand JAX kernels, NumPy and PyTorch, the floors, a fresh process, sweeps: in one run."""
        from rich.console import Console
        from rich.table import Table

        from landscape.commands._common import check_out_file, fail, out_console
        from landscape.manifest import _jsonable, manifest, write_json

        check_out_file(json_file, "--json")
        if from_json is not None and (docs is None or not Path(from_json).is_file()):
            fail(f"--from-json {from_json} needs --docs and an existing report file.")
        if docs is not None and not Path(docs).is_file():
            fail(f"--docs {docs} is not a file (give docs/performance.md).")
        err = Console(stderr=True)
        try:
            suite = import_suite()
        except ImportError:
            err.print(
                "[red]error:[/red] landscape bench needs the source checkout (benchmarks/ beside landscape/)."
            )
            raise typer.Exit(2) from None
        if from_json is not None:
            _write_docs(docs, json.loads(Path(from_json).read_text()))
            return
        chosen = tuple(s.strip() for s in sections.split(",") if s.strip())
        bad = [s for s in chosen if s not in suite.SECTIONS]
        if bad or not chosen:
            err.print(f"[red]error:[/red] --sections must be a comma-separated subset of "
                      f"{', '.join(suite.SECTIONS)}; got {sections!r}.", soft_wrap=True)
            raise typer.Exit(2)
        report = suite.run_suite(quick, chosen, log=lambda m: err.print(m, highlight=False))
        table = Table(title="landscape bench" + (" (--quick: sizes too small to quote)" if quick else ""))
        for col in ("measurement", "ours", "peer", "peer / ours", "target"):
            table.add_column(col)
        for row in suite.summary_rows(report):
            table.add_row(*row)
        out = out_console()
        out.print(table)
        if "ste2d" in report["results"]:
            s = report["results"]["ste2d"]
            out.print(f"load average {s['load_average_before']} -> {s['load_average_after']}; "
                      f"{s['cores']} cores; "
                      f"engine parts: {s['engine_parts']}; XLA options: {s['compiler_options']}; "
                      f"PyTorch: {s['torch']}", soft_wrap=True, markup=False)
            for name, row in s["implementations"].items():
                out.print(f"disagreements with the engine, {name}: {row['disagreements']}", soft_wrap=True)
            out.print(f"disagreements, NumPy with XLA's fused multiply-add rounding: "
                      f"{s['disagreements_numpy_fma_rounding']}", soft_wrap=True)
        report["manifest"] = manifest({"quick": quick, "sections": list(chosen)}, seed=0)
        if json_file is not None:
            write_json(json_file, report)
            out.print(f"wrote {json_file}")
        if docs is not None:  # rendered from the report as its JSON reads back (tuples become lists)
            _write_docs(docs, json.loads(json.dumps(_jsonable(report))))


def _write_docs(doc: Path, report: dict) -> None:
    """Rewrite the generated tables of ``doc`` from ``report`` (benchmarks.docs) and say so."""
    from benchmarks.docs import update_performance_doc
    from landscape.commands._common import out_console

    text = Path(doc).read_text()
    new = update_performance_doc(text, report)
    Path(doc).write_text(new)
    out_console().print(f"{doc}: generated tables {'rewritten' if new != text else 'unchanged'}")
