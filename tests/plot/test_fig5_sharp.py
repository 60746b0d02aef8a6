"""Figure 5's k >= 2 panel (landscape.studies.figures_data.sharp_panel_dataset) and its dyadic family
(landscape.studies.dyadic_audit): their data and their drawing."""

from __future__ import annotations

import jax
import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from landscape.plot import plot_phase_diagram  # noqa: E402
from landscape.plot.lint import text_overlaps, unlabelled_axes  # noqa: E402
from landscape.reproduce.stages.phase import with_dyadic_family, with_sharp_panel  # noqa: E402
from landscape.studies.dyadic_audit import dyadic_dataset, dyadic_record  # noqa: E402
from landscape.studies.figures_data import sharp_panel_dataset  # noqa: E402
from landscape.studies.phase_study import phase_dataset  # noqa: E402


@pytest.fixture(scope="module")
def fig5_ds():
    key = jax.random.PRNGKey(0)
    ds = phase_dataset(8, (1.5, 3.0), (0.5, 0.9), 2, 60, key)
    sharp = sharp_panel_dataset(6, 3, (0.3, 2.0, 3.0), (0.0, 0.9), 3, 60, jax.random.fold_in(key, 2))
    dyadic = dyadic_dataset(8, seed=0, budget=200)
    return with_dyadic_family(with_sharp_panel(ds, sharp), dyadic), sharp


def test_sharp_panel_data_counts_every_start_once(fig5_ds):
    _, sharp = fig5_ds
    n = sharp["n_failed"].values
    total = sum(sharp[f"{v}_prob"].values for v in ("certified", "refuted", "unknown"))
    assert np.allclose(total[n > 0], 1.0)
    assert (
        sharp.attrs["starts"]
        == int(n.sum())
        == sharp.attrs["certified"] + sharp.attrs["refuted"] + sharp.attrs["unknown"]
    )
    assert (
        sharp.attrs["k"] == 3
        and sharp.attrs["false_certificates"] == 0
        and sharp.attrs["false_refutations"] == 0
    )
    # on the river's centre with 2 delta_perp < r_b RTN cannot fail (S1W): that cell has no start
    assert sharp["delta_perp_ratio"].values[0] < 0.5 and n[0, 0] == 0
    assert n[:, 1].sum() > 0  # in-basin trained points near the edge do fail RTN


def test_fig5_has_the_k_panel_with_labels_and_distinct_legend_entries(fig5_ds, tmp_path):
    import xarray as xr

    fig5_ds[0].to_netcdf(tmp_path / "fig5.nc")  # drawn from its saved file, as `landscape reproduce` does
    ds = xr.load_dataset(tmp_path / "fig5.nc")
    fig = plot_phase_diagram(ds)
    assert not unlabelled_axes(fig) and not text_overlaps(fig), text_overlaps(fig)
    axes = [a for a in fig.axes if a.get_title(loc="left")]
    titles = [a.get_title(loc="left") for a in axes]
    assert any(t.startswith("(c)") and "k = 3" in t for t in titles), titles
    panel = next(a for a in axes if a.get_title(loc="left").startswith("(c)"))
    assert "rho(w^*)" in panel.get_ylabel() and "Delta / r_b" in panel.get_xlabel()
    labels = [t.get_text() for leg in fig.legends for t in leg.get_texts()]
    assert len(labels) == len(set(labels))
    for word in ("certified cells", "refuted cells", "unknown cells", "in_basin", "ptq_failed"):
        assert any(word in lab for lab in labels), word
    matplotlib.pyplot.close(fig)


def test_fig5_narrative_reports_the_k_panel(fig5_ds):
    """The stage's numbers and report text name panel (c)'s counts, computed from the dataset."""
    from landscape.reproduce.config import ReproduceConfig
    from landscape.reproduce.stages.phase import PHASE

    ds, sharp = fig5_ds
    nums = PHASE.numbers(ReproduceConfig.quick_config(), {"fig5_phase_diagram": ds})
    assert nums["sharp"]["k"] == 3 and nums["sharp"]["starts"] == sharp.attrs["starts"]
    text = PHASE.template.format_map(PHASE.words(nums))
    assert "Panel (c), k = 3 sharp directions in d = 6: 3 x 2 cells" in text
    assert f"certified {sharp.attrs['certified']}, refuted {sharp.attrs['refuted']}" in text
    dy = nums["dyadic"]
    assert dy == {"k": 1, "budget": 200, "seed": 0} | dyadic_record(ds, "dyadic_")
    assert (
        f"of {dy['cases']} cases the certificate certified {dy['certified']}, refuted {dy['refuted']} and "
        f"left {dy['unknown']} unknown, with 0 false certificates and 0 false refutations" in text
    ), text


def test_fig5_shows_the_dyadic_family_apart_with_no_false_verdict(fig5_ds, tmp_path):
    """The title states the dyadic family's counts, those of its rows in the saved file (exact judge)."""
    import xarray as xr

    fig5_ds[0].to_netcdf(tmp_path / "fig5.nc")
    ds = xr.load_dataset(tmp_path / "fig5.nc")
    rec = dyadic_record(ds, "dyadic_")
    assert rec["cases"] == 8 and rec["false_certificates"] == 0 and rec["false_refutations"] == 0
    fig = plot_phase_diagram(ds)
    title = fig.get_suptitle()
    assert (
        f"dyadic k = 1 family apart (exact judge): 8 cases, 0 false certificates, 0 false refutations, "
        f"{rec['certified_exact_hits']}/{rec['exact_hits']} entries certified" in title
    ), title
    assert not text_overlaps(fig)
    matplotlib.pyplot.close(fig)
    bare = ds.copy()
    bare.attrs = {k: v for k, v in ds.attrs.items() if not k.startswith("dyadic_")}
    bare = plot_phase_diagram(bare)  # no dyadic family recorded: no such line
    assert "dyadic" not in bare.get_suptitle()
    matplotlib.pyplot.close(bare)
