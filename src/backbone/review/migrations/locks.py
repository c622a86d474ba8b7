"""What PostgreSQL locks and rewrites for each step (the knowledge the BB7 rules and the trace share)."""

from __future__ import annotations

import enum

from backbone.records import Record
from backbone.review.migrations.model import (
    ConstraintKind,
    DefaultKind,
    Migration,
    Step,
    StepKind,
)

DEFAULT_POSTGRES_VERSION = 15
# PostgreSQL 11 adds a column with a non-volatile default without rewriting the table.
FAST_DEFAULT_VERSION = 11


class LockMode(enum.Enum):
    """PostgreSQL's table lock modes, weakest first (the names pg_locks reports)."""

    ACCESS_SHARE = "AccessShareLock"
    ROW_SHARE = "RowShareLock"
    ROW_EXCLUSIVE = "RowExclusiveLock"
    SHARE_UPDATE_EXCLUSIVE = "ShareUpdateExclusiveLock"
    SHARE = "ShareLock"
    SHARE_ROW_EXCLUSIVE = "ShareRowExclusiveLock"
    EXCLUSIVE = "ExclusiveLock"
    ACCESS_EXCLUSIVE = "AccessExclusiveLock"

    @property
    def title(self) -> str:
        """ACCESS EXCLUSIVE, SHARE UPDATE EXCLUSIVE, ..."""
        words = []
        current = ""
        for character in self.value.removesuffix("Lock"):
            if character.isupper() and current:
                words.append(current)
                current = ""
            current += character
        words.append(current)
        return " ".join(word.upper() for word in words)

    @property
    def article(self) -> str:
        """"an ACCESS EXCLUSIVE", "a SHARE"."""
        return f"{'an' if self.title[0] in 'AEIOU' else 'a'} {self.title}"

    @property
    def rank(self) -> int:
        return list(LockMode).index(self)

    @property
    def blocks(self) -> str:
        if self is LockMode.ACCESS_EXCLUSIVE:
            return "blocks every read and write of the table"
        if self.rank >= LockMode.SHARE.rank:
            return "blocks every write to the table"
        if self is LockMode.SHARE_UPDATE_EXCLUSIVE:
            return "blocks neither reads nor writes"
        return "blocks only schema changes"


class Effect(Record, frozen=True):
    """What a step does to its table while it runs."""

    lock: LockMode
    rewrites: bool
    # A full scan (validation) under the lock, without a rewrite.
    scans: bool = False

    def describe(self, table: str) -> str:
        what = "rewrites the table" if self.rewrites else "scans every row" if self.scans else "does not rewrite the table"
        name = f"`{table}`" if table else "the table"
        return f"takes {self.lock.article} lock on {name} ({self.lock.blocks}) and {what}"


def effect(step: Step, postgres_version: int = DEFAULT_POSTGRES_VERSION) -> Effect | None:
    """The lock and rewrite `step` causes on its (existing) table; None for data steps."""
    kind = step.kind
    if kind is StepKind.ADD_COLUMN:
        rewrites = step.default is DefaultKind.VOLATILE or (
            step.default is DefaultKind.CONSTANT and postgres_version < FAST_DEFAULT_VERSION
        )
        return Effect(LockMode.ACCESS_EXCLUSIVE, rewrites, scans=step.not_null and not rewrites)
    if kind is StepKind.CREATE_INDEX:
        return Effect(LockMode.SHARE_UPDATE_EXCLUSIVE if step.concurrently else LockMode.SHARE, False, scans=True)
    if kind is StepKind.DROP_INDEX:
        return Effect(LockMode.SHARE_UPDATE_EXCLUSIVE if step.concurrently else LockMode.ACCESS_EXCLUSIVE, False)
    if kind is StepKind.ADD_CONSTRAINT:
        if step.constraint is ConstraintKind.FOREIGN_KEY:
            return Effect(LockMode.SHARE_ROW_EXCLUSIVE, False, scans=not step.not_valid and not step.on_new_null_column)
        return Effect(LockMode.ACCESS_EXCLUSIVE, False, scans=not step.not_valid)
    if kind is StepKind.VALIDATE_CONSTRAINT:
        return Effect(LockMode.SHARE_UPDATE_EXCLUSIVE, False, scans=True)
    if kind is StepKind.ALTER_TYPE:
        return Effect(LockMode.ACCESS_EXCLUSIVE, step.rewrites)
    if kind is StepKind.SET_NOT_NULL:
        return Effect(LockMode.ACCESS_EXCLUSIVE, False, scans=True)
    if kind in (StepKind.DROP_COLUMN, StepKind.DROP_TABLE, StepKind.RENAME_COLUMN, StepKind.RENAME_TABLE,
                StepKind.OTHER_DDL):
        return Effect(LockMode.ACCESS_EXCLUSIVE, False)
    return None


def locked_anyway(migration: Migration, step: Step, postgres_version: int = DEFAULT_POSTGRES_VERSION) -> bool:
    """Whether the migration's transaction holds an ACCESS EXCLUSIVE lock on the step's table
    whatever the step does: an earlier step takes it, or a later step of another kind does
    (dropping an index right before its table, or before renaming a column of it).

    Only in an atomic migration, where every lock is held until the commit.
    """
    if not migration.atomic or not step.table:
        return False
    seen = False
    for other in migration.steps:
        if other is step:
            seen = True
            continue
        if other.table != step.table or (seen and other.kind is step.kind):
            continue
        found = effect(other, postgres_version)
        if found is not None and found.lock is LockMode.ACCESS_EXCLUSIVE:
            return True
    return False


def held_before(migration: Migration, step: Step, postgres_version: int = DEFAULT_POSTGRES_VERSION) -> Step | None:
    """The earlier step of the same atomic transaction that takes ACCESS EXCLUSIVE on the step's
    table (an ADD COLUMN, a dropped column, a type change, another SET NOT NULL, ...), or None.

    Its lock is held from then to the commit: the table is unavailable between the two, so no step
    in between (a CHECK validated first) can shorten the lock; only a migration of its own could.
    """
    if not migration.atomic or not step.table:
        return None
    for other in migration.steps:
        if other is step:
            return None
        if other.table == step.table:
            found = effect(other, postgres_version)
            if found is not None and found.lock is LockMode.ACCESS_EXCLUSIVE:
                return other
    return None


def _scanning_build(migration: Migration, step: Step, postgres_version: int) -> bool:
    """An index built, or a constraint validated, over the rows of an existing table under the
    table's own lock: a non-concurrent CREATE INDEX, a validated CHECK or UNIQUE constraint (a
    foreign key also locks the table it references, so each is a finding of its own; a primary key
    or an exclusion constraint is the table's own structure, no rule asks for another way to add it)."""
    if step.kind is StepKind.CREATE_INDEX:
        return not step.concurrently and migration.existing(step)
    if step.kind is StepKind.ADD_CONSTRAINT and step.constraint in (ConstraintKind.CHECK, ConstraintKind.UNIQUE, None):
        found = effect(step, postgres_version)
        return found is not None and found.scans and migration.existing(step)
    return False


def built_under_lock(migration: Migration, step: Step, postgres_version: int = DEFAULT_POSTGRES_VERSION) -> bool:
    """Whether an index build or a constraint validation (`step`) adds nothing to report because
    the atomic migration holds ACCESS EXCLUSIVE on the table anyway (`locked_anyway`) and an
    earlier build of the same kind of finding on the same table is reported already, or an earlier
    step already reads or rewrites every row under that lock (`_full_pass`): the builds
    run one after the other under one lock, and one change (moving them out of this transaction)
    fixes them all, so the table is reported once per migration. An index over a column the
    migration adds is reported like any other: its build scans every row while the ADD COLUMN's
    lock is held, and a migration of its own (committed after the column's) can build it
    concurrently."""
    if not migration.atomic or not step.table or not locked_anyway(migration, step, postgres_version):
        return False
    if not _scanning_build(migration, step, postgres_version):
        return False
    for other in migration.steps:
        if other is step:
            return False
        if other.table == step.table and (
            _scanning_build(migration, other, postgres_version) or _full_pass(migration, other, postgres_version)
        ):
            return True
    return False


def _full_pass(migration: Migration, step: Step, postgres_version: int) -> bool:
    """A step that reads or rewrites every row of an existing table under ACCESS EXCLUSIVE: a
    rewriting type change (BB704), a SET NOT NULL (BB705), a column whose default is written to
    every row (BB701), a primary key built over the rows."""
    found = effect(step, postgres_version)
    if found is None or found.lock is not LockMode.ACCESS_EXCLUSIVE or not migration.existing(step):
        return False
    # A NOT NULL column with a constant default reads no row (PostgreSQL 11+ stores the default once).
    return found.rewrites or (found.scans and step.kind is not StepKind.ADD_COLUMN)
