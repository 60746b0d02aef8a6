"""The one registry: every kind of named thing, records with ranges, rules through it, and the recipe of
docs/extending.md followed once (a new wall and a new rule, one file each plus one registration)."""

import importlib
import inspect
import sys
import textwrap

import jax.numpy as jnp
import numpy as np
import pytest

import landscape as L
import landscape.registry as reg
from landscape.geometry import walls


def test_every_kind_is_registered_and_builds_with_its_defaults():
    kinds = {"family", "wall", "river", "quantizer", "ptq", "rule", "optimizer", "schedule"}
    assert set(reg.REGISTRIES) == kinds
    assert L.builders is reg
    for name in ("quadratic", "softplus", "power", "exp"):
        assert isinstance(reg.WALLS[name].build(), walls.Wall)
    for name in reg.RIVERS:
        assert float(reg.RIVERS[name].build()(jnp.asarray(0.0))) == pytest.approx(
            {"none": 0.0, "drift": 0.0, "lake": float(np.log(np.cosh(0.0)))}[name]
        )
    assert float(reg.SCHEDULES["linear"].build()(0)) == pytest.approx(0.05)
    assert reg.OPTIMIZERS["adam"].fn is reg.get_optimizer_factory("adam")


def test_ptq_names_are_derived_from_the_ptq_package():
    from landscape.ptq import SMALL_DIM_METHODS, ptq_methods

    assert list(reg.PTQ) == list(ptq_methods)  # proxy_min included: the old hand-written list lacked it
    assert reg.PTQ["proxy_min"].attrs["max_dim"] == SMALL_DIM_METHODS["proxy_min"]
    assert reg.PTQ["rtn"].attrs == {"max_dim": None, "hessian": False}
    assert reg.PTQ["gptq"].params["damp"].default == 0.01


def test_rules_have_ranges_and_keep_their_public_signatures():
    assert list(inspect.signature(L.get_rule).parameters) == ["name", "learning_rate", "optimizer", "options"]
    assert list(L.default_rules()) == list(reg.RULE_NAMES)
    assert {"ste", "fp", "full_precision", "ptq_ste"} <= set(L.available_rules())
    assert reg.RULES["ef"].params["beta"].describe_range() == "[0, 1]"
    with pytest.raises(L.LandscapeError, match=r"beta must lie in \[0, 1\]; got 2.0"):
        L.get_rule("ef", beta=2.0)
    with pytest.raises(L.LandscapeError, match=r"learning_rate must lie in \(0, inf\]; got -0.1"):
        L.get_rule("ste", learning_rate=-0.1)
    with pytest.raises(L.LandscapeError, match="unknown"):
        L.get_rule("ste", beta=0.5)
    # a Builder is called like the factory it holds (the sweep inspects its signature)
    assert reg.RULES["clipped_ste"](learning_rate=0.1, clip=0.5) == L.clipped_ste(0.1, clip=0.5)
    assert "clip" in inspect.signature(reg.RULES["clipped_ste"]).parameters
    # traced or array values are left to the rule's own checks
    assert L.get_rule("ef", beta=jnp.asarray(0.5)).label == "ef(beta=0.5)"


def test_sweeps_check_rule_options_against_their_records():
    with pytest.raises(L.LandscapeError, match=r"beta must lie in \[0, 1\]"):
        L.sweep(rule="ef", beta=[0.5, 1.5], num_steps=2, starts=1)
    with pytest.raises(L.LandscapeError, match="learning_rate must lie in"):
        L.sweep(rule=["ste", "fp"], learning_rate=0.0, num_steps=2, starts=1)


def test_walls_carry_what_code_switches_on():
    from fractions import Fraction

    q, p, s, e = (reg.WALLS[n].build() for n in ("quadratic", "power", "softplus", "exp"))
    assert (q.flat_bottom, p.flat_bottom, e.flat_bottom, s.flat_bottom) == (True, True, True, False)
    assert all(w.theorems_cover for w in (q, p, s, e)) and not walls.Wall.theorems_cover
    assert s.rational_slope() is None and e.rational_slope() is None
    assert walls.power_wall(power=2.5).rational_slope() is None
    r = Fraction(1, 2)  # phi'(1/2) = kappa (1/2 - 1/4) = 10/4 (quadratic), kappa (1/4)^3 = 10/64 (power 4)
    assert q.rational_slope()(r) == Fraction(5, 2) and p.rational_slope()(r) == Fraction(5, 32)
    assert float(q.deriv(0.5)) == pytest.approx(float(q.rational_slope()(r)))


def test_register_refuses_bad_input():
    with pytest.raises(L.LandscapeError, match="kind must be one of"):
        reg.register("walls", "x", walls.quadratic_wall)
    with pytest.raises(L.LandscapeError, match="must be callable"):
        reg.register("wall", "x", 3)
    with pytest.raises(L.LandscapeError, match="wall must be one of"):
        reg.lookup("wall", "nope")
    assert reg.lookup("family", "highdim") is reg.FAMILIES["random_river"]
    assert reg.lookup("rule", "error_feedback") is reg.RULES["ef"]


NEW_WALL = '''
import jax
import jax.numpy as jnp

from landscape.geometry.walls import FlatBottomWall


class CubicWall(FlatBottomWall):
    """phi = mu/2 rho^2 + kappa/3 (rho - r_b)_+^3."""

    basin_radius: jax.Array
    kappa: jax.Array
    mu: jax.Array

    def excess(self, rho):
        return self.kappa / 3 * jnp.maximum(rho - self.basin_radius, 0.0) ** 3

    def excess_deriv(self, rho):
        return self.kappa * jnp.maximum(rho - self.basin_radius, 0.0) ** 2


def cubic_wall(basin_radius=0.25, kappa=10.0, mu=0.0):
    """The cubic wall."""
    f = jnp.result_type(float)
    return CubicWall(jnp.asarray(basin_radius, f), jnp.asarray(kappa, f), jnp.asarray(mu, f))
'''

NEW_RULE = '''
from landscape.qat.base import Rule, hyper_field, probe_of
from landscape.qat.optim import as_optimizer


class DampedSTE(Rule):
    """STE whose gradient is scaled by gain."""

    name = "damped_ste"
    optimizer: object = None
    gain: object = hyper_field(0.5)

    def gradient(self, landscape, params, state, quantizer, key, probe=None):
        q = quantizer.quantize(params["w"])
        g = (probe_of(landscape, q) if probe is None else probe).grad
        return {"w": self.gain * g}, state


def damped_ste(learning_rate=0.05, optimizer=None, gain=0.5):
    """The damped STE rule."""
    return DampedSTE(as_optimizer(optimizer, learning_rate), gain)
'''


@pytest.fixture
def new_modules(tmp_path, monkeypatch):
    (tmp_path / "my_walls.py").write_text(textwrap.dedent(NEW_WALL))
    (tmp_path / "my_rules.py").write_text(textwrap.dedent(NEW_RULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    mods = importlib.import_module("my_walls"), importlib.import_module("my_rules")
    yield mods
    reg.WALLS.pop("cubic", None)
    reg.RULES.pop("damped_ste", None)
    for m in ("my_walls", "my_rules"):
        sys.modules.pop(m, None)


def test_a_new_wall_and_rule_run_through_run_and_a_sweep(new_modules):
    my_walls, my_rules = new_modules
    from landscape.config import record

    reg.register("wall", "cubic", my_walls.cubic_wall)  # the one registration of each
    reg.register("rule", "damped_ste", my_rules.damped_ste, {"gain": record("gain", 0.5, low=0, high=1)})

    assert set(reg.WALLS["cubic"].params) == {"basin_radius", "kappa", "mu"}
    assert reg.WALLS["cubic"].params["kappa"].describe_range() == "[0, inf]"  # the shared record
    with pytest.raises(L.LandscapeError, match="basin_radius must lie in"):
        reg.WALLS["cubic"].build(basin_radius=0.0)
    with pytest.raises(L.LandscapeError, match=r"gain must lie in \[0, 1\]; got 2.0"):
        L.get_rule("damped_ste", gain=2.0)
    assert "damped_ste" in L.available_rules()

    # through run: the deployed point of a PTQ-failed start re-enters the basin
    wall = reg.WALLS["cubic"].build(basin_radius=0.3, kappa=10.0)
    assert wall.flat_bottom and not wall.theorems_cover and wall.rational_slope() is None
    land = L.axis_aligned_river(2, 1, wall=wall)
    rule = L.get_rule("damped_ste", learning_rate=0.2, gain=0.5)
    tr = L.run(land, L.uniform_grid(1.0), rule, jnp.array([0.6, 0.0]), 30)
    assert float(land.rho(L.uniform_grid(1.0).quantize(jnp.array([0.6, 0.0])))) > 0.3  # RTN fails
    assert int(tr.hit_time) > 0 and float(tr.final_rho_q) <= 0.3
    # the same rule at gain 1 is STE, step for step
    w0, grid = jnp.array([0.6, 0.0]), L.uniform_grid(1.0)
    ref = L.run(land, grid, L.ste(0.2), w0, 30)
    same = L.run(land, grid, L.get_rule("damped_ste", 0.2, gain=1.0), w0, 30)
    np.testing.assert_array_equal(np.asarray(same.final_w), np.asarray(ref.final_w))

    # through a sweep, by name, with the new wall's and rule's parameters as axes
    ds = L.sweep(
        landscape="rotated_2d", wall="cubic", rule="damped_ste", theta=0.3, basin_radius=0.25,
        kappa=[1.0, 10.0], gain=[0.25, 1.0], step=0.5, num_steps=20, starts=4,
    )
    assert ds["hit_time"].sizes["kappa"] == 2 and ds["hit_time"].sizes["gain"] == 2
    with pytest.raises(L.LandscapeError, match=r"gain must lie in \[0, 1\]"):
        L.sweep(wall="cubic", rule="damped_ste", gain=3.0, num_steps=2, starts=1)



NEW_PTQ = '''
"""A PTQ method: round to nearest, written anew (what a user's own method file looks like)."""


def nearest(source, quantizer, w_star, key=None, passes=1):
    """The grid point nearest to w_star (``passes`` is only a parameter the registry should read)."""
    del source, key, passes
    return quantizer.quantize(w_star)
'''


def test_a_new_ptq_method_runs_in_a_sweep_by_name(tmp_path, monkeypatch):
    """The PTQ recipe of docs/extending.md: one file plus one registration, then ``sweep(ptq=name)``."""
    (tmp_path / "my_ptq.py").write_text(textwrap.dedent(NEW_PTQ))
    monkeypatch.syspath_prepend(str(tmp_path))
    my_ptq = importlib.import_module("my_ptq")
    try:
        reg.register("ptq", "nearest", my_ptq.nearest)  # the one registration
        assert reg.PTQ["nearest"].params["passes"].default == 1
        kw = dict(landscape="rotated_2d", theta=0.3, basin_radius=0.25, step=0.5, num_steps=20, starts=6)
        new, rtn = L.sweep(ptq="nearest", **kw), L.sweep(ptq="rtn", **kw)
        assert str(new["ptq"].values) == "nearest"
        # the method ran: its deployed points are RTN's (QAT then starts at q0 rather than at w*)
        np.testing.assert_array_equal(new["ptq_rho"].values, rtn["ptq_rho"].values)
        np.testing.assert_array_equal(new["ptq_exit"].values, rtn["ptq_exit"].values)
        with pytest.raises(L.LandscapeError, match="ptq must be one of"):
            L.sweep(ptq="no_such_method", **kw)
    finally:
        reg.PTQ.pop("nearest", None)
        sys.modules.pop("my_ptq", None)
