"""Sweep description: validation messages, axis expansion, grid and chunk layout, rule registry."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from landscape.sweep import SweepConfigError, config_hash, get_rule, load_config, make_grid, parse_config
from landscape.sweep.rules import available_rules

BASE = {
    "sweep": {"name": "t", "seeds": 2, "starts": 3, "chunk_size": 7},
    "landscape": {"family": "rotated_2d", "theta": {"linspace": [0.0, 0.5, 3]}},
    "wall": {"basin_radius": 0.25, "kappa": [1.0, 10.0]},
    "quantizer": {"step": {"logspace": [-1.0, 0.0, 4]}},
    "qat": {"rule": ["ste", "fp"], "learning_rate": 0.05, "num_steps": 20},
}


def _with(path: str, value):
    cfg = copy.deepcopy(BASE)
    *head, last = path.split(".")
    node = cfg
    for p in head:
        node = node.setdefault(p, {})
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return cfg


_DELETE = object()

BAD = [
    ("wall.kapa", 1.0, ["unknown key 'wall.kapa'"]),
    ("sweep.extra", 1, ["unknown key 'sweep.extra'"]),
    ("landscape.dim", 8, ["unknown key 'landscape.dim'"]),
    ("wall.kappa", "ten", ["wall.kappa", "must be a number, a list of numbers", "'ten'"]),
    ("wall.kappa", -1.0, ["wall", "kappa must lie in [0, inf)", "-1.0"]),
    ("wall.basin_radius", 0.0, ["basin_radius must lie in (0, inf)", "0.0"]),
    ("quantizer.step", {"linspace": [0.0, 1.0, 3]}, ["step must lie in (0, inf)", "0.0"]),
    ("quantizer.step", {"logspace": [0.0, 1.0]}, ["quantizer.step", "logspace must be [start, stop, num]"]),
    ("quantizer.step", {"linspace": [0.1, 1.0, 2.5]}, ["linspace num must be an integer >= 1", "2.5"]),
    ("quantizer.step", {"geomspace": [0.1, 1.0, 3]}, ["quantizer.step", "geomspace"]),
    ("quantizer.step", [], ["quantizer.step", "non-empty list of numbers"]),
    ("quantizer.kind", "lattice", ["quantizer.kind", "'uniform'", "'lattice'"]),
    ("wall.profile", "brick", ["wall.profile", "profile must be one of 'exp', 'power'", "'brick'"]),
    ("ptq.rule", ["rtn", "gptqq"], ["ptq.rule", "rule must be one of 'rtn', 'stochastic'", "got 'gptqq'"]),
    ("landscape.family", "spiral", ["landscape", "spiral"]),
    ("landscape.s_range", [5.0, 1.0], ["s_range must be [low, high]", "[5.0, 1.0]"]),
    ("qat.rule", "adamw_magic", ["rule 'adamw_magic' is not a registered QAT rule", "ste"]),
    ("qat.rule", 3, ["qat.rule", "must be a string or a non-empty list of strings", "3"]),
    ("qat.num_steps", 0, ["num_steps must lie in [1, inf)", "0"]),
    ("qat.num_steps", 2.5, ["qat.num_steps", "must be an integer", "2.5"]),
    ("qat.learning_rate", 0.0, ["learning_rate must lie in (0, inf)"]),
    ("qat.options", {"lsq": {"grad_scale": 1.0}}, ["options.lsq is given but 'lsq' is not among the rules"]),
    ("qat.options", {"ste": {"momentum": 0.9}}, ["rule 'ste' rejects options", "momentum"]),
    ("sweep.seeds", 0, ["seeds must be an integer >= 1"]),
    ("sweep.seeds", [1, 1], ["seeds must be a non-empty list of distinct integers"]),
    ("sweep.starts", 0, ["sweep.starts", "greater than or equal to 1", "0"]),
    ("sweep.chunk_size", "big", ["sweep.chunk_size", "integer", "'big'"]),
    ("landscape", _DELETE, ["missing key 'landscape'"]),
]


_IDS = [f"{p}=<deleted>" if v is _DELETE else f"{p}={v!r}" for p, v, _ in BAD]  # stable across xdist workers


@pytest.mark.parametrize("path,value,needles", BAD, ids=_IDS)
def test_bad_config_names_key_and_value(path, value, needles):
    with pytest.raises(SweepConfigError) as err:
        parse_config(_with(path, value))
    msg = str(err.value)
    for needle in needles:
        assert needle in msg, f"{needle!r} not in message:\n{msg}"


def test_random_river_k_must_be_below_dim():
    with pytest.raises(SweepConfigError, match=r"k must lie in \[1, dim - 1\]; got k = 8 with dim = 8"):
        parse_config({"landscape": {"family": "random_river", "dim": 8, "k": [1, 8]}})


def test_load_config_reports_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(SweepConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[sweep\nname = 1\n")
    with pytest.raises(SweepConfigError, match="not valid TOML"):
        load_config(bad)


def test_axes_expand_linspace_logspace_and_lists():
    cfg = parse_config(BASE)
    assert cfg.landscape.theta.values == pytest.approx((0.0, 0.25, 0.5))
    assert cfg.landscape.theta.swept
    assert cfg.quantizer.step.values == pytest.approx(tuple(np.logspace(-1, 0, 4)))
    assert not cfg.wall.basin_radius.swept and cfg.wall.basin_radius.values == (0.25,)
    assert cfg.sweep.seed_values == (0, 1)


def test_grid_shape_dims_groups_and_chunks():
    grid = make_grid(parse_config(BASE))
    assert grid.dims == ("rule", "theta", "kappa", "step", "seed", "start")
    assert grid.static_names == ("rule",)  # a learning rate is a traced leaf: one program for all values
    assert grid.n_groups == 2 and grid.group_size == 3 * 2 * 4 * 2 * 3
    assert grid.n_cases == 2 * 144
    # chunks tile every group exactly, never straddle two groups, and are whole cells (all seeds and
    # starts of one step value: 6 cases <= chunk_size 7), each a region and a Zarr chunk of the result
    covered = np.zeros(grid.n_cases, int)
    for i in range(grid.n_chunks):
        c = grid.chunk(i)
        assert c.start // grid.group_size == c.group == (c.stop - 1) // grid.group_size
        assert c.size == 6
        covered[c.start : c.stop] += 1
    assert (covered == 1).all()
    assert grid.zarr_chunks == {"rule": 1, "theta": 1, "kappa": 1, "step": 1, "seed": 2, "start": 3}
    assert grid.region(grid.chunk(5)) == {"rule": slice(0, 1), "theta": slice(0, 1), "kappa": slice(1, 2),
                                          "step": slice(1, 2), "seed": slice(0, 2), "start": slice(0, 3)}
    # case indices follow C order over the dynamic axes
    idx = grid.case_indices(grid.chunk(grid.chunks_per_group))  # first chunk of group 1
    assert grid.group_static(1)["rule"] == "fp"
    assert idx["start"].tolist() == [0, 1, 2, 0, 1, 2]
    assert idx["seed"].tolist() == [0, 0, 0, 1, 1, 1]
    assert idx["step"].tolist() == [0, 0, 0, 0, 0, 0]


def test_config_hash_tracks_meaning_not_spelling():
    a = parse_config(BASE)
    b = parse_config(_with("quantizer.step", list(np.logspace(-1.0, 0.0, 4))))
    c = parse_config(_with("wall.kappa", [1.0, 10.5]))
    assert config_hash(a) == config_hash(parse_config(copy.deepcopy(BASE)))
    assert config_hash(a) == config_hash(b)
    assert config_hash(a) != config_hash(c)


def test_rule_registry_finds_builtin_and_other_modules():
    names = available_rules()
    assert {"ste", "fp"} <= set(names)
    assert get_rule("ste", learning_rate=0.1).name == "ste"
    assert get_rule("fp").name == "fp"
    with pytest.raises(ValueError, match="rule must be one of .*got 'nope'"):
        get_rule("nope")
