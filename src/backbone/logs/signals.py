"""What a log message is evidence of: the shared knowledge the parsers ask.

Each pattern is the text a real driver, pool, server or runtime writes; docs/debug.md
lists them next to the cause they support.
"""

from __future__ import annotations

import re

from backbone.logs.model import SignalKind

_PATTERNS: tuple[tuple[SignalKind, re.Pattern[str]], ...] = (
    (
        SignalKind.CONNECTION_EXHAUSTION,
        re.compile(
            r"too many (?:connections|clients)"  # PostgreSQL, MySQL
            r"|remaining connection slots are reserved"  # PostgreSQL
            r"|QueuePool limit of size \d+ overflow \d+ reached"  # SQLAlchemy
            r"|\bPoolTimeout\b|pool timeout|connection pool (?:is )?exhausted"  # psycopg_pool, asyncpg, generic
            r"|couldn't get a connection within",  # psycopg_pool
            re.IGNORECASE,
        ),
    ),
    (
        SignalKind.LOCK_CONFLICT,
        re.compile(
            r"deadlock detected|Deadlock found when trying to get lock|\bDeadlockDetected\b"
            r"|could not serialize access|\bSerializationFailure\b|\bLockNotAvailable\b"
            r"|lock wait timeout exceeded|database is locked",
            re.IGNORECASE,
        ),
    ),
    (
        SignalKind.INTEGRITY_ERROR,
        re.compile(
            r"\bIntegrityError\b|\bUniqueViolation\b|duplicate key value violates unique constraint"
            r"|UNIQUE constraint failed|Duplicate entry .* for key",
        ),
    ),
    (
        SignalKind.EVENT_LOOP_STALL,
        re.compile(
            r"Executing <.*> took \d+(?:\.\d+)? seconds"  # asyncio debug mode, slow_callback_duration
            r"|event loop (?:was )?blocked|event[- ]loop (?:lag|stall)",
            re.IGNORECASE,
        ),
    ),
    (
        SignalKind.TIMEOUT,
        re.compile(
            r"upstream timed out|WORKER TIMEOUT|\bReadTimeout\b|\bTimeoutError\b|\bGatewayTimeout\b"
            r"|canceling statement due to statement timeout|request timed out|\btimed out\b",
            re.IGNORECASE,
        ),
    ),
)

_POOL_TIMEOUT = re.compile(r"QueuePool limit|PoolTimeout|couldn't get a connection", re.IGNORECASE)


def classify(text: str) -> set[SignalKind]:
    """The kinds of evidence a message (or an exception's type and message) carries."""
    kinds = {kind for kind, pattern in _PATTERNS if pattern.search(text)}
    # A pool checkout that timed out is connection exhaustion, not a request timeout.
    if SignalKind.CONNECTION_EXHAUSTION in kinds and _POOL_TIMEOUT.search(text):
        kinds.discard(SignalKind.TIMEOUT)
    return kinds
