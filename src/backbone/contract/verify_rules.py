"""The codes of `backbone contract verify` (CT3xxx), apart from the engine so the catalog
can list them without importing schemathesis."""

from __future__ import annotations

from backbone.contract.checks import Level
from backbone.contract.lint import LintRule

_RULES = [
    ("server-error", Level.BREAKING, "a request got a 5xx response"),
    ("app-crashed", Level.BREAKING, "the app raised an exception instead of answering (a server answers 500)"),
    ("no-answer", Level.BREAKING, "the app did not answer a request within the time limit"),
    ("response-schema-mismatch", Level.BREAKING, "a response body does not match the documented schema"),
    ("undocumented-status", Level.WARNING, "a response has a status code the operation does not document"),
    ("undocumented-media-type", Level.WARNING, "a response has a media type the operation does not document"),
    ("invalid-input-accepted", Level.WARNING, "a request that breaks the contract got a success response"),
]
VERIFY_RULES = {rule_id: LintRule(rule_id, f"CT{3001 + n}", level, summary) for n, (rule_id, level, summary) in enumerate(_RULES)}
