"""BB707 irreversible-code-step: RunPython/RunSQL without a reverse, an Alembic downgrade that does nothing."""

from __future__ import annotations

import ast

from backbone.findings import Severity
from backbone.review.migrations import Dialect, Migration, StepKind
from backbone.review.rules.base import RuleDoc
from backbone.review.migrations.rule_base import MigrationRule, code_for, only_in_migrations


class IrreversibleCodeStep(MigrationRule):
    code = "BB707"
    name = "irreversible-code-step"
    summary = "A RunPython or RunSQL has no reverse, or an Alembic revision's downgrade() does nothing: the migration cannot be rolled back."
    severity = Severity.WARNING
    contexts = only_in_migrations(Severity.WARNING)
    doc = RuleDoc(
        what_it_does=(
            "Finds Django `RunPython` without `reverse_code` and `RunSQL` without `reverse_sql`, and Alembic "
            "revisions whose `upgrade()` changes something while `downgrade()` is empty (`pass`, a docstring) "
            "or only raises."
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
        from alembic import op

        def upgrade():
            op.execute("UPDATE orders SET status = 'new' WHERE status IS NULL")

        def downgrade():  # expect: BB707
            pass
        """,
    )
    VALID = (
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
    )

    def check(self, migration: Migration) -> None:
        if migration.dialect is Dialect.ALEMBIC:
            self._check_downgrade(migration)
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

    def _check_downgrade(self, migration: Migration) -> None:
        downgrade = migration.functions.get("downgrade")
        if downgrade is None or not migration.steps or not _does_nothing(downgrade):
            return
        self.report(
            downgrade,
            "The downgrade() does nothing while upgrade() changes the database: `alembic downgrade` cannot undo this revision.",
            fix="Write the reverse of each op in downgrade() (op.drop_column for op.add_column, the inverse UPDATE for a backfill), "
                "or raise with a message that says how to go back by hand.",
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
