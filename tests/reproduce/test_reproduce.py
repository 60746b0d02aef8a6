"""End to end: ``landscape reproduce --quick`` into a temporary directory, then every promise checked."""

from __future__ import annotations

import dataclasses
import json
import re

import jax
import jsonschema
import matplotlib.image as mpimg
import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

import landscape.plot
import landscape.plot.style
from landscape.cli import app
from landscape.laws import rtn_exit_probability_2d
from landscape.manifest import _jsonable
from landscape.plot.lint import text_overlaps, unlabelled_axes
from landscape.reproduce import SUMMARY_SCHEMA, validate_summary
from landscape.reproduce.config import ReproduceConfig
from landscape.reproduce.figures import FIGURES, replot
from landscape.reproduce.report import science_language
from landscape.reproduce.runner import STAGES
from landscape.reproduce.stage import Stage
from landscape.reproduce.stages.proofs import check_dataset
from landscape.studies.dyadic_audit import dyadic_record
from landscape.studies.rtn_study import agreement, rtn_exit_dataset

ENGINE_FIGURES = [
    "fig1_anatomy",
    "fig2_rtn_exit",
    "fig4_ste_trajectory",
    "fig5_phase_diagram",
    "fig8_chattering",
]


#: the inputs the runner hands to the stages that name them (``Stage.inputs``)
RUNNER_INPUTS = {"pending"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The quick run, and the number of axes of each figure as the stage drew it (recorded as it is saved).

    ``reproduce --quick`` runs here with ``ReproduceConfig.smoke_config`` (every stage, fewer points), so
    that the suite stays short; ``test_numbers_come_from_the_saved_datasets`` uses the same preset.
    """
    out = tmp_path_factory.mktemp("reproduce")
    drawn = {}
    save = landscape.plot.style.save_figure

    def recording_save(fig, folder, name, **kw):
        drawn[name] = len(fig.axes)
        return save(fig, folder, name, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(landscape.plot.style, "save_figure", recording_save)
        mp.setattr(ReproduceConfig, "quick_config", ReproduceConfig.smoke_config)
        result = CliRunner().invoke(app, ["reproduce", "--quick", "--out", str(out), "--no-progress"])
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else None
    return out, result, summary, drawn


@pytest.mark.slow
def test_exit_code_and_stage_statuses(run):
    """The command succeeds and, in a full checkout, every stage (figures, proofs, bridge) is ok."""
    out, result, summary, _ = run
    assert result.exit_code == 0, result.output
    assert summary["ok"] is True
    for key in ENGINE_FIGURES:
        assert summary["stages"][key]["status"] == "ok", summary["stages"][key]
    for key, st in summary["stages"].items():
        assert st["status"] == "ok", (key, st)
    assert summary["missing"] == []


@pytest.mark.slow
def test_every_listed_file_exists_and_opens(run):
    """Each ok figure: vector PDF, non-blank 300-dpi PNG naming its commit, netCDF with the manifest."""
    out, _, summary, _ = run
    assert (out / "report.md").is_file() and (out / "summary.schema.json").is_file()
    for key in FIGURES:
        st = summary["stages"][key]
        if st["status"] != "ok":
            continue
        pdf = (out / st["files"]["pdf"]).read_bytes()
        assert pdf.startswith(b"%PDF") and b"%%EOF" in pdf[-1024:] and len(pdf) > 5000, key
        from PIL import Image

        with Image.open(out / st["files"]["png"]) as im:
            assert json.loads(im.info["Description"])["git_commit"] == summary["manifest"]["git_commit"], key
        img = mpimg.imread(out / st["files"]["png"])
        assert img.shape[1] > 900, key  # 300 dpi at >= 3 inches
        assert float(np.var(img[..., :3])) > 2e-3, f"{key}: the PNG is (nearly) blank"
        ds = xr.open_dataset(out / st["files"][f"results/{key}"], engine="h5netcdf")
        man = json.loads(ds.attrs["manifest"])
        assert man["config"]["quick"] is True and man["seed"] == 0 and man["git_commit"]
        ds.close()


@pytest.mark.slow
def test_summary_validates_against_the_shipped_schema(run):
    """summary.json validates against summary.schema.json (the file) and SUMMARY_SCHEMA (the code)."""
    import jsonschema

    out, _, summary, _ = run
    schema = json.loads((out / "summary.schema.json").read_text())
    assert schema == json.loads(json.dumps(SUMMARY_SCHEMA))
    jsonschema.Draft202012Validator(schema).validate(summary)
    validate_summary(summary)
    broken = json.loads(json.dumps(summary))
    broken["figures_of_merit"]["rtn_exit"]["agreement_2d"]["agree"] = "yes"
    with pytest.raises(jsonschema.ValidationError):
        validate_summary(broken)


@pytest.mark.slow
def test_rtn_exit_simulated_agrees_with_closed_form(run):
    """Every 2-D cell: |simulated - exact| <= 4 binomial SEs of the exact p + 1/n, recomputed here."""
    out, _, summary, _ = run
    fm = summary["figures_of_merit"]["rtn_exit"]
    assert fm["status"] == "ok"
    sim, cf = np.array(fm["simulated_2d"]), np.array(fm["closed_form_2d"])
    n = fm["n_points_per_cell"]
    assert sim.shape == cf.shape == (len(fm["thetas"]), len(fm["ratios"]))
    assert np.all(np.abs(sim - cf) <= 4 * np.sqrt(cf * (1 - cf) / n) + 1.0 / n + 1e-4)
    assert fm["agreement_2d"]["agree"] is True
    # the closed form is the exact law, independently recomputed
    for i, th in enumerate(fm["thetas"]):
        for j, r in enumerate(fm["ratios"]):
            assert cf[i, j] == pytest.approx(rtn_exit_probability_2d(th, r * 0.25, 0.25), abs=1e-4)
    # and the numbers in summary.json are those of the dataset behind the figure
    ds = xr.open_dataset(out / "results" / "fig2_rtn_exit.nc", engine="h5netcdf")
    np.testing.assert_allclose(ds["sim_exit_2d"].values, sim, atol=1e-4)
    ds.close()


@pytest.mark.slow
def test_figures_of_merit_tell_the_story(run):
    """RTN fails, STE recovers where a theorem certifies it (no false certificate), and chatters in 2-D."""
    _, _, summary, _ = run
    fm = summary["figures_of_merit"]
    reg = fm["ste_recovery"]["regimes"]["certified by a theorem (K1, K1P)"]
    assert reg["n"] > 0 and reg["recovery_prob"] >= 0.9
    cert = fm["ste_recovery"]["certificate"]
    assert cert["false_certificates"] == 0 and cert["false_refutations"] == 0 and cert["coverage"] >= 0.9
    ch = fm["chattering"]
    assert ch["max_flip_size_over_rb"] > 2 and ch["never_in_basin_fraction"] > 0.3
    fig1 = summary["stages"]["fig1_anatomy"]["numbers"]
    assert fig1["rho"]["rtn"] > fig1["basin_radius"] >= fig1["rho"]["oracle"]


@pytest.mark.slow
def test_figure_5_reports_the_dyadic_family_apart(run):
    """The quick stage's dyadic k = 1 family (exact judge): no false verdict; in summary, figure, report."""
    out, _, summary, _ = run
    dy = summary["figures_of_merit"]["ste_recovery"]["dyadic_certificate"]
    assert dy == summary["stages"]["fig5_phase_diagram"]["numbers"]["dyadic"]
    assert dy["k"] == 1 and dy["cases"] == ReproduceConfig.smoke_config().phase_dyadic_cases
    assert dy["false_certificates"] == 0 and dy["false_refutations"] == 0
    assert dy["certified"] + dy["refuted"] + dy["unknown"] == dy["cases"]
    ds = xr.load_dataset(out / "results" / "fig5_phase_diagram.nc", engine="h5netcdf")
    assert ds.sizes["dyadic_case"] == dy["cases"]  # one saved row per case, counted apart from the cells
    assert dyadic_record(ds, "dyadic_") == {k: v for k, v in dy.items() if k not in ("k", "budget", "seed")}
    fig = replot("fig5_phase_diagram", out / "results")
    assert (
        f"{dy['cases']} cases, 0 false certificates, 0 false refutations, "
        f"{dy['certified_exact_hits']}/{dy['exact_hits']} entries certified" in fig.get_suptitle()
    )
    plt.close(fig)
    text = (out / "report.md").read_text()
    assert f"0 false certificates and 0 false refutations in {dy['cases']} cases" in text
    broken = json.loads(json.dumps(summary))
    del broken["figures_of_merit"]["ste_recovery"]["dyadic_certificate"]
    with pytest.raises(jsonschema.ValidationError):  # the schema requires the record once figure 5 is ok
        validate_summary(broken)


@pytest.mark.slow
def test_report_mentions_every_stage_and_status(run):
    """report.md has a section per stage, links each PNG, and marks missing parts."""
    out, _, summary, _ = run
    text = (out / "report.md").read_text()
    for st in summary["stages"].values():
        assert st["title"] in text
        if st["status"] == "ok" and "png" in st["files"]:
            assert f"]({st['files']['png']})" in text
        elif st["status"] != "ok":
            assert st["status"].upper() in text
    if summary["stages"]["proofs"]["status"] == "ok":
        assert "| id | statement | regime | k | status |" in text


@pytest.mark.slow
def test_saved_figures_redraw_without_overlapping_text(run):
    """Every figure redrawn from its netCDF has labelled axes, titles, and no overlapping text."""
    out, _, summary, _ = run
    for key in FIGURES:
        if summary["stages"][key]["status"] != "ok":
            continue
        fig = replot(key, out / "results")
        assert not unlabelled_axes(fig), key
        assert not text_overlaps(fig), (key, text_overlaps(fig))
        assert any(ax.get_title(loc="left") or ax.get_title() for ax in fig.axes), key


def test_rtn_study_is_reproducible():
    """Same config and seed, same numbers (the PRNG key is explicit)."""
    args = ((0.4,), ((16, 2),), (1.0, 3.0), 200, jax.random.PRNGKey(3))
    a, b = rtn_exit_dataset(*args), rtn_exit_dataset(*args)
    np.testing.assert_array_equal(a["sim_exit_2d"].values, b["sim_exit_2d"].values)
    np.testing.assert_array_equal(a["sim_exit_hd"].values, b["sim_exit_hd"].values)
    assert agreement(a)["n_cells"] == 2


def test_every_stage_is_data():
    """Each stage is a Stage: key and title once, compute, numbers, a template, a figure of landscape.plot."""
    keys = [s.key for s in STAGES]
    assert len(set(keys)) == len(keys) == 10
    assert "legacy" not in {f.name for f in dataclasses.fields(Stage)}
    for s in STAGES:
        assert isinstance(s, Stage) and s.title.strip(), s.key
        assert callable(s.compute) and callable(s.numbers) and s.template.strip(), s.key
        assert set(s.inputs) <= RUNNER_INPUTS, s.key
        assert not re.search(r"\bissue \d", s.template), s.key  # the language of the science only
        if s.figure is not None:  # drawn by a function that landscape.plot exports under its own name
            assert getattr(landscape.plot, s.figure.__name__) is s.figure, s.key
    assert [s.key for s in STAGES if s.figure is None] == ["proofs"]
    assert [s.key for s in STAGES if s.inputs] == ["proofs"]


def test_replot_draws_with_the_stage_figure():
    """FIGURES is derived from STAGES: the figure of every key is its stage's very function."""
    assert FIGURES == {s.key: s.figure for s in STAGES if s.figure is not None}
    for s in STAGES:
        if s.figure is not None:
            assert FIGURES[s.key] is s.figure
    with pytest.raises(KeyError, match="unknown figure"):
        replot("proofs", ".")


@pytest.mark.slow
def test_templates_format_with_the_saved_numbers(run):
    """Each stage's text is its template formatted with the numbers of summary.json (no missing key)."""
    out, _, summary, _ = run
    text = (out / "report.md").read_text()
    assert not re.search(r"\bissue \d", text)
    for s in STAGES:
        st = summary["stages"][s.key]
        assert st["status"] == "ok", (s.key, st["reason"])
        narrative = science_language(s.template.format_map(s.words(st["numbers"])))
        assert len(narrative) > 80 and narrative in text, s.key


def _saved_datasets(out, files):
    dss = {}
    for label, rel in files.items():
        if label.startswith("results/"):
            name, path = label.removeprefix("results/"), out / rel
            if path.suffix == ".json":
                dss[name] = check_dataset(json.loads(path.read_text()), source_file=path)
            else:
                dss[name] = xr.load_dataset(path, engine="h5netcdf")
    return dss


@pytest.mark.slow
def test_numbers_come_from_the_saved_datasets(run):
    """Each stage's numbers, recomputed from the files it saved alone, are those of summary.json."""
    out, _, summary, _ = run
    cfg = ReproduceConfig.smoke_config(0)  # the fixture's preset
    for s in STAGES:
        st = summary["stages"][s.key]
        dss = _saved_datasets(out, st["files"])
        assert dss, s.key
        if s.figure is not None:  # the figure's dataset is the first, results/<key>.nc (what replot reads)
            assert next(iter(dss)) == s.key, s.key
        assert json.loads(json.dumps(_jsonable(s.numbers(cfg, dss)))) == st["numbers"], s.key


@pytest.mark.slow
def test_replot_has_the_axes_the_stage_drew(run):
    """A figure redrawn from its netCDF has as many axes as the stage's figure had when it was saved."""
    out, _, summary, drawn = run
    assert set(drawn) == set(FIGURES)
    for key in FIGURES:
        fig = replot(key, out / "results")
        assert len(fig.axes) == drawn[key] > 0, key
        plt.close(fig)
