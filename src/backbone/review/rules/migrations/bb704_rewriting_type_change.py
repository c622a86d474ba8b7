"""BB704 rewriting-type-change: a column type change that rewrites the table under ACCESS EXCLUSIVE."""

from __future__ import annotations

from backbone.findings import Severity
from backbone.review.migrations import Migration, StepKind
from backbone.review.rules.base import RuleDoc
from backbone.review.migrations.rule_base import MigrationRule, code_for, only_in_migrations


class RewritingTypeChange(MigrationRule):
    code = "BB704"
    name = "rewriting-type-change"
    summary = "A column's type changes in a way that makes PostgreSQL rewrite the table and its indexes under ACCESS EXCLUSIVE."
    severity = Severity.ERROR
    contexts = only_in_migrations(Severity.ERROR)
    doc = RuleDoc(
        what_it_does=(
            "Finds Alembic `op.alter_column(..., type_=...)` and `ALTER COLUMN ... TYPE` in SQL on an existing "
            "table, except the changes PostgreSQL makes without a rewrite: `varchar(n)` to a longer `varchar` "
            "or to `text` (Alembic `existing_type=sa.String(n)`). Django `AlterField` does not say the old type "
            "in the migration; `backbone migrations trace` shows whether it rewrote."
        ),
        why_is_this_bad=(
            "A rewriting type change copies every row and rebuilds every index while holding ACCESS EXCLUSIVE: "
            "the table can be neither read nor written until it ends."
        ),
        example=(
            'import sqlalchemy as sa\n'
            'from alembic import op\n'
            '\n'
            'revision = "0002"\n'
            'down_revision = "0001"\n'
            '\n'
            '\n'
            'def upgrade():\n'
            '    op.alter_column("orders", "total", type_=sa.BigInteger())\n'
        ),
        use_instead=(
            (
            'import sqlalchemy as sa\n'
            'from alembic import op\n'
            '\n'
            'revision = "0002"\n'
            'down_revision = "0001"\n'
            '\n'
            '\n'
            'def upgrade():\n'
            '    # expand: add the new column, write both, backfill in batches, switch reads, then drop the old one\n'
            '    op.add_column("orders", sa.Column("total_big", sa.BigInteger(), nullable=True))\n'
        )
        ),
    )

    INVALID = (
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.alter_column("orders", "total", type_=sa.BigInteger(), existing_type=sa.Integer())  # expect: BB704

        def downgrade():
            pass
        """,
        """
        from django.db import migrations

        class Migration(migrations.Migration):
            operations = [
                migrations.RunSQL("ALTER TABLE shop_order ALTER COLUMN total TYPE numeric(12, 2)",  # expect: BB704
                                  reverse_sql="ALTER TABLE shop_order ALTER COLUMN total TYPE integer"),
            ]
        """,
    )
    VALID = (
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.alter_column("orders", "note", type_=sa.String(200), existing_type=sa.String(100))
            op.alter_column("orders", "title", type_=sa.Text(), existing_type=sa.String(100))
            op.execute("ALTER TABLE orders ALTER COLUMN code TYPE text")

        def downgrade():
            pass
        """,
    )

    def check(self, migration: Migration) -> None:
        for step in migration.steps:
            if step.kind is not StepKind.ALTER_TYPE or not step.rewrites or not migration.existing(step):
                continue
            self.report(
                step.node,
                f"Changes the type of `{step.column}`: it {self.consequence(step)} and all its indexes.",
                fix=code_for(
                    migration,
                    "Expand and contract instead of changing the type in place:\n"
                    f"    migrations.AddField(\"{step.table}\", \"{step.column}_new\", <new field>(null=True))\n"
                    "    # write both columns in the code, backfill in batches (RunPython), switch reads,\n"
                    f"    # then RemoveField(\"{step.table}\", \"{step.column}\") and rename in state only",
                    "Expand and contract instead of changing the type in place:\n"
                    f"    op.add_column(\"{step.table}\", sa.Column(\"{step.column}_new\", <new type>, nullable=True))\n"
                    "    # write both columns in the code, backfill in batches, switch reads,\n"
                    f"    # then op.drop_column(\"{step.table}\", \"{step.column}\") in a later revision",
                ),
            )
