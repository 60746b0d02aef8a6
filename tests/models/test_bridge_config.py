"""BridgeConfig on the Record system: ranges checked before any work, hashable, the JSON round-trips it."""

import json

import pytest
from pydantic import ValidationError

from landscape._errors import LandscapeError
from landscape.config import Record
from landscape.models.config import MODELS, BridgeConfig

#: the field names and defaults of the former dataclass (v0.3): the pydantic model keeps them all
DEFAULTS = {
    "model": "digits-mlp",
    "quick": False,
    "bits": (8, 4, 3, 2),
    "grids": ("absmax", "clip"),
    "methods": ("rtn", "gptq"),
    "eval_seeds": tuple(range(24)),
    "tune_seeds": (100, 101, 102, 103),
    "tune_methods": ("rtn", "gptq"),
    "optimizers": ("sgd", "adam"),
    "schedules": ("constant", "cosine"),
    "sgd_lrs": (0.3, 1.0, 3.0),
    "adam_lrs": (3e-3, 1e-2, 3e-2),
    "qat_steps": 300,
    "qat_steps_by_bits": (),
    "oracle_factor": 4,
    "oracle_seeds": 2,
    "tau": None,
    "qat_floor": 0.01,
    "n_probe": 6,
    "foot_steps": 50,
    "metric_every": 1,
    "train_steps": 800,
    "n_calib": 512,
    "max_batch": 16,
    "qat_batch": 16,
    "min_tune_starts": 4,
    "calib_seeds": 4,
    "calib_dirs": 16,
    "regime_seeds": 4,
    "k_lanczos": 10,
    "lanczos_matvecs": 40,
    "dense_check": True,
}


def test_bridge_config_is_a_record_with_the_former_fields_and_defaults():
    cfg = BridgeConfig()
    assert isinstance(cfg, Record)
    assert list(BridgeConfig.model_fields) == list(DEFAULTS)
    assert {k: getattr(cfg, k) for k in DEFAULTS} == DEFAULTS
    assert cfg.oracle_steps == 4 * 300
    with pytest.raises(ValidationError, match="frozen"):
        cfg.qat_steps = 10


def test_equal_configs_hash_equal_and_differ_when_a_field_differs():
    a, b = BridgeConfig.preset("digits-cnn"), BridgeConfig.preset("digits-cnn")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    # lists and numpy-free scalars normalise to the same tuples: still equal
    assert BridgeConfig(eval_seeds=[3, 4], tune_seeds=[9]) == BridgeConfig(eval_seeds=(3, 4), tune_seeds=9)
    assert BridgeConfig(bits=[2, 4, 4]).bits == (4, 2)  # sorted descending, deduplicated (check_bits)
    c = BridgeConfig.preset("digits-cnn", tau=0.02)
    assert c != a and len({a, c}) == 2
    assert len({BridgeConfig.preset(m, quick=q) for m in MODELS for q in (False, True)}) == 2 * len(MODELS)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("quick", [False, True])
def test_the_json_records_the_config_and_rebuilds_it(model, quick):
    cfg = BridgeConfig.preset(model, quick=quick)
    d = json.loads(json.dumps(cfg.as_dict()))  # what run_bridge writes under "config" (and the manifest)
    assert list(d) == list(DEFAULTS)
    assert all(not isinstance(v, tuple) for v in cfg.as_dict().values())
    back = BridgeConfig(**d)
    assert back == cfg and hash(back) == hash(cfg)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(qat_steps=5), r"qat_steps must lie in \[10, inf\]; got 5"),
        (dict(train_steps=0), r"train_steps must lie in \[1, inf\]; got 0"),
        (dict(oracle_seeds=-2), r"oracle_seeds must lie in \[-1, inf\]; got -2"),
        (dict(tau=-0.1), r"tau must lie in \(0, inf\]; got -0.1"),
        (dict(tau=float("nan")), "tau must be finite"),
        (dict(qat_floor=0.0), r"qat_floor must lie in \(0, inf\]; got 0.0"),
        (dict(sgd_lrs=(1.0, -3.0)), r"sgd_lrs must lie in \(0, inf\]; got -3.0"),
        (dict(adam_lrs=()), "adam_lrs must be a non-empty list of numbers"),
        (dict(eval_seeds=(0, -1)), r"eval_seeds must lie in \[0, inf\]; got -1"),
        (dict(eval_seeds=(0, 1.5)), "eval_seeds must be an integer; got 1.5"),
        (dict(eval_seeds=(1, 1)), "eval_seeds must be distinct"),
        (dict(bits=(9,)), r"bits must lie in \(2, 3"),
        (dict(methods=("awq",)), "methods must be a non-empty subset of"),
        (dict(k_lanczos=10, lanczos_matvecs=5), "lanczos_matvecs must be an integer >= k_lanczos = 10"),
        (dict(profile_points=21), "unknown parameter 'profile_points'"),
        (dict(qat_steps_by_bits={3: 5}), r"qat_steps_by_bits\[3\] must be an integer in \[10, inf\]; got 5"),
        (dict(qat_steps_by_bits={1: 50}), r"qat_steps_by_bits: bit widths must lie in \(2, 3"),
        (dict(qat_steps_by_bits=((3, 50), (3, 60))), "qat_steps_by_bits names bit width 3 twice"),
        (dict(qat_steps_by_bits="200"), r"qat_steps_by_bits must be pairs \(bits, T\)"),
        (dict(qat_steps=20, qat_steps_by_bits={3: 10}, metric_every=15), r"smallest budget = 10\]; got 15"),
    ],
)
def test_bad_fields_raise_landscape_error_naming_field_value_and_range(kwargs, message):
    with pytest.raises(LandscapeError, match=message) as err:
        BridgeConfig(**kwargs)
    assert str(err.value).startswith("BridgeConfig: ")
    with pytest.raises(LandscapeError, match=message):  # the presets check the same way
        BridgeConfig.preset("markov-lm", **kwargs)


def test_the_fields_carry_their_records():
    assert BridgeConfig.record_of("qat_steps").describe_range() == "[10, inf]"
    assert BridgeConfig.record_of("tau").units == "nats"
    assert BridgeConfig.record_of("eval_seeds").kind == "int"
    assert BridgeConfig.record_of("model") is None


def test_preset_changes_name_the_fields_a_run_changed():
    from landscape.models.tables import preset_changes

    cfg = BridgeConfig.preset("markov-lm", eval_seeds=(0, 1, 2, 3), tune_seeds=(100,))
    assert preset_changes(cfg.as_dict()) == ["eval_seeds", "tune_seeds"]
    assert preset_changes(BridgeConfig.preset("markov-lm", quick=True).as_dict()) == []
    assert preset_changes(BridgeConfig.preset("char-transformer", qat_steps=200).as_dict()) == ["qat_steps"]
    one = BridgeConfig.preset("char-transformer", qat_steps=200, qat_steps_by_bits=())
    assert preset_changes(json.loads(json.dumps(one.as_dict()))) == ["qat_steps", "qat_steps_by_bits"]


def test_a_bit_width_may_have_a_budget_of_its_own():
    cfg = BridgeConfig.preset("char-transformer")
    assert cfg.qat_steps_by_bits == ((3, 200),)
    assert cfg.budgets() == {4: 100, 3: 200, 2: 100}
    assert (cfg.budget(3), cfg.oracle_budget(3), cfg.oracle_budget(4)) == (200, 800, 400)
    # a dict, a list of lists (the JSON) and a tuple of pairs are the same config
    a = BridgeConfig(bits=(4, 3), qat_steps_by_bits={3: 50, 4: 60})
    b = BridgeConfig(bits=(4, 3), qat_steps_by_bits=[[4, 60], [3, 50]])
    assert a == b and hash(a) == hash(b) and a.budgets() == {4: 60, 3: 50}
    assert BridgeConfig(bits=(4,), qat_steps_by_bits={2: 50}).budgets() == {4: 300}  # an unused entry
