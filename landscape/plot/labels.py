r"""Labels computed from the data: rule and optimizer names, inequalities, outcomes of a run.

Nothing here chooses a word from what the caller hopes: ``compare(3.3, 2)`` returns ``">"`` because
3.3 > 2, and a run's outcome says "entered the basin at T = 12" only if its ``hit_time`` is 12.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "compare", "inequality", "rule_label", "optimizer_label", "run_label", "outcome_text", "math_label",
]

#: symbols of the notation table written in words in the datasets' plain-text long names and units
_GREEK = ("theta", "eta", "kappa", "mu", "omega", "Delta", "rho", "lambda")


def math_label(text: str) -> str:
    r"""A plain-text long name or unit as mathtext: "learning rate eta" -> "learning rate $\eta$".

    Greek letter names, ``r_b``, ``a_k / a_1``, a trailing one-letter symbol (``d``, ``k``, ``b``, ``T``)
    and ``^2`` become mathtext; the datasets keep their plain text (netCDF attributes).
    """
    import re  # noqa: PLC0415

    out = re.sub(r"\b(a_k / a_1)\b", r"$a_k / a_1$", str(text))
    out = re.sub(r"(?<![$\\\w])r_b\b", r"$r_b$", out)
    out = re.sub(r"\b(" + "|".join(_GREEK) + r")\b", lambda m: f"$\\{m.group(1)}$", out)
    out = re.sub(r"(?<=\s)([dkbT])$", r"$\1$", out)
    return out.replace("^2", "$^2$")


def compare(a: float, b: float, *, rel: float = 1e-9) -> str:
    """The relation between a and b as a mathtext symbol: "<", "=", ">" (equal within ``rel``)."""
    a, b = float(a), float(b)
    if not (math.isfinite(a) and math.isfinite(b)):
        return "?" if (math.isnan(a) or math.isnan(b)) else ("<" if a < b else ">" if a > b else "=")
    if abs(a - b) <= rel * max(abs(a), abs(b), 1e-300):
        return "="
    return "<" if a < b else ">"


def inequality(lhs: str, a: float, b: float, rhs: str, fmt: str = ".2f") -> str:
    r"""``lhs = a <rel> rhs`` with the relation computed, e.g. ``$f_{\max} = 1.67\,r_b < 2\,r_b$``."""
    rel = compare(a, b)
    return rf"{lhs} = {a:{fmt}}\,r_b {rel} {b:g}\,r_b"


def optimizer_label(rule) -> str:
    """The optimizer of a rule in words: "sgd, learning_rate=0.05", "adam, learning_rate=0.001"."""
    opt = getattr(rule, "optimizer", None)
    if opt is None:
        return ""
    fac = getattr(opt, "factory", None)
    if fac is None:
        return "optax transformation"
    name = getattr(fac, "__name__", repr(fac))
    hyper = getattr(opt, "hyper", ())
    args = ", ".join(f"{k}={_fmt(v)}" for k, v in hyper)
    return f"{name}, {args}" if args else name


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if hasattr(v, "factory"):
        return getattr(v.factory, "__name__", "schedule")
    if hasattr(v, "shape"):
        return f"array{list(v.shape)}"
    return str(v)


def rule_label(rule) -> str:
    """The rule's registry label (``rule.label``, e.g. "ste", "ef(beta=0.5)")."""
    return str(getattr(rule, "label", getattr(rule, "name", type(rule).__name__)))


def run_label(rule) -> str:
    """Rule and optimizer together: "ste with adam (learning_rate=0.001)"."""
    opt = optimizer_label(rule)
    if not opt:
        return rule_label(rule)
    name, _, args = opt.partition(", ")
    return f"{rule_label(rule)} with {name}" + (f" ({args})" if args else "")


def outcome_text(
    hit_time: int, settle_time: int, diverge_time: int, num_steps: int, switches: int = -1
) -> str:
    """What a run did, from its recorded times: entered (T), settled (T_settle), never entered, diverged."""
    hit, settle, div = int(hit_time), int(settle_time), int(diverge_time)
    if div >= 0:
        before = f" after entering the basin at $T = {hit}$" if 0 <= hit < div else ""
        return f"diverged (non-finite) at $t = {div}${before}"
    if hit < 0:
        sw = f"; {switches} cell switches" if switches >= 0 else ""
        return f"never in the basin in {num_steps} steps{sw}"
    if settle < 0:
        return f"entered the basin at $T = {hit}$ but ends outside it"
    if settle == hit:
        return f"enters the basin at $T = {hit}$ and stays"
    return rf"enters the basin at $T = {hit}$, stays from $T_{{\mathrm{{settle}}}} = {settle}$"


def finite_or_none(x):
    """x as a float, or None when it is not finite (for JSON)."""
    x = float(np.asarray(x))
    return x if math.isfinite(x) else None
