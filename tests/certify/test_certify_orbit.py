"""The validated orbit and exact rounding semantics: ties (half to even), simultaneous crossings, dyadic
cases judged by the independent exact judge, k >= 2 against float64 runs."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flint import arb, fmpq
from hypothesis import given, settings

import landscape as L
from landscape.certify import orbit
from landscape.testing.dyadic import dyadic_case, dyadic_cases, dyadic_objects, exact_judge


def _stack(trees):
    return jax.tree.map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *trees)


def _tie_case():
    """d = 2, n = e_1, step 1: w0 = 2.5 rounds to 2 (half to even); the orbit 2.5, 1.75, 1, 0.75, 0.5 enters
    at T = 4 because 0.5 rounds to 0 (half up would give 1 and T = 5)."""
    return {
        "d": 2, "k": 1, "normals": [[1.0, 0.0]], "river_dir": [0.0, 1.0], "c0": [0.0], "step": [1.0, 1.0],
        "offset": [0.0, 0.0], "w0": [2.5, 0.0], "wall": "quadratic", "rb": 0.5, "kappa": 1.0, "mu": 0.0,
        "eta": 0.5, "rate": 0.0, "seed": -1,
    }  # fmt: skip


def test_ties_round_half_to_even_in_judge_certificate_and_engine():
    case = _tie_case()
    assert exact_judge(case) == ("hit", 4)
    land, grid, rule, w0 = dyadic_objects(case)
    with jax.enable_x64(True):
        cert = L.certify_recovery(land, grid, w0, rule)
        tr = L.run(land, grid, rule, jnp.asarray(w0), 50)
    assert cert.verdict == "certified" and int(cert.t_bound) == 4
    assert "tie of R1" in str(cert.reason)  # decided by the exact orbit, not the float pieces
    assert int(tr.hit_time) == 4


def test_decided_needs_a_ball_strictly_inside_one_cell():
    assert orbit._decided(arb(fmpq(3, 10))) == 0
    assert orbit._decided(arb(fmpq(1, 2))) is None  # on a boundary
    assert orbit._decided(arb(fmpq(1, 2), 1e-30)) is None  # a ball that meets one
    assert orbit._decided(arb(fmpq(-7, 5), 1e-30)) == -1


def test_dyadic_k1_batch_never_contradicts_the_exact_judge():
    """24 dyadic k = 1 cases (ties at 40 % of the coordinates), one batched call: every certificate's T is
    the exact T (or above it) and no refuted start enters; the ties go to the exact orbit."""
    fixed = {"wall": "quadratic", "rb": 0.25, "kappa": 2.0, "mu": 0.125, "eta": 1 / 32}
    cases = [dyadic_case(100 + i, k=1, fixed=fixed, width=8) for i in range(24)]
    objs = [dyadic_objects(c) for c in cases]
    with jax.enable_x64(True):
        cert = L.certify_recovery(
            _stack([o[0] for o in objs]), _stack([o[1] for o in objs]), np.stack([o[3] for o in objs]),
            objs[0][2], budget=400, landscape_axis=0, quantizer_axis=0,
        )  # fmt: skip
    decided = 0
    for i, case in enumerate(cases):
        kind, info = exact_judge(case, 400)
        if cert.verdict[i] == "certified":
            assert kind == "hit" and info <= cert.t_bound[i], (case["seed"], cert.reason[i], kind, info)
        if cert.verdict[i] == "refuted":
            assert kind != "hit", (case["seed"], cert.reason[i])
        decided += cert.verdict[i] != "unknown"
    assert decided >= 18
    assert any("tie of R1" in r for r in cert.reason)


@settings(max_examples=12)
@given(dyadic_cases(k=2, drift=True))
def test_validated_orbit_k2_never_contradicts_the_exact_judge(case):
    land, grid, rule, w0 = dyadic_objects(case)
    res = orbit.validated_orbit(
        case["normals"], case["c0"], w0, case["step"], case["offset"], land.wall, case["eta"],
        drift_rate=case["rate"], river_dir=case["river_dir"], budget=300,
    )  # fmt: skip
    kind, info = exact_judge(case, 300)
    if res.verdict == "certified":
        assert (kind, info) == ("hit", res.t_bound)
    if res.verdict == "refuted":
        assert kind != "hit"


def test_k2_and_k3_certified_with_the_float64_hit_time():
    """Generic k = 2, 3 rivers (Gaussian N, drift along a random u): the validated T is the run's T."""
    rng = np.random.default_rng(2)
    got = 0
    with jax.enable_x64(True):
        for i, (d, k) in enumerate([(4, 2), (6, 3), (5, 2), (8, 3)]):
            land = L.random_river(jax.random.PRNGKey(i), d, k, wall=L.softplus_wall(0.25, 4.0, 0.1),
                                  river_loss=0.05 * (i % 2))  # fmt: skip
            step = 0.25 * rng.uniform(1.5, 3.0, d)
            grid = L.uniform_grid(step, offset=rng.uniform(0, 1, d) * step)
            w0 = float(rng.uniform(-10, 10)) * np.asarray(land.river_dir, np.float64)
            cert = L.certify_recovery(land, grid, w0, L.ste(0.05), budget=1500)
            tr = L.run(land, grid, L.ste(0.05), jnp.asarray(w0), 1500)
            if cert.verdict == "certified":
                assert int(cert.t_bound) == int(tr.hit_time), (i, cert.reason)
                got += 1
            if cert.verdict == "refuted":
                assert int(tr.hit_time) == -1
    assert got >= 3


def test_r1_restated_at_every_exact_breakpoint_of_dyadic_lines():
    """R1 (3), (4): at each breakpoint g jumps by the crossing flips and g(z) follows the tie rule; with a
    simultaneous crossing g(z) can lie strictly between its neighbours (what the old pieces missed)."""
    from landscape.certify.exact_line import exact_line

    between = 0
    for seed in range(12):
        c = dyadic_case(seed, k=1)
        ex = exact_line(c["normals"][0], c["c0"][0], c["w0"], c["step"], c["offset"], -3.0, 3.0)
        assert ex["z"] and not ex["truncated"]
        for left, point, right, rule, flips in zip(
            ex["left"], ex["point"], ex["right"], ex["tie_rule"], ex["flips"], strict=True
        ):
            assert point == rule and right - left == flips
            between += left < point < right
    assert between > 0



@pytest.mark.float64
def test_interval_slope_is_the_wall_slope_beyond_the_basin():
    """Each wall's interval_slope (what the validated orbit uses) is phi'(r) for r > r_b: exact rationals for
    the quadratic and integer-power walls, arb balls holding the float64 slope for the others."""
    r = orbit.exact(0.75)  # > r_b = 0.5; every parameter below is a dyadic rational
    walls = [L.quadratic_wall(0.5, 3.0, 0.25), L.power_wall(0.5, 3.0, 0.25, power=3.0),
             L.power_wall(0.5, 3.0, 0.25, power=2.5), L.softplus_wall(0.5, 3.0, 0.25),
             L.exp_wall(0.5, 3.0, 0.25)]  # fmt: skip
    exact_kinds = [fmpq, fmpq, arb, arb, arb]
    for wall, kind in zip(walls, exact_kinds, strict=True):
        slope, name = orbit.wall_slope_exact(wall)
        assert name == type(wall).__name__
        got, want = slope(r), float(wall.deriv(jnp.float64(0.75)))
        assert isinstance(got, kind)
        if kind is fmpq:
            assert float(got) == want  # 0.25 * 0.75 + 3 * 0.25^(p - 1), exactly
        else:
            assert float(got.rad()) < 1e-12 and abs(float(got.mid()) - want) <= 1e-12 * abs(want)
    none = _NoSlope(*(jnp.float32(x) for x in (0.5, 3.0, 0.25)))
    assert orbit.wall_slope_exact(none) == (None, "wall _NoSlope: no exact slope")


class _NoSlope(L.geometry.walls.QuadraticWall):
    """A wall that states no interval slope (a user's wall before it adds one)."""

    def interval_slope(self):
        return None


def test_validated_orbit_rounds_a_coordinate_on_a_tie_exactly_when_no_group_moves_it():
    """k = 2, dyadic: after an irrational rho the open group does not move coordinate j (its coefficient
    sum_i N_ij V_i is 0) and w_j sits exactly on a tie: half to even decides it (it was 'unknown' when every
    coordinate went through an arb ball). The exact judge agrees: the orbit enters at T = 1."""
    import jax

    import landscape as L
    from landscape.testing.dyadic import dyadic_case, dyadic_objects, exact_judge

    fixed = {"wall": "quadratic", "rb": 0.25, "kappa": 8.0, "mu": 0.0, "eta": 0.046875}
    for seed in (201000680, 201000741):
        case = dyadic_case(seed, k=2, fixed=fixed, width=8)
        ls, grid, rule, w = dyadic_objects(case)
        with jax.enable_x64(True):
            cert = L.certify_recovery(ls, grid, w, rule, budget=300)
        assert (str(cert.verdict), int(cert.t_bound)) == ("certified", 1)
        assert exact_judge(case, 300) == ("hit", 1)


def test_an_orbit_beyond_float_range_is_undecided_not_an_error():
    """A rounding ball whose midpoint overflows a float (a diverging orbit) is undecided ("unknown")."""
    from flint import arb

    from landscape.certify.orbit import _decided

    assert _decided(arb(10) ** 400) is None
    assert _decided(arb(9) / 4) == 2
