"""The labeled migration cases: each a change to a populated table, as a hazard and its safe form.

Every case is (id, framework, change, expected hazard by construction). The label the
benchmark scores against is not this expectation: it is what `backbone migrations trace`
observes when the change runs on a table with ROWS rows (run.py); the expectation is only
printed next to it.
"""

from __future__ import annotations

from dataclasses import dataclass

ROWS = 300_000


@dataclass(frozen=True)
class Case:
    id: str
    framework: str  # "django" | "alembic"
    # Django: the operations list of 0002 (and `atomic = False` when `atomic` is False).
    # Alembic: the body of upgrade().
    change: str
    hazard: bool
    atomic: bool = True
    imports: str = ""


def _dj(id: str, change: str, hazard: bool, atomic: bool = True, imports: str = "") -> Case:
    return Case(id, "django", change, hazard, atomic, imports)


def _al(id: str, change: str, hazard: bool) -> Case:
    return Case(id, "alembic", change, hazard)


CONCURRENT = "from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently"
FUNCTIONS = "from django.contrib.postgres.functions import RandomUUID\nfrom django.db.models.functions import Now"

DJANGO_CASES = [
    _dj("dj-notnull-nodefault-int", 'migrations.AddField("item", "extra", models.IntegerField())', True),
    _dj("dj-notnull-nodefault-date", 'migrations.AddField("item", "seen", models.DateField())', True),
    _dj("dj-nullable-int", 'migrations.AddField("item", "extra", models.IntegerField(null=True))', False),
    _dj("dj-default-int", 'migrations.AddField("item", "extra", models.IntegerField(default=0))', False),
    _dj("dj-default-text", 'migrations.AddField("item", "note", models.TextField(default="x"))', False),
    _dj("dj-blank-text", 'migrations.AddField("item", "note", models.TextField(blank=True))', False),
    _dj("dj-dbdefault-volatile", 'migrations.AddField("item", "token", models.UUIDField(db_default=RandomUUID()))', True,
        imports=FUNCTIONS),
    _dj("dj-dbdefault-now", 'migrations.AddField("item", "stamp", models.DateTimeField(db_default=Now()))', False,
        imports=FUNCTIONS),
    _dj("dj-addindex", 'migrations.AddIndex("item", models.Index(fields=["qty"], name="item_qty"))', True),
    _dj("dj-addindex-concurrently", 'AddIndexConcurrently("item", models.Index(fields=["qty"], name="item_qty"))', False,
        atomic=False, imports=CONCURRENT),
    _dj("dj-addindex-name", 'migrations.AddIndex("item", models.Index(fields=["name"], name="item_name"))', True),
    _dj("dj-addindex-name-concurrently", 'AddIndexConcurrently("item", models.Index(fields=["name"], name="item_name"))',
        False, atomic=False, imports=CONCURRENT),
    _dj("dj-check", 'migrations.AddConstraint("item", models.CheckConstraint(condition=models.Q(qty__gte=0), name="qty_pos"))', True),
    _dj("dj-check-not-valid",
        'migrations.RunSQL("ALTER TABLE shop_item ADD CONSTRAINT qty_pos CHECK (qty >= 0) NOT VALID", '
        'reverse_sql=migrations.RunSQL.noop)', False),
    _dj("dj-unique", 'migrations.AddConstraint("item", models.UniqueConstraint(fields=["id", "qty"], name="id_qty"))', True),
    _dj("dj-unique-index-concurrently",
        'migrations.RunSQL("CREATE UNIQUE INDEX CONCURRENTLY id_qty ON shop_item (id, qty)", reverse_sql=migrations.RunSQL.noop)',
        False, atomic=False),
    _dj("dj-sql-type-bigint", 'migrations.RunSQL("ALTER TABLE shop_item ALTER COLUMN qty TYPE bigint", reverse_sql=migrations.RunSQL.noop)', True),
    _dj("dj-sql-type-text", 'migrations.RunSQL("ALTER TABLE shop_item ALTER COLUMN name TYPE text", reverse_sql=migrations.RunSQL.noop)', False),
    _dj("dj-alterfield-bigint", 'migrations.AlterField("item", "qty", models.BigIntegerField())', True),
    _dj("dj-alterfield-longer", 'migrations.AlterField("item", "name", models.CharField(max_length=200))', False),
    _dj("dj-sql-set-not-null", 'migrations.RunSQL("ALTER TABLE shop_item ALTER COLUMN ref SET NOT NULL", reverse_sql=migrations.RunSQL.noop)', True),
    _dj("dj-sql-check-then-not-null",
        'migrations.RunSQL(["ALTER TABLE shop_item ADD CONSTRAINT ref_nn CHECK (ref IS NOT NULL) NOT VALID", '
        '"ALTER TABLE shop_item VALIDATE CONSTRAINT ref_nn"], reverse_sql=migrations.RunSQL.noop)', False, atomic=False),
    _dj("dj-sql-volatile-default",
        'migrations.RunSQL("ALTER TABLE shop_item ADD COLUMN r float8 DEFAULT random()", reverse_sql=migrations.RunSQL.noop)', True),
    _dj("dj-sql-constant-default",
        'migrations.RunSQL("ALTER TABLE shop_item ADD COLUMN r float8 DEFAULT 1.5", reverse_sql=migrations.RunSQL.noop)', False),
    _dj("dj-sql-index", 'migrations.RunSQL("CREATE INDEX item_ref ON shop_item (ref)", reverse_sql=migrations.RunSQL.noop)', True),
    _dj("dj-sql-index-concurrently",
        'migrations.RunSQL("CREATE INDEX CONCURRENTLY item_ref ON shop_item (ref)", reverse_sql=migrations.RunSQL.noop)', False,
        atomic=False),
    _dj("dj-sql-fk", 'migrations.RunSQL("ALTER TABLE shop_item ADD CONSTRAINT self_fk FOREIGN KEY (ref) REFERENCES shop_item (id)", '
        'reverse_sql=migrations.RunSQL.noop)', True),
    _dj("dj-sql-fk-not-valid", 'migrations.RunSQL("ALTER TABLE shop_item ADD CONSTRAINT self_fk FOREIGN KEY (ref) REFERENCES '
        'shop_item (id) NOT VALID", reverse_sql=migrations.RunSQL.noop)', False),
    _dj("dj-alterfield-notnull", 'migrations.AlterField("item", "ref", models.IntegerField(default=0))', True),
    _dj("dj-alterfield-nullable", 'migrations.AlterField("item", "qty", models.IntegerField(null=True))', False),
    _dj("dj-sql-type-numeric", 'migrations.RunSQL("ALTER TABLE shop_item ALTER COLUMN qty TYPE numeric(12, 2)", reverse_sql=migrations.RunSQL.noop)', True),
    _dj("dj-sql-type-varchar-longer", 'migrations.RunSQL("ALTER TABLE shop_item ALTER COLUMN name TYPE varchar(300)", reverse_sql=migrations.RunSQL.noop)', False),
]

ALEMBIC_CASES = [
    _al("al-notnull-nodefault", 'op.add_column("items", sa.Column("extra", sa.Integer(), nullable=False))', True),
    _al("al-nullable", 'op.add_column("items", sa.Column("extra", sa.Integer(), nullable=True))', False),
    _al("al-volatile-default", 'op.add_column("items", sa.Column("token", sa.Uuid(), nullable=False, server_default=sa.text("gen_random_uuid()")))', True),
    _al("al-constant-default", 'op.add_column("items", sa.Column("extra", sa.Integer(), nullable=False, server_default="0"))', False),
    _al("al-volatile-clock", 'op.add_column("items", sa.Column("at", sa.DateTime(), server_default=sa.text("clock_timestamp()")))', True),
    _al("al-now-default", 'op.add_column("items", sa.Column("at", sa.DateTime(), server_default=sa.func.now()))', False),
    _al("al-index", 'op.create_index("ix_items_qty", "items", ["qty"])', True),
    _al("al-index-concurrently", 'with op.get_context().autocommit_block():\n        op.create_index("ix_items_qty", "items", ["qty"], postgresql_concurrently=True)', False),
    _al("al-unique-index", 'op.create_index("ix_items_name", "items", ["name", "id"], unique=True)', True),
    _al("al-unique-index-concurrently", 'with op.get_context().autocommit_block():\n        op.create_index("ix_items_name", "items", ["name", "id"], unique=True, postgresql_concurrently=True)', False),
    _al("al-check", 'op.create_check_constraint("qty_pos", "items", "qty >= 0")', True),
    _al("al-check-not-valid", 'op.execute("ALTER TABLE items ADD CONSTRAINT qty_pos CHECK (qty >= 0) NOT VALID")', False),
    _al("al-fk", 'op.create_foreign_key("self_fk", "items", "items", ["ref"], ["id"])', True),
    _al("al-fk-not-valid", 'op.execute("ALTER TABLE items ADD CONSTRAINT self_fk FOREIGN KEY (ref) REFERENCES items (id) NOT VALID")', False),
    _al("al-unique-constraint", 'op.create_unique_constraint("uq_items", "items", ["name", "id"])', True),
    _al("al-type-bigint", 'op.alter_column("items", "qty", type_=sa.BigInteger(), existing_type=sa.Integer())', True),
    _al("al-type-text", 'op.alter_column("items", "name", type_=sa.Text(), existing_type=sa.String(50))', False),
    _al("al-type-longer", 'op.alter_column("items", "name", type_=sa.String(100), existing_type=sa.String(50))', False),
    _al("al-type-shorter", 'op.alter_column("items", "name", type_=sa.String(40), existing_type=sa.String(50))', True),
    _al("al-set-not-null", 'op.alter_column("items", "ref", nullable=False)', True),
    _al("al-nullable-again", 'op.alter_column("items", "qty", nullable=True)', False),
    _al("al-sql-index", 'op.execute("CREATE INDEX ix_items_ref ON items (ref)")', True),
    _al("al-sql-index-concurrently", 'with op.get_context().autocommit_block():\n        op.execute("CREATE INDEX CONCURRENTLY ix_items_ref ON items (ref)")', False),
    _al("al-sql-type-numeric", 'op.execute("ALTER TABLE items ALTER COLUMN qty TYPE numeric(12, 2)")', True),
    _al("al-sql-add-nullable", 'op.execute("ALTER TABLE items ADD COLUMN note text")', False),
    _al("al-sql-volatile", 'op.execute("ALTER TABLE items ADD COLUMN r float8 DEFAULT random()")', True),
    _al("al-drop-column", 'op.drop_column("items", "ref")', False),
    _al("al-add-two-nullable", 'op.add_column("items", sa.Column("a", sa.Text()))\n    op.add_column("items", sa.Column("b", sa.Text()))', False),
    _al("al-check-validate", 'op.execute("ALTER TABLE items ADD CONSTRAINT qty_pos CHECK (qty >= 0) NOT VALID")\n    with op.get_context().autocommit_block():\n        op.execute("ALTER TABLE items VALIDATE CONSTRAINT qty_pos")', False),
    _al("al-sql-pk-like-unique", 'op.execute("ALTER TABLE items ADD CONSTRAINT uq_name UNIQUE (name, id)")', True),
]

CASES = DJANGO_CASES + ALEMBIC_CASES
