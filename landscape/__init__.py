"""landscape: a JAX laboratory for the geometry of neural-network quantization.

The model (see DESIGN notation): a loss L(w) = ell(s) + phi(rho(w)) whose low-loss river
runs inside a valley; a basin rho <= r_b around the river; quantizers Q; post-training
rules that map a trained w* to a grid point; QAT rules that train latent weights w_t
whose deployed points Q(w_t) should re-enter the basin.
"""

# the PTQ suite, the rivals of STE and chattering detection (submodules and their main names)
from landscape import chatter, ptq, rules
from landscape._checks import LandscapeError
from landscape.chatter import chatter_monitor, detect_cycle
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
from landscape.ptq import adaround, gptq, obq, oracle, ptq_methods, rtn, stochastic_rounding
from landscape.qat import QATRule, full_precision, ste
from landscape.quantizers import (
    Codebook,
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
    per_group,
    ternary,
    uniform_grid,
)
from landscape.river import Lake, LinearDrift, ZeroDrift
from landscape.rules import (
    binary_connect,
    clipped_ste,
    default_rules,
    error_feedback,
    lsq,
    noise_injection,
    prox_connect,
    ptq_ste,
)
from landscape.simulate import Trajectory, run, run_batch
from landscape.walls import exp_wall, power_wall, quadratic_wall, softplus_wall

__version__ = "0.1.0"

__all__ = [
    "LandscapeError",
    "Landscape",
    "straight_river",
    "random_river",
    "axis_aligned_river",
    "rotated_river_2d",
    "meander_river",
    "arc_river",
    "wsd_river_valley",
    "QATRule",
    "full_precision",
    "ste",
    "UniformGrid",
    "Codebook",
    "uniform_grid",
    "integer_grid",
    "per_channel",
    "per_group",
    "codebook",
    "nf4",
    "fp4_e2m1",
    "log2_codebook",
    "ternary",
    "binary",
    "delta_perp",
    "flip_size",
    "ZeroDrift",
    "LinearDrift",
    "Lake",
    "Trajectory",
    "run",
    "run_batch",
    "quadratic_wall",
    "softplus_wall",
    "power_wall",
    "exp_wall",
    "chatter",
    "ptq",
    "rules",
    "chatter_monitor",
    "detect_cycle",
    "rtn",
    "stochastic_rounding",
    "obq",
    "gptq",
    "adaround",
    "oracle",
    "ptq_methods",
    "clipped_ste",
    "ptq_ste",
    "lsq",
    "prox_connect",
    "binary_connect",
    "error_feedback",
    "noise_injection",
    "default_rules",
]
