"""report.md and the figures of merit of summary.json, assembled from the stage results."""

from __future__ import annotations

import re
from pathlib import Path

from landscape.reproduce.stages.common import time_text

__all__ = ["figures_of_merit", "write_report", "proof_table_md", "key_numbers_md", "science_language"]

_ISSUE = [
    (re.compile(r"[ \t]*\(issue \d+\)"), ""),
    (re.compile(r"\(issue \d+,\s*"), "("),
    (re.compile(r",?[ \t]*\bissue \d+'s[ \t]+"), ", "),
    (re.compile(r"[ \t]+of issue \d+"), ""),
    (re.compile(r"[ \t]*\bissue \d+\b"), ""),
]


def science_language(text: str) -> str:
    """The text without references to the project's issue tracker ("issue 3's", "(issue 5)")."""
    for pat, rep in _ISSUE:
        text = pat.sub(rep, text)
    return text


def _status(res):
    if res is None:
        return {"status": "missing", "reason": "stage not run"}
    if res.status != "ok":
        return {"status": res.status, "reason": res.reason.split("\n")[0]}
    return {"status": "ok"}


def _ok(res) -> bool:
    return res is not None and res.status == "ok"


def _entry(res, keys=None) -> dict:
    """A stage's status and, when it ran, its numbers (all of them, or those named in ``keys``)."""
    if not _ok(res):
        return _status(res)
    return _status(res) | (res.numbers if keys is None else {k: res.numbers[k] for k in keys})


_RTN_KEYS = (
    "ratios",
    "thetas",
    "simulated_2d",
    "closed_form_2d",
    "closed_form_source_2d",
    "agreement_2d",
    "dk",
    "simulated_hd",
    "gaussian_limit_hd",
    "max_abs_diff_hd_vs_gaussian",
    "n_points_per_cell",
)
_CHATTER_KEYS = (
    "max_flip_size_over_rb",
    "num_steps",
    "never_in_basin_fraction",
    "chatter_fraction",
    "detector",
)
#: the stages whose numbers go to the figures of merit whole (stage key, name in figures_of_merit)
_WHOLE = (
    ("proofs", "proofs"),
    ("fig6_tightness", "tightness"),
    ("fig7_rules", "rules"),
    ("bridge", "bridge"),
)


def figures_of_merit(res: dict) -> dict:
    """The key numbers of the study, each with the status of the stage it comes from."""
    out = {
        "rtn_exit": _entry(res.get("fig2_rtn_exit"), _RTN_KEYS),
        "ptq_exit": _entry(res.get("fig3_hessian_blindness")),
    }
    r5, r4 = res.get("fig5_phase_diagram"), res.get("fig4_ste_trajectory")
    out["ste_recovery"] = _status(r5) | (
        {"regimes": r5.numbers["regimes"], "dim": r5.numbers["dim"], "num_steps": r5.numbers["num_steps"],
         "certificate": r5.numbers.get("certificate", {}), "dyadic_certificate": r5.numbers.get("dyadic", {})}
        if _ok(r5)
        else {}
    )
    if _ok(r4):
        out["ste_recovery"]["figure4_landscape"] = r4.numbers["batch"]
    r = res.get("fig8_chattering")
    out["chattering"] = _entry(r, _CHATTER_KEYS) | ({"n": r.numbers["batch"]["n"]} if _ok(r) else {})
    for key, name in _WHOLE:
        out[name] = _entry(res.get(key))
    return out


def k_text(k_range) -> str:
    """A statement's ``k_range`` as the checker's table writes it: "1", ">= 1", "2-3" ("" if absent)."""
    if not k_range:
        return ""
    lo, hi = k_range
    return f">= {lo}" if hi is None else (str(lo) if lo == hi else f"{lo}-{hi}")


def proof_table_md(statements: list[dict], mutants_total=None, mutants_caught=None) -> str:
    """A markdown table of the proof layer's statements (id, title, status, cases, violations, tightness)."""
    rows = [
        "| id | statement | regime | k | status | cases | violations | tightness |",
        "| --- | --- | --- | --- | --- | ---: | ---: | ---: |",
    ]
    for s in statements:
        tight = s.get("tightness")
        tight = "" if tight is None else (f"{tight:.3g}" if isinstance(tight, (int, float)) else str(tight))
        rows.append(
            f"| {s.get('id', '')} | {s.get('title', '')} | {s.get('regime', '')} | "
            f"{k_text(s.get('k_range'))} | {s.get('status', '')} | "
            f"{s.get('cases', '')} | "
            f"{s.get('violations', '')} | {tight} |"
        )
    if mutants_total is not None:
        rows.append("")
        rows.append(f"Mutants caught: {mutants_caught} of {mutants_total}.")
    return "\n".join(rows)


def write_report(path, results, summary) -> None:
    """Write report.md: header, one section per stage (figure, narrative, data files), missing parts."""
    man = summary["manifest"]
    lines = [
        "# landscape reproduce: report",
        "",
        f"*{'Quick' if summary['quick'] else 'Full'} run* of `{man.get('command', 'landscape reproduce')}` "
        f"(seed {man['seed']}), git commit `{man['git_commit']}`, created {man['created']}, "
        f"{summary['seconds']:.1f} s on {', '.join(man.get('devices', []))}. "
        f"Package versions: " + ", ".join(f"{k} {v}" for k, v in man["versions"].items() if v) + ".",
        "",
        "Every number below is computed from the dataset named under its figure (`results/*.nc`, each with "
        "the manifest in its attributes); `summary.json` holds the same numbers and validates against "
        "`summary.schema.json`.",
        "",
    ]
    lines += key_numbers_md(summary["figures_of_merit"])
    bad = [r for r in results if r.status != "ok"]
    if bad:
        lines += ["## Missing or failed parts", ""]
        for r in bad:
            lines.append(f"* **{r.key}** ({r.title}): **{r.status.upper()}** -- {r.reason.splitlines()[0]}")
        lines.append("")
    n = 0
    for r in results:
        lines.append(f"## {r.title}")
        lines.append("")
        if r.status != "ok":
            lines += [f"**{r.status.upper()}**: {r.reason.splitlines()[0] if r.reason else ''}", ""]
            continue
        if "png" in r.files:
            n += 1
            lines += [
                f"![{r.title}]({r.files['png']})",
                "",
                f"*Figure {r.key[3] if r.key.startswith('fig') else n}.* {r.title}. "
                f"Vector version: `{r.files['pdf']}`.",
                "",
            ]
        if r.narrative:
            lines += [r.narrative, ""]
        if r.table_md:
            lines += [r.table_md, ""]
        data = [v for k, v in r.files.items() if k.startswith("results/")]
        if data:
            lines += ["Data: " + ", ".join(f"`{d}`" for d in data) + f" ({r.seconds:.1f} s).", ""]
    Path(path).write_text(science_language("\n".join(lines)))


#: the one-sentence key numbers: figure of merit -> (template, words computed from its numbers or None); as a
#: stage's template, the sentence is ``str.format``-ed with the numbers and the words
_SENTENCES = {
    "rtn_exit": (
        "* RTN exit fraction, 2-D: simulation vs exact law, max |diff| = {agreement_2d[max_abs_diff]:.4f} "
        "over {agreement_2d[n_cells]} cells of {agreement_2d[n_points_per_cell]} points; within the stated "
        "error ({agreement_2d[stated_error]}): {agree} (figure 2).",
        lambda r: {"agree": "yes" if r["agreement_2d"]["agree"] else "NO"},
    ),
    "ptq_exit": (
        "* PTQ exit fractions on the planar valley (figure 3): GPTQ {gptq_exit_planar}, "
        "exact proxy minimiser {proxy_min_exit_planar}, RTN {rtn_exit_planar}; "
        "oracle in the basin for {oracle_in_basin_rate_planar} of trained points.",
        None,
    ),
    "chattering": (
        "* Chattering counter-case (max f / r_b = {max_flip_size_over_rb}): "
        "{never_in_basin_fraction} of {n} RTN-failed starts never enter the basin in "
        "{num_steps} steps; detected chattering: {chatter_fraction} (figure 8).",
        None,
    ),
    "proofs": (
        "* Proof statuses: {statuses}; mutants caught {mutants_caught} of {mutants_total}.",
        lambda r: {"statuses": ", ".join(f"{k} {v}" for k, v in r["statuses"].items())},
    ),
}


def _ste_lines(s: dict) -> list:
    out = [
        f"* STE recovery, {name}: probability {reg['recovery_prob']} over {reg['n']} RTN-failed starts, "
        f"{time_text(reg['median_T'])} (figure 5)."
        for name, reg in (s.get("regimes") or {}).items()
    ]
    cert = s.get("certificate") or {}
    if cert:
        out.append(
            "* Recovery certificate (landscape.certify_recovery, figure 5): "
            f"{cert['false_certificates']} false certificates among {cert['certified']} certified starts; "
            f"coverage of the {cert['recovered']} simulated recoveries {100 * cert['coverage']:.1f}% "
            f"(theorems K1/K1P alone: {100 * cert['coverage_theorems']:.1f}%); "
            f"{cert['refuted']} starts refuted, {cert['false_refutations']} wrongly."
        )
    dy = s.get("dyadic_certificate") or {}
    if dy:
        cov = dy["coverage_of_exact_hits"]
        out.append(
            f"* Recovery certificate on the dyadic k = {dy['k']} family (exact binary inputs with rounding "
            f"ties, judged by the exact rational orbit over {dy['budget']} steps; figure 5, reported apart): "
            f"{dy['false_certificates']} false certificates and {dy['false_refutations']} false refutations "
            f"in {dy['cases']} cases; {dy['certified_exact_hits']} of {dy['exact_hits']} exact entries "
            f"certified ({'n/a' if cov is None else f'{100 * cov:.1f}%'})."
        )
    return out


def key_numbers_md(fm: dict) -> list:
    """The figures of merit as a short bullet list (each says which stage it comes from)."""
    out = ["## Key numbers", ""]
    for key in ("rtn_exit", "ptq_exit", "ste_recovery", "chattering", "proofs"):
        r = fm.get(key, {})
        if r.get("status") != "ok":
            continue
        if key == "ste_recovery":
            out += _ste_lines(r)
        else:
            template, words = _SENTENCES[key]
            out.append(template.format_map(r | (words(r) if words else {})))
    return out + [""]
