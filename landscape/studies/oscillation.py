r"""Do the oscillation remedies of Nagel et al. (2022) stop STE's chattering, and do they enter the basin?

Two measurements, on the rules :func:`landscape.oscillation_dampening` and
:func:`landscape.iterative_freezing` against plain STE:

* :func:`two_cycle_case` -- the exact 2-cycle of statement S6 (``docs/theory.md``): a 2-D river at angle
  theta whose centre sits half a cell off the grid, a wall slope chosen so that one STE step carries the
  latent from one outside grid point to the other and back; STE chatters forever.
* :func:`oscillation_study` -- the recovery experiments (:mod:`landscape.studies.recovery`, the 2-D
  ``rotated2d`` case with max flip > 2 r_b where STE chatters, and the ``highdim`` case where STE recovers),
  every rule watched by the driver's chattering monitor (:class:`CycleMonitor`); recovered, settled,
  chattering, stalled and diverged runs counted apart.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

import landscape as L
from landscape.simulate.chatter import CycleMonitor, chatters
from landscape.studies import recovery as rec

__all__ = ["two_cycle_case", "nagel_rules", "two_cycle_outcomes", "oscillation_study"]


def two_cycle_case(theta: float = 0.6, eta: float = 0.05, alpha_frac: float = 0.5, rb_frac: float = 0.5):
    """(landscape, quantizer, w0) of S6's exact 2-cycle: r_b = rb_frac cos(theta)/2, step alpha_frac * max."""
    cs, sn = np.cos(theta), np.sin(theta)
    rb = rb_frac * cs / 2
    gap = cs / 2 - rb
    kappa = alpha_frac * min(2 / cs, 1 / sn) / (eta * gap)
    alpha = eta * kappa * gap
    land = L.rotated_river_2d(theta, wall=L.quadratic_wall(rb, kappa, 0.0), center=[-cs / 2], river_loss=0.0)
    return land, L.uniform_grid(1.0), np.array([-alpha * sn / 2, -0.5 + alpha * cs / 2])


def nagel_rules(learning_rate: float = 0.05) -> dict:
    """{label: Rule}: STE, oscillation dampening (strengths 0.1, 1) and iterative freezing (two settings)."""
    return {
        "ste": L.ste(learning_rate),
        "dampen(0.1)": L.oscillation_dampening(learning_rate, strength=0.1),
        "dampen(1)": L.oscillation_dampening(learning_rate, strength=1.0),
        "freeze": L.iterative_freezing(learning_rate),
        "freeze(0.1, 0.1)": L.iterative_freezing(learning_rate, threshold=0.1, momentum=0.1),
    }


def two_cycle_outcomes(rules: dict | None = None, num_steps: int = 2000, window: int = 100, **case) -> dict:
    """Per rule on the S6 2-cycle: hit time, settle time, diverged, switches, chatters, final rho / r_b."""
    land, grid, w0 = two_cycle_case(**case)
    rules = nagel_rules() if rules is None else rules
    out = {}
    save = L.SaveAt(every=10, monitors=(CycleMonitor(window),))
    for name, rule in rules.items():
        tr = L.run(land, grid, rule, w0, num_steps, save=save)
        out[name] = {
            "hit_time": int(tr.hit_time),
            "settle_time": int(tr.settle_time),
            "diverged": bool(tr.diverged),
            "switches": int(tr.switches),
            "chatters": bool(chatters(tr)),
            "final_rho_over_rb": float(tr.final_rho_q / land.basin_radius),
        }
    return out


def oscillation_study(n_points: int = 1000, seed: int = 0, rules: dict | None = None) -> xr.Dataset:
    """The recovery summaries (p_recover, p_settled, p_chatter, p_stall, p_diverged, T) of the Nagel rules on
    the ``rotated2d`` and ``highdim`` recovery cases (dims case, rule)."""
    parts = []
    for case in (
        rec.rotated2d_case(n_points=n_points, seed=seed),
        rec.highdim_case(n_points=n_points, seed=seed),
    ):
        rules_c = nagel_rules(case.learning_rate) if rules is None else rules
        ds = rec.recovery_experiment(case, rules_c)
        keep = [
            "p_recover",
            "p_recover_lo",
            "p_recover_hi",
            "p_settled",
            "p_chatter",
            "p_stall",
            "p_diverged",
            "T_median",
            "n_failed",
        ]
        parts.append(ds[keep].expand_dims(case=[case.case]))
    return xr.concat(parts, dim="case")
