"""The summary schema accepts every regime a statement can carry (a new regime once broke `reproduce`)."""

from __future__ import annotations

import jsonschema

from landscape.reproduce.schema import SUMMARY_SCHEMA
from proofs.catalog import STATEMENTS
from proofs.core import REGIMES


def _regime_enum():
    props = SUMMARY_SCHEMA["properties"]["figures_of_merit"]["properties"]["proofs"]["properties"]
    return props["statements"]["items"]["properties"]["regime"]["enum"]


def test_schema_regimes_are_the_statements_regimes():
    assert sorted(_regime_enum()) == sorted(REGIMES)
    assert {s.regime for s in STATEMENTS} <= set(_regime_enum())


def test_a_proofs_entry_of_every_catalog_statement_validates():
    rows = [{"id": s.id, "title": s.title, "status": "proved", "regime": s.regime} for s in STATEMENTS]
    sub = SUMMARY_SCHEMA["properties"]["figures_of_merit"]["properties"]["proofs"]
    jsonschema.validate({"status": "ok", "statements": rows}, sub)
