"""The default study of ``landscape reproduce``: every parameter in one frozen dataclass.

``ReproduceConfig.quick_config()`` is sized for a 2-core laptop (under 3 minutes) and
``ReproduceConfig.full_config()`` for the paper (under 30 minutes); ``smoke_config()`` is the test suite's
smaller --quick (every stage, fewer points); all are plain data, so
the config stored in every manifest says exactly what produced a number.
"""

from __future__ import annotations

import dataclasses

__all__ = ["ReproduceConfig"]


@dataclasses.dataclass(frozen=True)
class ReproduceConfig:
    """Parameters of the default study (see each figure's section of report.md)."""

    quick: bool = True
    seed: int = 0
    # figure 1: anatomy (2-D rotated river)
    anatomy_theta: float = 0.5
    anatomy_step: float = 1.0
    anatomy_basin_radius: float = 0.45
    kappa: float = 10.0
    n_mesh: int = 121
    # figure 2: RTN exit law
    rtn_thetas: tuple = (0.1, 0.4, 0.7)
    rtn_dks: tuple = ((64, 1), (64, 4), (256, 8))
    rtn_ratios: tuple = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
    rtn_points: int = 2000
    rtn_basin_radius: float = 0.25
    # figure 3: Hessian blindness on valleys (wall-free curvature lambda), landscape.valley
    valley_step: float = 0.2  # grid step; the basin radius below: step / r_b = 2
    valley_basin_radius: float = 0.1
    valley_kappa: float = 1e3  # a wall much steeper than the valley, so that the oracle stays inside
    valley_mu: float = 0.1
    valley_picture_lambda: float = 100.0  # lambda / mu of panels (a, b), the planar valley
    valley_points: int = 128  # trained points per cell (panels a-c)
    valley_dim: int = 16  # panel (c): random valleys, exact oracle and exact proxy minimiser
    valley_k: int = 2
    valley_m: int = 4
    valley_lambdas: tuple = (0.0, 100.0, 1000.0)
    valley_ratios: tuple = (2.0,)
    valley_seeds: tuple = (0,)
    planar_points: int = 2000  # panel (d): the exact planar law against simulation
    planar_lambdas: tuple = (1.0, 10.0, 100.0, 1000.0)
    # figure 4: one STE trajectory; figure 8: chattering
    learning_rate: float = 0.05
    traj_starts: int = 64
    chatter_theta: float = 0.6
    chatter_basin_radius: float = 0.3
    chatter_steps: int = 2000
    chatter_starts: int = 64
    # figure 5: phase diagram (d-dim, k = 1, normal with one large coordinate alpha), 40 x 40 cells
    phase_dim: int = 16
    phase_step_ratios: tuple = tuple(round(0.5 + 3.5 * i / 39, 6) for i in range(40))
    phase_alphas: tuple = tuple(round(0.25 + 0.75 * i / 39, 6) for i in range(40))
    phase_starts: int = 4  # RTN-failed starts per cell (the full run: 500)
    phase_steps: int = 300
    # figure 7: rule comparison
    rules_starts: int = 128
    rules_dim: int = 64
    rules_subset: tuple = ("fp", "ste", "clipped_ste", "lsq", "proxconnect", "ef", "noise")  # () = all
    # figure 6: tightness of T_max (cases drawn by the proof layer's strategy)
    tight_cases: int = 80
    # proof table / bridge
    check_quick: bool = True
    check_only: tuple = ()  # statement ids the proof check runs (`landscape check --only`); () = all
    bridge_model: str = "digits-mlp"
    bridge_overrides: tuple = (
        ("bits", (4, 2)),
        ("k", 2),
        ("train_steps", 200),
        ("qat_steps", 100),
        ("profile_points", 21),
    )

    @classmethod
    def quick_config(cls, seed: int = 0) -> ReproduceConfig:
        """The --quick study (under 3 minutes on 2 cores)."""
        return cls(quick=True, seed=seed)

    @classmethod
    def smoke_config(cls, seed: int = 0) -> ReproduceConfig:
        """The smallest study that still runs every stage (the test suite's preset, about a third of --quick).

        Every sweep is a subset of the --quick one (every other grid value, fewer points, starts and
        steps); the proof check runs three statements; the bridge uses one evaluation seed.
        """
        q = cls(quick=True, seed=seed)  # the --quick values (not cls.quick_config, which a test may rebind)
        return dataclasses.replace(
            q,
            n_mesh=61,
            rtn_points=1000,
            valley_points=64,
            planar_points=1000,
            traj_starts=32,
            chatter_steps=1000,
            chatter_starts=32,
            phase_step_ratios=q.phase_step_ratios[::2],
            phase_alphas=q.phase_alphas[::2],
            rules_starts=64,
            rules_dim=32,
            tight_cases=40,
            check_only=("S1", "S6", "S2E"),
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
            rules_starts=1000,
            rules_dim=256,
            rules_subset=(),
            tight_cases=300,
            check_quick=True,  # the full check alone may take 30 min; run `landscape check` for it
            bridge_overrides=(),
        )

    def as_dict(self) -> dict:
        """The config as a JSON-ready dict (for manifests)."""
        return dataclasses.asdict(self)
