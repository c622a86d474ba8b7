"""`backbone migrations trace` on a real PostgreSQL: Django and Alembic projects in temporary directories."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from backbone.cli import main
from backbone.migrations.scratch import scratch_postgres
from backbone.migrations.trace import TraceRequest, run_trace
from backbone.review.migrations import LockMode


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    with scratch_postgres() as dsn:
        yield dsn


def write(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def fresh_database(dsn: str, name: str) -> str:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return dsn.replace("dbname=postgres", f"dbname={name}")


DJANGO = {
    "shop/__init__.py": "",
    "shop/migrations/__init__.py": "",
    "shop/models.py": """
        from django.db import models

        class Order(models.Model):
            total = models.BigIntegerField()
            created = models.DateTimeField(null=True)
    """,
    "shop/fields.py": """
        from django.db import models

        class Cents(models.IntegerField):
            pass
    """,
    "shop/migrations/0001_initial.py": """
        from django.db import migrations, models
        import shop.fields

        class Migration(migrations.Migration):
            initial = True
            operations = [
                migrations.CreateModel("Order", fields=[
                    ("id", models.BigAutoField(primary_key=True)),
                    ("total", models.IntegerField()),
                    ("cents", shop.fields.Cents(null=True)),
                ]),
            ]
    """,
    "shop/migrations/0002_index.py": """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0001_initial")]
            operations = [
                migrations.AddField("order", "created", models.DateTimeField(null=True)),
                migrations.AddIndex("order", models.Index(fields=["created"], name="order_created")),
            ]
    """,
    "shop/migrations/0003_total.py": """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0002_index")]
            operations = [
                migrations.AlterField("order", "total", models.BigIntegerField()),
            ]
    """,
    "shop/migrations/0004_cents.py": """
        from django.db import migrations, models

        class Migration(migrations.Migration):
            dependencies = [("shop", "0003_total")]
            operations = [
                migrations.AlterField("order", "cents", models.BigIntegerField(null=True)),
            ]
    """,
}


def test_django_trace_names_each_operations_lock_and_rewrite(tmp_path: Path, postgres: str) -> None:
    project = write(tmp_path, DJANGO)
    result = run_trace(TraceRequest(project, database_url=fresh_database(postgres, "django_trace")))
    assert result.problems == () and result.server_version >= 11
    by_line = {(Path(o.path).name, o.line): o for o in result.observations}
    add_field = by_line[("0002_index.py", 7)]
    assert add_field.lock is LockMode.ACCESS_EXCLUSIVE and add_field.rewritten == ()
    assert add_field.predicted_lock is LockMode.ACCESS_EXCLUSIVE
    add_index = by_line[("0002_index.py", 8)]
    assert add_index.inherited is LockMode.ACCESS_EXCLUSIVE  # the same transaction holds the AddField's lock
    # AlterField int -> bigint: the rules read the old type off 0001 and predict the rewrite the trace sees.
    alter = by_line[("0003_total.py", 7)]
    assert alter.lock is LockMode.ACCESS_EXCLUSIVE and alter.rewritten == ("shop_order",)
    assert alter.predicted_lock is LockMode.ACCESS_EXCLUSIVE and alter.predicted_rewrite
    codes = [(finding.code, Path(finding.path).name, finding.line) for finding in result.findings]
    assert ("MT701", "0003_total.py", 7) in codes
    assert ("MT702", "0003_total.py", 7) not in codes
    assert ("MT702", "0002_index.py", 7) not in codes
    # A field class of the project's own: the rules do not know its column type, the trace sees the rewrite.
    assert ("MT702", "0004_cents.py", 7) in codes
    [disagreement] = [f for f in result.findings if f.code == "MT702"]
    assert "predicted no blocking lock" in disagreement.message and "ACCESS EXCLUSIVE, rewrite" in disagreement.message


ALEMBIC = {
    "alembic.ini": """
        [alembic]
        script_location = migrations
        sqlalchemy.url = postgresql+psycopg://nobody@nowhere/none
    """,
    "migrations/env.py": """
        from alembic import context
        from sqlalchemy import engine_from_config, pool

        config = context.config

        def run_migrations_online():
            connectable = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.",
                                             poolclass=pool.NullPool)
            with connectable.connect() as connection:
                context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
                with context.begin_transaction():
                    context.run_migrations()

        run_migrations_online()
    """,
    "migrations/script.py.mako": "",
    "migrations/versions/a1_orders.py": """
        import sqlalchemy as sa
        from alembic import op

        revision = "a1"
        down_revision = None

        def upgrade():
            op.create_table("orders", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("code", sa.String(20)))
            op.execute("INSERT INTO orders (id, code) SELECT g, 'c' || g FROM generate_series(1, 200) g")

        def downgrade():
            op.drop_table("orders")
    """,
    "migrations/versions/b2_hazards.py": """
        import sqlalchemy as sa
        from alembic import op

        revision = "b2"
        down_revision = "a1"

        def upgrade():
            op.create_index("ix_orders_code", "orders", ["code"])
            op.add_column("orders", sa.Column("token", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")))

        def downgrade():
            op.drop_column("orders", "token")
    """,
}


def test_alembic_trace_sees_the_share_lock_and_the_volatile_default_rewrite(tmp_path: Path, postgres: str) -> None:
    project = write(tmp_path, ALEMBIC)
    result = run_trace(TraceRequest(project, database_url=fresh_database(postgres, "alembic_trace")))
    assert result.framework == "alembic" and result.problems == ()
    by_line = {(Path(o.path).name, o.line): o for o in result.observations}
    index = by_line[("b2_hazards.py", 9)]
    assert (index.lock, index.predicted_lock, index.rewritten) == (LockMode.SHARE, LockMode.SHARE, ())
    column = by_line[("b2_hazards.py", 10)]
    assert column.lock is LockMode.ACCESS_EXCLUSIVE and column.rewritten == ("orders",) and column.predicted_rewrite
    assert [f.code for f in result.findings if Path(f.path).name == "b2_hazards.py"] == ["MT701", "MT701"]


def test_cli_trace_on_a_scratch_cluster_reports_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write(tmp_path, {k: v for k, v in DJANGO.items() if "0003" not in k and "0004" not in k})
    code = main(["migrations", "trace", str(project), "--format", "json"])
    out = capsys.readouterr()
    assert code == 1, out.err
    findings = json.loads(out.out)["findings"]
    assert {(finding["code"], finding["line"]) for finding in findings} >= {("MT701", 7)}


def test_a_migration_that_does_not_import_is_reported_and_the_trace_goes_on(
    tmp_path: Path, postgres: str, capsys: pytest.CaptureFixture[str]
) -> None:
    files = dict(DJANGO)
    files["shop/migrations/0003_total.py"] = "from django.db import migrations\nimport not_a_module_anywhere\n"
    project = write(tmp_path, files)
    code = main(["migrations", "trace", str(project), "--database-url", fresh_database(postgres, "broken_import")])
    out = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in out.err + out.out
    assert "MT703" in out.out and "not_a_module_anywhere" in out.out and "it was skipped" in out.out
    # The migrations around it were still traced.
    assert "0002_index.py:7" in out.out


def test_a_circular_dependency_is_a_clear_message(tmp_path: Path, postgres: str, capsys: pytest.CaptureFixture[str]) -> None:
    files = dict(DJANGO)
    files["shop/migrations/0001_initial.py"] = files["shop/migrations/0001_initial.py"].replace(
        "initial = True", 'initial = True\n            dependencies = [("shop", "0003_total")]'
    )
    project = write(tmp_path, files)
    code = main(["migrations", "trace", str(project), "--database-url", fresh_database(postgres, "circular")])
    out = capsys.readouterr()
    assert code == 1 and "Traceback" not in out.err + out.out
    assert "CircularDependencyError" in out.out


def test_a_database_url_with_a_password_is_never_printed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = write(tmp_path, DJANGO)
    secret = "Zq8Xv2LmT4rW9bN1kY7c"
    code = main(["migrations", "trace", str(project), "--database-url",
                 f"postgresql://shop:{secret}@127.0.0.1:1/shop?connect_timeout=2"])
    out = capsys.readouterr()
    assert secret not in out.out + out.err
    assert code == 1 and "Traceback" not in out.err
