"""Migration safety side by side: backbone, squawk and django-migration-linter on labeled cases.

    .venv/bin/python bench/migrations/run.py [--only ID,...]

Each case of cases.py becomes a project under bench/.work/migrations/<id>/: a table with
ROWS rows (migration 0001) and the change (0002). The label is what `backbone migrations
trace` observes for 0002 on a scratch PostgreSQL: unsafe when an operation rewrote the
table, failed, or held SHARE or a stronger lock on it for longer than THRESHOLD_MS. Then:

- backbone: `backbone review` with BB701-BB705 (the lock and rewrite rules) on the project;
- squawk (pip squawk-cli): on the SQL of 0002 (Django `sqlmigrate`, Alembic offline `--sql`),
  counting its lock and rewrite rules only;
- django-migration-linter (Django cases): `lintmigrations shop 0002_change`, errors only.

Writes bench/migrations/results.md. The tools other than backbone live in their own
environment: bench/.work/mig-venv (pip install squawk-cli django-migration-linter django psycopg[binary]).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

from cases import CASES, ROWS, Case  # noqa: E402

from backbone.api import ReviewRequest, review  # noqa: E402
from backbone.migrations.scratch import scratch_postgres  # noqa: E402
from backbone.migrations.trace import TraceRequest, run_trace  # noqa: E402
from backbone.review.migrations import LockMode  # noqa: E402

WORK = ROOT / "bench" / ".work" / "migrations"
TOOLS = ROOT / "bench" / ".work" / "mig-venv" / "bin"
THRESHOLD_MS = 40.0
# squawk's rules about locks, rewrites and failing on existing rows (not style or timeouts).
SQUAWK_LOCK_RULES = frozenset({
    "adding-required-field", "adding-field-with-default", "adding-not-nullable-field", "require-concurrent-index-creation",
    "require-concurrent-index-deletion", "constraint-missing-not-valid", "adding-foreign-key-constraint",
    "changing-column-type", "disallowed-unique-constraint", "adding-serial-primary-key-field",
    "adding-primary-key-constraint", "ban-alter-domain-with-add-constraint",
})
BACKBONE_RULES = ("BB701", "BB702", "BB703", "BB704", "BB705")

MODELS = '''
from django.db import models

class Item(models.Model):
    name = models.CharField(max_length=50)
    qty = models.IntegerField()
    ref = models.IntegerField(null=True)
'''
DJANGO_INITIAL = f'''
from django.db import migrations, models

class Migration(migrations.Migration):
    initial = True
    operations = [
        migrations.CreateModel("Item", fields=[
            ("id", models.BigAutoField(primary_key=True)),
            ("name", models.CharField(max_length=50)),
            ("qty", models.IntegerField()),
            ("ref", models.IntegerField(null=True)),
        ]),
        migrations.RunSQL(
            "INSERT INTO shop_item (name, qty, ref) SELECT 'n' || g, g, g FROM generate_series(1, {ROWS}) g; ANALYZE shop_item",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
'''
SETTINGS = '''
import os
INSTALLED_APPS = ["shop"{extra}]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.postgresql", "NAME": os.environ.get("BENCH_DB", "postgres"),
                         "HOST": os.environ.get("BENCH_HOST", ""), "USER": "postgres"}}}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
'''
ALEMBIC_INI = "[alembic]\nscript_location = migrations\nsqlalchemy.url = postgresql+psycopg://postgres@/postgres\n"
ENV = '''
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config(config.get_section(config.config_ini_section) or {}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
'''
ALEMBIC_INITIAL = f'''
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

def upgrade():
    op.create_table("items", sa.Column("id", sa.Integer(), primary_key=True), sa.Column("name", sa.String(50), nullable=False),
                    sa.Column("qty", sa.Integer(), nullable=False), sa.Column("ref", sa.Integer()))
    op.execute("INSERT INTO items (name, qty, ref) SELECT 'n' || g, g, g FROM generate_series(1, {ROWS}) g")
    op.execute("ANALYZE items")

def downgrade():
    op.drop_table("items")
'''


def write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def build(case: Case) -> Path:
    root = WORK / case.id
    # Its own root: the repository's configuration excludes bench/.
    write(root, {"backbone.toml": "respect-gitignore = false\n"})
    if case.framework == "django":
        change = (
            f"from django.db import migrations, models\n{case.imports}\n\nclass Migration(migrations.Migration):\n"
            f"    dependencies = [(\"shop\", \"0001_initial\")]\n"
            + ("    atomic = False\n" if not case.atomic else "")
            + f"    operations = [\n        {case.change},\n    ]\n"
        )
        write(root, {
            "shop/__init__.py": "", "shop/models.py": MODELS, "shop/migrations/__init__.py": "",
            "shop/migrations/0001_initial.py": DJANGO_INITIAL, "shop/migrations/0002_change.py": change,
            "tracesettings.py": SETTINGS.format(extra=""),
            "lintsettings.py": SETTINGS.format(extra=', "django_migration_linter"'),
        })
    else:
        change = (
            "import sqlalchemy as sa\nfrom alembic import op\n\nrevision = \"0002\"\ndown_revision = \"0001\"\n\n"
            f"def upgrade():\n    {case.change}\n\ndef downgrade():\n    pass\n"
        )
        write(root, {
            "alembic.ini": ALEMBIC_INI, "migrations/env.py": ENV, "migrations/script.py.mako": "",
            "migrations/versions/0001_items.py": ALEMBIC_INITIAL, "migrations/versions/0002_change.py": change,
        })
    return root


def change_file(case: Case, root: Path) -> Path:
    return root / ("shop/migrations/0002_change.py" if case.framework == "django" else "migrations/versions/0002_change.py")


def fresh_database(dsn: str, name: str) -> str:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return dsn.replace("dbname=postgres", f"dbname={name}")


def label(case: Case, root: Path, dsn: str) -> tuple[bool, str]:
    url = fresh_database(dsn, case.id.replace("-", "_"))
    result = run_trace(TraceRequest(root, case.framework, "tracesettings" if case.framework == "django" else None,
                                    database_url=url, timeout=300))
    target = change_file(case, root).resolve()
    notes = []
    unsafe = False
    for observation in result.observations:
        if Path(observation.path).resolve() != target:
            continue
        held = max([mode for mode in (observation.lock, observation.inherited) if mode], key=lambda m: m.rank, default=None)
        blocking = held is not None and held.rank >= LockMode.SHARE.rank
        if observation.rewritten or observation.error or (blocking and observation.duration_ms > THRESHOLD_MS):
            unsafe = True
        notes.append(f"{held.title if held else '-'}{' rewrite' if observation.rewritten else ''}"
                     f"{' error' if observation.error else ''} {observation.duration_ms:.0f}ms")
    if any("0002" in problem for problem in result.problems):
        unsafe = True
        notes.append("failed")
    return unsafe, "; ".join(notes)


def backbone_flags(case: Case, root: Path) -> bool:
    result, _ = review(ReviewRequest(paths=(str(root),), select=BACKBONE_RULES, use_cache=False, jobs=1))
    return any(Path(finding.path).name == "0002_change.py" for finding in result.findings)


def sql_of(case: Case, root: Path, dsn: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(root)}
    parts = dict(item.split("=", 1) for item in dsn.split())
    env["BENCH_HOST"], env["BENCH_DB"] = parts["host"], "postgres"
    if case.framework == "django":
        command = [sys.executable, "-m", "django", "sqlmigrate", "shop", "0002", "--settings", "tracesettings"]
    else:
        command = [sys.executable, "-m", "alembic", "upgrade", "0001:0002", "--sql"]
    done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)
    return done.stdout


def squawk_flags(sql: str) -> bool:
    if not sql.strip():
        return False
    done = subprocess.run([str(TOOLS / "squawk"), "--reporter", "json", "--pg-version", "15"], input=sql,
                          capture_output=True, text=True, timeout=60)
    try:
        violations = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return False
    return any(violation.get("rule_name") in SQUAWK_LOCK_RULES for violation in violations)


def linter_flags(root: Path, dsn: str) -> bool:
    parts = dict(item.split("=", 1) for item in dsn.split())
    env = {**os.environ, "PYTHONPATH": str(root), "BENCH_HOST": parts["host"], "BENCH_DB": "postgres"}
    done = subprocess.run([str(TOOLS / "python"), "-m", "django", "lintmigrations", "shop", "0002_change",
                           "--settings", "lintsettings"], cwd=root, env=env, capture_output=True, text=True, timeout=120)
    return "(ERR)" in done.stdout or "ERR" in done.stdout.split("Summary")[0]


def score(rows: list[dict[str, object]], tool: str) -> str:
    scored = [row for row in rows if row[tool] is not None]
    tp = sum(1 for row in scored if row[tool] and row["label"])
    fp = sum(1 for row in scored if row[tool] and not row["label"])
    fn = sum(1 for row in scored if not row[tool] and row["label"])
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return f"{len(scored)} | {tp} | {fp} | {fn} | {precision:.2f} | {recall:.2f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    arguments = parser.parse_args()
    wanted = set(filter(None, arguments.only.split(",")))
    rows: list[dict[str, object]] = []
    with scratch_postgres() as dsn:
        for case in CASES:
            if wanted and case.id not in wanted:
                continue
            root = build(case)
            unsafe, notes = label(case, root, dsn)
            sql = sql_of(case, root, dsn)
            row: dict[str, object] = {
                "id": case.id, "framework": case.framework, "expected": case.hazard, "label": unsafe, "trace": notes,
                "backbone": backbone_flags(case, root), "squawk": squawk_flags(sql),
                "linter": linter_flags(root, dsn) if case.framework == "django" else None,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    lines = [
        "# Migration safety side by side", "",
        f"{len(rows)} cases (bench/migrations/cases.py), each a change to a table of {ROWS:,} rows, labeled by "
        f"`backbone migrations trace` (unsafe: a rewrite, a failure, or SHARE or stronger held > {THRESHOLD_MS:.0f} ms).", "",
        "| Tool | Cases | TP | FP | FN | Precision | Recall |", "|---|---|---|---|---|---|---|",
        f"| backbone BB701-BB705 | {score(rows, 'backbone')} |",
        f"| squawk (lock/rewrite rules) | {score(rows, 'squawk')} |",
        f"| django-migration-linter (errors, Django cases) | {score(rows, 'linter')} |", "",
        "| Case | Trace | Label | Expected | backbone | squawk | linter |", "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(f"| {row['id']} | {row['trace']} | {'unsafe' if row['label'] else 'safe'} | "
                     f"{'unsafe' if row['expected'] else 'safe'} | {row['backbone']} | {row['squawk']} | {row['linter']} |")
    (HERE / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines[:9]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
