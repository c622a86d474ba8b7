"""BB708 data-migration-row-by-row: a data migration that loads a whole table or writes one row at a time."""

from __future__ import annotations

import ast

from backbone.findings import Severity
from backbone.review.migrations import Dialect, Migration, StepKind
from backbone.review.migrations.history import app_label, column_type, field_before
from backbone.review.migrations.reading import function_models
from backbone.review.migrations.rule_base import (
    MigrationRule,
    code_for,
    only_in_migrations,
)
from backbone.review.rules.base import RuleDoc, Scope

_WRITES = frozenset({"save", "create", "update", "delete", "get_or_create", "update_or_create", "execute"})
# SQLAlchemy's statement constructors: `update()` and `delete()` there build a statement, not run it.
_STATEMENT_BUILDERS = ("sqlalchemy.update", "sqlalchemy.delete", "sqlalchemy.insert", "sqlalchemy.sql.")
_QUERY_METHODS = frozenset({"all", "filter", "exclude", "fetchall", "order_by", "select_related", "values", "values_list"})


def _chain(node: ast.expr) -> list[str]:
    """Attribute and method names along `a.b().c.d()`, outermost last."""
    names: list[str] = []
    current: ast.expr = node
    while True:
        if isinstance(current, ast.Call):
            current = current.func
        elif isinstance(current, ast.Attribute):
            names.append(current.attr)
            current = current.value
        elif isinstance(current, ast.Subscript):
            names.append("[]")
            current = current.value
        else:
            break
    return list(reversed(names))


def _whole_table(node: ast.expr) -> bool:
    """`Model.objects.all()`, `.filter(...)`, `bind.execute(...).fetchall()` (not `.iterator()` or a slice)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list" and node.args:
        return _whole_table(node.args[0])
    names = _chain(node)
    if not names or "iterator" in names or "[]" in names or "yield_per" in names or "partitions" in names:
        return False
    return ("objects" in names or "execute" in names) and names[-1] in _QUERY_METHODS


class DataMigrationRowByRow(MigrationRule):
    code = "BB708"
    name = "data-migration-row-by-row"
    summary = "A data migration loads a whole table into memory, or writes one row per statement in a loop."
    severity = Severity.WARNING
    contexts = only_in_migrations(Severity.WARNING)
    # The app's migration history tells which columns are NOT NULL (`_provably_empty`).
    scope = Scope.PROJECT
    # A squash runs the replaced migration's functions from its module: the loops are found there.
    squash_reports = False
    doc = RuleDoc(
        what_it_does=(
            "In the functions a Django `RunPython` runs and in an Alembic `upgrade()`: a loop over "
            "`Model.objects.all()`/`.filter(...)` without `.iterator()`, or over `bind.execute(...).fetchall()` "
            "(the whole result in memory), and `save()`, `create()`, `update()`, `delete()` or `execute()` "
            "inside such a loop (one statement and one round trip per row). Not reported: SQLAlchemy's "
            "`sa.update()`/`sa.delete()`, which build a statement without running it, and a write passed to "
            "another (`conn.execute(table.update()...)` is one statement, reported once), and the load of a "
            "loop nested in another whose query is filtered by the outer loop's row (`for tag in "
            "Tagging.objects.filter(user=user)` inside `for user in User.objects.all()`): one row's bounded "
            "subset, where the outer loop is the whole-table load (the writes inside it are still reported); "
            "nor a loop, or the writes in it, over rows filtered for NULL in a column that cannot hold one "
            "(`Model.objects.filter(uuid__isnull=True)`, the model got from `apps.get_model` of the migration's "
            "own app, and `uuid` a field of it with a column of its own, not a many-to-many, that the app's "
            "migrations before the `RunPython` declare without `null=True`): the query selects no row."
        ),
        why_is_this_bad=(
            "On the production table the loop holds millions of objects in the migration process and sends one "
            "UPDATE per row, inside the migration's transaction: row locks pile up for the whole run, and the "
            "deploy waits for it."
        ),
        example=(
            'from django.db import migrations\n'
            'from django.db.models import CharField, Value\n'
            'from django.db.models.functions import Cast, Concat\n'
            '\n'
            '\n'
            'def backfill(apps, schema_editor):\n'
            '    Order = apps.get_model("shop", "Order")\n'
            '    for order in Order.objects.all():\n'
            '        order.reference = f"O-{order.pk}"\n'
            '        order.save()\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]\n'
        ),
        use_instead=(
            'from django.db import migrations\n'
            'from django.db.models import CharField, Value\n'
            'from django.db.models.functions import Cast, Concat\n'
            '\n'
            '\n'
            'def backfill(apps, schema_editor):\n'
            '    Order = apps.get_model("shop", "Order")\n'
            '    Order.objects.filter(reference="").update(reference=Concat(Value("O-"), Cast("pk", CharField())))\n'
            '\n'
            '\n'
            'class Migration(migrations.Migration):\n'
            '    dependencies = [("shop", "0001_initial")]\n'
            '\n'
            '    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]\n'
        ),
    )

    INVALID = (
        """
        from django.db import migrations

        def backfill(apps, schema_editor):
            Order = apps.get_model("shop", "Order")
            for order in Order.objects.all():  # expect: BB708
                order.reference = "O-%d" % order.pk
                order.save()  # expect: BB708

        class Migration(migrations.Migration):
            operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
        """,
        """
        import sqlalchemy as sa
        from alembic import op

        def upgrade():
            bind = op.get_bind()
            for row in bind.execute(sa.text("SELECT id FROM orders")).fetchall():  # expect: BB708
                bind.execute(sa.text("UPDATE orders SET ref = :r WHERE id = :i"), {"r": "x", "i": row.id})  # expect: BB708

        def downgrade():
            pass
        """,
    )
    VALID = (
        """
        from django.db import migrations

        def backfill(apps, schema_editor):
            Order = apps.get_model("shop", "Order")
            Order.objects.filter(reference="").update(reference="pending")
            batch = []
            for order in Order.objects.filter(total=None).iterator(chunk_size=2000):
                order.total = 0
                batch.append(order)
            Order.objects.bulk_update(batch, ["total"], batch_size=2000)

        class Migration(migrations.Migration):
            operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
        """,
    )

    def check(self, migration: Migration) -> None:
        runs: dict[str, ast.AST | None] = {}
        if migration.dialect is Dialect.DJANGO:
            for step in migration.steps:
                if step.kind is StepKind.DATA and step.function:
                    runs.setdefault(step.function, step.node)
        else:
            runs["upgrade"] = None
        for name in sorted(runs):
            function = migration.functions.get(name)
            if function is not None:
                self._check_function(migration, function, runs[name])

    def _check_function(self, migration: Migration, function: ast.FunctionDef, operation: ast.AST | None) -> None:
        models = function_models(function) if isinstance(operation, ast.Call) else {}
        for loop in ast.walk(function):
            if not isinstance(loop, ast.For) or not _whole_table(loop.iter):
                continue
            # No row to loop over: the query asks for NULL in a column the app's migrations declare NOT NULL.
            if isinstance(operation, ast.Call) and self._provably_empty(loop.iter, models, operation):
                continue
            # The rows of one row of an outer loop (`filter(user=user)` inside `for user in ...`): a
            # bounded subset, the outer loop is the whole-table load.
            if not self._per_row(loop, function):
                self.report(
                    loop.iter,
                    "Loads every matching row into memory at once: the loop iterates over the whole result.",
                    fix=code_for(
                        migration,
                        "Iterate in chunks: `.iterator(chunk_size=2000)`, or better, one `update()` for all the rows.",
                        "Stream in batches (`.yield_per(2000)`, or `WHERE id > :last ORDER BY id LIMIT 2000`), or one UPDATE for all the rows.",
                    ),
                )
            writes = [
                node for node in ast.walk(loop)
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _WRITES
                and node is not loop.iter and not _inside(node, loop.iter)
                # `sa.update(table)` builds a statement, it runs none.
                and not (self.context.call_name(node) or "").startswith(_STATEMENT_BUILDERS)
            ]
            # A write passed to another (`conn.execute(table.update()...)`) is one statement with it.
            arguments = [argument for write in writes for argument in (*write.args, *(k.value for k in write.keywords))]
            for node in writes:
                if any(_inside(node, argument) for argument in arguments):
                    continue
                method = node.func.attr if isinstance(node.func, ast.Attribute) else ""
                self.report(
                    node,
                    f"Writes one row per statement: `{method}()` runs on every iteration of the loop.",
                    fix=code_for(
                        migration,
                        "Write all the rows at once: one queryset `update()`, or `bulk_update(objs, fields, batch_size=2000)`.",
                        "Write all the rows at once: one UPDATE ... FROM, or executemany with a list of parameters per batch.",
                    ),
                )

    def _provably_empty(self, query: ast.expr, models: dict[str, tuple[str, str]], operation: ast.Call) -> bool:
        """Whether `Model.objects....filter(field__isnull=True)` selects no row: `field` is a field of
        the model that the app's migrations before the RunPython declare without `null=True` (so its
        column is NOT NULL), the model got from `apps.get_model` of this app."""
        project, facts = self.context.project, self.context.facts
        label = app_label(project, facts)
        node: ast.expr = query
        filters: list[ast.Call] = []
        while isinstance(node, (ast.Call, ast.Attribute)):
            if isinstance(node, ast.Call):
                if isinstance(node.func, ast.Attribute) and node.func.attr == "filter":
                    filters.append(node)
                node = node.func
            else:
                node = node.value
        if not isinstance(node, ast.Name) or node.id not in models or not label:
            return False
        model_label, model = models[node.id]
        if model_label != label:
            return False
        for call in filters:
            for keyword in call.keywords:
                if keyword.arg is None or not keyword.arg.endswith("__isnull") or keyword.arg.count("__") != 1:
                    continue
                if not (isinstance(keyword.value, ast.Constant) and keyword.value.value is True):
                    continue
                field = field_before(project, facts, operation.lineno, operation.col_offset, model,
                                     keyword.arg.removesuffix("__isnull"))
                # A field with a column of its own (not a many-to-many, whose `__isnull` asks for related rows).
                if field is not None and not field.null and (
                    column_type(field) is not None or field.field_class in ("ForeignKey", "OneToOneField")
                ):
                    return True
        return False

    def _per_row(self, loop: ast.For, function: ast.FunctionDef) -> bool:
        """Whether the loop's query is filtered by a name an enclosing loop binds per row."""
        bound: set[str] = set()
        parent = self.context.parents.get(loop)
        while parent is not None and parent is not function:
            if isinstance(parent, (ast.For, ast.AsyncFor)):
                bound.update(node.id for node in ast.walk(parent.target) if isinstance(node, ast.Name))
            parent = self.context.parents.get(parent)
        if not bound:
            return False
        arguments = [argument for call in ast.walk(loop.iter) if isinstance(call, ast.Call)
                     for argument in (*call.args, *(keyword.value for keyword in call.keywords))]
        return any(isinstance(node, ast.Name) and node.id in bound
                   for argument in arguments for node in ast.walk(argument))


def _inside(node: ast.AST, container: ast.AST) -> bool:
    return any(child is node for child in ast.walk(container))
