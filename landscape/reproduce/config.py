"""The default study of ``landscape reproduce``: one record per stage, composed into :class:`ReproduceConfig`.

Every stage's parameters are a :class:`~landscape.config.Record` (pydantic, each field checked against
the registry's record of that name: ``basin_radius`` in (0, inf], ``kappa`` in [0, inf], ...), and
:class:`ReproduceConfig` composes them with the shared ``seed``, ``kappa``, ``learning_rate`` and
``n_mesh``. The older flat names (``anatomy_theta``, ``rtn_dks``, ``check_quick``, ...) still read and
construct: ``<stage>_<field>`` is ``cfg.<stage>.<field>``, and :meth:`ReproduceConfig.as_dict` (the
manifest's config) is the flat dict, key for key the one of the former dataclass.

``ReproduceConfig.quick_config()`` is sized for a 2-core laptop (under 3 minutes) and
``ReproduceConfig.full_config()`` for the paper (under 30 minutes); ``smoke_config()`` is the test suite's
smaller --quick (every stage, fewer points); all are plain data, so
the config stored in every manifest says exactly what produced a number.
"""

from __future__ import annotations

from pydantic import model_validator

from landscape.config import Record, field

__all__ = [
    "ReproduceConfig", "AnatomyStage", "RTNStage", "ValleyStage", "PlanarStage", "TrajStage", "ChatterStage",
    "PhaseStage", "RulesStage", "TightStage", "CheckStage", "BridgeStage",
]  # fmt: skip


def _n(name, default, low=1, long_name=""):
    return field(name, default, kind="int", low=low, long_name=long_name or name)


class AnatomyStage(Record):
    """Figure 1: anatomy of a 2-D rotated river."""

    theta: float = field("theta", 0.5)
    step: float = field("step", 1.0)
    basin_radius: float = field("basin_radius", 0.45)


class RTNStage(Record):
    """Figure 2: the RTN exit law."""

    thetas: tuple = field("theta", (0.1, 0.4, 0.7))
    dks: tuple = field("dk", ((64, 1), (64, 4), (256, 8)), kind="int", low=1, long_name="(d, k) pairs")
    ratios: tuple = field("ratio", (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0), long_name="step / r_b")
    points: int = _n("points", 2000)
    basin_radius: float = field("basin_radius", 0.25)


class ValleyStage(Record):
    """Figure 3: Hessian blindness on valleys (wall-free curvature lambda), landscape.geometry.valley."""

    step: float = field("step", 0.2)  # grid step; the basin radius below: step / r_b = 2
    basin_radius: float = field("basin_radius", 0.1)
    kappa: float = field("kappa", 1e3)  # a wall much steeper than the valley, so that the oracle stays inside
    mu: float = field("mu", 0.1)
    picture_lambda: float = field("valley_curvature", 100.0, low=0)  # lambda / mu of panels (a, b)
    points: int = _n("points", 128)  # trained points per cell (panels a-c)
    dim: int = field("dim", 16)  # panel (c): random valleys, exact oracle and exact proxy minimiser
    k: int = field("k", 2)
    m: int = _n("m", 4, long_name="valley directions m")
    lambdas: tuple = field("valley_curvature", (0.0, 100.0, 1000.0), low=0)
    ratios: tuple = field("ratio", (2.0,))
    seeds: tuple = field("seed", (0,))


class PlanarStage(Record):
    """Figure 3 (d): the exact planar law against simulation."""

    points: int = _n("points", 2000)
    lambdas: tuple = field("valley_curvature", (1.0, 10.0, 100.0, 1000.0), low=0)


class TrajStage(Record):
    """Figure 4: one STE trajectory."""

    starts: int = _n("starts", 64)


class ChatterStage(Record):
    """Figure 8: chattering."""

    theta: float = field("theta", 0.6)
    basin_radius: float = field("basin_radius", 0.3)
    steps: int = field("num_steps", 2000)
    starts: int = _n("starts", 64)


class PhaseStage(Record):
    """Figure 5: phase diagram (d-dim, k = 1, normal with one large coordinate alpha), 40 x 40 cells."""

    dim: int = field("dim", 16)
    step_ratios: tuple = field(
        "ratio", tuple(round(0.5 + 3.5 * i / 39, 6) for i in range(40)), long_name="step / r_b"
    )
    alphas: tuple = field("alpha", tuple(round(0.25 + 0.75 * i / 39, 6) for i in range(40)), low=0, high=1)
    starts: int = _n("starts", 4)  # RTN-failed starts per cell (the full run: 500)
    steps: int = field("num_steps", 300)
    # the k >= 2 panel: one random river (dim x k), cells over (step / r_b, rho(w*) / r_b); rho = 0 is the
    # river's centre (regime ptq_failed), 0 < rho <= 1 inside the basin (regime in_basin)
    sharp_k: int = _n("k", 4)
    sharp_dim: int = _n("dim", 8)
    sharp_step_ratios: tuple = (0.3, 1.5, 3.0)
    sharp_rho_ratios: tuple = (0.0, 0.9)
    sharp_starts: int = _n("starts", 4)
    # the dyadic k = 1 family (exact binary inputs, ties; landscape.studies.dyadic_audit), judged by the exact
    # rational orbit over dyadic_budget steps and reported apart from the generic cells above
    dyadic_cases: int = _n("cases", 32, long_name="dyadic k = 1 cases")
    dyadic_budget: int = field("num_steps", 300)


class RulesStage(Record):
    """Figure 7: rule comparison (``subset`` = () runs every rule of landscape.default_rules)."""

    starts: int = _n("starts", 128)
    dim: int = field("dim", 64)
    subset: tuple = ("fp", "ste", "clipped_ste", "lsq", "proxconnect", "ef", "noise")


class TightStage(Record):
    """Figure 6: tightness of T_max (cases drawn by the proof layer's strategy)."""

    cases: int = _n("cases", 80)


class CheckStage(Record):
    """The proof table: ``landscape check`` quick or full."""

    quick: bool = True
    only: tuple = ()  # statement ids the proof check runs (`landscape check --only`); () = all


class BridgeStage(Record):
    """The real-network bridge: the model and BridgeConfig overrides."""

    model: str = "digits-mlp"
    overrides: tuple = (
        ("bits", (4, 2)), ("k", 2), ("train_steps", 200), ("qat_steps", 100), ("profile_points", 21)
    )  # fmt: skip


class ReproduceConfig(Record):
    """Parameters of the default study (see each figure's section of report.md), one record per stage."""

    quick: bool = True
    seed: int = field("seed", 0)
    anatomy: AnatomyStage = AnatomyStage()
    kappa: float = field("kappa", 10.0)
    n_mesh: int = _n("n_mesh", 121, low=2, long_name="mesh points per axis")
    rtn: RTNStage = RTNStage()
    valley: ValleyStage = ValleyStage()
    planar: PlanarStage = PlanarStage()
    learning_rate: float = field("learning_rate", 0.05)
    traj: TrajStage = TrajStage()
    chatter: ChatterStage = ChatterStage()
    phase: PhaseStage = PhaseStage()
    rules: RulesStage = RulesStage()
    tight: TightStage = TightStage()
    check: CheckStage = CheckStage()
    bridge: BridgeStage = BridgeStage()

    @model_validator(mode="before")
    @classmethod
    def _nest_flat_names(cls, data):
        """``anatomy_theta=0.4`` is ``anatomy={"theta": 0.4}`` (the flat names of the former dataclass)."""
        if not isinstance(data, dict):
            return data
        out, flat = {}, {}
        for key, value in data.items():
            stage, _, name = key.partition("_")
            sub = cls.model_fields.get(stage)
            if key not in cls.model_fields and name and sub is not None and isinstance(sub.default, Record):
                flat.setdefault(stage, {})[name] = value
            else:
                out[key] = value
        for stage, values in flat.items():
            given = out.get(stage, {})
            out[stage] = {**(given.as_dict() if isinstance(given, Record) else given), **values}
        return out

    def __getattr__(self, name):
        stage, _, rest = name.partition("_")
        fields = type(self).model_fields
        if rest and stage in fields and isinstance(fields[stage].default, Record):
            return getattr(getattr(self, stage), rest)
        return super().__getattr__(name)

    @classmethod
    def quick_config(cls, seed: int = 0) -> ReproduceConfig:
        """The --quick study (under 3 minutes on 2 cores)."""
        return cls(quick=True, seed=seed)

    @classmethod
    def smoke_config(cls, seed: int = 0) -> ReproduceConfig:
        """The smallest study that still runs every stage (the test suite's preset, about a third of --quick).

        Every sweep is a subset of the --quick one (every other grid value, fewer points, starts and
        steps); the proof check runs one statement (S6); the bridge uses one evaluation seed.
        """
        q = cls(quick=True, seed=seed)  # the --quick values (not cls.quick_config, which a test may rebind)
        return cls(
            quick=True,
            seed=seed,
            n_mesh=61,
            rtn_points=1000,
            valley_points=64,
            planar_points=1000,
            traj_starts=32,
            chatter_steps=1000,
            chatter_starts=32,
            phase_step_ratios=q.phase_step_ratios[::2],
            phase_alphas=q.phase_alphas[::2],
            phase_sharp_starts=2,
            phase_dyadic_cases=16,
            rules_starts=64,
            rules_dim=32,
            tight_cases=40,
            check_only=("S6",),  # one statement: the check runs in its one process (no spawned workers)
            bridge_overrides=(*q.bridge_overrides, ("eval_seeds", (0,))),
        )

    @classmethod
    def full_config(cls, seed: int = 0) -> ReproduceConfig:
        """The full study (under 30 minutes on 2 cores)."""
        return cls(
            quick=False,
            seed=seed,
            n_mesh=201,
            rtn_dks=((64, 1), (64, 4), (256, 8), (1024, 16)),
            rtn_ratios=tuple(0.25 * i for i in range(2, 17)),
            rtn_points=20000,
            valley_points=512,  # 15 cells of d = 16 with exact enumeration: a few minutes
            valley_lambdas=(0.0, 1.0, 10.0, 100.0, 1000.0),
            valley_seeds=(0, 1, 2),
            planar_points=10000,
            planar_lambdas=(1.0, 3.0, 10.0, 30.0, 100.0, 1000.0),
            traj_starts=256,
            chatter_steps=10000,
            chatter_starts=512,
            phase_starts=500,
            phase_steps=400,
            phase_sharp_step_ratios=(0.3, 0.6, 1.0, 1.5, 2.0, 2.5, 3.0),
            phase_sharp_rho_ratios=(0.0, 0.3, 0.6, 0.8, 0.95),
            phase_sharp_starts=16,
            phase_dyadic_cases=2000,
            rules_starts=1000,
            rules_dim=256,
            rules_subset=(),
            tight_cases=300,
            check_quick=True,  # the full check alone may take 30 min; run `landscape check` for it
            bridge_overrides=(),
        )

    def as_dict(self) -> dict:
        """The config as a JSON-ready flat dict (for manifests): ``<stage>_<field>`` keys, as before."""
        out = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Record):
                out.update({f"{name}_{k}": v for k, v in value.as_dict().items()})
            else:
                out[name] = value
        return out
