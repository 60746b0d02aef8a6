r"""C1: the loss at first entry, against the full-precision start, in three explicit terms.

For :math:`L = \ell(s) + \phi(\rho)` with :math:`\phi` non-decreasing, :math:`\phi(0) = 0`, and :math:`T`
the first step with :math:`\rho(q_T) \le r_g`:

.. math:: L(q_T) - L(w_0) \le [\ell(s(w_T)) - \ell(s(w_0))] + G\,\delta_s + 2\varepsilon,

with :math:`G = \sup|\ell'|` (``|rate|`` for the linear drift and the lake), :math:`\delta_s = \max_{e}
|u \cdot e| = \sum_j |u_j| \Delta_j / 2` the along-river quantization error, and
:math:`\varepsilon = (\phi(r_g) - \phi(0))/2` the basin's flatness error (half the wall's rise over the
basin: :math:`|L - \ell - \phi(r_g)/2| \le \varepsilon` on it). Measured with the driver's first-entry
monitor (:class:`landscape.simulate.first_entry.FirstEntryMonitor`) from the in-basin RTN-failed starts of
S5I (isotropic) and S5W (anisotropic, random and dyadic), and from in-basin starts on a meandering river.
``docs/theory.md``, section C1.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import sympy as sp
from hypothesis import strategies as st

import landscape as L
from landscape import quantizers, testing
from landscape.simulate.first_entry import FirstEntryMonitor, first_entry
from proofs.basin import scenarios as basin
from proofs.core import Scenario, Statement, reverse_conclusion, scale_constant, symbols
from proofs.inbasin import scenarios as iso
from proofs.inbasin import weighted
from proofs.inbasin.statements import _c  # a constant's symbol

__all__ = ["C1", "C1_MUTANTS", "C1_SCENARIOS"]

S = symbols("rho_w r_b gamma G ds phi_g d_loss d_river entered")


C1 = Statement(
    id="C1",
    short="loss at first entry: river + mismatch + 2 eps",
    title="Loss at first entry: L(q_T) - L(w_0) <= [ell(s(w_T)) - ell(s(w_0))] + G ds + 2 eps, "
    "eps = (phi(r_g) - phi(0))/2, T the first step with rho(q_T) <= r_g",
    family="any landscape L = ell(s) + phi(rho) of the laboratory (isotropic or weighted rho, any of the "
    "four walls: phi non-decreasing, phi(0) = 0; river loss zero, linear or lake: G = |rate|), any rule and "
    "grid; ds = max over the cell of |u.e| (sum_j |u_j| Delta_j / 2); attacked with STE from in-basin "
    "starts (S5I's and S5W's RTN-failed cases; a meandering river)",
    # "entered" is measured: prepare presumes it (1), the run sets 0 when q_t never enters within the horizon
    assumptions={"in_basin": S["rho_w"] <= S["r_b"], "lipschitz": S["G"] >= 0,
                 "entered": sp.Eq(S["entered"], 1)},
    constants={"mismatch": S["G"] * S["ds"],
               "eps_flat": S["phi_g"] / 2,
               "bound": S["d_river"] + _c("mismatch") + 2 * _c("eps_flat")},
    conclusion={"loss_at_entry": S["d_loss"] <= _c("bound")},
    attack="entry_loss_iso",
    extra_attacks=("entry_loss_weighted", "entry_loss_curved"),
    proof=("loss_at_entry_identity", "river_lipschitz", "along_river_error", "walls_monotone",
           "loss_at_entry_bound"),
    tightness=(S["d_loss"] - S["d_river"]) / (_c("mismatch") + 2 * _c("eps_flat")),
    tightness_label="(dL - d_river)/(G ds + 2 eps)",
    regime="in_basin",
    paper=("mean value theorem: |ell(s_q) - ell(s_w)| <= G |s_q - s_w|",
           "rho(q_T) <= r_g at the first entry T, phi non-decreasing (walls_monotone) with phi(0) = 0"),
    doc="#c1-the-loss-at-first-entry",
)

C1_MUTANTS = {"C1": [lambda s: scale_constant(s, "mismatch", sp.Rational(1, 2)),
                     lambda s: scale_constant(s, "eps_flat", sp.Rational(1, 2)),
                     lambda s: reverse_conclusion(s, "loss_at_entry")]}


def _entry_values(ls, grid, w0, values, lip):
    """The landscape's C1 numbers at the start: G, ds, phi(r_g) - phi(0), L(w_0), ell(s(w_0))."""
    u = np.asarray(ls.river_dir, np.float64)
    r_g = values["r_b"] + values["gamma"]
    w = jnp.asarray(w0)
    values.update({"G": float(lip), "ds": quantizers.delta_perp(grid, u[None]).value,
                   "phi_g": float(ls.wall.value(r_g) - ls.wall.value(0.0)), "L_0": float(ls.loss(w)),
                   "ell_0": float(ls.river_loss(ls.s(w))), "entered": 1.0})
    return values


def _prepare_iso(case, stmt):
    (ls, grid, w0), values = iso._ste_prepare(case, stmt)
    return (ls, grid, w0), _entry_values(ls, grid, w0, values, abs(case["drift"]))


def _prepare_weighted(case, stmt):
    (ls, grid, w0), values = weighted._prepare(case, stmt)
    return (ls, grid, w0), _entry_values(ls, grid, w0, values, values["G"])


def _simulator(nsteps):
    def simulate(ctx, values, sim, stmt):
        ls, grid, w0 = ctx
        # the record only (no rows); the radius is data: one compiled program for every case of a shape
        monitor = FirstEntryMonitor(values["r_b"] + values["gamma"])
        save = L.SaveAt.summary(times=("hit",), monitors=(monitor,))
        rule = sim.rule(float(values["eta"]))
        rec = first_entry(sim.run(ls, grid, rule, jnp.asarray(w0), nsteps, save=save))
        if int(rec["entry_time"]) < 0:  # never entered within the horizon: the assumption "entered" fails
            return {"entered": 0.0, "T": float(nsteps)}
        return {"d_loss": float(rec["loss_at_entry"]) - values["L_0"],
                "d_river": float(rec["river_loss_at_entry"]) - values["ell_0"],
                "mismatch_T": float(rec["mismatch_at_entry"]), "T": float(rec["entry_time"])}
    return simulate


# a meandering river in the plane (c(s) = amp sin(omega s)): the grid's x-rounding moves q along the river
# and, through c, across it; the start is on the basin floor at a drawn fraction of r_b
_CURVED = st.fixed_dictionaries({
    **testing.wall_fields(mu=(0.0, 0.125)), "river": st.sampled_from(("linear", "lake", "none")),
    "amp": st.sampled_from((0.25, 0.0, 1.0)), "omega": st.sampled_from((1.0, 0.5, 2.0)),
    "step": st.floats(0.05, 0.5), "x0": st.floats(-5.0, 5.0), "u_off": st.floats(-1.0, 1.0),
    "rb_ratio": st.floats(0.6, 3.0), "gamma_frac": st.sampled_from((0.0, 0.25, 0.5)),
    "kappa": st.sampled_from((1.0, 4.0, 16.0)), "eta": st.sampled_from((0.05, 0.2)),
})


def _prepare_curved(case, stmt):
    step = case["step"]
    rb = case["rb_ratio"] * step / 2
    wall = testing.wall_named(case["wall"], rb, case["kappa"], case["mu"])
    river_loss = {"linear": 0.25, "lake": L.Lake.make(rate=0.25, s0=case["x0"] + 0.1, width=0.5),
                  "none": None}[case["river"]]
    ls = L.meander_river(np.array([[0.0, 1.0]]), np.array([1.0, 0.0]), amplitude=case["amp"],
                         omega=case["omega"], wall=wall, river_loss=river_loss)
    x0 = case["x0"]
    w0 = np.array([x0, case["amp"] * np.sin(case["omega"] * x0) + case["u_off"] * rb])
    grid = L.uniform_grid(np.array([step, step]), offset=np.zeros(2))
    values = {"eta": case["eta"], "r_b": rb, "gamma": case["gamma_frac"] * rb,
              "rho_w": float(ls.rho(jnp.asarray(w0))), "k": 1.0, "d": 2.0}
    return (ls, grid, w0), _entry_values(ls, grid, w0, values, 0.0 if river_loss is None else 0.25)


C1_SCENARIOS = {"entry_loss_iso": Scenario(basin._STE, _prepare_iso, _simulator(basin.NSTEPS)),
                "entry_loss_weighted": Scenario(weighted._CASES, _prepare_weighted,
                                                _simulator(weighted.NSTEPS)),
                "entry_loss_curved": Scenario(_CURVED, _prepare_curved, _simulator(basin.NSTEPS))}
