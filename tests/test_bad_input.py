"""Every bad input named in the engine issue raises a clear error naming the argument and range."""

import jax.numpy as jnp
import numpy as np
import pytest

import landscape as ls

LAND = ls.rotated_river_2d(0.3)
GRID = ls.uniform_grid(1.0)

CASES = [
    ("negative step", lambda: ls.uniform_grid(-0.5), r"step must lie in \(0, inf\); got -0.5"),
    ("zero step", lambda: ls.integer_grid(4, 0.0), r"step must lie in \(0, inf\)"),
    ("nan step", lambda: ls.uniform_grid(float("nan")), r"step must be finite"),
    ("zero bits", lambda: ls.integer_grid(0, 1.0), r"bits must be an integer >= 1; got 0"),
    ("one signed bit", lambda: ls.integer_grid(1, 1.0), r"bits must be >= 2 for a signed"),
    ("float bits", lambda: ls.integer_grid(2.5, 1.0), r"bits must be an integer"),
    (
        "non-orthonormal normals",
        lambda: ls.straight_river([[1.0, 1.0, 0.0]]),
        r"normals must have orthonormal rows",
    ),
    ("1-D normals", lambda: ls.straight_river([1.0, 0.0]), r"normals must be a 2-D array"),
    ("k = d normals", lambda: ls.straight_river(np.eye(2)), r"need k < d"),
    ("nan normals", lambda: ls.straight_river([[np.nan, 1.0]]), r"normals must be finite"),
    (
        "river_dir not orthogonal",
        lambda: ls.straight_river([[1.0, 0.0]], [1.0, 0.0]),
        r"river_dir must be orthogonal",
    ),
    (
        "river_dir not unit",
        lambda: ls.straight_river([[1.0, 0.0]], [0.0, 2.0]),
        r"river_dir must be a unit vector",
    ),
    (
        "river_dir wrong shape",
        lambda: ls.straight_river([[1.0, 0.0]], [0.0, 1.0, 0.0]),
        r"river_dir must have shape \(2\)",
    ),
    ("zero basin radius", lambda: ls.quadratic_wall(0.0), r"basin_radius must lie in \(0, inf\); got 0.0"),
    ("negative basin radius", lambda: ls.softplus_wall(-1.0), r"basin_radius must lie in \(0, inf\)"),
    ("negative kappa", lambda: ls.exp_wall(0.2, -3.0), r"kappa must lie in \(0, inf\)"),
    ("power below 2", lambda: ls.power_wall(0.2, 1.0, power=1.5), r"power must lie in \[2, inf\)"),
    (
        "k >= dim",
        lambda: ls.random_river(__import__("jax").random.PRNGKey(0), 3, 3),
        r"k must lie in \[1, dim - 1\]",
    ),
    ("bad aniso", lambda: ls.axis_aligned_river(3, 2, aniso=[1.0, 0.0]), r"aniso must lie in \(0, inf\)"),
    ("codebook scale", lambda: ls.nf4(0.0), r"scale must lie in \(0, inf\)"),
    ("per_group mismatch", lambda: ls.per_group([0.1, 0.2], 3, 7), r"len\(steps\) \* group_size == dim"),
    (
        "nan in w0",
        lambda: ls.run(LAND, GRID, ls.ste(), jnp.array([np.nan, 0.0]), 5),
        r"w0 must be finite; it holds 1 NaN/inf",
    ),
    ("inf in w0", lambda: ls.run(LAND, GRID, ls.ste(), jnp.array([np.inf, 0.0]), 5), r"w0 must be finite"),
    (
        "w0 dim mismatch",
        lambda: ls.run(LAND, GRID, ls.ste(), jnp.zeros(3), 5),
        r"w0 has shape \(3,\), but the landscape has dim = 2",
    ),
    (
        "step dim mismatch",
        lambda: ls.run(LAND, ls.uniform_grid([0.1, 0.2, 0.3]), ls.ste(), jnp.zeros(2), 5),
        r"quantizer.step has shape \(3,\)",
    ),
    (
        "zero num_steps",
        lambda: ls.run(LAND, GRID, ls.ste(), jnp.zeros(2), 0),
        r"num_steps must be an integer >= 1",
    ),
    (
        "record_every",
        lambda: ls.run(LAND, GRID, ls.ste(), jnp.zeros(2), 10, record_every=3),
        r"\(record_every\) must divide num_steps",
    ),
    ("negative learning rate", lambda: ls.ste(-0.1), r"learning_rate must lie in \(0, inf\)"),
    ("not a rule", lambda: ls.run(LAND, GRID, "ste", jnp.zeros(2), 5), r"rule must be a landscape Rule"),
    (
        "batch shape",
        lambda: ls.run_batch(LAND, GRID, ls.ste(), jnp.zeros(2), 5),
        r"w0s must have shape \(batch, d\)",
    ),
    ("33 bits in float32", lambda: ls.integer_grid(33, 0.1),
     r"bits must lie in \[2, 25\] for a signed grid in float32"),
    ("25 unsigned bits", lambda: ls.integer_grid(25, 0.1, signed=False),
     r"bits must lie in \[1, 24\] for an? unsigned"),
    (
        "(1, d) where (d,) is meant",
        lambda: ls.run(LAND, GRID, ls.ste(), jnp.zeros((1, 2)), 5),
        r"w0 has shape \(1, 2\).*Drop the leading axis",
    ),
    (
        "a batch passed to run",
        lambda: ls.run(LAND, GRID, ls.ste(), jnp.zeros((4, 2)), 5),
        r"w0 has shape \(4, 2\).*use landscape.run_batch",
    ),
    (
        "delta_perp of non-orthonormal normals",
        lambda: ls.delta_perp(GRID, [[1.0, 1.0]]),
        r"normals must have orthonormal rows",
    ),
    (
        "flip_size of non-orthonormal normals",
        lambda: ls.flip_size(GRID, [[2.0, 0.0]]),
        r"normals must have orthonormal rows",
    ),
    (
        "matrix layout mismatch",
        lambda: ls.run(ls.random_river(__import__("jax").random.PRNGKey(0), 12, 2),
                       ls.per_channel_grid([0.1, 0.2, 0.3], (3, 5)), ls.ste(), jnp.zeros(12), 5),
        r"laid out as \(3, 5\) \(15 weights\)",
    ),
    ("per-channel steps mismatch", lambda: ls.per_channel_grid([0.1, 0.2], (3, 4)), r"one entry per channel"),
    ("bad SaveAt field", lambda: ls.SaveAt(fields=("los",)), r"SaveAt.fields must be among"),
    ("ef beta", lambda: ls.error_feedback(0.1, beta=1.5), r"beta must lie in \[0, 1\]"),
    ("freeze momentum", lambda: ls.iterative_freezing(0.1, momentum=0.0), r"momentum must lie in \(0, 1\]"),
    ("unknown rule", lambda: ls.get_rule("stee"), r"rule must be one of .*got 'stee'"),
    ("bad optimizer", lambda: ls.ste(optimizer=3.0), r"optimizer must be a landscape Optimizer"),
    ("center shape", lambda: ls.straight_river([[1.0, 0.0]], center=[0.0, 1.0]),
     r"center must have shape \(1,\)"),
    (
        "bad s_range",
        lambda: LAND.sample_river(__import__("jax").random.PRNGKey(0), 4, s_range=(1, 1)),
        r"s_range must satisfy low < high",
    ),
]


@pytest.mark.parametrize("name, make, message", CASES, ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(name, make, message):
    with pytest.raises(ls.LandscapeError, match=message):  # one error type everywhere (a ValueError)
        make()


def test_float64_allows_wider_grids():
    import jax

    with jax.enable_x64(True):
        g = ls.integer_grid(40, 1e-9)
        assert int(g.qmax) == 2**39 - 1
        x = 2.0**30 * 1e-9
        assert float(g.quantize(jnp.asarray(x + 0.4e-9))) == pytest.approx(x, rel=1e-15)


def test_landscape_error_is_a_value_error():
    with pytest.raises(ls.LandscapeError):
        ls.uniform_grid(0.0)
