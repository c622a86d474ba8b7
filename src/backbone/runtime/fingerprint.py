"""The profile's query fingerprints: backbone's one SQL fingerprint, from `backbone.sql`."""

from __future__ import annotations

from backbone.sql.fingerprint import (
    Fingerprint,
    FingerprintCache,
    default_cache,
    fingerprint,
    query_id,
    regex_fingerprint,
)
from backbone.sql.kinds import StatementKind

__all__ = [
    "Fingerprint",
    "FingerprintCache",
    "StatementKind",
    "default_cache",
    "fingerprint",
    "query_id",
    "regex_fingerprint",
]
