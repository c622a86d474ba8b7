"""BB703 constraint-without-not-valid: a foreign key, check or unique constraint validated under a lock."""

from __future__ import annotations

from backbone.findings import Severity
from backbone.review.migrations import (
    ConstraintKind,
    Migration,
    StepKind,
    built_under_lock,
)
from backbone.review.migrations.rule_base import (
    APPLIED_BY_THE_PROJECT,
    NOT_IN_REPLACED,
    NOT_ON_EMPTIED,
    NOT_ON_NEW_TABLES,
    NOT_ON_OTHER_DATABASES,
    NOT_UNDER_HELD_LOCK,
    MigrationRule,
    code_for,
    only_in_migrations,
)
from backbone.review.rules.base import RuleDoc, Scope


class ConstraintWithoutNotValid(MigrationRule):
    code = "BB703"
    name = "constraint-without-not-valid"
    summary = (
        "A foreign key, check or unique constraint is added to an existing table in one step, so PostgreSQL "
        "checks every row while holding a lock that blocks writes."
    )
    severity = Severity.WARNING
    contexts = only_in_migrations(Severity.WARNING)
    postgres_locks = True
    # A per-database revisions directory is known from the project's other directories.
    scope = Scope.PROJECT
    doc = RuleDoc(
        what_it_does=(
            "Finds Django `AddConstraint`, `AlterUniqueTogether` (each new set of fields is a UNIQUE constraint) "
            "and `AddField` of a `ForeignKey`/`OneToOneField`, Alembic "
            "`op.create_foreign_key`/`create_check_constraint`/`create_unique_constraint`, a `ForeignKey` in "
            "`op.add_column`, and `ALTER TABLE ... ADD CONSTRAINT` without `NOT VALID` (or, for UNIQUE, without "
            "`USING INDEX`) in SQL, on a table the migration did not create. Not reported: a Django `AddField` "
            "of a new nullable `ForeignKey` without a default (Django declares the key inline in ADD COLUMN, and "
            "PostgreSQL has no row to check in a column that is NULL everywhere), and the same in Alembic: a "
            "`ForeignKey` in the `op.add_column` of a nullable column without a `server_default`, or an "
            "`op.create_foreign_key` on one column an earlier `op.add_column` of the revision adds that way, with "
            "no data step between the two; a `default=\"\"` counting as none "
            "when the key points to an integer `id` (the app's migrations declare it an AutoField): Django saves "
            "the empty string as NULL for a key that takes no empty string."
        ) + NOT_UNDER_HELD_LOCK + NOT_ON_NEW_TABLES + NOT_ON_EMPTIED + NOT_ON_OTHER_DATABASES + APPLIED_BY_THE_PROJECT + NOT_IN_REPLACED,
        why_is_this_bad=(
            "Adding a validated foreign key takes SHARE ROW EXCLUSIVE on both tables and a CHECK or UNIQUE "
            "constraint takes ACCESS EXCLUSIVE while every row is checked (and, for UNIQUE, an index is built). "
            "`NOT VALID` adds the constraint at once for new rows; `VALIDATE CONSTRAINT` then checks the old "
            "rows under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on."
        ),
        example=(
            'from alembic import op\n'
            '\n'
            'revision = "0002"\n'
            'down_revision = "0001"\n'
            '\n'
            '\n'
            'def upgrade():\n'
            '    op.create_foreign_key("fk_orders_customer", "orders", "customers", ["customer_id"], ["id"])\n'
        ),
        use_instead=(
            'from alembic import op\n'
            '\n'
            'revision = "0002"\n'
            'down_revision = "0001"\n'
            '\n'
            '\n'
            'def upgrade():\n'
            '    op.execute("ALTER TABLE orders ADD CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID")\n'
            '    op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_orders_customer")  # ideally its own revision\n'
        ),
    )

    INVALID = (
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                migrations.AddConstraint(  # expect: BB703
                    "order", models.CheckConstraint(check=models.Q(total__gte=0), name="total_positive"),
                ),
            ]
        """,
        """
        from alembic import op

        def upgrade():
            op.create_foreign_key("fk_orders_customer", "orders", "customers", ["customer_id"], ["id"])  # expect: BB703
            op.execute("ALTER TABLE orders ADD CONSTRAINT code_unique UNIQUE (code)")  # expect: BB703

        def downgrade():
            pass
        """,
    )
    VALID = (
        """
        from alembic import op

        def upgrade():
            op.execute("ALTER TABLE orders ADD CONSTRAINT fk_customer FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID")
            op.execute("ALTER TABLE orders VALIDATE CONSTRAINT fk_customer")
            op.execute("ALTER TABLE orders ADD CONSTRAINT code_unique UNIQUE USING INDEX orders_code_idx")

        def downgrade():
            pass
        """,
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                migrations.CreateModel("Coupon", fields=[("code", models.CharField(max_length=10))]),
                migrations.AddConstraint("coupon", models.UniqueConstraint(fields=["code"], name="coupon_code")),
            ]
        """,
    )

    def check(self, migration: Migration) -> None:
        for step in migration.steps:
            if step.kind is not StepKind.ADD_CONSTRAINT or step.not_valid or step.on_new_null_column \
                    or not migration.existing(step) or built_under_lock(migration, step, self.postgres_version):
                continue
            kind = step.constraint or ConstraintKind.CHECK
            if kind in (ConstraintKind.PRIMARY_KEY, ConstraintKind.EXCLUDE):
                continue
            name = "<name>"
            if kind is ConstraintKind.UNIQUE:
                sql = (
                    f"CREATE UNIQUE INDEX CONCURRENTLY {step.table}_uniq ON {step.table} (...)\", then "
                    f"\"ALTER TABLE {step.table} ADD CONSTRAINT {name} UNIQUE USING INDEX {step.table}_uniq"
                )
            else:
                sql = (
                    f"ALTER TABLE {step.table} ADD CONSTRAINT {name} "
                    f"{'FOREIGN KEY (...) REFERENCES ' + (step.other_table or '...') + ' (...)' if kind is ConstraintKind.FOREIGN_KEY else 'CHECK (...)'}"
                    f" NOT VALID\", then \"ALTER TABLE {step.table} VALIDATE CONSTRAINT {name}"
                )
            self.report(
                step.node,
                f"Adds a {kind.value} constraint validated in the same step: it {self.consequence(step)} "
                "while every existing row is checked.",
                fix=code_for(
                    migration,
                    f"Add it NOT VALID, then validate it in a later migration:\n    migrations.RunSQL(\"{sql}\", "
                    "reverse_sql=...)  # with migrations.SeparateDatabaseAndState(state_operations=[<the operation>])",
                    f"Add it NOT VALID, then validate it in a later revision:\n    op.execute(\"{sql}\")",
                ),
            )
