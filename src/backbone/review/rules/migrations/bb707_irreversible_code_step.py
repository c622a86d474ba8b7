"""BB707 irreversible-code-step: RunPython/RunSQL without a reverse, an Alembic downgrade that does nothing."""

from __future__ import annotations

import ast

from backbone.findings import Severity
from backbone.review.migrations import Dialect, Migration, Step, StepKind
from backbone.review.migrations.rule_base import (
    NOT_IN_REPLACED,
    MigrationRule,
    code_for,
    only_in_migrations,
)
from backbone.review.rules.base import RuleDoc, Scope


class IrreversibleCodeStep(MigrationRule):
    code = "BB707"
    name = "irreversible-code-step"
    summary = "A RunPython or RunSQL has no reverse, or an Alembic revision's downgrade() does nothing: the migration cannot be rolled back."
    severity = Severity.WARNING
    contexts = only_in_migrations(Severity.WARNING)
    # A migration a squash replaces is reversed through the squash (Django's loader uses the squash's node).
    scope = Scope.PROJECT
    doc = RuleDoc(
        what_it_does=(
            "Finds Django `RunPython` without `reverse_code` and `RunSQL` without `reverse_sql`, and Alembic "
            "revisions whose `upgrade()` changes something while `downgrade()` is empty (`pass`, a docstring) "
            "or only raises. Not reported: an Alembic revision that only changes rows (UPDATE, INSERT, a "
            "backfill) or who may read a table (GRANT, REVOKE, `ALTER PUBLICATION ... ADD TABLE`, also inside a "
            "`DO` block that runs nothing else) under an unchanged schema, whose empty downgrade is the equivalent of "
            "`RunPython.noop`, an empty downgrade whose docstring or comment says why it stays empty, or that "
            "raises an exception with a message (`raise NotImplementedError(\"restore from a backup\")`), "
            "a revision that only drops what may not be there (`DROP ... IF EXISTS`, a drop under an `if` that asks "
            "the inspector: `get_indexes`, `has_table`...), whose way back has nothing to recreate, "
            "and the first revision of a history (`down_revision = None`) "
            "(Alembic's generated `### commands auto generated ###` markers are not such a comment); a revision "
            "that only adds enum values (`ALTER TYPE ... ADD VALUE`, which PostgreSQL cannot revert: the unused "
            "value left behind is harmless) and rows; a `RunPython(*helper(...))` whose arguments a project "
            "helper returns (its `(forwards, backwards)` pair is not visible in the migration); a step of an "
            "initial Django migration (`initial = True`): migrating back past it is `migrate app zero`, removing "
            "the app's tables, not rolling a deploy back."
        ) + NOT_IN_REPLACED + (
            " (Django migrates back through the squash's own operations, not the replaced migration's.)"
        ),
        why_is_this_bad=(
            "When a deploy goes wrong, `migrate app <previous>` or `alembic downgrade -1` stops with "
            "`IrreversibleError` at this migration, and the rollback of the code has to wait for a hand-written "
            "fix. `RunPython.noop` / `RunSQL.noop` say explicitly that going back needs no work."
        ),
        example=(
            'from django.db import migrations\n'
            '\n'
            '\n'
            'def backfill_totals(apps, schema_editor):\n'
            '    pass\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [migrations.RunPython(backfill_totals)]\n'
        ),
        use_instead=(
            'from django.db import migrations\n'
            '\n'
            '\n'
            'def backfill_totals(apps, schema_editor):\n'
            '    pass\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [migrations.RunPython(backfill_totals, migrations.RunPython.noop)]\n'
        ),
    )

    INVALID = (
        # One statement of the SQL drops only what is there; the next one creates a table.
        """
        from alembic import op

        revision = "e5"
        down_revision = "d4"

        def upgrade():
            op.execute("DROP INDEX IF EXISTS ix_old; CREATE TABLE notes (id integer PRIMARY KEY, body text)")

        def downgrade():  # expect: BB707
            pass
        """,
        # A column added only where it is missing is still added; a stray constraint dropped next to
        # it does not make the revision a clean-up. A bare raise says nothing of the way back.
        """
        import sqlalchemy as sa
        from alembic import op

        revision = "d4"
        down_revision = "c3"

        def upgrade():
            op.execute("ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_note_check")
            if "status" not in [column["name"] for column in sa.inspect(op.get_bind()).get_columns("orders")]:
                op.add_column("orders", sa.Column("status", sa.Text(), nullable=True))

        def downgrade():  # expect: BB707
            raise NotImplementedError
        """,
        """
        from django.db import migrations

        def backfill(apps, schema_editor):
            pass

        class Migration(migrations.Migration):
            operations = [
                migrations.RunPython(backfill),  # expect: BB707
                migrations.RunSQL("UPDATE shop_order SET note = ''"),  # expect: BB707
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.add_column("orders", sa.Column("status", sa.Text(), nullable=True))

        def downgrade():  # expect: BB707
            pass
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))
            op.execute("UPDATE orders SET note = ''")

        def downgrade():  # expect: BB707
            # ### commands auto generated by Alembic - please adjust! ###
            pass
            # ### end Alembic commands ###
        """,
    )
    VALID = (
        """
        import sqlalchemy as sa
        from alembic import op

        revision = "b2"
        down_revision = "a1"

        def upgrade():
            op.drop_table("legacy_versions")

        def downgrade():
            raise NotImplementedError("the legacy tables are gone for good: restore them from a backup")
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        revision = "c3"
        down_revision = "b2"

        def upgrade():
            op.execute("ALTER TABLE notes DROP CONSTRAINT IF EXISTS notes_body_check")
            op.execute(
                "ALTER TABLE notification_delivery_attempts_by_channel_and_recipient "
                "DROP CONSTRAINT IF EXISTS notification_delivery_attempts_recipient_check"
            )
            op.drop_index("ix_notes_legacy", table_name="notes", if_exists=True)
            inspector = sa.inspect(op.get_bind())
            if "ix_notes_stray" in [index["name"] for index in inspector.get_indexes("notes")]:
                op.drop_index("ix_notes_stray", table_name="notes")

        def downgrade():
            pass
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        revision = "a1"
        down_revision = None

        def upgrade():
            op.drop_table("legacy_versions")
            op.create_table("notes", sa.Column("id", sa.Integer(), primary_key=True))

        def downgrade():
            pass
        """,
        """
        from django.db import migrations, models

        def seed(apps, schema_editor):
            apps.get_model("shop", "Country").objects.create(code="FR")

        class Migration(migrations.Migration):
            # The app's first migration: going back past it is `migrate shop zero`.
            initial = True

            operations = [
                migrations.CreateModel("Country", [("code", models.CharField(max_length=2))]),
                migrations.RunPython(seed),
                migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm"),
            ]
        """,
        """
        from django.db import migrations

        def backfill(apps, schema_editor):
            pass

        class Migration(migrations.Migration):
            operations = [
                migrations.RunPython(backfill, migrations.RunPython.noop),
                migrations.RunSQL("UPDATE shop_order SET note = ''", reverse_sql=migrations.RunSQL.noop),
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))

        def downgrade():
            op.drop_column("orders", "note")
        """,
        # Rows only: the previous code reads them as well. And an emptiness the author explains.
        """
        from alembic import op

        def upgrade():
            op.execute("UPDATE orders SET status = 'new' WHERE status IS NULL")

        def downgrade():
            pass
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))

        def downgrade():
            # The service only ever upgrades its configuration database.
            pass
        """,
    )

    def check(self, migration: Migration) -> None:
        if migration.dialect is Dialect.ALEMBIC:
            self._check_downgrade(migration)
            return
        if migration.initial:
            # Going back past it drops the app's tables: no deploy is rolled back that far.
            return
        for step in migration.steps:
            if step.kind is StepKind.DATA and not step.reversible:
                operation = "RunSQL" if step.from_sql or "RunSQL" in step.text else "RunPython"
                self.report(
                    step.node,
                    f"{operation} has no reverse: `migrate` back past this migration stops with IrreversibleError.",
                    fix=code_for(
                        migration,
                        f"Give it a reverse, or say that none is needed: "
                        f"{'reverse_sql=migrations.RunSQL.noop' if operation == 'RunSQL' else 'migrations.RunPython(forward, migrations.RunPython.noop)'}.",
                        "",
                    ),
                )

    def _drops_what_may_not_exist(self, step: Step) -> bool:
        """The step drops something only if it is there: `DROP ... IF EXISTS`, or a drop under an
        `if` that asks the database's inspector whether it is."""
        if step.kind not in _DROPS and not step.removes:
            return False
        if step.if_exists:
            return True
        return any(
            isinstance(ancestor, ast.If) and _inspects(ancestor.test) for ancestor in self.context.ancestors(step.node)
        )

    def _check_downgrade(self, migration: Migration) -> None:
        downgrade = migration.functions.get("downgrade")
        if downgrade is None or not migration.steps or not _does_nothing(downgrade):
            return
        if _root_revision(self.context.tree):
            # The first revision (`down_revision = None`): no deploy is rolled back past it.
            return
        if all(self._drops_what_may_not_exist(step) for step in migration.steps):
            # `DROP INDEX IF EXISTS stray_idx`, or a drop under `if ... in inspector.get_indexes(...)`:
            # a clean-up of what may not be there; going back has nothing to recreate.
            return
        if _raises_with_a_message(downgrade):
            # `raise NotImplementedError("cannot revert to ...")`: the author says going back is not
            # possible, loudly: a decision, not an omission.
            return
        # Rows changed, or access granted, under an unchanged schema: the previous code reads the
        # same tables, going back needs no work (Django's RunPython.noop). An enum value added:
        # PostgreSQL cannot drop one, so an empty downgrade that leaves an unused value behind is
        # the documented way back.
        if all(step.kind in (StepKind.DATA, StepKind.GRANT, StepKind.ADD_ENUM_VALUE) for step in migration.steps):
            return
        # The author says why going back is not possible: a decision, not an omission.
        if ast.get_docstring(downgrade) or _explained(self.context.lines[downgrade.lineno:downgrade.end_lineno]):
            return
        self.report(
            downgrade,
            "The downgrade() does nothing while upgrade() changes the database: `alembic downgrade` cannot undo this revision.",
            fix="Write the reverse of each op in downgrade() (op.drop_column for op.add_column, the inverse UPDATE for a backfill), "
                "or raise with a message that says how to go back by hand.",
        )


def _explained(body: list[str]) -> bool:
    """Whether a function body's lines have a comment of its author (not Alembic's `### ... ###` markers)."""
    for line in body:
        _, hash_sign, comment = line.partition("#")
        if hash_sign and comment.strip() and not comment.strip().startswith("##"):
            return True
    return False


# Inspector calls whose answer says whether a table, column, index or constraint is there.
_INSPECTIONS = frozenset({
    "has_table", "has_index", "has_column", "get_indexes", "get_columns", "get_table_names", "get_unique_constraints",
    "get_foreign_keys", "get_check_constraints", "get_pk_constraint", "get_view_names", "has_sequence",
})
_DROPS = frozenset({StepKind.DROP_INDEX, StepKind.DROP_COLUMN, StepKind.DROP_TABLE})


def _root_revision(tree: ast.Module) -> bool:
    """The revision's module sets `down_revision = None`: it is the first of its history."""
    for statement in tree.body:
        targets = statement.targets if isinstance(statement, ast.Assign) else (
            [statement.target] if isinstance(statement, ast.AnnAssign) and statement.value is not None else []
        )
        value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
        if any(isinstance(target, ast.Name) and target.id == "down_revision" for target in targets):
            return isinstance(value, ast.Constant) and value.value is None
    return False


def _inspects(test: ast.expr) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name))
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) in _INSPECTIONS
        for node in ast.walk(test)
    )


def _raises_with_a_message(function: ast.FunctionDef) -> bool:
    """A statement of the function raises an exception built with arguments (a message)."""
    return any(
        isinstance(statement, ast.Raise) and isinstance(statement.exc, ast.Call)
        and bool(statement.exc.args or statement.exc.keywords)
        for statement in function.body
    )


def _does_nothing(function: ast.FunctionDef) -> bool:
    for statement in function.body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue
        if isinstance(statement, ast.Raise):
            continue
        return False
    return True
