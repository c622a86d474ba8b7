"""BB701 not-null-column-without-default: a NOT NULL column added with no default, or a volatile one."""

from __future__ import annotations

from backbone.findings import Confidence, Severity
from backbone.review.migrations import DefaultKind, Migration, StepKind
from backbone.review.migrations.locks import FAST_DEFAULT_VERSION
from backbone.review.migrations.rule_base import (
    NOT_IN_REPLACED,
    NOT_ON_EMPTIED,
    NOT_ON_NEW_TABLES,
    MigrationRule,
    code_for,
    only_in_migrations,
)
from backbone.review.rules.base import RuleDoc, Scope


class NotNullColumnWithoutDefault(MigrationRule):
    code = "BB701"
    name = "not-null-column-without-default"
    summary = (
        "A column added to an existing table is NOT NULL without a default (the migration fails on a table "
        "with rows), or has a volatile default (or any default before PostgreSQL 11) that rewrites the table."
    )
    severity = Severity.ERROR
    contexts = only_in_migrations(Severity.ERROR)
    # A field class of the project is read through its bases in the project index.
    scope = Scope.PROJECT
    doc = RuleDoc(
        what_it_does=(
            "Finds columns added to a table that exists before the migration (Django `AddField`, Alembic "
            "`op.add_column`, `ALTER TABLE ... ADD COLUMN` in `RunSQL`/`op.execute`) that are NOT NULL with no "
            "default, or whose default is volatile (`random()`, `gen_random_uuid()`, `clock_timestamp()`, "
            "Django `db_default=RandomUUID()`). On the PostgreSQL version set by `postgres-version` (default "
            "15), a constant default is free from version 11 on; before 11 every default rewrites the table. "
            "Not reported: columns of tables created in the same migration, or in an `initial = True` Django "
            "migration (it runs when the app is installed, on empty tables), many-to-many fields and other "
            "fields without a column (`ManyToManyField`, the many-to-many fields of known packages of model "
            "fields such as a sorted or a parental many-to-many, `GenericRelation`, any field declared with `through=`), "
            "and date fields with `auto_now`/`auto_now_add` (Django fills the rows with the current time). A "
            "field class of the project counts as the Django field it derives from (a subclass of `CharField`, "
            "`TextField` or any other field whose empty value is a string, `models.Field` itself included, "
            "with `blank=True` is filled with \"\", a subclass of a many-to-many field, Django's or a known package's, "
            "adds no column). A blank field of "
            "another package's class (perhaps a string field Django fills with \"\") is reported at medium "
            "confidence."
        ) + NOT_ON_NEW_TABLES + NOT_ON_EMPTIED + NOT_IN_REPLACED,
        why_is_this_bad=(
            "`ADD COLUMN` takes an ACCESS EXCLUSIVE lock: nothing reads or writes the table meanwhile. A NOT NULL "
            "column with no default fails as soon as the table has a row; a volatile default makes PostgreSQL "
            "rewrite every row under that lock, which on a large table is an outage."
        ),
        example=(
            'from django.db import migrations, models\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [\n'
            '        migrations.AddField("order", "reference", models.CharField(max_length=20)),\n'
            '    ]\n'
        ),
        use_instead=(
            'from django.db import migrations, models\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [\n'
            '        migrations.AddField("order", "reference", models.CharField(max_length=20, null=True)),\n'
            '        # backfill in batches in a later migration, then add a validated CHECK and SET NOT NULL\n'
            '    ]\n'
        ),
    )

    INVALID = (
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [
                migrations.AddField(  # expect: BB701
                    model_name="order", name="reference", field=models.CharField(max_length=20),
                ),
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        revision = "b2"
        down_revision = "a1"

        def upgrade():
            op.add_column("orders", sa.Column("token", sa.Uuid(), nullable=False,  # expect: BB701
                                              server_default=sa.text("gen_random_uuid()")))
            op.execute("ALTER TABLE orders ADD COLUMN weight integer NOT NULL")  # expect: BB701

        def downgrade():
            op.drop_column("orders", "weight")
            op.drop_column("orders", "token")
        """,
        # A field class of another package: Django may fill blank rows, so this is a guess (a warning).
        """
        from django.db import migrations
        import timezone_field.fields

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [
                migrations.AddField("store", "zone", timezone_field.fields.TimeZoneField(blank=True)),  # expect: BB701
            ]
        """,
    )
    VALID = (
        # A NullBooleanField takes NULL in the existing rows.
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [
                migrations.AddField(model_name="order", name="gift", field=models.NullBooleanField()),
            ]
        """,
        # A table the revision empties first has no row to fail on.
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.execute("TRUNCATE price_cache")
            op.add_column("price_cache", sa.Column("currency", sa.Text(), nullable=False))

        def downgrade():
            op.drop_column("price_cache", "currency")
        """,
        # An initial migration runs on the app's empty tables; a many-to-many manager adds no
        # column; auto_now fills the rows with the current time.
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            initial = True
            dependencies = [("shop", "0001_initial")]
            operations = [
                migrations.AddField("order", "customer", models.ForeignKey(on_delete=models.PROTECT, to="shop.customer")),
            ]
        """,
        """
        from django.db import migrations, models
        import taggit.managers

        class Migration(migrations.Migration):
            dependencies = [("shop", "0007_order_note")]
            operations = [
                migrations.AddField("order", "tags", taggit.managers.TaggableManager(through="extras.TaggedItem", to="extras.Tag")),
                migrations.AddField("order", "added", models.DateTimeField(auto_now_add=True)),
            ]
        """,
        # Nullable, a constant default on PostgreSQL 15, and a column of a table created here.
        """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            operations = [
                migrations.CreateModel("Coupon", fields=[("code", models.CharField(max_length=10))]),
                migrations.AddField("coupon", "percent", models.IntegerField()),
                migrations.AddField("order", "note", models.TextField(null=True)),
                migrations.AddField("order", "paid", models.BooleanField(default=False)),
                # Django fills a blank string field with "" for the rows already there.
                migrations.AddField("order", "comment", models.TextField(blank=True)),
            ]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.add_column("orders", sa.Column("created", sa.DateTime(), nullable=False, server_default=sa.func.now()))
            op.add_column("orders", sa.Column("comment", sa.Text(), nullable=True))

        def downgrade():
            op.drop_column("orders", "comment")
            op.drop_column("orders", "created")
        """,
    )

    def check(self, migration: Migration) -> None:
        for step in migration.steps:
            if step.kind is not StepKind.ADD_COLUMN or not migration.existing(step):
                continue
            column = f"`{step.column}`" if step.column else "the column"
            confidence = None
            if step.not_null and step.default is DefaultKind.NONE:
                problem = f"Adds NOT NULL column {column} without a default: the migration fails once the table has rows"
                if step.unknown_field:
                    # Another package's field class with blank=True: Django fills the rows with ""
                    # when it is a string field, which backbone cannot see from here.
                    confidence = Confidence.MEDIUM
                    problem += " (unless its field class is a string field, which Django fills with \"\" when blank)"
            elif step.default is DefaultKind.VOLATILE:
                problem = f"Adds column {column} with a volatile default, computed for every existing row"
            elif step.default is DefaultKind.CONSTANT and self.postgres_version < FAST_DEFAULT_VERSION:
                problem = (
                    f"Adds column {column} with a default on PostgreSQL {self.postgres_version} "
                    f"(before {FAST_DEFAULT_VERSION} every default is written to every row)"
                )
            else:
                continue
            self.report(
                step.node,
                f"{problem}{self.lock_clause(migration, step)}.",
                confidence=confidence,
                fix=code_for(
                    migration,
                    "Add the column nullable (or with a constant default), backfill it in batches in a data "
                    "migration, then make it NOT NULL after a validated CHECK:\n"
                    f"    migrations.AddField(\"{step.table}\", \"{step.column}\", <field>(null=True))\n"
                    "    # next migration: RunPython(backfill_in_batches, migrations.RunPython.noop)\n"
                    "    # then: AddConstraint(CheckConstraint(..., name=...)) NOT VALID + VALIDATE, AlterField(null=False)",
                    "Add the column nullable, backfill it in batches, then set NOT NULL after a validated CHECK:\n"
                    f"    op.add_column(\"{step.table}\", sa.Column(\"{step.column}\", <type>, nullable=True))\n"
                    f"    # backfill: UPDATE {step.table} SET {step.column} = ... WHERE id BETWEEN :a AND :b (batches)\n"
                    f"    op.execute(\"ALTER TABLE {step.table} ADD CONSTRAINT {step.column}_not_null "
                    f"CHECK ({step.column} IS NOT NULL) NOT VALID\")",
                ),
            )
