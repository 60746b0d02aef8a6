"""landscape: a JAX laboratory for the geometry of neural-network quantization.

The model (see DESIGN notation): a loss L(w) = ell(s) + phi(rho(w)) whose low-loss river
runs inside a valley; a basin rho <= r_b around the river; quantizers Q; post-training
rules that map a trained w* to a grid point; QAT rules that train latent weights w_t
whose deployed points Q(w_t) should re-enter the basin.
"""

# the PTQ suite, the rivals of STE and chattering detection (submodules and their main names)
from landscape import ptq, qat, simulate
from landscape._errors import LandscapeError
from landscape.certify import RecoveryCertificate, certify_recovery
from landscape.geometry import (
    Landscape,
    arc_river,
    axis_aligned_river,
    meander_river,
    random_river,
    rotated_river_2d,
    straight_river,
    wsd_river_valley,
)
from landscape.geometry.river import Lake, LinearDrift, ZeroDrift
from landscape.geometry.valley import (
    ValleyLandscape,
    axis_aligned_valley,
    valley_landscape,
    valley_landscape_3d,
    with_valley,
)
from landscape.geometry.walls import Wall, exp_wall, power_wall, quadratic_wall, softplus_wall
from landscape.ptq import adaround, gptq, obq, oracle, proxy_minimizer, ptq_methods, rtn, stochastic_rounding
from landscape.qat import (
    Optimizer,
    Rule,
    Schedule,
    available_rules,
    binary_connect,
    clipped_ste,
    default_rules,
    error_feedback,
    full_precision,
    get_rule,
    iterative_freezing,
    lsq,
    noise_injection,
    optimizer,
    oscillation_dampening,
    prox_connect,
    ptq_ste,
    schedule,
    sgd,
    ste,
)
from landscape.quantizers import (
    Codebook,
    Quantizer,
    UniformGrid,
    binary,
    codebook,
    delta_perp,
    flip_size,
    fp4_e2m1,
    integer_grid,
    log2_codebook,
    nf4,
    per_channel,
    per_channel_grid,
    per_group,
    per_group_grid,
    ternary,
    uniform_grid,
)
from landscape.simulate import LossSurface, SaveAt, Trajectory, chatter, run, run_batch
from landscape.simulate.chatter import ChatterMonitor, CycleMonitor, chatter_monitor, detect_cycle
from landscape.simulate.outcomes import recovery_stats, wilson_interval

__version__ = "0.2.0"

#: submodules and names imported on first use (``landscape.plot``, ``landscape.sweep(...)``, ...)
_LAZY = {
    "plot": ("landscape.plot", None),
    "sweep": ("landscape.sweep", None),
    "testing": ("landscape.testing", None),
    "builders": ("landscape.registry", None),
    "explore": ("landscape.explore", "explore"),
    "linspace": ("landscape.sweep.spec", "linspace"),
    "logspace": ("landscape.sweep.spec", "logspace"),
    "summarize": ("landscape.sweep.summary", "summarize"),
}


def __getattr__(name):
    """Import the plotting, sweep, testing and explorer layers on first use (they pull in more packages)."""
    if name in _LAZY:
        import importlib

        mod, attr = _LAZY[name]
        m = importlib.import_module(mod)
        value = m if attr is None else getattr(m, attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'landscape' has no attribute {name!r}")

__all__ = [
    "plot",
    "sweep",
    "testing",
    "builders",
    "explore",
    "linspace",
    "logspace",
    "summarize",
    "chatter",
    "ptq",
    "qat",
    "simulate",
    "LandscapeError",
    "RecoveryCertificate",
    "certify_recovery",
    "ChatterMonitor",
    "CycleMonitor",
    "chatter_monitor",
    "detect_cycle",
    "Landscape",
    "arc_river",
    "axis_aligned_river",
    "meander_river",
    "random_river",
    "rotated_river_2d",
    "straight_river",
    "wsd_river_valley",
    "adaround",
    "gptq",
    "obq",
    "oracle",
    "proxy_minimizer",
    "ptq_methods",
    "rtn",
    "stochastic_rounding",
    "Optimizer",
    "Rule",
    "Schedule",
    "available_rules",
    "binary_connect",
    "clipped_ste",
    "default_rules",
    "error_feedback",
    "full_precision",
    "get_rule",
    "iterative_freezing",
    "lsq",
    "noise_injection",
    "optimizer",
    "oscillation_dampening",
    "prox_connect",
    "ptq_ste",
    "schedule",
    "sgd",
    "ste",
    "Codebook",
    "Quantizer",
    "UniformGrid",
    "binary",
    "codebook",
    "delta_perp",
    "flip_size",
    "fp4_e2m1",
    "integer_grid",
    "log2_codebook",
    "nf4",
    "per_channel",
    "per_channel_grid",
    "per_group",
    "per_group_grid",
    "ternary",
    "uniform_grid",
    "Lake",
    "LinearDrift",
    "ZeroDrift",
    "LossSurface",
    "SaveAt",
    "Trajectory",
    "run",
    "run_batch",
    "recovery_stats",
    "wilson_interval",
    "ValleyLandscape",
    "axis_aligned_valley",
    "valley_landscape",
    "valley_landscape_3d",
    "with_valley",
    "Wall",
    "exp_wall",
    "power_wall",
    "quadratic_wall",
    "softplus_wall",
]
