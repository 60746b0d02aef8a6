"""The one config system: records shared by the registry and the configs, the Record base, and its users
(recovery, demo and explorer values; the recover command's learning rate and optimizer)."""

import json

import pytest
from typer.testing import CliRunner

import landscape as L
import landscape.registry as reg
from landscape.config import RECORDS, Record, field, record
from landscape.studies.demo import DemoConfig
from landscape.studies.recovery import RecoveryConfig, case_config, highdim_case, rotated2d_case


class Case(Record):
    kappa: float = field("kappa", 10.0)
    num_steps: int = field("num_steps", 200)
    steps: tuple[float, ...] = field("step", (0.1, 0.2))


def test_a_record_field_is_checked_with_the_registrys_message():
    assert Case().kappa == 10.0 and Case(num_steps=3).num_steps == 3
    with pytest.raises(L.LandscapeError, match=r"Case: kappa must lie in \[0, inf\]; got -1.0"):
        Case(kappa=-1.0)
    with pytest.raises(L.LandscapeError, match=r"Case: steps must lie in \(0, inf\]; got 0.0"):
        Case(steps=(0.1, 0.0))  # every element of a tuple field
    with pytest.raises(L.LandscapeError, match="num_steps must lie in"):
        Case(num_steps=0)
    with pytest.raises(L.LandscapeError, match="unknown parameter 'kapa'.*takes kappa, num_steps, steps"):
        Case(kapa=1.0)
    with pytest.raises(L.LandscapeError, match="kappa: input should be a valid number"):
        Case(kappa="steep")
    # the same record as the registry's walls and sweeps
    assert Case.record_of("kappa") == reg.WALLS["quadratic"].params["kappa"].__class__(
        **{**RECORDS["kappa"].__dict__, "default": 10.0}
    )
    assert reg.WALLS["quadratic"].params["kappa"] == record("kappa", 10.0)


def test_records_are_frozen_hashable_and_replace_revalidates():
    c = Case()
    with pytest.raises(Exception, match="frozen"):
        c.kappa = 1.0
    assert hash(c) == hash(Case()) and c == Case()
    assert c.replace(kappa=2.0).kappa == 2.0 and c.kappa == 10.0
    with pytest.raises(L.LandscapeError, match="kappa"):
        c.replace(kappa=-2.0)
    dumped = json.loads(json.dumps(c.model_dump(mode="json")))
    assert dumped == {"kappa": 10.0, "num_steps": 200, "steps": [0.1, 0.2]}


def test_recovery_config_translates_the_case_name_once():
    assert highdim_case().case == "random_river" and rotated2d_case().case == "rotated_2d"
    for old, new in (("highdim", "random_river"), ("rotated2d", "rotated_2d")):
        assert RecoveryConfig(case=old).case == new
        assert case_config(old) == case_config(new)
    assert case_config("rotated2d", n_points=5).theta == 0.3  # the case's own defaults
    with pytest.raises(L.LandscapeError, match="case must be one of rotated_2d, random_river"):
        case_config("meander")
    with pytest.raises(L.LandscapeError, match="optimizer must be one of"):
        highdim_case(optimizer="adamx")
    with pytest.raises(L.LandscapeError, match="learning_rate must lie in"):
        highdim_case(learning_rate=0.0)
    assert highdim_case().rule_optimizer() is None  # SGD: the rules' default, the same numbers as before
    assert highdim_case(optimizer="adam", learning_rate=0.01).rule_optimizer() == L.optimizer(
        reg.get_optimizer_factory("adam"), learning_rate=0.01
    )


def test_demo_config_and_explorer_values_use_the_records():
    assert DemoConfig().as_dict()["n_points"] == 2000
    with pytest.raises(L.LandscapeError, match="basin_radius must lie in"):
        DemoConfig(basin_radius=0.0)
    from landscape.plot.explorer import DEFAULTS, RANGES, ExploreValues

    assert callable(L.explore) and not isinstance(L.explore, type(L))  # the module is plot.explorer

    assert DEFAULTS == {"theta": 0.5, "step_ratio": 2.5, "kappa": 10.0, "learning_rate": 0.05, "start": 0.3}
    assert RANGES["kappa"] == (0.5, 50.0, 0.5) and set(RANGES) == set(DEFAULTS)
    with pytest.raises(L.LandscapeError, match=r"start must lie in \[0, 1\]"):
        ExploreValues(start=1.5)


def test_recover_takes_the_learning_rate_and_optimizer(tmp_path):
    from landscape.cli import app

    args = ["recover", "--case", "rotated2d", "--n-points", "6", "--learning-rate", "0.02",
            "--optimizer", "adam", "--out", str(tmp_path)]  # fmt: skip
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "eta = 0.02 (adam)" in res.output
    man = json.loads((tmp_path / "recovery_rotated_2d_rtn.json").read_text())["manifest"]
    assert man["config"]["learning_rate"] == 0.02 and man["config"]["optimizer"] == "adam"
    assert man["config"]["case"] == "rotated_2d"
    bad = CliRunner().invoke(app, ["recover", "--case", "rotated_2d", "--optimizer", "adamx"])
    assert bad.exit_code != 0 and "optimizer" in bad.output


def test_reproduce_config_composes_stage_records_and_keeps_the_flat_manifest():
    from landscape.reproduce.config import AnatomyStage, ReproduceConfig

    q, f = ReproduceConfig.quick_config(0), ReproduceConfig.full_config(0)
    assert isinstance(q.anatomy, AnatomyStage) and q.anatomy_theta == q.anatomy.theta == 0.5
    assert q.rtn_dks == ((64, 1), (64, 4), (256, 8)) and f.rtn.dks[-1] == (1024, 16)
    flat = q.as_dict()  # the manifest's config: the former dataclass's flat keys, in its order
    assert list(flat)[:5] == ["quick", "seed", "anatomy_theta", "anatomy_step", "anatomy_basin_radius"]
    assert len(flat) == 52 and flat["check_quick"] is True and flat["bridge_model"] == "digits-mlp"
    assert [k for k in flat if k.startswith("phase_sharp_")] == [  # figure 5's k >= 2 panel (c)
        "phase_sharp_k", "phase_sharp_dim", "phase_sharp_step_ratios", "phase_sharp_rho_ratios",
        "phase_sharp_starts"]
    assert [k for k in flat if k.startswith("phase_dyadic_")] == [  # figure 5's dyadic family
        "phase_dyadic_cases", "phase_dyadic_budget"]
    smoke = ReproduceConfig.smoke_config()
    assert (f.phase_dyadic_cases, q.phase_dyadic_cases, smoke.phase_dyadic_cases) == (2000, 32, 16)
    assert flat["check_only"] == ()  # the proof stage runs every statement unless told otherwise
    assert ReproduceConfig(**flat) == q  # the flat names construct the same record
    assert f.replace(seed=1).as_dict() == {**f.as_dict(), "seed": 1}
    with pytest.raises(L.LandscapeError, match=r"basin_radius must lie in \(0, inf\]; got 0.0"):
        ReproduceConfig(chatter_basin_radius=0.0)
    with pytest.raises(L.LandscapeError, match="unknown parameter 'thta'"):
        ReproduceConfig(anatomy_thta=0.1)
