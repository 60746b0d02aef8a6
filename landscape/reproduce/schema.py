"""The JSON schema of ``summary.json`` (draft 2020-12), and its validator."""

from __future__ import annotations

__all__ = ["SUMMARY_SCHEMA", "validate_summary", "STATUSES"]

STATUSES = ["ok", "missing", "skipped", "error"]

_stage = {
    "type": "object",
    "required": ["title", "status", "reason", "files", "seconds"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "status": {"enum": STATUSES},
        "reason": {"type": "string"},
        "files": {"type": "object", "additionalProperties": {"type": "string"}},
        "seconds": {"type": "number", "minimum": 0},
        "numbers": {"type": "object"},
    },
}

_regime = {
    "type": "object",
    "required": ["n", "recovery_prob", "median_T"],
    "properties": {
        "n": {"type": "integer", "minimum": 0},
        "recovery_prob": {"type": "number", "minimum": 0, "maximum": 1},
        "median_T": {"type": ["number", "null"], "minimum": 0},
    },
}

_count = {"type": "integer", "minimum": 0}

#: figure 5's dyadic family (exact binary inputs), judged by the exact rational orbit, reported apart
_dyadic = {
    "type": "object",
    "required": [
        "k", "budget", "seed", "cases", "certified", "refuted", "unknown", "false_certificates",
        "false_refutations", "exact_hits", "certified_exact_hits", "coverage_of_exact_hits",
        "verdict_vs_judge",
    ],
    "properties": {
        "k": {"type": "integer", "minimum": 1},
        "budget": {"type": "integer", "minimum": 1},
        "cases": {"type": "integer", "minimum": 1},
        **{n: _count for n in ("certified", "refuted", "unknown", "false_certificates", "false_refutations",
                               "exact_hits", "certified_exact_hits")},
        "coverage_of_exact_hits": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
        "verdict_vs_judge": {"type": "object", "additionalProperties": _count},
    },
}  # fmt: skip

_merit_or_missing = {"type": "object", "required": ["status"], "properties": {"status": {"enum": STATUSES}}}

SUMMARY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "landscape reproduce summary",
    "type": "object",
    "required": [
        "schema_version",
        "quick",
        "ok",
        "seconds",
        "stages",
        "figures_of_merit",
        "missing",
        "manifest",
    ],
    "properties": {
        "schema_version": {"const": 1},
        "quick": {"type": "boolean"},
        "ok": {"type": "boolean"},
        "seconds": {"type": "number", "minimum": 0},
        "stages": {"type": "object", "additionalProperties": _stage, "minProperties": 1},
        "missing": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["stage", "reason"],
                "properties": {"stage": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "figures_of_merit": {
            "type": "object",
            "required": ["rtn_exit", "ptq_exit", "ste_recovery", "chattering", "proofs"],
            "properties": {
                "rtn_exit": {
                    "type": "object",
                    "required": ["status"],
                    "if": {"properties": {"status": {"const": "ok"}}},
                    "then": {
                        "required": ["simulated_2d", "closed_form_2d", "agreement_2d"],
                        "properties": {
                            "agreement_2d": {
                                "type": "object",
                                "required": [
                                    "max_abs_diff",
                                    "max_diff_over_tolerance",
                                    "stated_error",
                                    "agree",
                                ],
                                "properties": {
                                    "agree": {"type": "boolean"},
                                    "max_abs_diff": {"type": "number", "minimum": 0},
                                },
                            }
                        },
                    },
                },
                "ptq_exit": _merit_or_missing,
                "ste_recovery": {
                    "type": "object",
                    "required": ["status"],
                    "if": {"properties": {"status": {"const": "ok"}}},
                    "then": {"required": ["certificate", "dyadic_certificate"]},
                    "properties": {
                        "regimes": {"type": "object", "additionalProperties": _regime},
                        "certificate": {
                            "type": "object",
                            "properties": {
                                "false_certificates": {"type": "integer", "minimum": 0},
                                "coverage": {"type": "number", "minimum": 0, "maximum": 1},
                                "coverage_theorems": {"type": "number", "minimum": 0, "maximum": 1},
                            },
                        },
                        "dyadic_certificate": _dyadic,
                    },
                },
                "chattering": _merit_or_missing,
                "proofs": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {
                        "statements": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["id", "title", "status"],
                                "properties": {
                                    "regime": {"enum": ["any", "off_river", "ptq_failed", "in_basin"]}
                                },
                            },
                        }
                    },
                },
            },
        },
        "manifest": {
            "type": "object",
            "required": ["config", "seed", "versions", "git_commit", "created"],
            "properties": {
                "config": {"type": "object"},
                "seed": {"type": "integer"},
                "git_commit": {"type": "string"},
                "versions": {"type": "object"},
            },
        },
    },
}


def validate_summary(summary: dict) -> None:
    """Raise ``jsonschema.ValidationError`` if ``summary`` does not follow :data:`SUMMARY_SCHEMA`."""
    import jsonschema  # noqa: PLC0415

    jsonschema.Draft202012Validator.check_schema(SUMMARY_SCHEMA)
    jsonschema.Draft202012Validator(SUMMARY_SCHEMA).validate(summary)
