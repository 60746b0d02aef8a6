"""The recovery certificate: verdicts against float64 simulations (no false certificate, coverage), the two
refutation mechanisms of S5C, the k >= 2 theorems, shapes, batching, jit and bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import landscape as L
from landscape.certify import VERDICTS, line_analysis, reduction, slices
from landscape.studies.phase_study import certificate_record

HORIZON = 1000


def _one_case(seed=1, d=4, n_starts=8):
    """(landscape, grid, RTN-failed river starts, eta): one k = 1 river with a quadratic wall."""
    rng = np.random.default_rng(seed)
    n = rng.normal(size=d)
    n /= np.linalg.norm(n)
    rb = 0.25
    step = rb * 3.0 * rng.uniform(0.7, 1.3, d)
    off = rng.uniform(0, 1, d) * step
    ls = L.straight_river(n[None], wall=L.quadratic_wall(rb, 5.0, 0.1))
    qz = L.uniform_grid(step, offset=off)
    w = np.asarray(ls.sample_river(jax.random.PRNGKey(seed), 256, s_range=(-60, 60), spread=2.0))
    q = off + step * np.round((w - off) / step)
    w = w[np.abs(q @ n) > rb][:n_starts]
    assert w.shape[0] >= 4  # enough RTN-failed starts for the tests below
    return ls, qz, w, 0.05


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *trees)


@pytest.fixture(scope="module")
def verdicts_vs_simulation():
    """Certificates and long float64 simulations for random k = 1 cases (shared by the tests below).

    Cases are grouped by (d, wall, learning rate), one batched landscape per group, so the driver and the
    certificate compile once per group.
    """
    rng = np.random.default_rng(0)
    hits, divs, certs = [], [], []
    with jax.enable_x64(True):
        for gi, (d, kind) in enumerate([(2, "q"), (5, "s"), (8, "q"), (3, "s")]):
            rb = 0.25
            kappa, mu = float(10 ** rng.uniform(-0.3, 1.3)), float(rng.choice([0.0, 0.1]))
            wall = L.quadratic_wall(rb, kappa, mu) if kind == "q" else L.softplus_wall(rb, kappa, mu)
            rule = L.ste(float(10 ** rng.uniform(-2, -0.7)))
            lss, qzs, ws = [], [], []
            for i in range(6):
                n = rng.normal(size=d)
                n /= np.linalg.norm(n)
                step = rb * rng.uniform(0.6, 3.0) * rng.uniform(0.7, 1.3, d)
                ls = L.straight_river(n[None], wall=wall)
                qz = L.uniform_grid(step, offset=rng.uniform(0, 1, d) * step)
                w = np.asarray(
                    ls.sample_river(jax.random.PRNGKey(100 * gi + i), 64, s_range=(-60, 60), spread=2.0)
                )
                q = np.asarray(qz.step) * np.round(
                    (w - np.asarray(qz.offset)) / np.asarray(qz.step)
                ) + np.asarray(qz.offset)
                w = w[np.abs(q @ n) > rb][:6]
                lss += [ls] * len(w)
                qzs += [qz] * len(w)
                ws.append(w)
            w = np.concatenate(ws)
            ls_b, qz_b = _stack(lss), _stack(qzs)
            tr = L.run_batch(
                ls_b,
                qz_b,
                rule,
                jnp.asarray(w),
                HORIZON,
                record_every=HORIZON,
                landscape_axis=0,
                quantizer_axis=0,
            )
            hits.append(np.asarray(tr.hit_time))
            divs.append(np.asarray(tr.diverge_time))
            certs.append(L.certify_recovery(ls_b, qz_b, w, rule, landscape_axis=0, quantizer_axis=0))
    cert = L.RecoveryCertificate(
        *(np.concatenate([getattr(c, f) for c in certs]) for f in L.RecoveryCertificate._fields)
    )
    return np.concatenate(hits), np.concatenate(divs), cert


def test_no_false_certificate_and_coverage_k1(verdicts_vs_simulation):
    hit, div, cert = verdicts_vs_simulation
    rec = certificate_record(hit, div, cert, HORIZON)
    assert rec["starts"] >= 60 and rec["recovered"] >= 30
    assert rec["false_certificates"] == 0 and rec["false_refutations"] == 0, rec
    assert rec["coverage"] >= 0.9, rec  # target: >= 90 % of the simulated recoveries, k = 1, no drift
    assert rec["coverage_theorems"] > 0.3, rec  # the theorems alone (K1 / K1P): large steps overshoot I
    assert set(np.unique(cert.verdict)) <= set(VERDICTS)
    certified = cert.verdict == "certified"
    assert np.all(cert.t_bound[certified] >= 0) and np.all(cert.t_bound[~certified] == -1)


def test_verdicts_name_their_theorem(verdicts_vs_simulation):
    _, _, cert = verdicts_vs_simulation
    for v, th, why in zip(cert.verdict, cert.theorem, cert.reason, strict=True):
        if v == "certified":
            assert th in ("T0", "K1", "K1P", "R1", "S5", "VO") and why
        elif v == "refuted":
            assert th in ("K1R", "cycle", "K2R") and ("empty" in why or "cycle" in why)


def test_single_start_and_batched_landscapes_agree():
    ls, qz, w, eta = _one_case(1)
    rule = L.ste(eta)
    batch = L.certify_recovery(ls, qz, w, rule)
    one = L.certify_recovery(ls, qz, w[0], rule)
    assert (
        isinstance(one.verdict, str) and one.verdict == batch.verdict[0] and one.t_bound == batch.t_bound[0]
    )
    b = w.shape[0]
    ls_b = jax.tree.map(lambda x: jnp.broadcast_to(x, (b,) + jnp.shape(x)), ls)
    qz_b = jax.tree.map(lambda x: jnp.broadcast_to(x, (b,) + jnp.shape(x)), qz)
    rows = L.certify_recovery(ls_b, qz_b, w, rule, landscape_axis=0, quantizer_axis=0)
    assert list(rows.verdict) == list(batch.verdict) and np.array_equal(rows.t_bound, batch.t_bound)


def test_reduction_is_jittable_and_matches_the_quantizer():
    ls, qz, w, _ = _one_case(2)
    with jax.enable_x64(True):
        n = np.asarray(ls.normals, np.float64)
        step = np.broadcast_to(np.asarray(qz.step, np.float64), n.shape[1:])
        off = np.broadcast_to(np.asarray(qz.offset, np.float64), n.shape[1:])
        b = w.shape[0]
        args = [jnp.asarray(np.broadcast_to(x, (b,) + x.shape)) for x in (n[0], step, off)]
        lo, hi = reduction.line_window(args[0], 0.0, jnp.asarray(w), args[1], 0.25, 1.0)
        m = reduction.max_breaks(args[0], args[1], lo, hi)
        red = reduction.line_pieces(
            args[0], jnp.zeros(b), jnp.asarray(w), args[1], args[2], jnp.full(b, 0.25), lo, hi, m
        )
        lam = np.linspace(float(lo[0]) + 1e-6, float(hi[0]) - 1e-6, 300)
        q = np.asarray(jax.vmap(qz.quantize)(jnp.asarray(w[0][None] + lam[:, None] * n[0][None])))
        k = np.searchsorted(np.asarray(red.z[0]), lam, side="right")
        assert np.max(np.abs(q @ n[0] - np.asarray(red.values[0])[k])) < 1e-9
        assert np.all(np.diff(np.asarray(red.values[0])) >= 0)  # g is non-decreasing (R1)
    a1 = line_analysis(ls, qz, w, 0.05)
    a2 = line_analysis(ls, qz, w, 0.05, orbit=False)  # NumPy path: the same theorem quantities
    for key in ("k1", "k1p", "t_int", "t_k1", "far"):
        assert np.array_equal(a1[key], a2[key]), key


def test_thin_cell_two_cycle_is_refuted_in_rational_arithmetic():
    """S5C's first mechanism: d = 2, max f < 2 r_b, small step, an exact 2-cycle (verified with Fractions)."""
    from proofs.recovery.scenarios_slice import _prepare_thin

    case = {
        "axis": 0,
        "eps_exp": 1.0,
        "eps_sign": -1,
        "eta": 0.1,
        "half": [False, True],
        "lam0": 1.0,
        "mu": 0.05,
        "sign": -1,
        "steps": [0.5, 0.5],
        "theta": 1.0,
        "u_kappa": 0.05,
        "u_rb": 0.0,
    }
    with jax.enable_x64(True):
        (ls, qz, w0, _), vals = _prepare_thin(case, None)
        assert (
            vals["max_f"] < 2 * vals["r_b"] and vals["eta"] * vals["phi_max"] <= vals["r_b"]
        )  # S5C's assumptions
        assert vals["m_slope"] > 0
        cert = L.certify_recovery(ls, qz, w0, L.ste(0.1))
        tr = L.run(ls, qz, L.ste(0.1), jnp.asarray(w0), 400)
    assert cert.verdict == "refuted" and cert.theorem == "cycle" and "period 2" in cert.reason
    assert int(tr.hit_time) == -1


def test_confined_slice_is_refuted_and_never_enters():
    """S5C's second mechanism: k = 2, d = 3, the slice w0 + row(N) meets no in-band cell (K2R)."""
    from proofs.recovery.scenarios_slice import slice_gap_start

    ls = L.random_river(jax.random.PRNGKey(0), 3, 2, wall=L.quadratic_wall(0.26, 1.0, 0.05))
    n, u = np.asarray(ls.normals, np.float64), np.asarray(ls.river_dir, np.float64)
    step, off = np.full(3, 0.5), np.full(3, 0.5)
    qz = L.uniform_grid(step, offset=off)
    maxf = float(np.max(L.flip_size(qz, n)))
    found = None
    for rb in np.linspace(0.51, 0.69, 10) * maxf:  # between max f / 2 and (sqrt(2)/2) max f
        s0, gap = slice_gap_start(n, u, step, off, rb)
        cells, ok = slices.slice_cells_in_band(n, np.zeros(2), s0 * u, step, off, rb)
        if ok and cells.shape[0] == 0:
            found = (rb, s0)
            break
    assert found is not None
    rb, s0 = found
    ls = ls.replace(wall=L.quadratic_wall(float(rb), 1.0, 0.05))
    cert = L.certify_recovery(ls, qz, s0 * u, L.ste(0.1))
    assert cert.verdict == "refuted" and cert.theorem == "K2R"
    with jax.enable_x64(True):
        assert int(L.run(ls, qz, L.ste(0.1), jnp.asarray(s0 * u), 400).hit_time) == -1


def test_k2_reach_bound_holds_on_random_slices():
    """K2E: every generic slice meets a cell with ||N q - c0|| <= sqrt(k)/2 max f."""
    rng = np.random.default_rng(4)
    for i in range(6):
        d, k = [(3, 2), (4, 2), (4, 3)][i % 3]
        ls = L.random_river(jax.random.PRNGKey(i), d, k)
        n = np.asarray(ls.normals, np.float64)
        step = rng.uniform(0.3, 1.0, d)
        off = rng.uniform(0, 1, d) * step
        bound = np.sqrt(k) / 2 * np.max(step * np.linalg.norm(n, axis=0))
        cells, ok = slices.slice_cells_in_band(n, np.zeros(k), rng.normal(size=d) * 3, step, off, bound)
        assert ok and cells.shape[0] > 0


def test_s5_certifies_k2_when_delta_perp_is_small():
    """k = 2 with 2 delta_perp < r_b: the validated orbit gives the exact T, S5's T_max bounds it."""
    from landscape.certify.recovery import _s5_bound
    from landscape.certify.slices import _delta_perp_bound

    ls = L.random_river(jax.random.PRNGKey(3), 4, 2, wall=L.softplus_wall(1.0, 2.0, 0.1))
    qz = L.uniform_grid(0.2)
    n = np.asarray(ls.normals, np.float64)
    w0 = np.asarray(ls.river_dir) * 2.0 + n.T @ np.array([2.0, -1.0])
    cert = L.certify_recovery(ls, qz, w0, L.ste(0.05))
    assert cert.verdict == "certified" and cert.theorem == "VO"
    t5 = _s5_bound(n, np.zeros(2), ls.wall, 0.05, w0, _delta_perp_bound(n, np.full(4, 0.2)))
    with jax.enable_x64(True):
        tr = L.run(ls, qz, L.ste(0.05), jnp.asarray(w0), int(cert.t_bound) + 1)
    assert int(tr.hit_time) == cert.t_bound <= t5


def test_uncovered_cases_are_unknown_with_a_reason():
    ls, qz, w, _ = _one_case(5)
    lsq = L.certify_recovery(ls, qz, w, L.lsq(0.05))
    assert set(lsq.verdict) == {"unknown"} and "STE" in lsq.reason[0]
    adam = L.certify_recovery(
        ls, qz, w, L.ste(optimizer=L.optimizer(__import__("optax").adam, learning_rate=0.01))
    )
    assert set(adam.verdict) == {"unknown"} and "SGD" in adam.reason[0]
    drifting = ls.replace(river_loss=L.LinearDrift(jnp.asarray(0.3)))
    drift = L.certify_recovery(drifting, qz, w, L.ste(0.05))
    with jax.enable_x64(True):
        hit = np.asarray(L.run_batch(drifting, qz, L.ste(0.05), jnp.asarray(w), 2000).hit_time)
    cer, ref = drift.verdict == "certified", drift.verdict == "refuted"
    assert np.all(hit[cer] == drift.t_bound[cer]) and np.all(hit[ref] == -1)


@pytest.mark.parametrize(
    "bad",
    [
        dict(w0=np.zeros(3)),
        dict(w0=np.full((2, 99), 0.0)),
        dict(w0=np.array([np.nan] * 8)),
        dict(budget=0),
        dict(max_exact=-1),
        dict(landscape_axis=2),
    ],
)
def test_bad_input_raises_landscape_error(bad):
    ls = L.straight_river(np.eye(8)[:1], wall=L.quadratic_wall(0.25, 1.0))
    kw = {"w0": np.zeros(8), **bad}
    w0 = kw.pop("w0")
    with pytest.raises(L.LandscapeError):
        L.certify_recovery(ls, L.uniform_grid(0.5), w0, L.ste(0.05), **kw)
