"""The migrations layer: what a Django migration or an Alembic revision does to PostgreSQL.

Rules ask this package; they never match operation names themselves.

    from backbone.review.migrations import read_migration, effect

    migration = read_migration(context)   # Migration | None, memoised per file
    migration.dialect                     # Dialect.DJANGO / Dialect.ALEMBIC
    migration.steps                       # Step per operation, in order (SQL in RunSQL/op.execute
                                          # parsed by pglast into steps too)
    migration.existing(step)              # the table exists before this migration
    effect(step, postgres_version)        # Effect(lock: LockMode, rewrites, scans) or None
    locked_anyway(migration, step)        # the transaction holds ACCESS EXCLUSIVE on the table anyway
    held_before(migration, step)          # the earlier step of the transaction that took ACCESS EXCLUSIVE
    built_under_lock(migration, step)     # an index/constraint build the table's ACCESS EXCLUSIVE lock covers
"""

from __future__ import annotations

from backbone.review.migrations.locks import (
    DEFAULT_POSTGRES_VERSION,
    Effect,
    LockMode,
    built_under_lock,
    effect,
    held_before,
    locked_anyway,
)
from backbone.review.migrations.model import (
    ConstraintKind,
    DefaultKind,
    Dialect,
    Migration,
    Step,
    StepKind,
)
from backbone.review.migrations.reading import literal_text, read_migration

__all__ = [
    "built_under_lock",
    "DEFAULT_POSTGRES_VERSION",
    "ConstraintKind",
    "DefaultKind",
    "Dialect",
    "Effect",
    "LockMode",
    "Migration",
    "Step",
    "StepKind",
    "effect",
    "literal_text",
    "held_before",
    "locked_anyway",
    "read_migration",
]
