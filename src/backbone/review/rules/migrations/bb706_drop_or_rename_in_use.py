"""BB706 drop-or-rename-in-use: a column or table dropped or renamed while code may still read it."""

from __future__ import annotations

import ast

from backbone.findings import Confidence, Severity
from backbone.review.migrations import Dialect, Migration, Step, StepKind
from backbone.review.migrations.history import RENAMED_AWAY, TEMPORARY, rebuilt_across
from backbone.review.migrations.rule_base import (
    NOT_IN_REPLACED,
    MigrationRule,
    code_for,
    only_in_migrations,
)
from backbone.review.rules.base import RuleDoc, Scope

_KINDS = {
    StepKind.DROP_COLUMN: "Drops column",
    StepKind.RENAME_COLUMN: "Renames column",
    StepKind.DROP_TABLE: "Drops table",
    StepKind.RENAME_TABLE: "Renames table",
}


class DropOrRenameInUse(MigrationRule):
    code = "BB706"
    name = "drop-or-rename-in-use"
    summary = (
        "A column or table is dropped or renamed in the same deploy as the code change: the code still running "
        "(or a model that still declares it) reads a name that no longer exists."
    )
    severity = Severity.WARNING
    confidence = Confidence.MEDIUM
    contexts = only_in_migrations(Severity.WARNING)
    scope = Scope.PROJECT
    doc = RuleDoc(
        what_it_does=(
            "Finds Django `RemoveField`, `RenameField`, `DeleteModel`, `RenameModel`, `AlterModelTable` (not "
            "inside `SeparateDatabaseAndState(state_operations=...)`), Alembic `op.drop_column`, `op.drop_table`, "
            "`op.rename_table`, `op.alter_column(new_column_name=...)`, and `DROP`/`RENAME` in SQL. When a model "
            "of the project still declares the column or table, the finding says so and is high confidence. "
            "Not reported: a column dropped or renamed in a table the same migration drops (the table's drop "
            "is reported), a table the migration rebuilds (it drops the table, then renames a copy to its "
            "name), a table a Django app rebuilds over several of its migrations (a `RenameModel` of the model to a "
            "temporary name that later migrations of the app delete, while a `CreateModel` or a `RenameModel` "
            "gives the old name to a copy: the table the code reads is there again once the app's migrations ran; "
            "and the `DeleteModel` of that temporary name, or the `RenameModel` that gives the copy the old name, "
            "when no model of the project declares the temporary name: no code read it; a model renamed for good "
            "whose old name a new model takes is reported), a column an atomic migration rebuilds (it drops the column, then renames another column of "
            "the table to its name or adds it again), a column an earlier step of the migration adds, tables created by the migration, and a Django `RenameField` of a field declared with "
            "`db_column` (by the app's earlier migrations or an `AlterField` before it): the field keeps its "
            "column under the new name, so no column is renamed. A Django migration names the models of its own "
            "app (the package holding its `migrations/` folder): a model of the same name in another app is "
            "another table, so it does not make the finding high confidence. In a migration that runs on another "
            "database than PostgreSQL (see BB710), the message leaves PostgreSQL's lock out."
        ) + NOT_IN_REPLACED,
        why_is_this_bad=(
            "Migrations run before (or while) the new code rolls out: the old processes still select the column "
            "and fail with `column does not exist` until the last one is replaced. A rename is a drop for the "
            "old code. The step also takes ACCESS EXCLUSIVE on the table."
        ),
        example=(
            'from django.db import migrations\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [migrations.RemoveField("order", "legacy_code")]\n'
        ),
        use_instead=(
            'from django.db import migrations\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    # deploy 1: stop reading the field (Django: remove it from the model, keep the column)\n'
            '    operations = [migrations.SeparateDatabaseAndState(state_operations=[migrations.RemoveField("order", "legacy_code")])]\n'
            '    # deploy 2, once no running code reads it: RunSQL("ALTER TABLE shop_order DROP COLUMN legacy_code")\n'
        ),
    )

    INVALID = (
        """
        from django.db import migrations

        class Migration(migrations.Migration):
            operations = [
                migrations.RemoveField(model_name="order", name="legacy_code"),  # expect: BB706
                migrations.RenameField("order", "note", "comment"),  # expect: BB706
            ]
        """,
        """
        from alembic import op

        def upgrade():
            op.drop_column("orders", "legacy_code")  # expect: BB706
            op.rename_table("order_lines", "line_items")  # expect: BB706

        def downgrade():
            pass
        """,
        # A table dropped with its columns: the table's drop is the one finding.
        """
        from django.db import migrations

        class Migration(migrations.Migration):
            operations = [
                migrations.RemoveField(model_name="watchfolder", name="source_ptr"),
                migrations.DeleteModel(name="WatchFolder"),  # expect: BB706
            ]
        """,
    )
    VALID = (
        """
        from django.db import migrations

        class Migration(migrations.Migration):
            operations = [
                migrations.SeparateDatabaseAndState(
                    state_operations=[migrations.RemoveField(model_name="order", name="legacy_code")],
                ),
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.create_table("scratch", sa.Column("id", sa.Integer(), primary_key=True))
            op.drop_table("scratch")

        def downgrade():
            pass
        """,
    )

    def check(self, migration: Migration) -> None:
        dropped = {step.table for step in migration.steps if step.kind is StepKind.DROP_TABLE and step.table}
        for position, step in enumerate(migration.steps):
            if step.kind not in _KINDS or not migration.existed(step):
                continue
            # A column an earlier step of the migration added: no code deployed before it reads it.
            if step.column and any(other.kind is StepKind.ADD_COLUMN and other.table == step.table
                                   and other.column == step.column for other in migration.steps[:position]):
                continue
            # A column of a table the migration drops: the table's drop is the finding.
            if step.column and step.table in dropped:
                continue
            # Dropped and replaced by a copy renamed to its name (a column renamed or added again under it):
            # what the code reads is still there.
            if step.kind in (StepKind.DROP_TABLE, StepKind.DROP_COLUMN) and migration.rebuilt(step):
                continue
            declared = self.declared_by(migration, step.table, step.column)
            # One step of a table rebuilt over several migrations of the app: the table is renamed away
            # and a new one created under its name (the old name is back once the app's migrations
            # ran), or the temporary name no code read is dropped.
            rebuild = self._rebuilt_across(step, migration)
            if rebuild == RENAMED_AWAY or rebuild == TEMPORARY and not declared:
                continue
            target = f"`{step.table}.{step.column}`" if step.column else f"`{step.table}`"
            if declared:
                reason = f"the model {declared} still declares it"
                confidence = Confidence.HIGH
            else:
                reason = "the code deployed before this migration still reads it until every process is replaced"
                confidence = Confidence.MEDIUM
            self.report(
                step.node,
                f"{_KINDS[step.kind]} {target} while {reason}{self.lock_clause(migration, step)}.",
                confidence=confidence,
                fix=code_for(
                    migration,
                    "Expand and contract: remove it from the model first, keeping the database as it is:\n"
                    "    migrations.SeparateDatabaseAndState(state_operations=[<this operation>])\n"
                    "    # a later deploy, once no running code reads it: migrations.RunSQL(\"ALTER TABLE ... DROP ...\", reverse_sql=...)",
                    "Expand and contract: deploy code that no longer reads it first; drop it in a later revision.\n"
                    "    # for a rename: add the new column, write both, backfill, switch reads, then drop the old one",
                ),
            )

    def _rebuilt_across(self, step: Step, migration: Migration) -> str:
        if migration.dialect is not Dialect.DJANGO or step.column or not isinstance(step.node, ast.Call):
            return ""
        if step.kind is StepKind.RENAME_TABLE and not step.new_name:
            return ""
        return rebuilt_across(self.context.project, self.context.facts, step.node.lineno, step.node.col_offset, step.table)
