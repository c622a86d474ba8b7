"""The BB7 rules on real Django migration modules and Alembic revisions in temporary projects."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import review_tree_with

from backbone.api import ConfigError
from backbone.findings import Confidence, Finding

MODELS = """
from django.db import models

class Order(models.Model):
    total = models.IntegerField()
    legacy_code = models.CharField(max_length=10)

    class Meta:
        app_label = "shop"
"""

DROP_STILL_DECLARED = """
from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.RemoveField(model_name="order", name="legacy_code"),
        migrations.RemoveField(model_name="order", name="gone"),
    ]
"""

CONSTANT_DEFAULT = """
from django.db import migrations, models

class Migration(migrations.Migration):
    operations = [
        migrations.RunSQL("SET lock_timeout = '2s'", reverse_sql=migrations.RunSQL.noop),
        migrations.AddField("order", "paid", models.BooleanField(default=False)),
    ]
"""

ALEMBIC_REVISION = """
import sqlalchemy as sa
from alembic import op

revision = "b2"
down_revision = "a1"

def upgrade():
    op.execute("SET lock_timeout = '2s'")
    op.add_column("orders", sa.Column("code", sa.Text(), nullable=False))
    op.execute("ALTER TABLE orders ADD COLUMN broken (")
    op.create_index("ix_invoices_created", "invoices", ["created"])

def downgrade():
    op.drop_index("ix_invoices_created")
    op.drop_column("orders", "code")
"""


def review_tree(root: Path, files: dict[str, str], config: str = "") -> list[Finding]:
    return review_tree_with(root, files, "BB7", config)


def test_a_drop_of_a_field_the_model_still_declares_is_high_confidence(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {
        "shop/__init__.py": "", "shop/models.py": MODELS,
        "shop/migrations/__init__.py": "", "shop/migrations/0002_drop.py": DROP_STILL_DECLARED,
    })
    drops = [finding for finding in findings if finding.code == "BB706"]
    assert [(finding.line, finding.rule_confidence) for finding in drops] == [(7, Confidence.HIGH), (8, Confidence.MEDIUM)]
    assert "the model Order still declares it" in drops[0].message
    assert "ACCESS EXCLUSIVE" in drops[0].message
    assert drops[0].fix is not None and "SeparateDatabaseAndState" in drops[0].fix.message
    assert {finding.context for finding in findings} == {"migration"}


def test_the_same_operations_outside_a_migrations_folder_are_not_reported(tmp_path: Path) -> None:
    assert review_tree(tmp_path, {"shop/setup_steps.py": DROP_STILL_DECLARED}) == []


def test_postgres_version_decides_whether_a_constant_default_rewrites(tmp_path: Path) -> None:
    files = {"shop/migrations/0003_paid.py": CONSTANT_DEFAULT}
    assert review_tree(tmp_path / "pg15", files) == []
    [finding] = review_tree(tmp_path / "pg10", files, "postgres-version = 10\n")
    assert finding.code == "BB701"
    assert "PostgreSQL 10" in finding.message and "rewrites the table" in finding.message


def test_a_bad_postgres_version_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="postgres-version"):
        review_tree(tmp_path, {"a.py": ""}, "postgres-version = \"fifteen\"\n")


def test_alembic_revision_with_sql_that_does_not_parse_is_still_reviewed(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/b2_code.py": ALEMBIC_REVISION})
    assert [(finding.code, finding.line) for finding in findings] == [("BB701", 10), ("BB702", 12)]
    assert "SHARE lock" in findings[1].message
    assert findings[1].fix is not None and "postgresql_concurrently=True" in findings[1].fix.message


def test_an_alembic_revision_outside_the_usual_folders_is_a_migration(tmp_path: Path) -> None:
    # `from alembic import op` makes the module a revision, wherever script_location puts it.
    findings = review_tree(tmp_path, {"app/migration/versions/b2_code.py": ALEMBIC_REVISION})
    assert [(finding.code, finding.line, finding.context) for finding in findings] == [
        ("BB701", 10, "migration"), ("BB702", 12, "migration"),
    ]


@pytest.mark.parametrize(
    "sql",
    ["DROP TYPE order_status", "DROP TYPE IF EXISTS shop.order_status CASCADE", "DROP FUNCTION total(int)",
     "DROP TABLE orders, shop.lines", "DROP INDEX orders_created"],
)
def test_every_kind_of_drop_in_sql_is_read_without_failing(sql: str) -> None:
    import ast

    from backbone.review.migrations.sql import steps_of_sql

    steps = steps_of_sql(sql, ast.parse("op.execute(SQL)").body[0])
    assert steps  # each statement gives a step; none raises


MATERIALIZED_VIEW_REVISION = """\
from alembic import op

revision = "b7"
down_revision = "a1"


def upgrade():
    op.execute("CREATE MATERIALIZED VIEW recent_topics AS SELECT topic, count(*) AS messages FROM messages GROUP BY topic")
    op.create_index("uq_recent_topics_topic", "recent_topics", ["topic"], unique=True)


def downgrade():
    op.execute("DROP MATERIALIZED VIEW recent_topics")
"""


def test_a_relation_the_revision_creates_with_create_as_has_no_waiting_queries(tmp_path: Path) -> None:
    """`CREATE MATERIALIZED VIEW ... AS` (or `CREATE TABLE ... AS`) makes a new relation: the index
    built on it next takes no lock anything waits on."""
    findings = review_tree(tmp_path / "view", {"app/alembic/versions/b7_view.py": MATERIALIZED_VIEW_REVISION}, SEEN_AT_LOW)
    assert [finding.code for finding in findings if finding.code in ("BB702", "BB710")] == []
    # The same index on a relation the revision did not create is reported.
    existing = MATERIALIZED_VIEW_REVISION.replace(
        '    op.execute("CREATE MATERIALIZED VIEW recent_topics AS SELECT topic, count(*) AS messages FROM messages GROUP BY topic")\n', ""
    )
    findings = review_tree(tmp_path / "existing", {"app/alembic/versions/b7_view.py": existing}, SEEN_AT_LOW)
    assert sorted(finding.code for finding in findings if finding.code in ("BB702", "BB710")) == ["BB702", "BB710"]


@pytest.mark.parametrize("table", ["blog_plain", "blog_blog_archive"])
def test_a_table_a_django_migration_creates_in_sql_is_new_whatever_its_name(tmp_path: Path, table: str) -> None:
    """RunSQL's `CREATE TABLE blog_x` in app `blog` names model `x`, once: a table whose own name
    starts with the app's label again (`blog_blog_archive`) is the same new table."""
    migration = _operations_migration(
        "0001_initial",
        f'migrations.RunSQL("CREATE TABLE {table} (id integer); CREATE INDEX {table}_id ON {table} (id)")',
    ).replace('"shop"', '"blog"')
    files = {"blog/__init__.py": "", "blog/migrations/__init__.py": "", "blog/migrations/0002_archive.py": migration}
    assert codes_and_lines(review_tree(tmp_path, files, SEEN_AT_LOW), "BB702", "BB710") == []


# A Django app whose AlterFields are judged against the fields its earlier migrations declare.
HISTORY_INITIAL = """
from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]
    operations = [
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.AutoField(primary_key=True)),
                ("total", models.IntegerField()),
                ("code", models.CharField(max_length=20)),
                ("note", models.CharField(max_length=100, null=True)),
                ("amount", models.DecimalField(max_digits=8, decimal_places=2)),
            ],
        ),
    ]
"""

HISTORY_SECOND = """
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField("order", "reference", models.CharField(max_length=30, null=True)),
        migrations.RenameField("order", "note", "comment"),
        migrations.RenameModel("Order", "Purchase"),
    ]
"""

HISTORY_ALTER = """
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [("shop", "0002_reference"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [
        migrations.AlterField("purchase", "total", models.BigIntegerField()),
        migrations.AlterField("purchase", "comment", models.TextField(null=True)),
        migrations.AlterField("purchase", "code", models.CharField(max_length=10)),
        migrations.AlterField("purchase", "amount", models.DecimalField(max_digits=12, decimal_places=2)),
        migrations.AlterField("purchase", "reference", models.CharField(max_length=40)),
        migrations.AlterField("purchase", "amount", models.DecimalField(max_digits=12, decimal_places=4)),
    ]
"""


def history_tree(migrations: dict[str, str]) -> dict[str, str]:
    return {"shop/__init__.py": "", "shop/migrations/__init__.py": "",
            **{f"shop/migrations/{name}.py": text for name, text in migrations.items()}}


def test_alter_field_is_judged_against_the_field_the_earlier_migrations_declare(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, history_tree({
        "0001_initial": HISTORY_INITIAL, "0002_reference": HISTORY_SECOND, "0003_alter": HISTORY_ALTER,
    }))
    mine = [(finding.code, finding.line) for finding in findings if finding.code in ("BB704", "BB705")]
    # total integer -> bigint (7), code varchar(20) -> varchar(10) (9), amount scale 2 -> 4 (12) rewrite;
    # comment varchar -> text (8) and amount 8 -> 12 digits (10) do not; reference becomes NOT NULL (11)
    # on a table the rewrite (7) holds ACCESS EXCLUSIVE until the commit already: a CHECK validated
    # first would not shorten that lock (BB705 reports a Django history in the test below).
    assert mine == [("BB704", 7), ("BB704", 9), ("BB704", 12)]
    total = next(finding for finding in findings if finding.code == "BB704")
    assert "integer -> bigint" in total.message and "ACCESS EXCLUSIVE" in total.message
    assert "rewrites the table" in total.message
    assert total.fix is not None and "migrations.AddField" in total.fix.message


def test_alter_field_stays_quiet_when_the_history_is_not_in_the_project(tmp_path: Path) -> None:
    # 0001_initial is missing: the field before the AlterField cannot be known.
    findings = review_tree(tmp_path, history_tree({"0002_reference": HISTORY_SECOND, "0003_alter": HISTORY_ALTER}))
    assert [finding for finding in findings if finding.code in ("BB704", "BB705")] == []


def test_alter_field_follows_the_dependencies_not_the_file_names(tmp_path: Path) -> None:
    # 0002_widen sorts after 0002_aa but depends only on 0001: the AlterField of 0002_aa is not before it.
    widen = HISTORY_ALTER.replace('("shop", "0002_reference"), ', '("shop", "0001_initial"), ').replace(
        '"purchase"', '"order"')
    other_branch = """
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [migrations.AlterField("order", "total", models.BigIntegerField())]
"""
    findings = review_tree(tmp_path, history_tree({
        "0001_initial": HISTORY_INITIAL, "0002_aa": other_branch, "0002_widen": widen,
    }))
    widened = [(finding.path, finding.line) for finding in findings if finding.code == "BB704"]
    assert ("shop/migrations/0002_widen.py", 7) in widened
    assert ("shop/migrations/0002_aa.py", 6) in widened


BLANK_FIELD_OF_ANOTHER_PACKAGE = """
from django.db import migrations
import timezone_field.fields

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField("store", "zone", timezone_field.fields.TimeZoneField(blank=True)),
    ]
"""


def test_a_blank_field_of_another_package_is_a_guess_so_a_warning(tmp_path: Path) -> None:
    # Django fills blank string fields with "": whether this class is one, backbone cannot see.
    findings = review_tree(tmp_path, {"shop/migrations/0002_zone.py": BLANK_FIELD_OF_ANOTHER_PACKAGE})
    [finding] = [finding for finding in findings if finding.code == "BB701"]
    assert finding.rule_confidence is Confidence.MEDIUM
    assert finding.severity.value == "warning"


# --- the database a revision runs on ---------------------------------------------------------

INDEX_REVISION = """\
from alembic import op

def upgrade():
    op.create_index("ix_orders_created", "orders", ["created"])

def downgrade():
    op.drop_index("ix_orders_created", table_name="orders")
"""


def test_a_revision_in_the_sqlite_history_beside_a_postgresql_one_gets_no_lock_finding(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {
        "app/migrations/versions/sqlite/a1_index.py": INDEX_REVISION,
        "app/migrations/versions/postgresql/b1_index.py": INDEX_REVISION,
    })
    assert [(finding.code, finding.path) for finding in findings] == [
        ("BB702", "app/migrations/versions/postgresql/b1_index.py"),
        ("BB710", "app/migrations/versions/postgresql/b1_index.py"),
    ]


def test_a_directory_named_sqlite_without_a_sibling_history_is_not_evidence(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"app/sqlite/versions/sqlite/a1_index.py": INDEX_REVISION})
    assert {finding.code for finding in findings} == {"BB702", "BB710"}


def test_a_revision_that_runs_sqlite_only_sql_gets_no_lock_finding(tmp_path: Path) -> None:
    revision = INDEX_REVISION.replace(
        "    op.create_index", "    op.execute(\"PRAGMA foreign_keys=OFF\")\n    op.create_index"
    )
    assert review_tree(tmp_path, {"alembic/versions/a1_index.py": revision}) == []


DIALECT_BRANCHES = """\
import sqlalchemy as sa
from alembic import context, op

def upgrade():
    bind = op.get_bind()
    if context.get_context().dialect.name == "oracle":
        op.execute("ALTER TABLE orders ADD CONSTRAINT note_is_json CHECK (note IS JSON)")
    else:
        op.create_index("ix_orders_note", "orders", ["note"])
    if bind.dialect.name in ("sqlite", "mysql"):
        op.create_index("ix_orders_created", "orders", ["created"])
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX ix_orders_legacy")
    if bind.dialect.name != "postgresql":
        op.create_index("ix_orders_total", "orders", ["total"])

def downgrade():
    pass
"""


def test_operations_in_a_branch_for_another_database_are_not_postgresql_findings(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/a1_branches.py": DIALECT_BRANCHES})
    # Only the else of the Oracle branch (line 9) and the PostgreSQL branch (line 13) run on PostgreSQL.
    assert sorted({(finding.code, finding.line) for finding in findings if finding.code in ("BB702", "BB703")}) == [
        ("BB702", 9), ("BB702", 13),
    ]


# --- the order of the steps in one transaction ------------------------------------------------

def codes_and_lines(findings: list[Finding], *codes: str) -> list[tuple[str, int]]:
    return [(finding.code, finding.line) for finding in findings if finding.code in codes]


def test_a_data_change_before_the_ddl_runs_under_no_schema_lock(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/a1_order.py": """\
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.execute("UPDATE orders SET status = 'new' WHERE status IS NULL")
            op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))
            op.execute("UPDATE orders SET note = ''")

        def downgrade():
            op.drop_column("orders", "note")
        """})
    # The first UPDATE (line 5) runs before the lock is taken; the second (line 7) holds it.
    assert codes_and_lines(findings, "BB709") == [("BB709", 7)]


DO_BLOCKS = """\
import sqlalchemy as sa
from alembic import op

TABLES = ["lines", "payments"]

def upgrade():
    op.add_column("orders", sa.Column("note", sa.Text(), nullable=True))
    op.execute("DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'a') THEN "
               "ALTER TABLE orders RENAME CONSTRAINT a TO b; END IF; END $$;")
    for table in TABLES:
        op.execute(f\"\"\"
            DO $$
            BEGIN
                ALTER TABLE {table} ADD CONSTRAINT {table}_order_fk FOREIGN KEY (order_id)
                    REFERENCES orders (id) ON DELETE CASCADE NOT VALID;
            END
            $$;
            \"\"\")
    op.execute("DO $$ BEGIN UPDATE orders SET note = ''; END $$;")

def downgrade():
    op.drop_column("orders", "note")
"""


def test_a_do_block_of_ddl_changes_no_rows(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/a1_do.py": DO_BLOCKS})
    # Only the block that runs an UPDATE (line 19) changes rows under the ADD COLUMN's lock.
    assert codes_and_lines(findings, "BB709") == [("BB709", 19)]


def test_the_lock_of_a_dropped_table_holds_no_data_change_back(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/a1_rebuild.py": """\
        from alembic import op

        def upgrade():
            op.execute("DROP TABLE legacy_orders")
            op.execute("INSERT INTO orders (id) SELECT 1")

        def downgrade():
            pass
        """})
    assert codes_and_lines(findings, "BB709") == []


def test_set_not_null_of_a_column_added_in_the_same_transaction_is_not_reported(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/a1_checksum.py": """\
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            op.alter_column("orders", "reference", nullable=False)
            op.alter_column("orders", "code", nullable=False)
            op.add_column("lines", sa.Column("checksum", sa.Text(), nullable=True))
            op.execute("UPDATE lines SET checksum = md5(body)")
            op.alter_column("lines", "checksum", nullable=False)

        def downgrade():
            pass
        """})
    # The first SET NOT NULL on orders is reported once for the table; lines.checksum was added by
    # this transaction, whose ADD COLUMN holds the lock anyway.
    assert codes_and_lines(findings, "BB705") == [("BB705", 5)]


# --- a table rebuilt under its own name -------------------------------------------------------

REBUILD = """\
import sqlalchemy as sa
from alembic import op

def upgrade():
    temp = "orders_new"
    op.create_table(temp, sa.Column("id", sa.Integer(), primary_key=True))
    op.execute(f'INSERT INTO "{temp}" (id) SELECT id FROM orders WHERE id IS NOT NULL')
    op.execute('DROP TABLE "orders" CASCADE')
    op.execute(f'ALTER TABLE "{temp}" RENAME TO "orders"')
    op.create_table("lines_new", sa.Column("id", sa.Integer(), primary_key=True))
    op.drop_table("lines")
    op.rename_table("lines_new", "lines")
    op.drop_table("payments")

def downgrade():
    pass
"""


def test_a_table_dropped_and_replaced_by_a_renamed_copy_is_a_rebuild_not_a_drop(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/a1_rebuild.py": REBUILD})
    # orders (SQL, line 8) and lines (op, line 11) are rebuilt; payments (line 13) is dropped for good.
    assert codes_and_lines(findings, "BB706") == [("BB706", 13)]


# --- irreversible by PostgreSQL, or reversible through a helper -------------------------------

def test_an_enum_value_added_with_an_empty_downgrade_is_not_irreversible(tmp_path: Path) -> None:
    revision = """\
        from alembic import op

        def upgrade():
            op.execute("ALTER TYPE order_status ADD VALUE IF NOT EXISTS 'CANCELLING'")
            {extra}

        def downgrade():
            pass
        """
    assert codes_and_lines(review_tree(tmp_path / "enum", {
        "alembic/versions/a1_enum.py": revision.format(extra="op.execute(\"UPDATE orders SET flag = 1\")"),
    }), "BB707") == []
    # Renaming a value can be undone: an empty downgrade is an omission.
    renamed = revision.format(extra="op.execute(\"ALTER TYPE order_status RENAME VALUE 'A' TO 'B'\")")
    assert codes_and_lines(review_tree(tmp_path / "rename", {"alembic/versions/a1_enum.py": renamed}), "BB707") == [
        ("BB707", 7),
    ]


def test_run_python_with_arguments_unpacked_from_a_helper_is_not_irreversible(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {
        "shop/__init__.py": "",
        "shop/helpers.py": "def make_sql_migration(forwards, backwards):\n"
                           "    return (lambda apps, editor: None), (lambda apps, editor: None)\n",
        "shop/migrations/__init__.py": "",
        "shop/migrations/0002_index.py": """\
            from django.db import migrations
            from shop.helpers import make_sql_migration

            def forwards(apps, schema_editor):
                pass

            class Migration(migrations.Migration):
                operations = [
                    migrations.RunPython(*make_sql_migration("CREATE INDEX ...", "DROP INDEX ...")),
                    migrations.RunPython(forwards),
                ]
            """,
    })
    assert codes_and_lines(findings, "BB707") == [("BB707", 10)]


def test_a_statement_built_and_executed_in_a_loop_is_one_write(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/a1_rows.py": """\
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            conn = op.get_bind()
            orders = sa.table("orders", sa.column("id"), sa.column("note"))
            for row in conn.execute(sa.select(orders.c.id)).fetchall():
                conn.execute(sa.update(orders).where(orders.c.id == row.id).values(note=""))
                conn.execute(orders.delete().where(orders.c.id == row.id))

        def downgrade():
            pass
        """})
    # The loop's result (line 7) and one finding per statement run (lines 8 and 9).
    assert codes_and_lines(findings, "BB708") == [("BB708", 7), ("BB708", 8), ("BB708", 9)]
    writes = [finding.message for finding in findings if finding.code == "BB708"][1:]
    assert all("`execute()`" in message for message in writes)


def test_a_new_nullable_foreign_key_without_default_has_no_row_to_validate(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"shop/migrations/0002_fks.py": """\
        from django.db import migrations, models
        import django.db.models.deletion

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [
                migrations.AddField("order", "coupon", models.ForeignKey(
                    "shop.Coupon", null=True, on_delete=django.db.models.deletion.SET_NULL)),
                migrations.AddField("order", "store", models.ForeignKey(
                    "shop.Store", null=True, default=1, on_delete=django.db.models.deletion.SET_NULL)),
                migrations.AddField("order", "customer", models.ForeignKey(
                    "shop.Customer", default=1, on_delete=django.db.models.deletion.CASCADE)),
            ]
        """})
    # coupon (line 7) is NULL in every row; store and customer get a value to check in every row.
    assert codes_and_lines(findings, "BB703") == [("BB703", 9), ("BB703", 11)]


def test_a_project_field_class_counts_as_the_django_field_it_derives_from(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {
        "accounts/__init__.py": "",
        "accounts/fields.py": """\
            from django.db import models

            class UsernameField(models.CharField):
                pass

            class GroupsField(models.ManyToManyField):
                pass

            class CodeField(UsernameField):
                pass

            class Counter(models.IntegerField):
                pass

            class TranslatedText(models.TextField):
                pass

            class Markup(models.Field):
                pass
            """,
        "accounts/migrations/__init__.py": "",
        "accounts/migrations/0002_fields.py": """\
            from django.db import migrations
            import accounts.fields

            class Migration(migrations.Migration):
                dependencies = [("accounts", "0001_initial")]
                operations = [
                    migrations.AddField("invitation", "username", accounts.fields.UsernameField(blank=True, max_length=150)),
                    migrations.AddField("user", "groups", accounts.fields.GroupsField(blank=True, to="accounts.group")),
                    migrations.AddField("user", "code", accounts.fields.CodeField(blank=True, max_length=10)),
                    migrations.AddField("user", "visits", accounts.fields.Counter(blank=True)),
                    migrations.AddField("group", "about", accounts.fields.TranslatedText(blank=True)),
                    migrations.AddField("group", "intro", accounts.fields.Markup(blank=True)),
                    migrations.AddField("group", "notes", accounts.fields.TranslatedText()),
                ]
            """,
    })
    # Only the IntegerField subclass (line 10) and the TextField subclass without blank (13) are NOT NULL
    # columns without a default, and sure ones; a blank TextField or Field subclass is filled with "".
    assert [(finding.code, finding.line, finding.rule_confidence) for finding in findings if finding.code == "BB701"] == [
        ("BB701", 10, Confidence.HIGH), ("BB701", 13, Confidence.HIGH),
    ]


def test_each_set_not_null_is_reported_when_each_commits_on_its_own(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/a1_autocommit.py": """\
        from alembic import op

        def upgrade():
            with op.get_context().autocommit_block():
                op.alter_column("orders", "reference", nullable=False)
                op.alter_column("orders", "code", nullable=False)

        def downgrade():
            pass
        """})
    assert codes_and_lines(findings, "BB705") == [("BB705", 5), ("BB705", 6)]


SQUASHED_ORIGINAL = """\
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField("order", "reference", models.CharField(max_length=20)),
    ]
"""

SQUASH = """\
from django.db import migrations, models

class Migration(migrations.Migration):
    replaces = [("shop", "0002_reference"), ("shop", "0003_note")]
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField("order", "reference", models.CharField(max_length=20)),
        migrations.AddField("order", "note", models.TextField()),
    ]
"""


def test_a_migration_a_squash_replaces_is_reported_in_the_squash_only(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "", "shop/migrations/__init__.py": "",
        "shop/migrations/0002_reference.py": SQUASHED_ORIGINAL,
        "shop/migrations/0003_note.py": SQUASHED_ORIGINAL.replace('"reference", models.CharField(max_length=20)',
                                                                  '"note", models.TextField()'),
        "shop/migrations/0002_reference_squashed_0003_note.py": SQUASH,
    }
    findings = review_tree(tmp_path, files)
    assert codes_and_lines(findings, "BB701") == [("BB701", 7), ("BB701", 8)]
    assert {finding.path for finding in findings if finding.code == "BB701"} == {
        "shop/migrations/0002_reference_squashed_0003_note.py"}
    # Without the squash in the project, the originals are what runs.
    (tmp_path / "shop/migrations/0002_reference_squashed_0003_note.py").unlink()
    findings = review_tree(tmp_path, {})
    assert sorted(finding.path for finding in findings if finding.code == "BB701") == [
        "shop/migrations/0002_reference.py", "shop/migrations/0003_note.py"]


EMPTIED_BY_RUN_PYTHON = """\
from django.db import migrations, models


def forwards(apps, schema_editor):
    CachedTicket = apps.get_model("shop", "CachedTicket")
    CachedTicket.objects.all().delete()
    Stale = apps.get_model("shop.StaleRow")
    if Stale.objects.exists():
        Stale.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AddField("order", "reference", models.CharField(max_length=20)),
        migrations.RunPython(code=forwards, reverse_code=migrations.RunPython.noop),
        migrations.RemoveField("cachedticket", "order"),
        migrations.AddField("cachedticket", "position", models.ForeignKey(default=None, on_delete=models.CASCADE, to="shop.position")),
        migrations.AddField("stalerow", "code", models.CharField(max_length=20)),
    ]
"""


def test_a_table_a_run_python_function_empties_first_has_no_row_to_fail_on(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {
        "shop/__init__.py": "", "shop/migrations/__init__.py": "",
        "shop/migrations/0002_emptied.py": EMPTIED_BY_RUN_PYTHON,
    })
    # order (15) is added to before the function runs; stalerow (19) is emptied only under an `if`.
    # cachedticket (18) has no row left; its dropped column is still one the old code reads (17).
    assert codes_and_lines(findings, "BB701") == [("BB701", 15), ("BB701", 19)]
    assert codes_and_lines(findings, "BB706") == [("BB706", 17)]


INDEXES_UNDER_A_HELD_LOCK = """\
import sqlalchemy as sa
from alembic import op


def _tenant_column():
    return sa.Column("tenant", sa.String(length=63), nullable=False, server_default=sa.text("'default'"))


def upgrade():
    def _indexes():
        op.create_index("ix_endpoints_tenant", "endpoints", ["tenant"])

    op.add_column("chats", sa.Column("timer_at", sa.BigInteger(), nullable=True))
    op.create_index("ix_chats_timer_at", "chats", ["timer_at"])
    op.create_index("ix_chats_user_updated", "chats", ["user_id", "updated_at"])
    op.create_index("ix_chats_user_folder", "chats", ["user_id", "folder_id"])
    op.create_unique_constraint("uq_chats_user_slug", "chats", ["user_id", "slug"])
    op.add_column("endpoints", _tenant_column())
    op.create_unique_constraint("uq_endpoints_tenant_name", "endpoints", ["tenant", "name"])
    op.create_index("ix_orders_created", "orders", ["created"])
    op.create_index("ix_orders_status", "orders", ["status"])
    if op.get_bind().dialect.name == "sqlite":
        _indexes()
    else:
        _indexes()


def downgrade():
    pass
"""


def test_index_builds_on_a_table_the_migration_locks_anyway_are_reported_once(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/a1_indexes.py": INDEXES_UNDER_A_HELD_LOCK})
    # chats: the first build (14, an index over the column the migration adds: its scan holds the ADD
    # COLUMN's lock all the same) is reported, the later ones (15, 16, 17) are not; endpoints: the unique
    # constraint (19) is reported, and the index built inside _indexes() runs at its call on PostgreSQL
    # (25), after it, under the same lock; orders holds no ACCESS EXCLUSIVE lock, so each build there
    # blocks writes on its own (20, 21).
    assert codes_and_lines(findings, "BB702", "BB703") == [("BB702", 14), ("BB703", 19), ("BB702", 20), ("BB702", 21)]


def test_a_rename_of_a_field_with_db_column_renames_no_column(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, history_tree({
        "0001_initial": HISTORY_INITIAL,
        "0002_rename": """\
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [
                    migrations.AlterField("order", "code", models.CharField(max_length=20, db_column="code")),
                    migrations.RenameField("order", "code", "reference"),
                    migrations.RenameField("order", "total", "amount_total"),
                ]
            """,
    }))
    # The field keeps db_column="code" under its new name (7); total has a column of its own name (8).
    assert codes_and_lines(findings, "BB706") == [("BB706", 8)]


def test_a_loop_over_one_rows_subset_inside_a_whole_table_loop_is_not_a_whole_table_load(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"shop/migrations/0003_merge_users.py": """\
        from django.db import migrations


        def merge(apps, schema_editor):
            User = apps.get_model("shop", "User")
            Tagging = apps.get_model("shop", "Tagging")
            for user in User.objects.filter(is_active=False):
                for tag in Tagging.objects.filter(user=user):
                    tag.delete()
                for order in Tagging.objects.filter(archived=True):
                    order.delete()


        class Migration(migrations.Migration):
            operations = [migrations.RunPython(merge, migrations.RunPython.noop)]
        """})
    loads = [finding.line for finding in findings if finding.code == "BB708" and "memory" in finding.message]
    # The outer loop (7) and the inner loop that is not filtered by its row (10) load whole results.
    assert loads == [7, 10]
    writes = sorted({finding.line for finding in findings if finding.code == "BB708" and "per statement" in finding.message})
    assert writes == [9, 11]


HELPERS = """\
import sqlalchemy as sa
from alembic import op


def has_table(name):
    return name in sa.inspect(op.get_bind()).get_table_names()


def create_table(table_name, *columns, **kwargs):
    if has_table(table_name):
        return
    op.create_table(table_name, *columns, **kwargs)


def create_audit_table():
    op.create_table("audit", sa.Column("id", sa.Integer(), primary_key=True))


def add_column(table_name, column):
    op.add_column(table_name, column)
"""

TABLES_MADE_BY_A_HELPER = """\
import sqlalchemy as sa
from alembic import op

from shop.migrations.shared import add_column, create_audit_table, create_table


def upgrade():
    create_table("reports", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("active", sa.Boolean()))
    op.create_index("ix_reports_active", "reports", ["active"])
    op.create_unique_constraint("uq_reports_id", "reports", ["id"])
    create_audit_table()
    op.create_index("ix_audit_id", "audit", ["id"])
    add_column("orders", sa.Column("note", sa.Text()))
    op.create_index("ix_orders_note", "orders", ["note"])


def downgrade():
    pass
"""


def test_a_table_a_project_helper_creates_is_new_in_the_revision(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {
        "shop/__init__.py": "", "shop/migrations/__init__.py": "",
        "shop/migrations/shared.py": HELPERS,
        "shop/migrations/versions/b2_reports.py": TABLES_MADE_BY_A_HELPER,
    })
    # reports (9-10) and audit (12) are created by the helpers the revision calls: empty, nobody waits.
    # A helper that does something else to a table (13) creates nothing: orders exists (14).
    revision = [finding for finding in findings if finding.path.endswith("b2_reports.py")]
    assert codes_and_lines(revision, "BB702", "BB703", "BB710") == [("BB702", 14), ("BB710", 14)]


def test_set_not_null_on_a_table_the_transaction_already_locks_is_not_reported(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {
        **history_tree({
            "0001_initial": HISTORY_INITIAL,
            "0002_reference": """\
                from django.db import migrations, models

                class Migration(migrations.Migration):
                    dependencies = [("shop", "0001_initial")]
                    operations = [migrations.AddField("order", "reference", models.CharField(max_length=30, null=True))]
                """,
            "0003_required": """\
                from django.db import migrations, models

                class Migration(migrations.Migration):
                    dependencies = [("shop", "0002_reference")]
                    operations = [
                        migrations.AlterField("order", "note", models.CharField(max_length=100)),
                        migrations.RemoveField("order", "amount"),
                        migrations.AlterField("order", "reference", models.CharField(max_length=30)),
                    ]
                """,
        }),
        "alembic/versions/b2_not_null.py": """\
            import sqlalchemy as sa
            from alembic import op


            def upgrade():
                op.alter_column("orders", "reference", nullable=False)
                op.create_index("ix_invoices_number", "invoices", ["number"])
                op.alter_column("invoices", "number", nullable=False)
                op.alter_column("customers", "email", type_=sa.Text())
                op.alter_column("customers", "email", nullable=False)


            def downgrade():
                pass
            """,
    })
    # shop.order: note (6) is the first lock on the table; then the table is ACCESS EXCLUSIVE-locked
    # until the commit (6, 7), so the CHECK-first way could not shorten the scan for reference (8).
    # orders (6) and invoices (8, after an index's SHARE lock) are reported; customers (10) is locked
    # by its type change (9) already.
    found = [finding for finding in findings if finding.code == "BB705"]
    assert [(finding.path.rpartition("/")[2], finding.line) for finding in found] == [
        ("b2_not_null.py", 6), ("b2_not_null.py", 8), ("0003_required.py", 6),
    ]
    not_null = found[-1]
    assert "`note` NOT NULL" in not_null.message and "CheckConstraint" in (not_null.fix.message if not_null.fix else "")


def test_steps_after_a_not_null_column_without_default_run_on_an_empty_table(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/b2_alerts.py": """\
        import sqlalchemy as sa
        from alembic import op


        def upgrade():
            op.add_column("alerts", sa.Column("database_id", sa.Integer(), nullable=False))
            op.create_foreign_key("fk_alerts_database", "alerts", "dbs", ["database_id"], ["id"])
            op.create_index("ix_alerts_database", "alerts", ["database_id"])
            op.add_column("reports", sa.Column("database_id", sa.Integer(), nullable=False, server_default="0"))
            op.create_foreign_key("fk_reports_database", "reports", "dbs", ["database_id"], ["id"])


        def downgrade():
            pass
        """})
    # alerts: the migration gets past line 6 only on an empty table (BB701 says so), so the key (7) and
    # the index (8) check and build nothing; reports (9) is filled by its default, its key is checked (10).
    assert codes_and_lines(findings, "BB701", "BB702", "BB703") == [("BB701", 6), ("BB703", 10)]


def test_a_branch_on_the_dialect_class_keeps_its_steps_off_postgresql(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/b2_alerts.py": """\
        import sqlalchemy as sa
        from alembic import op
        from sqlalchemy.dialects.sqlite.base import SQLiteDialect


        def upgrade():
            bind = op.get_bind()
            if isinstance(bind.dialect, SQLiteDialect):
                op.add_column("alerts", sa.Column("sql", sa.Text(), nullable=False))
            else:
                op.add_column("alerts", sa.Column("sql", sa.Text(), nullable=False, server_default=""))
            if not isinstance(bind.dialect, SQLiteDialect):
                op.create_index("ix_alerts_sql", "alerts", ["sql"])


        def downgrade():
            pass
        """})
    # The SQLite branch (9) never runs on PostgreSQL; the other branch (11) and the negated test (13) do.
    assert codes_and_lines(findings, "BB701", "BB702") == [("BB702", 13)]


def test_a_column_dropped_and_replaced_under_its_name_is_still_there_for_the_old_code(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/b2_conf.py": """\
        import sqlalchemy as sa
        from alembic import op


        def upgrade():
            op.add_column("dag_run", sa.Column("conf_json", sa.JSON(), nullable=True))
            op.execute("UPDATE dag_run SET conf_json = '{}'")
            op.drop_column("dag_run", "conf")
            op.alter_column("dag_run", "conf_json", new_column_name="conf")
            op.drop_column("dag_run", "note")
            op.add_column("dag_run", sa.Column("note", sa.Text(), nullable=True))
            op.drop_column("dag_run", "legacy")


        def downgrade():
            pass
        """})
    # conf (8) is replaced by conf_json renamed to its name (9), a column this migration added; note (10)
    # is added again (11); legacy (12) is gone for the old code.
    assert codes_and_lines(findings, "BB706") == [("BB706", 12)]


def test_a_model_of_the_same_name_in_another_app_is_another_table(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {
        "forum/__init__.py": "",
        "forum/cache/__init__.py": "",
        "forum/cache/models.py": """\
            from django.db import models

            class CacheVersion(models.Model):
                cache = models.CharField(max_length=128)
            """,
        "forum/core/__init__.py": "", "forum/core/migrations/__init__.py": "",
        "forum/core/migrations/0003_delete_cacheversion.py": """\
            from django.db import migrations

            class Migration(migrations.Migration):
                dependencies = [("forum_core", "0002_basic_settings")]
                operations = [migrations.DeleteModel(name="CacheVersion")]
            """,
        "forum/cache/migrations/__init__.py": "",
        "forum/cache/migrations/0002_drop_cache.py": """\
            from django.db import migrations

            class Migration(migrations.Migration):
                dependencies = [("forum_cache", "0001_initial")]
                operations = [migrations.RemoveField("cacheversion", "cache")]
            """,
    })
    drops = {finding.path.rpartition("/")[2]: finding for finding in findings if finding.code == "BB706"}
    # The core app's CacheVersion is gone from the code: the cache app's model is another table.
    assert drops["0003_delete_cacheversion.py"].rule_confidence is Confidence.MEDIUM
    assert "still declares" not in drops["0003_delete_cacheversion.py"].message
    # The cache app's own migration drops a field its model still declares.
    assert drops["0002_drop_cache.py"].rule_confidence is Confidence.HIGH


def test_an_empty_string_default_of_a_key_to_an_integer_id_is_null(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, history_tree({
        "0001_initial": HISTORY_INITIAL,
        "0002_variations": """\
            import django.db.models.deletion
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [
                    migrations.CreateModel("Variation", fields=[("id", models.AutoField(primary_key=True))]),
                    migrations.AddField("order", "variation", models.ForeignKey(
                        default="", null=True, on_delete=django.db.models.deletion.CASCADE, to="shop.variation")),
                    migrations.AddField("order", "parent", models.ForeignKey(
                        default=1, null=True, on_delete=django.db.models.deletion.CASCADE, to="shop.order")),
                ]
            """,
    }))
    # Django saves "" as NULL for a key to an integer id (8): a nullable column NULL everywhere, declared
    # inline, has no row to check. A default of 1 (10) fills every row, so each is checked.
    assert codes_and_lines(findings, "BB703") == [("BB703", 10)]


def test_an_index_built_after_a_full_pass_under_the_same_lock_is_not_reported_again(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/b2_deadline.py": """\
        import sqlalchemy as sa
        from alembic import op


        def upgrade():
            op.alter_column("deadline", "deadline", existing_type=sa.Integer(), type_=sa.BigInteger())
            op.create_index("ix_deadline_deadline", "deadline", ["deadline"])
            op.drop_constraint("registered_model_pk", "registered_models", type_="primary")
            op.create_primary_key("registered_model_pk", "registered_models", ["workspace", "name"])
            op.create_index("ix_registered_models_workspace", "registered_models", ["workspace"])
            op.drop_column("jobs", "legacy")
            op.create_index("ix_jobs_workspace", "jobs", ["workspace"])


        def downgrade():
            pass
        """})
    # deadline: the type change (6) rewrites the table under ACCESS EXCLUSIVE (BB704), the index (7) adds
    # no other blocking; registered_models: the primary key (9) is built over every row under the same
    # lock as the index (10); jobs: dropping a column (11) reads no row, so the index build (12) is the
    # table's full pass and is reported.
    assert codes_and_lines(findings, "BB702", "BB703", "BB704") == [("BB704", 6), ("BB702", 12)]


def _operations_migration(previous: str, operations: str) -> str:
    return (
        "from django.db import migrations, models\n\n"
        "class Migration(migrations.Migration):\n"
        f"    dependencies = [(\"shop\", \"{previous}\")]\n"
        f"    operations = [{operations}]\n"
    )


def test_a_table_rebuilt_over_several_migrations_of_the_app_is_no_drop(tmp_path: Path) -> None:
    files = history_tree({
        "0001_initial": HISTORY_INITIAL,
        # The rebuild: Order renamed away, a copy created, rows copied, the old one deleted, the copy
        # renamed to the old name.
        "0002_rename_order_orderold": _operations_migration("0001_initial", 'migrations.RenameModel("Order", "OrderOld")'),
        "0003_ordernew": _operations_migration(
            "0002_rename_order_orderold",
            'migrations.CreateModel(name="OrderNew", fields=[("id", models.AutoField(primary_key=True))])'),
        "0004_delete_orderold": _operations_migration("0003_ordernew", 'migrations.DeleteModel(name="OrderOld")'),
        "0005_rename_ordernew_order": _operations_migration(
            "0004_delete_orderold", 'migrations.RenameModel("OrderNew", "Order")'),
        # A table renamed away for good, and the drop of a table the code read (no name came back).
        "0006_rename_order_archive": _operations_migration(
            "0005_rename_ordernew_order", 'migrations.RenameModel("Order", "Archive")'),
        "0007_delete_archive": _operations_migration("0006_rename_order_archive", 'migrations.DeleteModel(name="Archive")'),
        # A model renamed for good, and a new one under its old name: the old code reads other columns.
        "0008_item": _operations_migration(
            "0007_delete_archive",
            'migrations.CreateModel(name="Item", fields=[("id", models.AutoField(primary_key=True))])'),
        "0009_rename_item_product": _operations_migration("0008_item", 'migrations.RenameModel("Item", "Product")'),
        "0010_item": _operations_migration(
            "0009_rename_item_product",
            'migrations.CreateModel(name="Item", fields=[("id", models.AutoField(primary_key=True))])'),
    })
    files["shop/models.py"] = MODELS
    findings = review_tree(tmp_path, files)
    drops = sorted(finding.path.rpartition("/")[2] for finding in findings if finding.code == "BB706")
    assert drops == ["0006_rename_order_archive.py", "0007_delete_archive.py", "0009_rename_item_product.py"]


SQLITE_REVISION = """\
import sqlalchemy as sa
from alembic import op


def upgrade():
    op.add_column("runs", sa.Column("finished", sa.Float(), nullable=True))
    op.create_index("ix_runs_finished", "runs", ["finished"])
    op.drop_column("runs", "legacy")


def downgrade():
    pass
"""


@pytest.mark.parametrize(("files", "sqlite_only"), [
    # The project builds its engine's URL as a SQLite file and names no other database.
    ({"app/db.py": """\
        from sqlalchemy import create_engine

        def database_url(path):
            return "sqlite:///{}/app.db".format(path)

        engine = create_engine(database_url("."))
        """}, True),
    # SQLite is only the fallback of the configuration: the URL may name PostgreSQL.
    ({"app/db.py": """\
        import os
        from sqlalchemy import create_engine

        engine = create_engine(os.getenv("DATABASE_URL", "sqlite:///app.db"))
        """}, False),
    # Another database named anywhere (its driver imported).
    ({"app/db.py": """\
        from sqlalchemy import create_engine

        engine = create_engine(f"sqlite:///{__file__}.db")
        """, "app/bulk.py": "import psycopg2\n"}, False),
    # SQLite in the tests only.
    ({"app/db.py": """\
        import os
        from sqlalchemy import create_engine

        engine = create_engine(os.environ["DATABASE_URL"])
        """, "tests/conftest.py": 'URL = "sqlite://"\n'}, False),
])
def test_the_migrations_of_a_sqlite_only_project_take_no_postgresql_lock(
    tmp_path: Path, files: dict[str, str], sqlite_only: bool
) -> None:
    findings = review_tree(tmp_path, {"app/__init__.py": "", **files, "alembic/versions/b2_runs.py": SQLITE_REVISION})
    codes = sorted({finding.code for finding in findings})
    drop = next(finding for finding in findings if finding.code == "BB706")
    if sqlite_only:
        # The drop still breaks the old code; PostgreSQL's lock is no part of it.
        assert not {"BB702", "BB710"} & set(codes)
        assert "ACCESS EXCLUSIVE" not in drop.message
    else:
        assert {"BB702", "BB710"} <= set(codes)
        assert "ACCESS EXCLUSIVE" in drop.message


def test_a_key_defaulting_to_a_row_of_a_table_created_empty_leaves_its_table_empty(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, history_tree({
        "0001_initial": HISTORY_INITIAL,
        "0002_comments": """\
            import django.db.models.deletion
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [
                    migrations.CreateModel(name="Document", fields=[("id", models.AutoField(primary_key=True))]),
                    migrations.CreateModel(name="Comment", fields=[
                        ("id", models.AutoField(primary_key=True)),
                        ("title", models.CharField(max_length=10)),
                        ("document", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, to="shop.document")),
                    ]),
                    migrations.CreateModel(name="Note", fields=[("id", models.AutoField(primary_key=True))]),
                ]
            """,
        "0003_examples": """\
            import django.db.models.deletion
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0002_comments")]
                operations = [
                    migrations.RemoveField(model_name="comment", name="document"),
                    migrations.RemoveField(model_name="comment", name="title"),
                    migrations.DeleteModel(name="Document"),
                    migrations.CreateModel(name="Example", fields=[("id", models.AutoField(primary_key=True))]),
                    migrations.AddField(model_name="comment", name="example", field=models.ForeignKey(
                        default=1, on_delete=django.db.models.deletion.CASCADE, to="shop.example"),
                        preserve_default=False),
                    migrations.AddField(model_name="note", name="order", field=models.ForeignKey(
                        default=1, on_delete=django.db.models.deletion.CASCADE, to="shop.order"),
                        preserve_default=False),
                ]
            """,
    }))
    mine = [(finding.code, finding.line) for finding in findings
            if finding.path.endswith("0003_examples.py") and finding.code in ("BB703", "BB706")]
    # The key to Document (7) is a column the old code selects with every comment, dropped like any other
    # (8) and apart from its table (9); comment's key defaults to a row of Example, created empty here (11):
    # a comment row would fail the check, so the table has none; Order has rows (14).
    assert mine == [("BB706", 7), ("BB706", 8), ("BB706", 9), ("BB703", 14)]


def test_a_loop_over_nulls_of_a_not_null_column_runs_over_no_row(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, history_tree({
        "0001_initial": HISTORY_INITIAL,
        "0002_tags": _operations_migration(
            "0001_initial", 'migrations.AddField("order", "tags", models.ManyToManyField(to="auth.group"))'),
        "0003_fix_codes": """\
            from django.db import migrations


            def fix(apps, schema_editor):
                Order = apps.get_model("shop", "Order")
                for order in Order.objects.filter(code__isnull=True):
                    order.code = "none"
                    order.save()
                for order in Order.objects.filter(note__isnull=True):
                    order.note = ""
                    order.save()
                for order in Order.objects.filter(tags__isnull=True):
                    order.save()


            class Migration(migrations.Migration):
                dependencies = [("shop", "0002_tags")]
                operations = [migrations.RunPython(fix, migrations.RunPython.noop)]
            """,
    }))
    # `code` is NOT NULL (no row has NULL in it); `note` is declared null=True; an order without tags has
    # no row in the many-to-many's table, whatever its own columns hold.
    assert codes_and_lines(findings, "BB708") == [("BB708", 9), ("BB708", 11), ("BB708", 12), ("BB708", 13)]


@pytest.mark.parametrize(("table", "reported"), [("django_content_type", False), ("members_member", True)])
def test_moving_a_table_to_another_app_updates_only_djangos_bookkeeping(
    tmp_path: Path, table: str, reported: bool
) -> None:
    findings = review_tree(tmp_path, history_tree({"0002_move_member": f"""\
        from django.db import migrations

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [
                migrations.RunSQL("ALTER TABLE members_member RENAME TO shop_member",
                                  reverse_sql="ALTER TABLE shop_member RENAME TO members_member"),
                migrations.RunSQL("UPDATE {table} SET app_label = 'shop' WHERE app_label = 'members'",
                                  reverse_sql=migrations.RunSQL.noop),
            ]
        """}))
    assert codes_and_lines(findings, "BB709") == ([("BB709", 8)] if reported else [])


def test_the_loop_of_a_migration_a_squash_replaces_is_reported_where_it_is_written(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, history_tree({
        "0001_initial": HISTORY_INITIAL,
        "0002_fill": """\
            from django.db import migrations


            def fill(apps, schema_editor):
                Order = apps.get_model("shop", "Order")
                for order in Order.objects.all():
                    order.save()


            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
            """,
        "0001_squashed_0002_fill": """\
            from django.db import migrations

            class Migration(migrations.Migration):
                replaces = [("shop", "0001_initial"), ("shop", "0002_fill")]
                operations = []
            """,
    }))
    assert [(finding.path.rpartition("/")[2], finding.line) for finding in findings if finding.code == "BB708"] == [
        ("0002_fill.py", 6), ("0002_fill.py", 7)]


# --- Alembic batch operations -----------------------------------------------------------------


def test_a_column_a_batch_adds_is_locked_when_the_revision_sets_it_not_null(tmp_path: Path) -> None:
    findings = review_tree(tmp_path, {"alembic/versions/b2_visibility.py": """\
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            with op.batch_alter_table("orders", schema=None) as batch_op:
                batch_op.add_column(sa.Column("visibility", sa.Text(), nullable=True))
            op.execute("UPDATE orders SET visibility = 'private'")
            op.alter_column("orders", "visibility", nullable=False)
            with op.batch_alter_table("lines") as batch_op:
                batch_op.alter_column("code", nullable=False)
            with op.batch_alter_table("items") as batch_op:
                batch_op.create_index("ix_items_code", ["code"])

        def downgrade():
            op.drop_column("orders", "visibility")
        """})
    # The batch's ADD COLUMN holds ACCESS EXCLUSIVE on orders until the commit: a CHECK first cannot
    # shorten it. The batches on lines and items run their ALTER TABLE and CREATE INDEX like op's own.
    assert codes_and_lines(findings, "BB705", "BB702") == [("BB705", 10), ("BB702", 12)]


# --- an upgrade that only grants access ---------------------------------------------------------

GRANTS = '''\
from alembic import op

_ROLE = "reader"
_TABLES = ("orders", "lines")


def upgrade():
    grants = "\\n".join(
        f"""
        IF to_regclass('public.{table}') IS NOT NULL THEN
            GRANT SELECT ON public.{table} TO {_ROLE};
        END IF;"""
        for table in _TABLES
    )
    op.execute(f"""
    DO $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{_ROLE}') THEN
            RAISE NOTICE 'role not found, skipping: run ALTER PUBLICATION by hand';
            RETURN;
        END IF;
        GRANT USAGE ON SCHEMA public TO {_ROLE};
        {grants}
    END $$;
    """)
    op.execute("ALTER PUBLICATION mirror ADD TABLE public.orders")
    op.execute("GRANT SELECT ON public.lines TO reader")


def downgrade():
    pass
'''


@pytest.mark.parametrize("extra, reported", [
    ("", False),
    # Anything else the block runs may change the schema: the empty downgrade is reported.
    ("ALTER TABLE public.{table} ADD COLUMN seen boolean;", True),
    ("EXECUTE format('GRANT SELECT ON %I TO reader', '{table}');", True),
])
def test_an_upgrade_that_only_grants_access_needs_no_downgrade(tmp_path: Path, extra: str, reported: bool) -> None:
    revision = GRANTS.replace("END IF;\"\"\"", extra + "\n        END IF;\"\"\"")
    findings = review_tree(tmp_path, {"alembic/versions/c3_grants.py": revision})
    assert [finding.code for finding in findings if finding.code == "BB707"] == (["BB707"] if reported else [])


@pytest.mark.parametrize("forward, reported", [
    ("migrations.RunPython.noop", False),
    ("nothing", False),
    ("shorten", True),
])
def test_a_forward_step_that_does_nothing_changes_no_row_under_the_lock(tmp_path: Path, forward: str, reported: bool) -> None:
    findings = review_tree(tmp_path, {"shop/__init__.py": "", "shop/migrations/__init__.py": "",
                                      "shop/migrations/0005_reason.py": f"""\
        from django.db import migrations, models


        def nothing(apps, schema_editor):
            \"\"\"Kept for the history of this migration.\"\"\"


        def shorten(apps, schema_editor):
            apps.get_model("shop", "Order").objects.update(reason="")


        class Migration(migrations.Migration):
            operations = [
                migrations.AddField("order", "reason", models.TextField(null=True)),
                migrations.RunPython({forward}, shorten),
            ]
        """})
    assert codes_and_lines(findings, "BB709") == ([("BB709", 15)] if reported else [])


@pytest.mark.parametrize("base, reported", [
    ("sortedm2m.fields.SortedManyToManyField", False),
    ("django.db.models.CharField", True),
])
def test_a_project_field_deriving_from_a_known_many_to_many_field_adds_no_column(
    tmp_path: Path, base: str, reported: bool,
) -> None:
    module, _, name = base.rpartition(".")
    findings = review_tree(tmp_path, {
        "shop/__init__.py": "",
        "shop/fields.py": f"from {module} import {name} as Base\n\n\nclass OrderedField(Base):\n    pass\n",
        "shop/migrations/__init__.py": "",
        "shop/migrations/0005_templates.py": """\
            from django.db import migrations

            import shop.fields


            class Migration(migrations.Migration):
                operations = [
                    migrations.AddField(
                        model_name="group",
                        name="templates",
                        field=shop.fields.OrderedField(blank=False, to="shop.template"),
                    ),
                ]
            """,
    })
    assert [finding.code for finding in findings if finding.code in ("BB701", "BB703")] == (["BB701"] if reported else [])


def test_a_helper_that_creates_two_tables_is_read_in_source_order() -> None:
    import ast

    from backbone.review.migrations.reading import extract_table_creators
    from backbone.review.names import NameResolver, collect_imports, top_level_symbols

    source = (
        "from alembic import op\n"
        "def create_with_audit(name):\n"
        "    op.create_table(name)\n"
        "    op.create_table('audit')\n"
        "def create_audit_then(name):\n"
        "    op.create_table('audit')\n"
        "    op.create_table(name)\n"
    )
    tree = ast.parse(source)
    imports, _ = collect_imports(tree, "shop.shared", False)
    creators = extract_table_creators(tree, NameResolver("shop.shared", imports, top_level_symbols(tree)))
    # The first create_table of the function's own body, as it reads.
    assert creators == {"shop.shared.create_with_audit": ("name", 0, ""), "shop.shared.create_audit_then": ("", -1, "audit")}


def test_an_alter_field_that_only_respells_max_length_changes_no_column(tmp_path: Path) -> None:
    # max_length="30" and max_length=30 both make varchar(30): no ALTER, no lock.
    initial = HISTORY_INITIAL.replace("models.CharField(max_length=20)", 'models.CharField(max_length="20")')
    respell = """
from django.db import migrations, models

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [
        migrations.AlterField("order", "code", models.CharField(max_length=20)),
        migrations.AlterField("order", "total", models.BigIntegerField()),
    ]
"""
    findings = review_tree(tmp_path, history_tree({"0001_initial": initial, "0002_respell": respell}))
    assert [(finding.code, finding.line) for finding in findings if finding.code in ("BB704", "BB710")] == [
        ("BB704", 8), ("BB710", 8)]


ALEMBIC_CREATE = """
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

def upgrade():
    op.create_table(
        "project",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("password", sa.String(length=128)),
        sa.Column("status", sa.String(128)),
        sa.Column("code", sa.String(64)),
        sa.Column("total", sa.Integer()),
        sa.Column("mode", sa.Enum("OFF", "ON", "AUDIT", name="mode"), nullable=False),
    )

def downgrade():
    op.drop_table("project")
"""

ALEMBIC_ALTER = """
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

def upgrade():
    op.alter_column("project", "password", type_=sa.String(length=256))
    op.alter_column("project", "status", type_=sa.TEXT())
    op.alter_column("project", "code", type_=sa.String(32))
    op.alter_column("project", "total", type_=sa.BigInteger())
    with op.batch_alter_table("project") as batch_op:
        batch_op.alter_column("mode", existing_type=sa.VARCHAR(length=5), type_=sa.Enum("OFF", "ON", name="mode"))

def downgrade():
    with op.batch_alter_table("project") as batch_op:
        batch_op.alter_column("mode", existing_type=sa.Enum("OFF", "ON", name="mode"), type_=sa.VARCHAR(length=5))
    op.alter_column("project", "code", type_=sa.String(length=16))
"""


def test_an_alembic_type_change_is_judged_against_the_type_the_upgrades_created(tmp_path: Path) -> None:
    # password varchar(128) -> varchar(256) (9) and status varchar(128) -> text (10) do not rewrite
    # although no existing_type says so; mode keeps its native enum type (13) whatever the
    # autogenerated existing_type says; code varchar(64) -> varchar(32) (11) and total integer -> bigint (12) rewrite.
    findings = review_tree(tmp_path, {
        "app/__init__.py": "", "app/migrations/env.py": "", "app/migrations/versions/0001_create.py": ALEMBIC_CREATE,
        "app/migrations/versions/0002_alter.py": ALEMBIC_ALTER,
    })
    assert codes_and_lines(findings, "BB704") == [("BB704", 11), ("BB704", 12)]


ALEMBIC_KEYS = """
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

def upgrade():
    op.add_column("orders", sa.Column("source_id", sa.Integer(), nullable=True))
    op.add_column("orders", sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id"), nullable=True))
    op.create_foreign_key(None, "orders", "sources", ["source_id"], ["id"])
    op.create_foreign_key(None, "orders", "users", ["user_id"], ["id"])
    op.add_column("orders", sa.Column("owner_id", sa.Integer(), nullable=True))
    op.execute("UPDATE orders SET owner_id = user_id")
    op.create_foreign_key(None, "orders", "users", ["owner_id"], ["id"])

def downgrade():
    pass
"""


def test_an_alembic_foreign_key_on_a_column_the_revision_adds_null_has_nothing_to_validate(tmp_path: Path) -> None:
    # source_id (11) and shop_id (10) are NULL in every row; user_id (12) is an existing column and
    # owner_id (15) is filled by the UPDATE before its key: both are checked row by row.
    findings = review_tree(tmp_path, {"app/__init__.py": "", "app/migrations/env.py": "",
                                      "app/migrations/versions/0003_keys.py": ALEMBIC_KEYS})
    assert codes_and_lines(findings, "BB703") == [("BB703", 12), ("BB703", 15)]


def test_a_code_step_of_a_migration_a_squash_replaces_is_reversed_through_the_squash(tmp_path: Path) -> None:
    original = """\
from django.db import migrations

class Migration(migrations.Migration):
    dependencies = [("shop", "0001_initial")]
    operations = [migrations.RunSQL("UPDATE shop_order SET note = ''")]
"""
    squash = """\
from django.db import migrations

class Migration(migrations.Migration):
    replaces = [("shop", "0002_fill")]
    dependencies = [("shop", "0001_initial")]
    operations = []
"""
    files = {"shop/__init__.py": "", "shop/migrations/__init__.py": "", "shop/migrations/0002_fill.py": original,
             "shop/migrations/squashed_0002_fill.py": squash}
    assert codes_and_lines(review_tree(tmp_path, files), "BB707") == []
    # Without the squash, the original is what runs and is reversed.
    (tmp_path / "shop/migrations/squashed_0002_fill.py").unlink()
    assert codes_and_lines(review_tree(tmp_path, {}), "BB707") == [("BB707", 5)]


def test_sql_held_in_a_module_constant_is_read_and_its_table_matched_to_the_model(tmp_path: Path) -> None:
    files = {
        "rpm/__init__.py": "",
        "rpm/migrations/__init__.py": "",
        "rpm/migrations/0001_initial.py": """\
            from django.db import migrations, models

            class Migration(migrations.Migration):
                initial = True
                operations = [migrations.CreateModel("Package", [("name", models.TextField())])]
            """,
        "rpm/migrations/0002_evr.py": """\
            from django.db import migrations, models

            add_column_sql = '''
            ALTER TABLE rpm_package ADD COLUMN evr bytea;
            UPDATE rpm_package SET evr = 'x';
            ALTER TABLE rpm_package ALTER COLUMN evr SET NOT NULL;
            '''

            class Migration(migrations.Migration):
                dependencies = [("rpm", "0001_initial")]
                operations = [
                    migrations.RunSQL(add_column_sql, reverse_sql=migrations.RunSQL.noop),
                    migrations.AddIndex(
                        model_name="package",
                        index=models.Index(fields=["name"], name="rpm_package_name_idx"),
                    ),
                ]
            """,
    }
    found = review_tree(tmp_path, files)
    # The lock is taken by the SQL (line 12): the index built afterwards in the same transaction
    # (the default table of model `package` in app `rpm`) waits for nothing and adds no lock.
    assert [(finding.code, finding.path, finding.line) for finding in found if finding.code in ("BB702", "BB710")] == [
        ("BB710", "rpm/migrations/0002_evr.py", 12)
    ]


# --- self-migrating projects: the lock findings' premise (live traffic waits) fails -----------

NOTE_REVISION = """\
    import sqlalchemy as sa
    from alembic import op

    revision = "0002"
    down_revision = "0001"

    def upgrade():
        op.add_column("orders", sa.Column("note", sa.Text()))
        op.create_index("ix_orders_note", "orders", ["note"])

    def downgrade():
        op.drop_index("ix_orders_note")
        op.drop_column("orders", "note")
    """
ALEMBIC_PROJECT = {"app/__init__.py": "", "app/alembic/versions/0002_note.py": NOTE_REVISION}
# Where the lock findings of NOTE_REVISION point: the column (BB710, the first lock it waits for) and the index.
NOTE_LOCKS = [("BB710", 8), ("BB702", 9)]

DJANGO_PROJECT = {
    "shop/__init__.py": "",
    "shop/migrations/__init__.py": "",
    "shop/migrations/0001_initial.py": """\
        from django.db import migrations, models

        class Migration(migrations.Migration):
            initial = True
            operations = [migrations.CreateModel("Order", [("total", models.IntegerField())])]
        """,
    "shop/migrations/0002_order_total.py": """\
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [
                migrations.AddIndex(model_name="order", index=models.Index(fields=["total"], name="shop_order_total")),
            ]
        """,
}
ORDER_TOTAL_LOCKS = [("BB702", 6), ("BB710", 6)]
SEEN_AT_LOW = 'min-confidence = "low"'


def lock_findings(root: Path, files: dict[str, str]) -> list[Finding]:
    """The findings of the lock rules on the tree, every confidence shown."""
    return [finding for finding in review_tree(root, files, SEEN_AT_LOW) if finding.code in ("BB702", "BB710")]


def assert_served(findings: list[Finding], expected: list[tuple[str, int]]) -> None:
    """The findings are the expected ones, none of them marked as applied by the project (an
    assertion error says which is not)."""
    assert [(finding.code, finding.line) for finding in findings] == expected
    for finding in findings:
        assert finding.rule_confidence is not Confidence.LOW, (finding.code, finding.line, finding.rule_confidence)
        assert "(The project" not in finding.message, (finding.code, finding.line, finding.message)


def assert_self_migrated(findings: list[Finding], expected: list[tuple[str, int]], evidence: str) -> None:
    """The findings are the expected ones, each at low confidence, its message ending with
    `evidence` and the caveat (an assertion error says which is not)."""
    ending = f" ({evidence}; this matters when other instances serve while it migrates.)"
    assert [(finding.code, finding.line) for finding in findings] == expected
    for finding in findings:
        assert finding.rule_confidence is Confidence.LOW, (finding.code, finding.line, finding.rule_confidence)
        assert finding.message.endswith(ending), (finding.code, finding.line, finding.message, ending)


def test_lock_findings_of_a_project_that_applies_its_own_migrations_are_low_confidence(tmp_path: Path) -> None:
    assert_served(lock_findings(tmp_path / "served", ALEMBIC_PROJECT), NOTE_LOCKS)
    started = {
        **ALEMBIC_PROJECT,
        "app/server.py": """\
            from alembic import command
            from alembic.config import Config

            def start():
                command.upgrade(Config("alembic.ini"), "head")
            """,
    }
    assert_self_migrated(
        lock_findings(tmp_path / "started", started), NOTE_LOCKS,
        "The project applies its migrations itself: `start()` calls `alembic.command.upgrade`",
    )


# The server's own upgrade command runs Alembic through its runtime API, as Alembic's upgrade
# command does inside: a migration context configured with an upgrade function, then run.
MIGRATION_CONTEXT_UPGRADE = """\
    import alembic.operations
    import alembic.runtime.migration
    from alembic.config import Config
    from alembic.script import ScriptDirectory


    class Database:
        def __init__(self, engine):
            self.engine = engine

        def upgrade_schema(self):
            scripts = ScriptDirectory.from_config(Config("alembic.ini"))
            head = scripts.get_current_head()

            def to_head(revision, context):
                return scripts._upgrade_revs(head, revision)

            with self.engine.connect() as connection:
                context = alembic.runtime.migration.MigrationContext.configure(connection, opts={"fn": to_head})
                if context.get_current_revision() == head:
                    return
                with alembic.operations.Operations.context(context):
                    with context.begin_transaction():
                        context.run_migrations()
    """

ENVIRONMENT_CONTEXT_UPGRADE = """\
    from alembic.config import Config
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory


    def upgrade_database(config: Config) -> None:
        scripts = ScriptDirectory.from_config(config)

        def to_head(revision, context):
            return scripts._upgrade_revs("head", revision)

        with EnvironmentContext(config, scripts, fn=to_head, destination_rev="head"):
            scripts.run_env()
    """


@pytest.mark.parametrize(("source", "evidence"), [
    (MIGRATION_CONTEXT_UPGRADE,
     "`Database.upgrade_schema()` runs them through Alembic's runtime (`MigrationContext.run_migrations()`)"),
    (ENVIRONMENT_CONTEXT_UPGRADE,
     "`upgrade_database()` runs them through Alembic's runtime (`ScriptDirectory.run_env()`)"),
])
def test_a_command_that_runs_alembic_through_its_runtime_applies_the_migrations(
    tmp_path: Path, source: str, evidence: str
) -> None:
    files = {**ALEMBIC_PROJECT, "app/database.py": source}
    assert_self_migrated(lock_findings(tmp_path, files), NOTE_LOCKS, f"The project applies its migrations itself: {evidence}")


@pytest.mark.parametrize(("source", "evidence"), [
    ("""\
        import alembic.config

        def upgrade_command():
            alembic.config.main(argv=["--raiseerr", "-c", "alembic.ini", "upgrade", "head"])
        """, "`upgrade_command()` runs Alembic's command line with `upgrade` (`alembic.config.main`)"),
    ("""\
        from alembic.config import CommandLine

        def upgrade_command():
            CommandLine(prog="app-db").main(argv=("upgrade", "heads"))
        """, "`upgrade_command()` runs Alembic's command line with `upgrade` (`alembic.config.CommandLine.main`)"),
])
def test_alembic_s_command_line_told_to_upgrade_applies_the_migrations(tmp_path: Path, source: str, evidence: str) -> None:
    # Other commands of the command line, and an upgrade that only prints its SQL, apply nothing.
    other_commands = """\
        import alembic.config

        def show_revision():
            alembic.config.main(argv=["current"])

        def print_upgrade_sql():
            alembic.config.main(argv=["upgrade", "head", "--sql"])
        """
    assert_served(lock_findings(tmp_path / "others", {**ALEMBIC_PROJECT, "app/manage.py": other_commands}), NOTE_LOCKS)
    upgrading = {**ALEMBIC_PROJECT, "app/manage.py": other_commands, "app/upgrade.py": source}
    assert_self_migrated(
        lock_findings(tmp_path / "upgrade", upgrading), NOTE_LOCKS, f"The project applies its migrations itself: {evidence}"
    )


def test_an_alembic_env_py_that_runs_the_migrations_is_what_the_command_line_runs(tmp_path: Path) -> None:
    environment = {
        **ALEMBIC_PROJECT,
        "app/alembic/env.py": """\
            from alembic import context
            from sqlalchemy import engine_from_config, pool

            def run_migrations_online():
                connectable = engine_from_config(context.config.get_section("alembic"), poolclass=pool.NullPool)
                with connectable.connect() as connection:
                    context.configure(connection=connection, target_metadata=None)
                    with context.begin_transaction():
                        context.run_migrations()

            run_migrations_online()
            """,
    }
    # Every project run by the `alembic` command line has one: it says nothing of who runs it.
    assert_served(lock_findings(tmp_path / "cli", environment), NOTE_LOCKS)
    own_command = {**environment, "app/database.py": MIGRATION_CONTEXT_UPGRADE}
    assert_self_migrated(
        lock_findings(tmp_path / "own", own_command), NOTE_LOCKS,
        "The project applies its migrations itself: `Database.upgrade_schema()` runs them through Alembic's "
        "runtime (`MigrationContext.run_migrations()`)",
    )


def test_a_function_that_only_stamps_or_reads_the_revision_applies_no_migration(tmp_path: Path) -> None:
    bookkeeping = {
        **ALEMBIC_PROJECT,
        "app/schema.py": """\
            from alembic import command
            from alembic.config import Config
            from alembic.runtime.environment import EnvironmentContext
            from alembic.runtime.migration import MigrationContext
            from alembic.script import ScriptDirectory


            def adopt_existing_database(connection, scripts):
                MigrationContext.configure(connection).stamp(scripts, "head")


            def mark_as_current(config):
                command.stamp(config, "head")


            def mark_through_the_environment(config):
                scripts = ScriptDirectory.from_config(config)

                def to_head(revision, context):
                    return scripts._stamp_revs("head", revision)

                with EnvironmentContext(config, scripts, fn=to_head):
                    scripts.run_env()


            def show_revision(connection):
                print(MigrationContext.configure(connection).get_current_revision())


            def print_upgrade_sql():
                command.upgrade(Config("alembic.ini"), "head", sql=True)
            """,
    }
    assert_served(lock_findings(tmp_path / "bookkeeping", bookkeeping), NOTE_LOCKS)
    upgrading = {**bookkeeping, "app/upgrade.py": ENVIRONMENT_CONTEXT_UPGRADE}
    assert_self_migrated(
        lock_findings(tmp_path / "upgrading", upgrading), NOTE_LOCKS,
        "The project applies its migrations itself: `upgrade_database()` runs them through Alembic's runtime "
        "(`ScriptDirectory.run_env()`)",
    )


HEAD_CHECK = """\
    import logging
    import sys

    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine


    def check_schema(url):
        scripts = ScriptDirectory.from_config(Config("alembic.ini"))
        engine = create_engine(url)
        with engine.connect() as connection:
            applied = frozenset(MigrationContext.configure(connection).get_current_heads())
        available = frozenset(scripts.get_heads())
        if applied != available:
            {stop}
    """


@pytest.mark.parametrize("stop", [
    'logging.error("The database is at %s, the code at %s: migrate it first", applied, available); sys.exit(1)',
    'raise RuntimeError("the database is not at the head of the migrations")',
])
def test_a_service_that_stops_unless_its_database_is_at_the_head_is_stopped_while_it_migrates(
    tmp_path: Path, stop: str
) -> None:
    # A warning lets the service start on an older schema: it serves while someone migrates.
    warning = HEAD_CHECK.replace("{stop}", 'logging.warning("The database is at %s, the code at %s", applied, available)')
    assert_served(lock_findings(tmp_path / "warns", {**ALEMBIC_PROJECT, "app/startup.py": warning}), NOTE_LOCKS)
    assert_self_migrated(
        lock_findings(tmp_path / "stops", {**ALEMBIC_PROJECT, "app/startup.py": HEAD_CHECK.replace("{stop}", stop)}),
        NOTE_LOCKS,
        "The project does not start until its database is at the migrations' head: `check_schema()` compares "
        "`MigrationContext.get_current_heads()` with the scripts' head and stops when they differ, so it is "
        "stopped while its migrations run",
    )


@pytest.mark.parametrize(("files", "where"), [
    ({"shop/apps.py": """\
        from django.apps import AppConfig

        class ShopConfig(AppConfig):
            name = "shop"

            def ready(self):
                from django.core.management import call_command

                call_command("migrate", interactive=False)
        """}, "ShopConfig.ready()"),
    ({"scripts/start.py": """\
        import os

        import django
        from django.core import management

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
        django.setup()
        management.call_command("migrate", "--noinput")
        os.execvp("gunicorn", ["gunicorn", "wsgi"])
        """}, "scripts/start.py"),
])
def test_a_django_project_that_runs_migrate_itself_applies_the_migrations(
    tmp_path: Path, files: dict[str, str], where: str
) -> None:
    assert_served(lock_findings(tmp_path / "served", DJANGO_PROJECT), ORDER_TOTAL_LOCKS)
    assert_self_migrated(
        lock_findings(tmp_path / "migrating", {**DJANGO_PROJECT, **files}), ORDER_TOTAL_LOCKS,
        f"The project applies its migrations itself: `{where}` runs Django's `migrate` command "
        "(`call_command(\"migrate\")`)",
    )


def test_django_commands_that_apply_no_migration_are_no_sign_of_it(tmp_path: Path) -> None:
    def ready(*calls: str) -> dict[str, str]:
        body = "\n".join(f"        call_command({call})" for call in calls)
        return {**DJANGO_PROJECT, "shop/apps.py": (
            "from django.apps import AppConfig\n"
            "from django.core.management import call_command\n\n"
            "class ShopConfig(AppConfig):\n"
            "    def ready(self):\n"
            f"{body}\n"
        )}

    others = ('"check"', '"migrate", check_unapplied=True', '"migrate", "shop", "0002", "--fake"', '"migrate", plan=True',
              '"makemigrations", "--check"')
    assert_served(lock_findings(tmp_path / "others", ready(*others)), ORDER_TOTAL_LOCKS)
    assert_self_migrated(
        lock_findings(tmp_path / "migrate", ready(*others, '"migrate"')), ORDER_TOTAL_LOCKS,
        "The project applies its migrations itself: `ShopConfig.ready()` runs Django's `migrate` command "
        "(`call_command(\"migrate\")`)",
    )


DJANGO_SETUP = """\
    from django.apps import AppConfig
    from django.core.management import call_command


    class DatabaseConfig(AppConfig):
        name = "app"

        def ready(self):
            call_command("migrate", verbosity=0, interactive=False)
    """


def test_a_django_setup_command_that_runs_migrate_is_no_sign_of_a_self_migrating_project(tmp_path: Path) -> None:
    """A command that creates the database once (`initial_setup`) says nothing of how later
    migrations reach a running service; nor does a function nothing starts."""
    setup = {
        "shop/management/__init__.py": "",
        "shop/management/commands/__init__.py": "",
        "shop/management/commands/initial_setup.py": """\
            from django.core.management import call_command
            from django.core.management.base import BaseCommand


            class Command(BaseCommand):
                def handle(self, *args, **options):
                    call_command("migrate")
                    call_command("loaddata", "defaults")
            """,
        "shop/database.py": """\
            from django.core.management import call_command


            def prepare_database():
                call_command("migrate", verbosity=0, interactive=False)
            """,
    }
    assert_served(lock_findings(tmp_path / "setup", {**DJANGO_PROJECT, **setup}), ORDER_TOTAL_LOCKS)


@pytest.mark.parametrize(("project", "locks", "code", "evidence"), [
    (ALEMBIC_PROJECT, NOTE_LOCKS, MIGRATION_CONTEXT_UPGRADE,
     "`Database.upgrade_schema()` runs them through Alembic's runtime (`MigrationContext.run_migrations()`)"),
    (DJANGO_PROJECT, ORDER_TOTAL_LOCKS, DJANGO_SETUP,
     "`DatabaseConfig.ready()` runs Django's `migrate` command (`call_command(\"migrate\")`)"),
])
def test_migrations_that_test_code_runs_are_no_sign_of_a_self_migrating_project(
    tmp_path: Path, project: dict[str, str], locks: list[tuple[str, int]], code: str, evidence: str
) -> None:
    in_tests = {**project, "tests/conftest.py": code, "tests/support/database.py": code, "app/test_database.py": code}
    assert_served(lock_findings(tmp_path / "tests", in_tests), locks)
    # The same code in the project's own modules applies its migrations.
    assert_self_migrated(
        lock_findings(tmp_path / "project", {**project, "app/database.py": code}), locks,
        f"The project applies its migrations itself: {evidence}",
    )


def test_alter_model_table_to_the_default_name_runs_no_sql(tmp_path: Path) -> None:
    def files(table: str) -> dict[str, str]:
        return {
            "core/__init__.py": "",
            "core/migrations/__init__.py": "",
            "core/migrations/0001_initial.py": """\
                from django.db import migrations, models

                class Migration(migrations.Migration):
                    initial = True
                    operations = [migrations.CreateModel("Page", [("title", models.TextField())])]
                """,
            "gallery/__init__.py": "",
            "gallery/migrations/__init__.py": "",
            # Its first migration depends on another app's migration of the same name: the label
            # of the app is still the one its own later migrations use.
            "gallery/migrations/0001_initial.py": """\
                from django.db import migrations, models

                class Migration(migrations.Migration):
                    initial = True
                    dependencies = [("core", "0001_initial")]
                    operations = [migrations.CreateModel("Image", [("title", models.TextField())])]
                """,
            "gallery/migrations/0002_table.py": f"""\
                from django.db import migrations

                class Migration(migrations.Migration):
                    dependencies = [("gallery", "0001_initial")]
                    operations = [migrations.AlterModelTable("image", "{table}")]
                """,
        }

    # The name Django gives the table anyway: its schema editor renames nothing.
    assert [f.code for f in review_tree_with(tmp_path / "same", files("gallery_image"), "BB710")] == []
    renamed = review_tree_with(tmp_path / "other", files("photos"), "BB710")
    assert [(f.code, f.line) for f in renamed] == [("BB710", 5)]


def test_alter_unique_together_adds_a_unique_constraint_under_the_table_lock(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/migrations/__init__.py": "",
        "shop/migrations/0001_initial.py": """\
            from django.db import migrations, models

            class Migration(migrations.Migration):
                initial = True
                operations = [migrations.CreateModel("Line", [("basket", models.IntegerField()), ("product", models.IntegerField())])]
            """,
        "shop/migrations/0002_unique.py": """\
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [
                    migrations.AlterUniqueTogether(name="line", unique_together={("basket", "product")}),
                    migrations.AddIndex(model_name="line", index=models.Index(fields=["product"], name="shop_line_product")),
                ]
            """,
    }
    found = review_tree_with(tmp_path, files, "BB70")
    # The constraint is built under ACCESS EXCLUSIVE (line 6); the index after it, in the same
    # transaction, is built under that lock and reported with it.
    assert [(f.code, f.line) for f in found if f.code in ("BB702", "BB703")] == [("BB703", 6)]


def test_sql_naming_a_model_table_and_alter_model_table_follow_the_app_history(tmp_path: Path) -> None:
    tree = {
        "rpm/__init__.py": "",
        "rpm/migrations/__init__.py": "",
        "rpm/migrations/0001_initial.py": """\
            from django.db import migrations, models

            class Migration(migrations.Migration):
                initial = True
                operations = [
                    migrations.CreateModel("Image", [("title", models.TextField())], options={"db_table": "photos"}),
                ]
            """,
        "rpm/migrations/0002_release.py": """\
            from django.db import migrations, models

            class Migration(migrations.Migration):
                dependencies = [("rpm", "0001_initial")]
                operations = [
                    migrations.CreateModel("Release", [("name", models.TextField())]),
                    migrations.RunSQL("CREATE INDEX rpm_release_name ON rpm_release (name)", migrations.RunSQL.noop),
                    migrations.AlterModelTable("image", "rpm_image"),
                ]
            """,
    }
    found = review_tree(tmp_path, tree)
    # The index is on the table the same migration creates (`rpm_release` is model `release`);
    # `image` had the table `photos`, so naming the default one renames it.
    assert [(f.code, f.path, f.line) for f in found if f.code in ("BB702", "BB710")] == [
        ("BB710", "rpm/migrations/0002_release.py", 8)
    ]


def test_sql_of_a_module_name_bound_more_than_once_is_not_read_as_its_first_value(tmp_path: Path) -> None:
    def tree(extra: str) -> dict[str, str]:
        return {
            "shop/__init__.py": "",
            "shop/migrations/__init__.py": "",
            "shop/migrations/0002_note.py": f"""\
                from django.db import migrations

                sql = "ALTER TABLE orders ADD COLUMN note text"
                {extra}

                class Migration(migrations.Migration):
                    dependencies = [("shop", "0001_initial")]
                    operations = [migrations.RunSQL(sql, migrations.RunSQL.noop)]
                """,
        }

    assert [f.code for f in review_tree(tmp_path / "once", tree("")) if f.code == "BB710"] == ["BB710"]
    # `sql += ...` makes it another text: what it does is not known.
    grown = review_tree(tmp_path / "grown", tree('sql += "; UPDATE orders SET note = \'\'"'))
    assert [f.code for f in grown if f.code == "BB710"] == []


def test_proxy_and_unmanaged_models_have_no_table_to_create_or_drop(tmp_path: Path) -> None:
    """Django makes no table for a proxy (`proxy=True`) or unmanaged (`managed=False`) model, and
    drops none when it is deleted; a model of the same name created with a table is dropped."""

    def files(options: str) -> dict[str, str]:
        return {
            "game/__init__.py": "",
            "game/migrations/__init__.py": "",
            "game/migrations/0001_initial.py": """\
                from django.db import migrations, models

                class Migration(migrations.Migration):
                    initial = True
                    operations = [migrations.CreateModel("Room", [("name", models.TextField())])]
                """,
            "game/migrations/0002_store.py": f"""\
                from django.db import migrations

                class Migration(migrations.Migration):
                    dependencies = [("game", "0001_initial")]
                    operations = [migrations.CreateModel("Store", [], options={options}, bases=("game.room",))]
                """,
            "game/migrations/0003_remove_store.py": """\
                from django.db import migrations

                class Migration(migrations.Migration):
                    dependencies = [("game", "0002_store")]
                    operations = [migrations.DeleteModel("Store")]
                """,
        }

    for options in ('{"proxy": True}', '{"managed": False, "db_table": "legacy_store"}'):
        found = review_tree_with(tmp_path / options[3:8], files(options), "BB7", config='min-confidence = "low"\n')
        assert [(f.code, f.path) for f in found if "0003" in f.path or "0002" in f.path] == []
    with_table = review_tree_with(tmp_path / "table", files("{}"), "BB7", config='min-confidence = "low"\n')
    assert {(f.code, f.path) for f in with_table if "0003" in f.path} >= {("BB706", "game/migrations/0003_remove_store.py")}
    # A proxy renamed before it is deleted is still a proxy.
    renamed = {
        **files('{"proxy": True}'),
        "game/migrations/0003_remove_store.py": """\
            from django.db import migrations

            class Migration(migrations.Migration):
                dependencies = [("game", "0002_store")]
                operations = [migrations.RenameModel("Store", "Shop"), migrations.DeleteModel("Shop")]
            """,
    }
    found = review_tree_with(tmp_path / "renamed", renamed, "BB7", config='min-confidence = "low"\n')
    assert [(f.code, f.line) for f in found if f.path.endswith("0003_remove_store.py") and f.code == "BB706"] == []


@pytest.mark.parametrize(
    "serve",
    [
        'call_command("runserver", f"{host}:{port}", noreload=False, insecure=True)',
        'execute_from_command_line(["manage.py", "runserver", f"{host}:{port}"])',
    ],
)
def test_a_django_project_whose_own_command_migrates_then_runs_the_server_applies_the_migrations(
    tmp_path: Path, serve: str
) -> None:
    """A product's own start command that runs `migrate` and then Django's own HTTP server
    (`call_command("runserver")`) serves itself: it migrates its database before it serves."""
    start = {
        "shop/cli.py": f"""\
            import argparse

            from django.core.management import call_command, execute_from_command_line


            def start(host, port):
                call_command("migrate")
                {serve}


            def main():
                parser = argparse.ArgumentParser()
                parser.add_argument("--port", default=8000)
                arguments = parser.parse_args()
                start("127.0.0.1", arguments.port)
            """,
    }
    assert_self_migrated(
        lock_findings(tmp_path / "start", {**DJANGO_PROJECT, **start}), ORDER_TOTAL_LOCKS,
        "The project applies its migrations itself: `start()` runs Django's `migrate` command "
        "(`call_command(\"migrate\")`)",
    )
    # The same command without the server: a setup command, no sign of how later migrations run.
    setup = {"shop/cli.py": start["shop/cli.py"].replace(serve, "pass")}
    assert_served(lock_findings(tmp_path / "setup", {**DJANGO_PROJECT, **setup}), ORDER_TOTAL_LOCKS)
    # A manage.py that hands Django its own command line is no server of the project's.
    manage = {**setup, "manage.py": """\
        import sys

        from django.core.management import execute_from_command_line

        if __name__ == "__main__":
            execute_from_command_line(sys.argv)
        """}
    assert_served(lock_findings(tmp_path / "manage", {**DJANGO_PROJECT, **manage}), ORDER_TOTAL_LOCKS)


def test_a_self_hosted_django_server_that_runs_migrate_applies_the_migrations(tmp_path: Path) -> None:
    """A server product whose own code runs its HTTP server and, somewhere, Django's `migrate`
    (its start command initialises the database first) migrates its own database."""
    setup = {
        "shop/utils/__init__.py": "",
        "shop/utils/main.py": """\
            from django.core.management import call_command


            def initialize():
                call_command("migrate", interactive=False)
            """,
    }
    server = {
        "shop/utils/server.py": """\
            from cheroot.wsgi import Server


            class ShopServer(Server):
                pass
            """,
    }
    assert_served(lock_findings(tmp_path / "app", {**DJANGO_PROJECT, **setup}), ORDER_TOTAL_LOCKS)
    assert_self_migrated(
        lock_findings(tmp_path / "server", {**DJANGO_PROJECT, **setup, **server}), ORDER_TOTAL_LOCKS,
        "The project applies its migrations itself: `initialize()` runs Django's `migrate` command "
        "(`call_command(\"migrate\")`)",
    )
    # A server started only by the tests is no sign.
    in_tests = {"tests/__init__.py": "", "tests/live_server.py": server["shop/utils/server.py"]}
    assert_served(lock_findings(tmp_path / "tests", {**DJANGO_PROJECT, **setup, **in_tests}), ORDER_TOTAL_LOCKS)


RETIRING_MIGRATIONS = {
    "shop/__init__.py": "",
    "shop/migrations/__init__.py": "",
    "shop/migrations/0001_initial.py": """\
        from django.db import migrations, models

        class Migration(migrations.Migration):
            initial = True
            operations = [
                migrations.CreateModel("Order", [("total", models.IntegerField())]),
                migrations.CreateModel("OrderHistory", [("total", models.IntegerField())]),
            ]
        """,
    "shop/migrations/0002_delete_orderhistory.py": """\
        from django.db import migrations

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [migrations.DeleteModel(name="OrderHistory")]
        """,
}


@pytest.mark.parametrize(
    ("models", "reported"),
    [
        # The release no longer declares the model: no query of the service waits on its table.
        ("class Order(models.Model):\n    total = models.IntegerField()\n", False),
        # The model is still declared (the migration drops a table the code reads): the lock counts.
        ("class Order(models.Model):\n    total = models.IntegerField()\n\n\n"
         "class OrderHistory(models.Model):\n    total = models.IntegerField()\n", True),
    ],
)
def test_bb710_leaves_out_the_drop_of_a_table_no_model_declares_any_more(
    tmp_path: Path, models: str, reported: bool
) -> None:
    files = {**RETIRING_MIGRATIONS, "shop/models.py": "from django.db import models\n\n\n" + models}
    found = [(finding.code, finding.line) for finding in review_tree(tmp_path, files, SEEN_AT_LOW)
             if finding.code == "BB710"]
    assert found == ([("BB710", 5)] if reported else [])


@pytest.mark.parametrize(
    ("models", "reported"),
    [
        ("class Order(models.Model):\n    total = models.IntegerField()\n", False),
        ("class Order(models.Model):\n    total = models.IntegerField()\n\n\n"
         "class OrderHistory(models.Model):\n    total = models.IntegerField()\n", True),
    ],
)
def test_bb710_leaves_out_a_step_before_the_drop_of_a_table_no_model_declares_any_more(
    tmp_path: Path, models: str, reported: bool
) -> None:
    """A column removed from a table the same migration then drops: the table is retired as the
    drop retires it, whichever step waits for the lock first."""
    files = {
        **RETIRING_MIGRATIONS,
        "shop/migrations/0002_delete_orderhistory.py": """\
            from django.db import migrations

            class Migration(migrations.Migration):
                dependencies = [("shop", "0001_initial")]
                operations = [
                    migrations.RemoveField(model_name="orderhistory", name="total"),
                    migrations.DeleteModel(name="OrderHistory"),
                ]
            """,
        "shop/models.py": "from django.db import models\n\n\n" + models,
    }
    found = [(finding.code, finding.line) for finding in review_tree(tmp_path, files, SEEN_AT_LOW)
             if finding.code == "BB710"]
    assert found == ([("BB710", 6)] if reported else [])


def test_bb710_still_reports_a_dropped_table_when_the_project_declares_no_model(tmp_path: Path) -> None:
    """Without models, nothing tells which tables the code reads (raw SQL): the drop is reported."""
    found = [(finding.code, finding.line) for finding in review_tree(tmp_path, RETIRING_MIGRATIONS, SEEN_AT_LOW)
             if finding.code == "BB710"]
    assert found == [("BB710", 5)]


def test_the_migrations_of_a_test_app_are_not_reviewed_as_the_project_s(tmp_path: Path) -> None:
    """`guardian/testapp/`: the app only a package's test settings install; its tables exist in
    test databases only."""
    moved = {path.replace("shop/", "shop/testapp/", 1) if path.startswith("shop/migrations") else path: text
             for path, text in DJANGO_PROJECT.items()}
    moved["shop/testapp/__init__.py"] = ""
    assert lock_findings(tmp_path / "testapp", moved) == []
    assert_served(lock_findings(tmp_path / "app", DJANGO_PROJECT), ORDER_TOTAL_LOCKS)


def test_a_partial_unique_constraint_is_built_as_a_unique_index(tmp_path: Path) -> None:
    """Django builds `UniqueConstraint(condition=...)` (and covering or functional ones) with
    `CREATE UNIQUE INDEX`: a SHARE lock while it builds (BB702, and BB710 names that lock), no
    constraint validated under ACCESS EXCLUSIVE (not BB703). A plain one is `ADD CONSTRAINT`."""
    def operations(constraint: str) -> dict[str, str]:
        return {
            **DJANGO_PROJECT,
            "shop/migrations/0002_unique.py": _operations_migration(
                "0001_initial", f'migrations.AddConstraint(model_name="order", constraint={constraint})'
            ),
        }

    partial = 'models.UniqueConstraint(fields=["total"], condition=models.Q(total__gt=0), name="one_total")'
    found = {(finding.code, finding.line): finding for finding in review_tree(tmp_path / "partial", operations(partial), SEEN_AT_LOW)
             if finding.path.endswith("0002_unique.py")}
    assert sorted(found) == [("BB702", 5), ("BB710", 5)], sorted(found)
    assert found[("BB702", 5)].message.startswith("Creates a unique index without CONCURRENTLY")
    assert "CREATE UNIQUE INDEX CONCURRENTLY" in found[("BB702", 5)].fix.message
    assert "a SHARE lock" in found[("BB710", 5)].message
    plain = 'models.UniqueConstraint(fields=["total"], name="one_total")'
    found = {(finding.code, finding.line): finding for finding in review_tree(tmp_path / "plain", operations(plain), SEEN_AT_LOW)
             if finding.path.endswith("0002_unique.py")}
    assert sorted(found) == [("BB703", 5), ("BB710", 5)], sorted(found)
    assert "ACCESS EXCLUSIVE" in found[("BB710", 5)].message
