r"""The bridge: the basin-crossing diagnostics of the analytic model on a trained network.

:func:`run_bridge` trains a model (seeded), finds its top-k sharp directions (Lanczos on
HVPs of the training loss over the dense weights ``w``), measures the basin widths
:math:`r_i^\pm` along each (loss rise :math:`\tau`), places the per-channel INT-b RTN and
GPTQ points, runs STE-QAT from each, and returns one ``xarray.Dataset`` with the manifest.

Definitions (one for PTQ and QAT): a deployed point q is **in the basin** when
:math:`L(q) - L(w^*) \le \tau` on the training set. The grid is **comparable to the
basin** when :math:`g = \lVert(\sigma_i/\bar r_i)_i\rVert \ge 1`, with
:math:`\sigma_i` the RMS sharp offset of uniform rounding noise
(:func:`landscape.models.quant.grid_geometry`) and :math:`\bar r_i = (r_i^- + r_i^+)/2`:
the RMS normalised sharp offset that rounding produces is then at least one basin width.
**The paper's prediction** (per bit width and PTQ method): if :math:`g \ge 1`, PTQ lands
outside the basin and STE-QAT re-enters it within the step budget; if :math:`g < 1`,
PTQ lands inside. :func:`verdict` says which parts held.
"""

from __future__ import annotations

import dataclasses
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from landscape._checks import LandscapeError, check_int_at_least, check_positive
from landscape.manifest import manifest
from landscape.models.basin import basin_rho, basin_widths, in_basin, profiles, sharp_offset
from landscape.models.hessian import hvp, lanczos
from landscape.models.nets import flat_weights
from landscape.models.quant import (
    check_bits,
    gptq_available,
    gptq_point,
    grid_geometry,
    rtn_point,
    weight_quantizer,
)
from landscape.models.recovery import ste_recovery, task_losses

__all__ = ["MODELS", "BridgeConfig", "build_task", "run_bridge", "verdict", "summary_rows"]

MODELS = ("digits-mlp", "digits-cnn", "markov-lm")
# STE-SGD learning rates, chosen on seed 0 (larger ones chatter)
QAT_LR = {"digits-mlp": 1.0, "digits-cnn": 1.0, "markov-lm": 0.03}


@dataclasses.dataclass(frozen=True)
class BridgeConfig:
    """Everything that determines a bridge run (same config + seed -> same numbers)."""

    model: str = "digits-mlp"
    bits: tuple = (8, 4, 3, 2)
    seed: int = 0
    quick: bool = False
    k: int = 8  # sharp directions
    num_iter: int = 48  # Lanczos steps
    tau: float = 0.05  # loss-rise threshold of the basin (nats)
    profile_points: int = 81
    qat_steps: int = 600
    qat_lr: float = 0.0  # STE-SGD learning rate; 0: the model's default (digits 1.0, markov-lm 0.03)
    n_calib: int = 512  # GPTQ calibration inputs (first n of the training set)
    train_steps: int = 0  # 0: the model's default (quick or full)

    def __post_init__(self):
        if self.model not in MODELS:
            raise LandscapeError(f"model must be one of {MODELS}; got {self.model!r}.")
        object.__setattr__(self, "bits", check_bits(self.bits))
        check_int_at_least("seed", self.seed, 0)
        check_int_at_least("k", self.k, 1)
        check_int_at_least("num_iter", self.num_iter, self.k)
        check_positive("tau", self.tau)
        check_int_at_least("profile_points", self.profile_points, 5)
        check_int_at_least("qat_steps", self.qat_steps, 1)
        check_positive("qat_lr", self.qat_lr, allow_zero=True)
        check_int_at_least("n_calib", self.n_calib, 1)
        check_int_at_least("train_steps", self.train_steps, 0)

    @classmethod
    def preset(cls, model: str = "digits-mlp", quick: bool = False, **overrides) -> BridgeConfig:
        """The quick (about a minute on 2 cores for 4 bit widths) or full configuration."""
        base = dict(k=4, num_iter=24, profile_points=41, qat_steps=300) if quick else {}
        if "k" in overrides and "num_iter" not in overrides:
            base["num_iter"] = max(base.get("num_iter", cls.num_iter), 3 * overrides["k"])
        return cls(model=model, quick=quick, **{**base, **overrides})


def build_task(cfg: BridgeConfig):
    """Train the configured model (seeded); quick mode trains less and on less data."""
    if cfg.model == "digits-mlp":
        from landscape.models.mlp import digits_mlp

        steps = cfg.train_steps or (500 if cfg.quick else 800)
        return digits_mlp(cfg.seed, steps=steps, weight_decay=0.1)
    if cfg.model == "digits-cnn":
        from landscape.models.cnn import digits_cnn

        steps = cfg.train_steps or (500 if cfg.quick else 800)
        return digits_cnn(cfg.seed, steps=steps, weight_decay=0.1)
    from landscape.models.lm import markov_lm

    steps = cfg.train_steps or (600 if cfg.quick else 1000)
    return markov_lm(cfg.seed, n_train=160 if cfg.quick else 320, steps=steps, weight_decay=1e-2)


def _widths(loss_fn, w_star, normals, tau, lam):
    """Basin widths, widening the search range (x4, twice) for directions still censored."""
    t_max = 3.0 * np.sqrt(2.0 * tau / np.maximum(np.asarray(lam, np.float64), 1e-8))
    for _ in range(3):
        wd = basin_widths(loss_fn, w_star, normals, tau, jnp.asarray(t_max, w_star.dtype))
        cens = np.asarray(wd.censored_minus) | np.asarray(wd.censored_plus)
        if not cens.any():
            break
        t_max = np.where(cens, 4.0 * t_max, t_max)
    return wd


def verdict(predicted_outside: bool, ptq_inside: bool, hit_time: int, qat_steps: int,
            tail: float | None = None) -> str:
    """The paper's prediction, checked (see the module docstring); ``tail``: in-basin fraction at the end."""
    stay = f" (in basin {tail:.0%} of the last 10% of steps)" if tail is not None and hit_time >= 0 else ""
    if predicted_outside:
        if ptq_inside:
            return "failed: PTQ inside although grid >= basin"
        if hit_time >= 0:
            return f"held: PTQ outside, QAT back at step {hit_time}{stay}"
        return f"failed: PTQ outside but QAT not back in {qat_steps} steps"
    if ptq_inside:
        return "held: fine grid, PTQ inside"
    back = f", QAT back at step {hit_time}{stay}" if hit_time >= 0 else f", QAT not back in {qat_steps} steps"
    return "failed: PTQ outside although grid < basin" + back


def run_bridge(cfg: BridgeConfig, task=None) -> xr.Dataset:
    """All diagnostics of the bridge for one model as an xarray Dataset (manifest in attrs)."""
    timings = {}
    t0 = time.perf_counter()
    task = build_task(cfg) if task is None else task
    timings["train_s"] = time.perf_counter() - t0

    train_loss, test_metric = task_losses(task)
    w_star = flat_weights(task.params)
    loss_star = float(train_loss(w_star))
    metric_star = float(test_metric(w_star))

    t0 = time.perf_counter()
    spec = lanczos(train_loss, w_star, k=cfg.k, num_iter=min(cfg.num_iter, w_star.shape[0]),
                   key=jax.random.PRNGKey(cfg.seed))
    lam, normals = np.asarray(spec.eigenvalues, np.float64), spec.normals
    timings["lanczos_s"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    widths = _widths(train_loss, w_star, normals, cfg.tau, lam)
    r_minus, r_plus = np.asarray(widths.minus, np.float64), np.asarray(widths.plus, np.float64)
    timings["widths_s"] = time.perf_counter() - t0

    methods = ["rtn", "gptq"] if gptq_available() else ["rtn"]
    nb, nm, k = len(cfg.bits), len(methods), cfg.k
    points, quantizers = {}, {}
    t0 = time.perf_counter()
    for b in cfg.bits:
        quantizers[b] = weight_quantizer(task.params, b)
        points[(b, "rtn")] = rtn_point(task.params, b)
        if "gptq" in methods:
            points[(b, "gptq")] = gptq_point(task, b, n_calib=cfg.n_calib)
    timings["ptq_s"] = time.perf_counter() - t0

    shape_bm = (nb, nm)
    ptq = {n: np.full(shape_bm, np.nan) for n in ("loss", "metric", "rho", "quad_sharp", "quad_full")}
    ptq_offset = np.full((nb, nm, k), np.nan)
    ptq_in = np.zeros(shape_bm, bool)
    sigma, max_flip = np.zeros((nb, k)), np.zeros((nb, k))
    hvp_j = jax.jit(lambda w, v: hvp(train_loss, w, v))
    for i, b in enumerate(cfg.bits):
        sigma[i], max_flip[i] = grid_geometry(normals, quantizers[b].step)
        for j, m in enumerate(methods):
            q = points[(b, m)]
            v = sharp_offset(normals, q, w_star)
            e = q - w_star
            ptq["loss"][i, j] = float(train_loss(q))
            ptq["metric"][i, j] = float(test_metric(q))
            ptq["rho"][i, j] = float(basin_rho(v, widths))
            ptq["quad_sharp"][i, j] = float(0.5 * np.sum(lam * np.asarray(v, np.float64) ** 2))
            ptq["quad_full"][i, j] = float(0.5 * jnp.dot(e, hvp_j(w_star, e)))
            ptq_offset[i, j] = np.asarray(v)
            ptq_in[i, j] = bool(in_basin(ptq["loss"][i, j], loss_star, cfg.tau))
    r_bar = 0.5 * (r_minus + r_plus)
    grid_to_basin = np.linalg.norm(sigma / r_bar[None, :], axis=1)

    # profiles wide enough to show every PTQ point
    t_max = np.maximum(2.0 * np.maximum(r_minus, r_plus), 1.15 * np.nanmax(np.abs(ptq_offset), axis=(0, 1)))
    prof_t, prof_rise = profiles(train_loss, w_star, normals, jnp.asarray(t_max, w_star.dtype),
                                 num=cfg.profile_points)

    t0 = time.perf_counter()
    qat_lr = cfg.qat_lr or QAT_LR[cfg.model]
    n_t = cfg.qat_steps + 1
    qat = {n: np.full((nb, nm, n_t), np.nan) for n in ("loss", "metric", "rho")}
    qat_offset = np.full((nb, nm, n_t, k), np.nan)
    qat_in = np.zeros((nb, nm, n_t), bool)
    hit = np.full(shape_bm, -1, np.int64)
    verdicts = np.empty(shape_bm, dtype=object)
    for i, b in enumerate(cfg.bits):
        for j, m in enumerate(methods):
            w0 = w_star if m == "rtn" else points[(b, m)]
            rec = ste_recovery(task, quantizers[b], w0, w_star, normals, cfg.tau, num_steps=cfg.qat_steps,
                               learning_rate=qat_lr)
            qat["loss"][i, j], qat["metric"][i, j] = np.asarray(rec.loss), np.asarray(rec.metric)
            qat_offset[i, j] = np.asarray(rec.offset)
            qat["rho"][i, j] = np.asarray(basin_rho(rec.offset, widths))
            qat_in[i, j] = np.asarray(rec.in_basin)
            hit[i, j] = int(rec.hit_time)
            tail = float(np.mean(qat_in[i, j, -max(1, n_t // 10):]))
            verdicts[i, j] = verdict(bool(grid_to_basin[i] >= 1.0), bool(ptq_in[i, j]), int(hit[i, j]),
                                     cfg.qat_steps, tail)
    timings["qat_s"] = time.perf_counter() - t0

    bm, bmd = ("bits", "ptq"), ("bits", "ptq", "direction")
    ds = xr.Dataset(
        {
            "eigenvalue": ("direction", lam),
            "ritz_residual": ("direction", np.asarray(spec.residuals, np.float64)),
            "width_minus": ("direction", r_minus),
            "width_plus": ("direction", r_plus),
            "censored_minus": ("direction", np.asarray(widths.censored_minus)),
            "censored_plus": ("direction", np.asarray(widths.censored_plus)),
            "width_quadratic": ("direction", np.sqrt(2.0 * cfg.tau / np.maximum(lam, 1e-12))),
            "profile_t": (("direction", "point"), np.asarray(prof_t, np.float64)),
            "profile_rise": (("direction", "point"), np.asarray(prof_rise, np.float64)),
            "grid_sigma": (("bits", "direction"), sigma),
            "grid_max_flip": (("bits", "direction"), max_flip),
            "grid_to_basin": ("bits", grid_to_basin),
            "predicted_outside": ("bits", grid_to_basin >= 1.0),
            "ptq_loss": (bm, ptq["loss"]),
            "ptq_metric": (bm, ptq["metric"]),
            "ptq_offset": (bmd, ptq_offset),
            "ptq_rho": (bm, ptq["rho"]),
            "ptq_in_basin": (bm, ptq_in),
            "ptq_quad_sharp": (bm, ptq["quad_sharp"]),
            "ptq_quad_full": (bm, ptq["quad_full"]),
            "qat_loss": (("bits", "ptq", "step"), qat["loss"]),
            "qat_metric": (("bits", "ptq", "step"), qat["metric"]),
            "qat_rho": (("bits", "ptq", "step"), qat["rho"]),
            "qat_offset": (("bits", "ptq", "step", "direction"), qat_offset),
            "qat_in_basin": (("bits", "ptq", "step"), qat_in),
            "hit_time": (bm, hit),
            "verdict": (bm, verdicts.astype(str)),
        },
        coords={"bits": list(cfg.bits), "ptq": methods, "direction": np.arange(k),
                "point": np.arange(cfg.profile_points), "step": np.arange(n_t)},
    )
    ds.attrs.update(
        model=task.name, metric=task.metric, loss_star=loss_star, metric_star=metric_star, tau=cfg.tau,
        dim=int(w_star.shape[0]),
        in_basin_definition=f"L_train(q) - L_train(w*) <= tau = {cfg.tau} nats (PTQ and QAT alike)",
        prediction=("grid_to_basin = ||sigma_i / mean(r_i-, r_i+)|| >= 1 -> PTQ outside the basin and "
                    "STE-QAT back inside within qat_steps; < 1 -> PTQ inside"),
        quantizer="per-channel (per output row) symmetric INT-b, step = absmax/(2^(b-1)-1); dense weights "
                  "only (biases and embeddings full precision)",
        qat=(f"STE with plain SGD, learning rate {qat_lr}, full batch, {cfg.qat_steps} steps; "
             "rtn start: latent w*; gptq start: latent = the GPTQ point"),
        gptq="landscape.ptq.gptq with H_l = X_l^T X_l / n" if "gptq" in methods else "unavailable",
        task_info=json.dumps(task.info), timings=json.dumps(timings),
    )
    ds.attrs["manifest"] = json.dumps(manifest(dataclasses.asdict(cfg), cfg.seed))
    return ds


def summary_rows(ds: xr.Dataset) -> list[dict]:
    """One row per (bits, ptq method): PTQ loss/metric/rho/in-basin, QAT hit and tail in basin, verdict."""
    rows = []
    for b in ds.bits.values:
        for m in ds.ptq.values:
            sel = ds.sel(bits=b, ptq=m)
            rows.append({
                "bits": int(b), "ptq": str(m),
                "grid_to_basin": float(ds.grid_to_basin.sel(bits=b)),
                "ptq_loss": float(sel.ptq_loss), "ptq_metric": float(sel.ptq_metric),
                "ptq_rho": float(sel.ptq_rho), "ptq_in_basin": bool(sel.ptq_in_basin),
                "hit_time": int(sel.hit_time),
                "qat_tail_in_basin": float(sel.qat_in_basin[-max(1, ds.sizes["step"] // 10):].mean()),
                "qat_final_loss": float(sel.qat_loss[-1]), "qat_final_metric": float(sel.qat_metric[-1]),
                "verdict": str(sel.verdict.values),
            })
    return rows
